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
# all seeds together (requests: every request saw a 90%-busy floor; evening and filling:
# the confirms that built it, from 0% to about 80%, then to 90%)
echo "== $LABEL, seeds $SEEDS together"
run "$PG_BIN/psql" -X -qtA -d "$DB" -c "
SELECT format('%-60s n %4s  p50 %5s  p95 %5s  p99 %5s  max %5s us', phase || ', ' || strategy || ': ' || class,
              count(*), percentile_disc(0.5) WITHIN GROUP (ORDER BY duration_us),
              percentile_disc(0.95) WITHIN GROUP (ORDER BY duration_us),
              percentile_disc(0.99) WITHIN GROUP (ORDER BY duration_us), max(duration_us))
  FROM (SELECT r.duration_us,
               CASE WHEN r.ord <= -99000 THEN '1 evening' WHEN r.ord < 0 THEN '2 filling to 90%'
                    ELSE '3 requests at 90%' END AS phase,
               CASE WHEN r.strategy = '{}' THEN 'default' ELSE 'reassign off' END AS strategy,
               CASE WHEN d.moves > 0 THEN 'moved (re-assignment ran)'
                    WHEN d.reason IN ('no_fit', 'no_capacity') THEN 'refused (re-assignment ran)'
                    WHEN d.ok THEN 'free plan (no re-assignment)' ELSE 'other: ' || d.reason END AS class
          FROM seatbusy.results r
          JOIN seatbusy.results d ON d.run = r.run AND d.ord = r.ord AND d.strategy = '{}') x
 GROUP BY phase, strategy, class ORDER BY phase, strategy, class"
rm -f "$SQL"
