#!/usr/bin/env bash
# Issue 13 benchmark against a running cluster with pg_autoassign installed (any
# release): one seeded evening per (floor, demand, seed), every booking confirmed as it
# arrives, in its own transaction (bench/seating.sql). Prints one line per evening.
# DROPs and re-CREATEs the extension in the database: a throwaway cluster only.
#
#   PGHOST=127.0.0.1 PGPORT=54420 scripts/bench_seating.sh LABEL [seeds] [kinds] [demands]
#
# Run it once per build on the same seeds to compare releases (BENCHMARKS.md).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LABEL="${1:?label}"
SEEDS="${2:-1 2 3}"
KINDS="${3:-issue30 bistro9 big120}"
DEMANDS="${4:-0.8 1.0 1.3}"
PG_BIN="${PGAA_PG_BIN:-/usr/lib/postgresql/15/bin}"
DB="${PGAA_BENCH_DB:-pgaa_seating}"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
run() { (cd /tmp && runuser -u postgres -- env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" "$@"); }
SQL="$(mktemp /tmp/seating.XXXXXX.sql)"
cp "$ROOT/bench/seating.sql" "$SQL" && chmod a+r "$SQL"
run "$PG_BIN/dropdb" --if-exists "$DB"
run "$PG_BIN/createdb" "$DB"
run "$PG_BIN/psql" -X -q -d "$DB" -c "SET client_min_messages = warning" -c "CREATE EXTENSION pg_autoassign CASCADE"
echo "== $LABEL: $(run "$PG_BIN/psql" -X -tAq -d "$DB" -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_autoassign'"), load $(cut -d' ' -f1-3 /proc/loadavg)"
for kind in $KINDS; do
    for demand in $DEMANDS; do
        for seed in $SEEDS; do
            run "$PG_BIN/psql" -X -q -d "$DB" -v seed="$seed" -v demand="$demand" -v kind="$kind" \
                -v label="$LABEL" -f "$SQL" | grep "demand"
        done
    done
done
rm -f "$SQL"
