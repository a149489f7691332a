#!/usr/bin/env bash
# pg_dump / pg_restore round trip of a database using pg_autoassign, against a running
# cluster (PGHOST/PGPORT from the environment, user postgres):
#
#   PGHOST=127.0.0.1 PGPORT=54420 scripts/dump_restore_test.sh
#
# 1. source database: CREATE EXTENSION pg_autoassign CASCADE, the demo restaurant, ~20
#    confirmed bookings, one cancelled (autoassign_cancel), one no_show (plain UPDATE),
#    one quote with a hold, one hard failure (party 200: gave_up) and one capacity
#    failure (party 35: a retry_queue row), a DBA change to retry_policy;
# 2. pg_dump -Fc, createdb, pg_restore --exit-on-error into the target database;
# 3. row counts of every autoassign table, and the retry_policy rows, must match;
# 4. the restored database must keep working: confirm a pending booking, quote with a
#    hold, cancel a confirmed booking (its allocations must go).
# Prints PASS or FAIL (with every failed check) and exits non-zero on failure. Both
# databases are dropped at the end (PGAA_KEEP_DBS=1 keeps them for inspection).
set -uo pipefail

PG_MAJOR=15
PG_BIN="${PGAA_PG_BIN:-/usr/lib/postgresql/${PG_MAJOR}/bin}"
export PGHOST="${PGHOST:-127.0.0.1}"
export PGPORT="${PGPORT:-5432}"
export PGUSER="${PGUSER:-postgres}"
SRC="${PGAA_SRC_DB:-pgaa_dump_src}"
DST="${PGAA_DST_DB:-pgaa_dump_dst}"
WORK="$(mktemp -d /tmp/pgaa-dump.XXXXXX)"
chmod 755 "$WORK"
DUMP="$WORK/src.dump"

# The tables compared, in the order the counts are printed.
TABLES=(restaurants zones tables table_adjacency bookings allocations holds outbox
        retry_queue retry_policy events)

failures=()
fail() { failures+=("$*"); echo "  FAIL: $*"; }
ok() { echo "  ok: $*"; }

