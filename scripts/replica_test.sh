#!/usr/bin/env bash
# pg_autoassign on a hot standby (issue 12). Starts its own primary and a streaming
# standby made with `pg_basebackup -R`, on the PostgreSQL copy scripts/lib.sh uses
# (PGAA_PG_BIN), both with pg_autoassign preloaded:
#
#   PGAA_PG_BIN=... scripts/replica_test.sh      (ports 54337/54338 unless
#                                                PGAA_PRIMARY_PORT/PGAA_STANDBY_PORT)
#
# On the standby, with autoassign.telemetry = on:
#   - autoassign_quote without a hold and autoassign_explain work; their events are
#     counted (autoassign.event_queue.standby, autoassign.stats.events_dropped), not raised;
#   - autoassign_confirm, autoassign_cancel, a quote with hold_seconds, autoassign_sweep
#     and autoassign_retire_table refuse with 25006 and a hint naming the primary.
# The primary keeps writing its events. Prints one PASS or FAIL line (with every failed
# check) and exits non-zero on failure. Both clusters are stopped and removed at the end
# (PGAA_KEEP_REPLICA=1 keeps them).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set +e

PRIMARY_PORT="${PGAA_PRIMARY_PORT:-54337}"
STANDBY_PORT="${PGAA_STANDBY_PORT:-54338}"
BASE="${PGAA_REPLICA_DIR:-/tmp/pgaa-replica-$(id -u)-$PRIMARY_PORT}"
PRIMARY="$BASE/primary"
STANDBY="$BASE/standby"
DB=pg_autoassign

failures=()
fail() { failures+=("$*"); echo "  FAIL: $*"; }
ok() { echo "  ok: $*"; }

psql_on() {
    local port="$1"; shift
    as_postgres "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d "$DB" -v ON_ERROR_STOP=1 "$@"
}
val() { psql_on "$1" -tA -c "$2" 2>&1; }

cleanup() {
    stop_cluster "$STANDBY"
    stop_cluster "$PRIMARY"
    [ "${PGAA_KEEP_REPLICA:-0}" = 1 ] || as_root rm -rf "$BASE"
}
trap cleanup EXIT

# expect_error STATE NAME SQL: SQL must fail with SQLSTATE STATE and a hint naming the primary.
expect_error() {
    local state="$1" name="$2" sql="$3" out
    out="$(psql_on "$STANDBY_PORT" -c '\set VERBOSITY verbose' -c "$sql" 2>&1)"
    if ! grep -q "ERROR:  $state:" <<<"$out"; then
        fail "$name: expected SQLSTATE $state, got: $(head -3 <<<"$out" | tr '\n' ' ')"
    elif ! grep -qi "HINT:.*primary" <<<"$out"; then
        fail "$name: $state without a hint naming the primary: $(tr '\n' ' ' <<<"$out")"
    else
        ok "$name refused with $state and a hint"
    fi
}

stop_cluster "$STANDBY"
stop_cluster "$PRIMARY"
as_root rm -rf "$BASE"
as_root mkdir -p "$BASE"
as_root chown postgres:postgres "$BASE"

log "Primary on port $PRIMARY_PORT"
start_cluster "$PRIMARY" "$PRIMARY_PORT" >/dev/null
psql_on "$PRIMARY_PORT" -c "SET client_min_messages = warning" \
    -c "CREATE EXTENSION pg_autoassign CASCADE" \
    -c "SELECT autoassign.autoassign_demo_load('2030-06-01', 42)" >/dev/null || {
    echo "FAIL: replica_test: cannot install pg_autoassign on the primary"; exit 1; }
# one confirmed booking (for cancel), one pending (for quote/explain/confirm)
CONFIRMED="$(val "$PRIMARY_PORT" "SELECT b.id FROM autoassign.bookings b
    WHERE b.status = 'pending' ORDER BY b.start_at, b.id LIMIT 1")"
val "$PRIMARY_PORT" "SELECT ok FROM autoassign.autoassign_confirm('$CONFIRMED')" >/dev/null
PENDING="$(val "$PRIMARY_PORT" "SELECT b.id FROM autoassign.bookings b
    WHERE b.status = 'pending' AND b.party_size <= 4 ORDER BY b.start_at, b.id LIMIT 1")"
TABLE="$(val "$PRIMARY_PORT" "SELECT id FROM autoassign.tables ORDER BY name LIMIT 1")"
val "$PRIMARY_PORT" "CHECKPOINT" >/dev/null

