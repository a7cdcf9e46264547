#!/usr/bin/env bash
# Serves the portal on 127.0.0.1:8000; with REDIS_URL set, a Celery worker and beat too.
set -euo pipefail
py=.venv/bin/python
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

if [ -n "${REDIS_URL:-}" ]; then
  echo "REDIS_URL is set: starting a Celery worker and beat."
  .venv/bin/celery -A claims_portal worker --loglevel=INFO --concurrency=2 &
  pids+=($!)
  .venv/bin/celery -A claims_portal beat --loglevel=INFO --schedule=/tmp/claims-portal-beat &
  pids+=($!)
else
  echo "No REDIS_URL: background tasks run in-process after each commit."
fi
echo "Serving on http://127.0.0.1:8000/  (Ctrl-C stops everything)"
"$py" manage.py runserver 127.0.0.1:8000 --noreload
