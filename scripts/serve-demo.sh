#!/usr/bin/env bash
# Set everything up and serve fundflow with demo data on SQLite at http://127.0.0.1:5000/
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export FUNDFLOW_ENV="${FUNDFLOW_ENV:-development}"
PORT="${PORT:-5000}"
export FUNDFLOW_SERVICE_URL="${FUNDFLOW_SERVICE_URL:-http://127.0.0.1:${PORT}}"
# How often the demo's stand-in for cron delivers the outbox (seconds); run-schedule hourly.
SEND_EVERY="${FUNDFLOW_DEMO_SEND_EVERY:-300}"
echo "==> Creating or upgrading the database"
.venv/bin/flask --app wsgi db upgrade
echo "==> Loading demo data"
.venv/bin/flask --app wsgi fundflow seed-demo

# Like cron on a server: send what is in the outbox every few minutes (with no SMTP_HOST the
# emails are written to this log), and turn due dates into reminders every hour.
(
  ticks=0
  while sleep "$SEND_EVERY"; do
    .venv/bin/flask --app wsgi fundflow send-notifications || true
    ticks=$((ticks + SEND_EVERY))
    if [ "$ticks" -ge 3600 ]; then
      .venv/bin/flask --app wsgi fundflow run-schedule || true
      ticks=0
    fi
  done
) &
SENDER=$!
trap 'kill "$SENDER" 2>/dev/null || true' EXIT

echo
echo "fundflow is running at http://127.0.0.1:${PORT}/  (press Ctrl+C to stop)"
echo "Emails wait in the outbox; every $((SEND_EVERY / 60)) minutes they are 'sent' to this log."
echo
.venv/bin/gunicorn --bind "127.0.0.1:${PORT}" --workers 1 --threads 4 --access-logfile - wsgi:app
