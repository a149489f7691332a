#!/usr/bin/env bash
# Issue 13 speed target against a running cluster with pg_autoassign installed (a
# release build, preloaded): confirm latency when re-assignment runs on a 120-table
# floor at 90% busy, and the same requests with re-assignment off (bench/seating_busy.sql).
# Prints, per seed, the occupancy reached and p50/p95/p99 per class of confirm.
# DROPs and re-CREATEs the database: a throwaway cluster only.
#
#   PGHOST=127.0.0.1 PGPORT=54420 scripts/bench_seating_busy.sh LABEL [seeds] [n] [target]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LABEL="${1:?label}"
SEEDS="${2:-1 2 3}"
N="${3:-300}"
TARGET="${4:-0.90}"
PG_BIN="${PGAA_PG_BIN:-/usr/lib/postgresql/15/bin}"
DB="${PGAA_BENCH_DB:-pgaa_seating_busy}"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
run() { (cd /tmp && runuser -u postgres -- env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" "$@"); }
SQL="$(mktemp /tmp/seating_busy.XXXXXX.sql)"
cp "$ROOT/bench/seating_busy.sql" "$SQL" && chmod a+r "$SQL"
run "$PG_BIN/dropdb" --if-exists "$DB"
run "$PG_BIN/createdb" "$DB"
run "$PG_BIN/psql" -X -q -d "$DB" -c "SET client_min_messages = warning" -c "CREATE EXTENSION pg_autoassign CASCADE"
echo "== $LABEL: pg_autoassign $(run "$PG_BIN/psql" -X -tAq -d "$DB" -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_autoassign'"), $(nproc) cores"
for seed in $SEEDS; do
    run "$PG_BIN/psql" -X -q -d "$DB" -v seed="$seed" -v n="$N" -v target="$TARGET" \
        -v label="$LABEL" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" -f "$SQL"
    echo "   (load average after: $(cut -d' ' -f1-3 /proc/loadavg))"
done
rm -f "$SQL"