# Runs a client program as the postgres OS user when started as root (the same rule
# as scripts/lib.sh), so the dump file is written by the server's owner.
as_postgres() {
    if [ "$(id -un)" = postgres ]; then
        (cd /tmp && "$@")
    elif [ "$(id -u)" -eq 0 ]; then
        (cd /tmp && runuser -u postgres -- env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" "$@")
    else
        (cd /tmp && "$@")
    fi
}
[ "$(id -u)" -eq 0 ] && chown postgres "$WORK"

# psql DB SQL...: one value per line, unaligned, stops at the first error.
q() {
    local db="$1"; shift
    as_postgres "$PG_BIN/psql" -X -qtA -v ON_ERROR_STOP=1 -d "$db" "$@"
}

cleanup() {
    if [ "${PGAA_KEEP_DBS:-0}" = 1 ]; then
        echo "kept databases $SRC and $DST, dump in $DUMP"
        return
    fi
    as_postgres "$PG_BIN/dropdb" --if-exists "$SRC" >/dev/null 2>&1
    as_postgres "$PG_BIN/dropdb" --if-exists "$DST" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT

finish() {
    echo
    if [ "${#failures[@]}" -eq 0 ]; then
        echo "PASS: dump/restore round trip ($SRC -> $DST)"
        exit 0
    fi
    echo "FAIL: dump/restore round trip, ${#failures[@]} failed check(s):"
    printf '  - %s\n' "${failures[@]}"
    exit 1
}

counts() {
    local db="$1" sql="" t
    for t in "${TABLES[@]}"; do
        sql+="SELECT '$t', count(*) FROM autoassign.$t UNION ALL "
    done
    q "$db" -F ' ' -c "${sql% UNION ALL }"
}

# md5 of each table's rows as text: informational (a trigger firing during the restore
# can change values while the counts stay equal)
digests() {
    local db="$1" sql="" t
    for t in "${TABLES[@]}"; do
        sql+="SELECT '$t', md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) FROM autoassign.$t x UNION ALL "
    done
    q "$db" -F ' ' -c "${sql% UNION ALL }"
}

policy() {
    q "$1" -c "SELECT p.* FROM autoassign.retry_policy p ORDER BY class"
}

echo "==> source database $SRC on $PGHOST:$PGPORT"
as_postgres "$PG_BIN/dropdb" --if-exists "$SRC" >/dev/null 2>&1
as_postgres "$PG_BIN/dropdb" --if-exists "$DST" >/dev/null 2>&1
if ! as_postgres "$PG_BIN/createdb" "$SRC"; then
    fail "createdb $SRC"
    finish
fi
if ! q "$SRC" -c "SET client_min_messages = warning" -c "CREATE EXTENSION pg_autoassign CASCADE"; then
    fail "CREATE EXTENSION pg_autoassign CASCADE in $SRC"
    finish
fi

# Everything the source holds, in one psql run; stops at the first error.
if ! q "$SRC" >"$WORK/src.log" 2>&1 <<'SQL'
\set ON_ERROR_STOP 1
SELECT autoassign.autoassign_demo_load('2030-02-10', 42) AS rid \gset
-- two bookings kept pending for the failures: the last two by start
CREATE TEMP TABLE keep AS
    SELECT id, row_number() OVER (ORDER BY start_at DESC, id) AS n
      FROM autoassign.bookings WHERE restaurant_id = :'rid'
     ORDER BY start_at DESC, id LIMIT 3;
-- ~20 confirms, earliest first
CREATE TEMP TABLE confirmed AS
SELECT b.id, c.ok, c.reason
  FROM (SELECT id, start_at FROM autoassign.bookings
         WHERE restaurant_id = :'rid' AND id NOT IN (SELECT id FROM keep)
         ORDER BY start_at, id LIMIT 20) b
 CROSS JOIN LATERAL autoassign.autoassign_confirm(b.id) c;
SELECT 'confirmed ' || count(*) FILTER (WHERE ok) || ' of ' || count(*) FROM confirmed;
-- one cancelled through the API, one no_show through a plain UPDATE
SELECT 'cancel ' || ok FROM autoassign.autoassign_cancel(
    (SELECT id FROM confirmed WHERE ok ORDER BY id LIMIT 1));
UPDATE autoassign.bookings SET status = 'no_show'
 WHERE id = (SELECT id FROM confirmed WHERE ok ORDER BY id DESC LIMIT 1);
-- a quote holding its plan for 10 minutes
SELECT 'quote ' || ok || coalesce(' ' || reason, '')
  FROM autoassign.autoassign_quote((SELECT id FROM keep WHERE n = 3), hold_seconds => 600);
-- a hard failure (party larger than the floor: settled gave_up, outbox message) and a
-- capacity failure (no plan of at most 3 tables seats 35: a retry_queue row)
UPDATE autoassign.bookings SET party_size = 200 WHERE id = (SELECT id FROM keep WHERE n = 1);
SELECT 'party 200: ' || reason FROM autoassign.autoassign_confirm((SELECT id FROM keep WHERE n = 1));
UPDATE autoassign.bookings SET party_size = 35 WHERE id = (SELECT id FROM keep WHERE n = 2);
SELECT 'party 35: ' || reason FROM autoassign.autoassign_confirm((SELECT id FROM keep WHERE n = 2));
-- a DBA's policy change
UPDATE autoassign.retry_policy SET max_attempts = 7 WHERE class = 'transient';
SQL
then
    sed 's/^/  /' "$WORK/src.log"
    fail "building the source data (see above)"
    finish
fi
sed 's/^/  /' "$WORK/src.log"
# quote events reach autoassign.events through the shared-memory queue: write it first
q "$SRC" -c "SELECT autoassign.autoassign_flush_events()" >/dev/null
counts "$SRC" >"$WORK/src.counts"
digests "$SRC" >"$WORK/src.digests"
policy "$SRC" >"$WORK/src.policy"
echo "  source row counts:"
sed 's/^/    /' "$WORK/src.counts"
# the source must hold what the round trip is meant to carry
for t in holds retry_queue allocations outbox; do
    n=$(awk -v t="$t" '$1 == t {print $2}' "$WORK/src.counts")
    [ "${n:-0}" -gt 0 ] || fail "source has no $t rows: the test data is incomplete"
done
grep -q '^transient|7|' "$WORK/src.policy" || fail "source retry_policy change did not take"

echo "==> pg_dump -Fc $SRC"
if ! as_postgres "$PG_BIN/pg_dump" -Fc -f "$DUMP" "$SRC" 2>"$WORK/dump.err"; then
    sed 's/^/  /' "$WORK/dump.err"
    fail "pg_dump"
    finish
fi
[ -s "$WORK/dump.err" ] && sed 's/^/  pg_dump: /' "$WORK/dump.err"
echo "  data sections in the dump:"
as_postgres "$PG_BIN/pg_restore" -l "$DUMP" | grep -E 'TABLE DATA|SEQUENCE SET' | sed 's/^/    /'

echo "==> createdb $DST; pg_restore --exit-on-error"
as_postgres "$PG_BIN/createdb" "$DST" || { fail "createdb $DST"; finish; }
if as_postgres "$PG_BIN/pg_restore" --exit-on-error -d "$DST" "$DUMP" 2>"$WORK/restore.err"; then
    if [ -s "$WORK/restore.err" ]; then
        sed 's/^/  pg_restore: /' "$WORK/restore.err"
        fail "pg_restore printed messages (see above)"
    else
        ok "pg_restore succeeded without messages"
    fi
else
    sed 's/^/  /' "$WORK/restore.err"
    fail "pg_restore --exit-on-error failed (see above)"
    finish
fi

echo "==> comparing row counts"
counts "$DST" >"$WORK/dst.counts"
for t in "${TABLES[@]}"; do
    a=$(awk -v t="$t" '$1 == t {print $2}' "$WORK/src.counts")
    b=$(awk -v t="$t" '$1 == t {print $2}' "$WORK/dst.counts")
    if [ "$a" = "$b" ]; then
        ok "$(printf '%-16s %6s rows' "$t" "$a")"
    else
        fail "$(printf '%-16s %6s rows in %s, %s in %s' "$t" "$a" "$SRC" "${b:-?}" "$DST")"
    fi
done
policy "$DST" >"$WORK/dst.policy"
if diff "$WORK/src.policy" "$WORK/dst.policy" >"$WORK/policy.diff"; then
    ok "retry_policy rows identical"
else
    sed 's/^/    /' "$WORK/policy.diff"
    fail "retry_policy rows differ after restore (see diff above: < source, > restored)"
fi

digests "$DST" >"$WORK/dst.digests"
for t in "${TABLES[@]}"; do
    a=$(awk -v t="$t" '$1 == t {print $2}' "$WORK/src.digests")
    b=$(awk -v t="$t" '$1 == t {print $2}' "$WORK/dst.digests")
    if [ "$a" != "$b" ] && [ "$(awk -v t="$t" '$1 == t {print $2}' "$WORK/dst.counts")" != 0 ]; then
        echo "  note: $t has the same row count but different values after the restore (a trigger fired during the load?)"
    fi
done

echo "==> the restored database keeps working"
pending=$(q "$DST" -c "SELECT id FROM autoassign.bookings
                        WHERE status = 'pending' AND auto_assign_outcome IS NULL
                          AND party_size <= 12
                          AND id NOT IN (SELECT booking_id FROM autoassign.holds)
                        ORDER BY start_at, id LIMIT 1" 2>&1)
if [ -z "$pending" ]; then
    fail "no pending booking in $DST to confirm"
else
    res=$(q "$DST" -F ' ' -c "SELECT ok, coalesce(reason, '-') FROM autoassign.autoassign_confirm('$pending')" 2>&1)
    case "$res" in
        "t -") ok "confirm of pending booking $pending: ok" ;;
        "f no_capacity" | "f no_fit") ok "confirm of pending booking $pending: $res (a capacity reason)" ;;
        *) fail "confirm of pending booking $pending in $DST: $res" ;;
    esac
