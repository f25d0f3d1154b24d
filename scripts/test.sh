#!/usr/bin/env bash
# Set up and run the whole test suite: lint, unit, integration, PostgreSQL and browser tests.
# Installs Debian's PostgreSQL, Chromium and Graphviz when missing (needs root or sudo) and starts a
# throwaway PostgreSQL cluster that is removed when the tests end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
need=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null || need+=(chromium fonts-liberation)
# Graphviz redraws the lifecycle diagrams in a test; it measures text in Liberation Sans.
command -v dot >/dev/null || need+=(graphviz fonts-liberation)
# The benchmark's smoke run (tests/integration/test_bench_smoke.py) loads pages with wrk.
command -v wrk >/dev/null || need+=(wrk)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> Installing ${need[*]} from Debian"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ -z "${FUNDFLOW_TEST_POSTGRES_URL:-}" ]; then
  source scripts/throwaway-postgres.sh
  start_throwaway_postgres
  trap stop_throwaway_postgres EXIT
fi

# A short run of the benchmark (bench/run.sh) is part of the suite.
export FUNDFLOW_BENCH_SMOKE="${FUNDFLOW_BENCH_SMOKE:-1}"

echo "==> ruff"
.venv/bin/ruff check .
echo "==> pytest"
.venv/bin/python -m pytest "$@"
