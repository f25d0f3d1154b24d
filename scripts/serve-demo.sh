#!/usr/bin/env bash
# Set everything up and serve fundflow with demo data on SQLite at http://127.0.0.1:5000/
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export FUNDFLOW_ENV="${FUNDFLOW_ENV:-development}"
PORT="${PORT:-5000}"
echo "==> Creating or upgrading the database"
.venv/bin/flask --app wsgi db upgrade
echo "==> Loading demo data"
.venv/bin/flask --app wsgi fundflow seed-demo
echo
echo "fundflow is running at http://127.0.0.1:${PORT}/  (press Ctrl+C to stop)"
echo
exec .venv/bin/gunicorn --bind "127.0.0.1:${PORT}" --workers 1 --threads 4 \
  --access-logfile - wsgi:app
