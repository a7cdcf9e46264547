FROM python:3.11-slim

# Pango and HarfBuzz for WeasyPrint's PDF records.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml ./
COPY . .
RUN pip install --no-cache-dir .
RUN DEBUG=false SECRET_KEY=build-only-collectstatic python manage.py collectstatic --noinput

EXPOSE 8000
CMD ["gunicorn", "claims_portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
