"""One settings module, read from the environment.

With nothing set it runs the embedded default: an SQLite file, Celery tasks run
in-process, mail printed to the console. Production sets DEBUG=false, SECRET_KEY,
ALLOWED_HOSTS, DATABASE_URL, REDIS_URL and the EMAIL_* variables.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from claims_portal.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=True)

_DEV_SECRET = "insecure-dev-only-key-not-for-production-use-0123456789abcdef"
SECRET_KEY = env_str("SECRET_KEY", default=_DEV_SECRET if DEBUG else None)
if not DEBUG and SECRET_KEY == _DEV_SECRET:
    raise ImproperlyConfigured("Set SECRET_KEY to a secret value when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "claims_portal",
    "partners",
    "customers",
    "claims",
    "approvals",
    "claims_portal.partner_system",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "claims_portal.middleware.PortalRolesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "claims_portal.urls"
WSGI_APPLICATION = "claims_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "claims_portal.context_processors.roles",
                "claims_portal.context_processors.notifications",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", default="")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", default=str(BASE_DIR / "db.sqlite3")),
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth (django-allauth, email is the login) ----------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"

# --- Internationalisation ---------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English")]
TIME_ZONE = env_str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ---------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Uploaded documents (custom SOWs) and re-encoded images live here, outside MEDIA_ROOT and
# the static files, so nothing serves them except views that check who is asking
# (claims_portal.uploads).
PRIVATE_MEDIA_ROOT = Path(env_str("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "private")))
# One uploaded file is kept up to this size; beyond it the rest is counted, not stored,
# so the form can say how large it was (claims_portal.uploads.CappedUploadHandler).
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 20 * 1024 * 1024)
FILE_UPLOAD_HANDLERS = ["claims_portal.uploads.CappedUploadHandler"]

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email --------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST", default="")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 25)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
    EMAIL_TIMEOUT = 15
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", default="Claims Portal <claims@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SITE_URL = env_str("SITE_URL", default="http://127.0.0.1:8000")
# Who runs the partner programs, as customers know it ("Deployment FY26 is a program of …").
VENDOR_NAME = env_str("VENDOR_NAME", default="the software vendor")
# Links in allauth's emails use the scheme the portal is really served on.
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https://") else "http"

# --- Celery -------------------------------------------------------------------
# Reliability, set knowingly: no claim lost or stuck when the broker or a worker fails.
# - Work queued inside a transaction is written to the outbox in that transaction and handed
#   to the broker after the commit (claims_portal/outbox.py); a failed hand-off stays in the
#   database and `relay_outbox` retries it every OUTBOX_RELAY_SECONDS.
# - acks_late: a message is acknowledged when its task has finished, not when it starts, so a
#   worker that dies mid-task leaves it with the broker to be delivered again. Every task takes
#   ids and re-checks the state under a lock, so a second run changes nothing.
# - reject_on_worker_lost: a prefork child killed mid-task (OOM killer, SIGKILL) has its
#   message requeued at once, where Celery would otherwise acknowledge it as failed.
# - visibility_timeout (Redis): a message taken by a worker that vanished altogether (process
#   or machine gone, nothing left to requeue it) is delivered again this long after it was
#   taken. Workers look for such messages every 10 s (kombu's default, 10 s x a throttle of
#   10, would be every 100 s), so a claim is decided within about 130 s of a worker being
#   available again. It must exceed the longest task (task_time_limit) and the longest retry
#   countdown (60 s), or a message still being worked on is delivered a second time
#   (harmless, as above, but wasted work).
# - prefetch_multiplier 1: a worker process reserves one message at a time, so a backlog
#   spreads over every worker and a dying worker strands only the message it was running.
# - No result backend: nothing reads task results, and a result store that cannot be reached
#   made every .delay() wait 19 s for its reconnect retries (the "500 after 19 s" at confirm).
# - Emails have their own queue: a slow mail relay never holds back the claims' evaluations.
#   Every worker consumes both queues unless started with -Q.
# - The sweeps re-queue what a lost message left behind: claims still being checked and
#   notifications not emailed SWEEP_AFTER after they should have been.
REDIS_URL = env_str("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    # Embedded default: tasks run in the web process right after the commit.
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 90
CELERY_TASK_SOFT_TIME_LIMIT = 75
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 120),
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
    # A process sending a message (a request's outbox hand-off, beat, a sweep) tries an
    # unreachable broker twice and gives up in milliseconds, where kombu would otherwise
    # keep trying for the 4 s connect timeout: the outbox keeps the message meanwhile.
    # A worker's own connection retries on its own terms (broker_connection_max_retries).
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = {"celery": {}, "notifications": {}}
CELERY_TASK_ROUTES = {"claims.tasks.send_*": {"queue": "notifications"}}
OUTBOX_RELAY_SECONDS = env_int("OUTBOX_RELAY_SECONDS", 10)
CELERY_BEAT_SCHEDULE = {
    "relay-outbox": {
        "task": "claims_portal.tasks.relay_outbox",
        "schedule": timedelta(seconds=OUTBOX_RELAY_SECONDS),
        # A relay that could not run in time is dropped: the next one does the same work.
        "options": {"expires": OUTBOX_RELAY_SECONDS},
    },
    "sweep-stuck-evaluations": {
        "task": "approvals.tasks.sweep_evaluations",
        "schedule": crontab(minute="*"),
        "options": {"expires": 60},
    },
    "deadline-reminders-and-escalations": {
        "task": "approvals.tasks.sweep_deadlines",
        "schedule": crontab(minute="*/5"),
    },
    "sweep-unsent-notifications": {
        "task": "claims.tasks.sweep_notifications",
        "schedule": crontab(minute="*"),
        "options": {"expires": 60},
    },
    "sweep-unsent-invitations": {
        "task": "partners.tasks.sweep_invitations",
        "schedule": crontab(minute="*/5"),
    },
}
# A lost message is recovered by the sweep once it is this old.
SWEEP_AFTER = timedelta(minutes=env_int("SWEEP_AFTER_MINUTES", 5))
# How long the committing process has to hand its messages over before the relay may.
OUTBOX_GRACE = timedelta(seconds=env_int("OUTBOX_GRACE_SECONDS", 30))
# How long a relay holds the messages it took; then another relay may take them.
OUTBOX_LEASE = timedelta(seconds=60)
# A failed hand-off is tried again after 5 s, 10 s, 20 s ... at most a minute apart.
OUTBOX_RETRY_MIN = timedelta(seconds=5)
OUTBOX_RETRY_MAX = timedelta(seconds=60)

# --- The vendor's partner system (claims_portal/partner_system) --------------------------
# "file": a folder the vendor's system drops exports into (works out of the box);
# "http": JSON over HTTPS with a bearer token.
PARTNER_SYSTEM_ADAPTER = env_str("PARTNER_SYSTEM_ADAPTER", default="file")
PARTNER_SYSTEM_DIR = Path(
    env_str("PARTNER_SYSTEM_DIR", default=str(BASE_DIR / "var" / "partner-system"))
)
PARTNER_SYSTEM_URL = env_str("PARTNER_SYSTEM_URL", default="")
PARTNER_SYSTEM_TOKEN = env_str("PARTNER_SYSTEM_TOKEN", default="")
# A private CA's certificate (PEM) when the vendor's system is not under a public one.
PARTNER_SYSTEM_CA_FILE = env_str("PARTNER_SYSTEM_CA_FILE", default="")
PARTNER_SYSTEM_HTTP_TIMEOUT = env_int("PARTNER_SYSTEM_HTTP_TIMEOUT_SECONDS", 30)
PARTNER_SYSTEM_HTTP_RETRIES = env_int("PARTNER_SYSTEM_HTTP_RETRIES", 4)
# The first retry waits this long, each next one twice as long (2, 4, 8, 16 s).
PARTNER_SYSTEM_HTTP_BACKOFF = float(env_int("PARTNER_SYSTEM_HTTP_BACKOFF_MS", 2000)) / 1000
# How often beat starts a sync; 0 turns the schedule off (the command still works).
PARTNER_SYSTEM_SYNC_MINUTES = env_int("PARTNER_SYSTEM_SYNC_MINUTES", 15)
# A run renews its lease between files; one file must be applied within it. A run whose
# process died holds nothing longer than this.
PARTNER_SYSTEM_LEASE_SECONDS = env_int("PARTNER_SYSTEM_LEASE_SECONDS", 30 * 60)
if PARTNER_SYSTEM_SYNC_MINUTES > 0:
    CELERY_BEAT_SCHEDULE["sync-partner-system"] = {
        "task": "claims_portal.partner_system.tasks.sync_partner_system",
        "schedule": timedelta(minutes=PARTNER_SYSTEM_SYNC_MINUTES),
    }

# --- Cache (rate limits and throttles) --------------------------------------
# Counters that must hold across every server process (the partner-code limit, sign-in
# throttles) live in Redis when it is configured; the embedded default keeps them in memory.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # The broker shares this Redis database: keep the cache's keys apart from its.
            "KEY_PREFIX": "cache",
            # A Redis that does not answer fails a request in seconds, not minutes.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Security (production, DEBUG off) ----------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", default="INFO")},
}
