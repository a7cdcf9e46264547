#!/usr/bin/env bash
# Serves the portal on http://127.0.0.1:8000 (`make run` calls this after migrate + seed_demo).
# With REDIS_URL set it also starts a Celery worker and beat in the background and stops
# them when the server stops; without it, tasks run in-process after each commit.
#   ADDR=0.0.0.0:8000 scripts/run.sh   # listen elsewhere
set -euo pipefail
cd "$(dirname "$0")/.."
addr=${ADDR:-127.0.0.1:8000}
bin=.venv/bin

pids=()
cleanup() {
  trap - EXIT INT TERM
  # Celery treats TERM as a warm shutdown: running tasks finish, unstarted ones stay queued.
  for pid in ${pids[@]+"${pids[@]}"}; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

if [ -n "${REDIS_URL:-}" ]; then
  echo "REDIS_URL is set: starting a Celery worker and beat (stopped with the server)."
  "$bin"/celery -A claims_portal worker --loglevel=INFO --concurrency=2 &
  pids+=($!)
  "$bin"/celery -A claims_portal beat --loglevel=INFO \
    --schedule="${TMPDIR:-/tmp}/claims-portal-celerybeat-schedule" &
  pids+=($!)
else
  echo "No REDIS_URL: background tasks run in-process after each commit; mail goes to this console."
fi

echo "Serving on http://$addr/  (Ctrl-C stops everything)"
# Not exec: the traps above must outlive the server to stop the worker and beat.
"$bin"/python manage.py runserver "$addr" --noreload &
server=$!
pids+=("$server")
# A signal interrupts `wait` at once (a foreground child would delay the trap until it ended).
wait "$server"
