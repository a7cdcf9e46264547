"""Settings for serving the portal to the page benchmarks: the app's own, plus measuring.

DEBUG is off (DEBUG on keeps every query in memory and renders differently), static files
are not measured, and the outermost middleware reports query counts and server time.
"""

from __future__ import annotations

import os

# Before the import: the app's settings refuse the dev key when DEBUG=false is in the
# environment, and read the database and broker from it.
os.environ.setdefault("SECRET_KEY", "bench-only-secret-not-for-production-0123456789abcdefghij")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/claims_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/12")

from claims_portal.settings import *  # noqa: E402, F403
from claims_portal.settings import DATABASES, LOGGING, MIDDLEWARE, STORAGES  # noqa: E402

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.urls"
MIDDLEWARE = ["bench.middleware.BenchMiddleware", *MIDDLEWARE]

# Plain HTTP on the loopback: no redirects to HTTPS, cookies without the Secure flag.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# No collectstatic manifest needed; {% static %} only builds URLs.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# One persistent connection per worker, as in production under load (CONN_MAX_AGE=60
# there); a reconnect every minute would show up in p95 and not in the page's code.
DATABASES["default"]["CONN_MAX_AGE"] = None

LOGGING = {**LOGGING, "root": {**LOGGING["root"], "level": os.environ.get("LOG_LEVEL", "WARNING")}}

# Where the middleware writes per-request reports (SQL for --explain, streamed responses).
BENCH_REPORT_DIR = os.environ.get(
    "BENCH_REPORT_DIR", os.path.join(os.path.dirname(__file__), "out", "reports")
)