fi
held=$(q "$DST" -c "SELECT id FROM autoassign.bookings
                     WHERE status = 'pending' AND auto_assign_outcome IS NULL AND party_size <= 12
                     ORDER BY start_at DESC, id LIMIT 1" 2>&1)
if [ -n "$held" ]; then
    res=$(q "$DST" -F ' ' -c "SELECT ok, coalesce(reason, '-') FROM autoassign.autoassign_quote('$held', hold_seconds => 60)" 2>&1)
    case "$res" in
        "t -" | "f no_capacity" | "f no_fit") ok "quote with hold of $held: $res" ;;
        *) fail "quote with hold of $held in $DST: $res" ;;
    esac
fi
victim=$(q "$DST" -c "SELECT b.id FROM autoassign.bookings b
                       WHERE b.status = 'confirmed'
                         AND EXISTS (SELECT 1 FROM autoassign.allocations a
                                      WHERE a.restaurant_id = b.restaurant_id AND a.booking_id = b.id)
                       ORDER BY b.start_at DESC, b.id LIMIT 1" 2>&1)
if [ -z "$victim" ]; then
    fail "no confirmed booking with allocations in $DST to cancel"
else
    res=$(q "$DST" -F ' ' -c "SELECT ok, coalesce(reason, '-'), status FROM autoassign.autoassign_cancel('$victim')" 2>&1)
    left=$(q "$DST" -c "SELECT count(*) FROM autoassign.allocations WHERE booking_id = '$victim'" 2>&1)
    if [ "$res" = "t - cancelled" ] && [ "$left" = 0 ]; then
        ok "cancel of confirmed booking $victim: allocations gone"
    else
        fail "cancel of confirmed booking $victim in $DST: returned '$res', $left allocation(s) left"
    fi
fi

finish
