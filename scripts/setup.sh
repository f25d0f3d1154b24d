#!/usr/bin/env bash
# Install fundflow's Python and front-end dependencies into this checkout (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
# WeasyPrint (the PDF dossier and termly report) draws text with Pango, from Debian.
if ! ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0.so.0"; then
  SUDO=""
  if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
  echo "==> Installing Pango (for PDFs) from Debian"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-liberation >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> Creating a virtual environment in .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.fundflow-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> Installing Python packages"
  # (grep hides this machine's notes about local package mirrors; errors still show)
  .venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | { grep -v "^WARNING: Location" || true; }
  .venv/bin/python -m pip install --quiet -e '.[test]' 2>&1 | { grep -v "^WARNING: Location" || true; }
  touch "$stamp"
fi
if [ ! -d node_modules/govuk-frontend ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> Installing GOV.UK Frontend and axe-core (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
if [ ! -f fundflow/static/app.css ] || [ fundflow/static/scss/app.scss -nt fundflow/static/app.css ]; then
  echo "==> Building the stylesheet"
  npx --no-install sass --load-path=node_modules --no-source-map --style=compressed \
    --quiet-deps --silence-deprecation=import fundflow/static/scss/app.scss fundflow/static/app.css \
    2>/dev/null
fi
