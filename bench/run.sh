#!/usr/bin/env bash
# Measure fundflow at scale and write bench/RESULTS.md (README "Benchmark").
#
#   bash bench/run.sh [--sizes "1000 100000"] [--seconds 15] [--connections 16] [--output FILE]
#                     [--postgres-url postgresql://postgres@127.0.0.1:PORT]
#
# Sets up the checkout (scripts/setup.sh), installs Debian's wrk and PostgreSQL when missing,
# starts a throwaway PostgreSQL (or uses the server at --postgres-url, creating and dropping
# its own databases there), and for each size N: a fresh database, `db upgrade`,
# `seed-bench --applications N` (seed-demo when seed-bench is not there), VACUUM ANALYZE, the
# audit chain verified (timed), fundflow and bench/baseline_app.py each served by gunicorn
# (2 sync workers, production settings) on 127.0.0.1, then bench/load.py (wrk, one timed call
# of each export, the transition, pgbench) and bench/count_statements.py. bench/report.py
# turns the JSON they write into the results file.
# Options may also be given as BENCH_SIZES, BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_OUTPUT,
# BENCH_POSTGRES_URL; BENCH_KEEP_JSON=DIR keeps the raw JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

SIZES="${BENCH_SIZES:-1000 100000}"
SECONDS_PER_TARGET="${BENCH_SECONDS:-15}"
CONNECTIONS="${BENCH_CONNECTIONS:-16}"
OUTPUT="${BENCH_OUTPUT:-$ROOT/bench/RESULTS.md}"
SERVER_URL="${BENCH_POSTGRES_URL:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) SIZES="$2"; shift 2 ;;
    --seconds) SECONDS_PER_TARGET="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --output) OUTPUT="$2"; shift 2 ;;
    --postgres-url) SERVER_URL="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

bash scripts/setup.sh
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
need=()
command -v wrk >/dev/null || need+=(wrk)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> Installing ${need[*]} from Debian"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
PG_BINDIR=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
export PATH="$ROOT/.venv/bin:$PG_BINDIR:$PATH"

WORK=$(mktemp -d /tmp/fundflow-bench.XXXXXX)
SERVERS=()
cleanup() {
  for pid in "${SERVERS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${SERVERS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "${DROP_DB:-}" ]; then psql -q "$SERVER_URL/postgres" -c "DROP DATABASE IF EXISTS $DROP_DB" || true; fi
  [ -n "${PG_TMP:-}" ] && stop_throwaway_postgres
  if [ -n "${BENCH_KEEP_JSON:-}" ]; then mkdir -p "$BENCH_KEEP_JSON" && cp -r "$WORK"/. "$BENCH_KEEP_JSON"/; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -z "$SERVER_URL" ]; then
  source scripts/throwaway-postgres.sh
  start_throwaway_postgres
  SERVER_URL="postgresql://postgres@127.0.0.1:${PG_PORT}"
fi
SERVER_URL="${SERVER_URL%/}"
SERVER_URL="${SERVER_URL/postgresql+psycopg:/postgresql:}"
python bench/report.py machine --database-url "$SERVER_URL/postgres" --out "$WORK/machine.json" --when before

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() {
  for _ in $(seq 1 150); do
    if python3 -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$1" 2>/dev/null
    then return 0; fi
    sleep 0.2
  done
  echo "server at $1 did not start" >&2; return 1
}
serve() {  # serve PORT APP [gunicorn options…]: 2 sync workers, in the background
  local port=$1 app=$2; shift 2
  gunicorn --workers 2 --worker-class sync --bind "127.0.0.1:$port" --timeout 600 \
    --log-level warning "$@" "$app" >>"$WORK/gunicorn.log" 2>&1 &
  SERVERS+=($!)
}

for N in $SIZES; do
  echo "==> N = $N bids"
  DB="fundflow_bench_${N}_$$"
  psql -q "$SERVER_URL/postgres" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
  DROP_DB="$DB"
  URL="${SERVER_URL/postgresql:/postgresql+psycopg:}/$DB"
  OUT="$WORK/n$N"
  mkdir -p "$OUT"
  export DATABASE_URL="$URL"
  FUNDFLOW_ENV=development flask --app wsgi db upgrade >/dev/null 2>&1
  started=$(date +%s.%N)
  if FUNDFLOW_ENV=development flask --app wsgi fundflow seed-bench --help >/dev/null 2>&1; then
    seeder="seed-bench --applications $N"
    FUNDFLOW_ENV=development flask --app wsgi fundflow seed-bench --applications "$N" >"$OUT/seed.log" 2>&1
  else
    seeder="seed-demo (seed-bench not available)"
    FUNDFLOW_ENV=development flask --app wsgi fundflow seed-demo >"$OUT/seed.log" 2>&1
  fi
  seeded=$(date +%s.%N)
  psql -q "$SERVER_URL/$DB" -c "VACUUM ANALYZE"
  verify_started=$(date +%s.%N)
  verify_status=0
  FUNDFLOW_ENV=development flask --app wsgi fundflow verify-audit >"$OUT/verify.log" 2>&1 || verify_status=$?
  verified=$(date +%s.%N)
  events=$(psql -tA "$SERVER_URL/$DB" -c "SELECT count(*) FROM events")
  # the organisations on the deployment and their bids (the load runs as the first one's staff)
  organisations=$(psql -tA "$SERVER_URL/$DB" -c "SELECT string_agg(o.slug || ' ' || (SELECT count(*)
    FROM applications a JOIN funds f ON f.id = a.fund_id WHERE f.organisation_id = o.id), ', ' ORDER BY o.id)
    FROM organisations o")
  python bench/baseline_app.py
  cat >"$OUT/setup.json" <<EOF
{"size": $N, "seeder": "$seeder", "seed_seconds": $(python3 -c "print($seeded - $started)"),
 "verify_seconds": $(python3 -c "print($verified - $verify_started)"), "verify_exit": $verify_status, "events": $events,
 "organisations": "$organisations"}
EOF
  APP_PORT=$(free_port)
  BASE_PORT=$(free_port)
  SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))') FUNDFLOW_ENV=production \
    SESSION_COOKIE_SECURE=false serve "$APP_PORT" wsgi:app
  serve "$BASE_PORT" baseline_app:app --pythonpath "$ROOT/bench"
  wait_for "http://127.0.0.1:$APP_PORT/sign-in"
  wait_for "http://127.0.0.1:$BASE_PORT/hello"
  python bench/load.py --app-url "http://127.0.0.1:$APP_PORT" --baseline-url "http://127.0.0.1:$BASE_PORT" \
    --database-url "$URL" --size "$N" --seconds "$SECONDS_PER_TARGET" --connections "$CONNECTIONS" --out "$OUT"
  for pid in "${SERVERS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${SERVERS[@]}"; do wait "$pid" 2>/dev/null || true; done
  SERVERS=()
  echo "    counting SQL statements"
  FUNDFLOW_ENV=development python bench/count_statements.py --database-url "$URL" \
    --targets "$OUT/targets.json" --out "$OUT/statements.json"
  unset DATABASE_URL
  psql -q "$SERVER_URL/postgres" -c "DROP DATABASE IF EXISTS $DB"
  DROP_DB=""
done

python bench/report.py machine --database-url "$SERVER_URL/postgres" --out "$WORK/machine.json" --when after
python bench/report.py write --json "$WORK" --out "$OUTPUT"
echo "==> Wrote $OUTPUT"