log "Standby on port $STANDBY_PORT (pg_basebackup -R)"
as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres \
    -D "$STANDBY/data" -R -X stream -c fast || { echo "FAIL: replica_test: pg_basebackup"; exit 1; }
cat <<CONF | as_postgres tee -a "$STANDBY/data/postgresql.conf" >/dev/null
port = $STANDBY_PORT
unix_socket_directories = '$STANDBY'
hot_standby = on
CONF
as_postgres "$PG_BIN/pg_ctl" -D "$STANDBY/data" -l "$STANDBY/server.log" -w start >/dev/null ||
    { echo "FAIL: replica_test: standby did not start"; tail -20 "$STANDBY/server.log"; exit 1; }

# wait for the standby to replay what the primary has
target="$(val "$PRIMARY_PORT" "SELECT pg_current_wal_lsn()")"
for _ in $(seq 1 100); do
    caught="$(val "$STANDBY_PORT" "SELECT pg_last_wal_replay_lsn() >= '$target'::pg_lsn")"
    [ "$caught" = t ] && break
    sleep 0.1
done
[ "$(val "$STANDBY_PORT" "SELECT pg_is_in_recovery()")" = t ] && ok "standby is in recovery" ||
    fail "standby is not in recovery"

log "Checks on the standby"
before="$(val "$STANDBY_PORT" "SELECT standby FROM autoassign.event_queue")"
out="$(val "$STANDBY_PORT" "SET autoassign.telemetry = on;
    SELECT ok FROM autoassign.autoassign_quote('$PENDING')")"
[ "$out" = t ] && ok "quote without a hold works (ok = t)" || fail "quote on the standby: $out"
out="$(val "$STANDBY_PORT" "SET autoassign.telemetry = on;
    SELECT count(*) > 0 FROM autoassign.autoassign_explain('$PENDING')")"
[ "$out" = t ] && ok "explain works" || fail "explain on the standby: $out"
out="$(val "$STANDBY_PORT" "SELECT ok, reason FROM autoassign.autoassign_quote('$CONFIRMED')")"
[ "$out" = "f|booking_not_pending" ] && ok "quote of a confirmed booking says booking_not_pending" ||
    fail "quote of a confirmed booking on the standby: $out"
after="$(val "$STANDBY_PORT" "SELECT standby FROM autoassign.event_queue")"
[ "$after" -ge $((before + 3)) ] 2>/dev/null && ok "events counted, not written (standby $before -> $after)" ||
    fail "standby event count $before -> $after (expected +3)"
out="$(val "$STANDBY_PORT" "SELECT sum(events_dropped) >= 3 AND sum(events_written) = 0 FROM autoassign.stats")"
[ "$out" = t ] && ok "stats keys count the unwritten events" || fail "stats on the standby: $out"
out="$(val "$STANDBY_PORT" "SELECT autoassign.autoassign_flush_events()")"
[ "$out" = 0 ] && ok "flush is a no-op on the standby" || fail "flush on the standby: $out"

expect_error 25006 "autoassign_confirm" "SELECT * FROM autoassign.autoassign_confirm('$PENDING')"
expect_error 25006 "autoassign_cancel" "SELECT * FROM autoassign.autoassign_cancel('$CONFIRMED')"
expect_error 25006 "autoassign_quote with hold_seconds" \
    "SELECT * FROM autoassign.autoassign_quote('$PENDING', hold_seconds => 60)"
expect_error 25006 "autoassign_sweep" "SELECT * FROM autoassign.autoassign_sweep()"
expect_error 25006 "autoassign_retire_table" \
    "SELECT * FROM autoassign.autoassign_retire_table('$TABLE', '2031-01-01')"

log "The primary still writes its events"
n="$(val "$PRIMARY_PORT" "SELECT count(*) FROM autoassign.autoassign_quote('$PENDING');
    SELECT autoassign.autoassign_flush_events();
    SELECT count(*) FROM autoassign.events
     WHERE booking_id = '$PENDING' AND event_type = 'auto_assign.quote'" | tail -1)"
[ "$n" -ge 1 ] 2>/dev/null && ok "primary quote event written ($n)" || fail "primary events: $n"

if [ "${#failures[@]}" -eq 0 ]; then
    echo "PASS: replica_test (hot standby: quote and explain work, writes refused with 25006)"
else
    echo "FAIL: replica_test: ${#failures[@]} check(s) failed"
    exit 1
fi
