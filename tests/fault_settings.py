"""Settings for the Celery workers the fault tests start as separate processes.

The portal's own settings, with email written to files the test reads (EMAIL_FILE_PATH), so
"every email sent once" can be checked across processes. Everything else (broker, database,
timings) comes from the environment the test gives the worker.
"""

import os

from claims_portal.settings import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["EMAIL_FILE_PATH"]
