# The portal's image: web (gunicorn), Celery worker and beat all run from it.
#   docker build -t claims-portal .        (docker compose builds it for you)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Pango, pangoft2 and HarfBuzz's subset library for WeasyPrint (PDF records), and a font.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

# The processes run as this user; fontconfig (WeasyPrint) wants a writable home for its cache.
RUN useradd --system --create-home --home-dir /home/portal --shell /usr/sbin/nologin portal

WORKDIR /app
# Dependencies first, so this layer is rebuilt only when pyproject.toml changes:
# `packages = []`, so installing the project installs its dependencies and nothing else.
COPY pyproject.toml ./
RUN pip install .

COPY . .
# Collected at build so the image serves its assets (WhiteNoise) without a writable tree;
# the web service collects again at start, which is quick when nothing changed.
RUN mkdir -p /app/staticfiles /data/media \
 && chown portal:portal /app/staticfiles /data/media
USER portal
RUN DEBUG=false SECRET_KEY=build-only-collectstatic-not-a-secret \
    python manage.py collectstatic --noinput

ENV MEDIA_ROOT=/data/media
EXPOSE 8000
CMD ["gunicorn", "claims_portal.wsgi:application", "--bind", "0.0.0.0:8000", \
     "--workers", "3", "--access-logfile", "-"]
