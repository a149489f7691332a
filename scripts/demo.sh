#!/usr/bin/env bash
# Sets everything up, installs pg_autoassign into a throwaway cluster, loads the White
# Horse demo and auto-assigns tomorrow's dinner service, then prints the floor, the
# free capacity over the evening, every booking's result and the telemetry.
# Then builds pgaa, the operator's tool (ops/), and shows the service with it: the report,
# the timeline picture (SVG + HTML in ./demo-output/) and a short stress run in a scratch
# restaurant it removes again.
# The cluster keeps running afterwards; the script prints how to connect and stop it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_all
cd "$ROOT"

DEMO_PORT="${PGAA_DEMO_PORT:-54330}"
DEMO_DIR="$(cluster_dir .demo)"

install_extension
start_cluster "$DEMO_DIR" "$DEMO_PORT"

log "Loading the demo and assigning the service"
as_postgres "$PG_BIN/psql" -X -h 127.0.0.1 -p "$DEMO_PORT" -U postgres -d pg_autoassign \
    -v ON_ERROR_STOP=1 -f "$ROOT/sql/demo/show.sql"

log "Building pgaa, the operator's tool"
cargo build --release -p pgaa
PGAA="${CARGO_TARGET_DIR:-$ROOT/target}/release/pgaa"
export PGAA_DSN="host=127.0.0.1 port=$DEMO_PORT user=postgres dbname=pg_autoassign"
read -r DEMO_RID DEMO_DAY < <(as_postgres "$PG_BIN/psql" -X -qtA -F ' ' -h 127.0.0.1 -p "$DEMO_PORT" \
    -U postgres -d pg_autoassign -c "SELECT r.id, (min(b.start_at) AT TIME ZONE r.timezone)::date
      FROM autoassign.restaurants r JOIN autoassign.bookings b ON b.restaurant_id = r.id
     WHERE r.name = 'The White Horse' GROUP BY r.id")
OUT="$ROOT/demo-output"
mkdir -p "$OUT"
echo '*' > "$OUT/.gitignore"   # generated files, never committed

log "Six late requests arrive; pgaa assigns them"
as_postgres "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$DEMO_PORT" -U postgres -d pg_autoassign -v ON_ERROR_STOP=1 \
    -v rid="$DEMO_RID" -v day="$DEMO_DAY" <<'SQL'
INSERT INTO autoassign.bookings (restaurant_id, party_size, start_at)
SELECT r.id, v.party, (:'day'::date + v.at) AT TIME ZONE r.timezone
  FROM autoassign.restaurants r,
       (VALUES (2, time '16:00'), (8, time '16:30'), (4, time '21:30'), (2, time '21:30'),
               (6, time '21:45'), (3, time '22:00')) AS v(party, at)
 WHERE r.id = :'rid';
SQL
log "pgaa assign: dry run (quotes only, writes nothing but telemetry)"
"$PGAA" assign --restaurant "$DEMO_RID" --day "$DEMO_DAY" --no-progress
log "pgaa assign --apply (confirms, source ops, 10 calls/s)"
"$PGAA" assign --restaurant "$DEMO_RID" --day "$DEMO_DAY" --apply --rate 10 --no-progress
log "A guest on the phone: a table is held for 15 minutes while they decide"
as_postgres "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$DEMO_PORT" -U postgres -d pg_autoassign -v ON_ERROR_STOP=1 \
    -v rid="$DEMO_RID" -v day="$DEMO_DAY" <<'SQL'
WITH b AS (
    INSERT INTO autoassign.bookings (restaurant_id, party_size, start_at)
    SELECT r.id, 4, (:'day'::date + time '16:15') AT TIME ZONE r.timezone
      FROM autoassign.restaurants r WHERE r.id = :'rid'
    RETURNING id)
SELECT q.ok AS held, q.seats FROM b, autoassign.autoassign_quote(b.id, hold_seconds => 900) q;
SQL
log "pgaa report"
"$PGAA" report --restaurant "$DEMO_RID" --day "$DEMO_DAY"
log "pgaa timeline"
"$PGAA" timeline --restaurant "$DEMO_RID" --day "$DEMO_DAY" -o "$OUT/service.svg"
log "pgaa stress (scratch restaurant, removed at the end)"
"$PGAA" stress --bookings 500 --clients 2 --seconds 5 --no-progress --json "$OUT/stress.json"

cat <<MSG

The timeline of the White Horse's service: $OUT/service.svg
  and the page that embeds it:            $OUT/service.html
The stress report:                        $OUT/stress.json
pgaa:  $PGAA --help   (PGAA_DSN="$PGAA_DSN")

The demo cluster is still running.
  Connect:  psql -h 127.0.0.1 -p $DEMO_PORT -U postgres pg_autoassign
  Stop:     $( [ "$(id -u)" -eq 0 ] && echo "runuser -u postgres --" || echo "sudo -u postgres" ) $PG_BIN/pg_ctl -D $DEMO_DIR/data stop
MSG
