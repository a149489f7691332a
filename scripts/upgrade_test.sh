#!/usr/bin/env bash
# Upgrade test: released scripts are unchanged, and 0.1.0 + data + ALTER EXTENSION UPDATE
# gives the same schema as a fresh install of the current version (0.1.0 -> 0.2.0 -> ... -> Cargo.toml's version), with the data intact and working.
#
#   PGHOST=127.0.0.1 PGPORT=54410 scripts/upgrade_test.sh
#
# Standalone: needs psql, pg_dump and sha256sum, a running PostgreSQL 15 cluster with
# the extension files installed (the shared library preloaded, both install scripts and
# the upgrade script in the extension directory) and a role that may create databases
# and C functions. Connection settings come from the usual libpq variables (PGHOST,
# PGPORT, PGUSER defaults to postgres). Creates two scratch databases and drops them.
# Prints PASS or FAIL as its last line; exits non-zero on failure.
set -euo pipefail

export PGUSER="${PGUSER:-postgres}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FROM=0.1.0
# the version this checkout builds; ALTER EXTENSION walks every upgrade script on the way
TO="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -1)"
DB_A="pgaa_upgrade_a_$$"   # 0.1.0, data, then ALTER EXTENSION UPDATE
DB_B="pgaa_upgrade_b_$$"   # fresh $TO
WORK="$(mktemp -d)"
created=()

finish() {
    local rc=$?
    for db in "${created[@]}"; do
        psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$db\"" >/dev/null 2>&1 ||
            echo "warning: could not drop database $db" >&2
    done
    rm -rf "$WORK"
    if [ "$rc" -eq 0 ]; then
        echo "PASS: upgrade_test: $FROM -> $TO upgrade matches a fresh $TO install; data kept and working"
    else
        echo "FAIL: upgrade_test (see above)"
    fi
    exit "$rc"
}
trap finish EXIT

fail() {
    echo "upgrade_test: $*" >&2
    exit 1
}
step() { echo "== $*"; }

# psql on one database: unaligned, tuples only, stop at the first error.
sql() {
    local db="$1"
    shift
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"
}

# expect DB WHAT SQL: SQL returns one boolean that must be true.
expect() {
    local got
    got="$(sql "$1" -c "$3")" || fail "$2: query failed"
    [ "$got" = t ] || fail "$2: expected true, got '$got'"
    echo "   ok: $2"
}

# ---------------------------------------------------------------------------------------
step "released install scripts are unchanged (sql/released.sha256)"
(cd "$ROOT" && sha256sum -c sql/released.sha256) || fail "a released script changed"

# The server runs the scripts in its extension directory: they must be this repo's.
step "the server's $FROM and upgrade scripts are this repo's"
sharedir="$(sql postgres -c "SELECT setting FROM pg_config WHERE name = 'SHAREDIR'")"
chain=("pg_autoassign--$FROM.sql")
for f in "$ROOT"/sql/pg_autoassign--*--*.sql; do chain+=("$(basename "$f")"); done
for f in "${chain[@]}"; do
    installed="$(sql postgres -c "SELECT encode(sha256(pg_read_binary_file('$sharedir/extension/$f')), 'hex')")" ||
        fail "cannot read $sharedir/extension/$f on the server"
    [ "$installed" = "$(sha256sum "$ROOT/sql/$f" | cut -d' ' -f1)" ] ||
        fail "$sharedir/extension/$f differs from sql/$f: install the extension again (cargo pgrx install)"
    echo "   ok: $f"
done

# ---------------------------------------------------------------------------------------
step "database A: pg_autoassign $FROM with demo data"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE \"$DB_A\"" >/dev/null
created+=("$DB_A")
sql "$DB_A" -c "SET client_min_messages = warning" \
    -c "CREATE EXTENSION pg_autoassign VERSION '$FROM' CASCADE"
RID="$(sql "$DB_A" -c "SELECT autoassign.autoassign_demo_load('2030-01-10', 42)")"
# a party no floor can seat: a hard failure, settled at once (gave_up summary)
BIG="$(sql "$DB_A" -c "INSERT INTO autoassign.bookings (restaurant_id, party_size, start_at, end_at)
    VALUES ('$RID', 300, '2030-01-10 19:00 Europe/London', '2030-01-10 21:00 Europe/London')
    RETURNING id")"
mapfile -t FIRST < <(sql "$DB_A" -c "SELECT id FROM autoassign.bookings
    WHERE restaurant_id = '$RID' AND party_size <= 14 ORDER BY start_at, id LIMIT 7")
CONFIRM=("${FIRST[@]:0:5}")   # confirmed under 0.1.0
CANCEL="${FIRST[1]}"           # then cancelled under 0.1.0
WAITING="${FIRST[5]}"          # a failed confirm (no capacity): stays queued
UNTOUCHED="${FIRST[6]}"        # never attempted: queued by 0.1.0's insert trigger

# The API functions are C functions of the installed library, which is the newest one.
# When it needs the newer schema (an installed 0.2.0 library does: it reads
# bookings.auto_assign_outcome), 0.1.0's confirm and cancel are reproduced in SQL: the
# same rows 0.1.0's autoassign_confirm / autoassign_cancel wrote (allocations, status,
# last result, outbox, attempt event, summary through 0.1.0's own write_summary and
# retry_after_failure).
if probe="$(sql "$DB_A" -c "SELECT ok FROM autoassign.autoassign_confirm('${CONFIRM[0]}')" 2>&1)" &&
    [ "$probe" = t ]; then
    MODE=api
    echo "   the installed library runs the $FROM API: confirming through autoassign_confirm"
else
    MODE=sql
    echo "   note: the installed library cannot run against the $FROM schema" \
        "($(echo "$probe" | head -1)); reproducing $FROM's confirm/cancel writes in SQL"
fi

if [ "$MODE" = api ]; then TODO=("${CONFIRM[@]:1}"); else TODO=("${CONFIRM[@]}"); fi
sql "$DB_A" -v mode="$MODE" -v big="$BIG" -v cancel="$CANCEL" -v waiting="$WAITING" \
    -v ids="{$(IFS=,; echo "${TODO[*]}")}" <<'EOF' >/dev/null
-- What 0.1.0's autoassign_confirm wrote for a booking it could seat (src/assign/confirm.rs
-- at 0.1.0): here with the smallest free single table that seats the party.
CREATE FUNCTION pg_temp.confirm_010(p_booking uuid) RETURNS bool
LANGUAGE plpgsql AS $$
DECLARE
    b record;
    tab uuid;
    tabs jsonb;
BEGIN
    SELECT bk.*, autoassign.stay_range(bk, r) AS stay INTO b
      FROM autoassign.bookings bk JOIN autoassign.restaurants r ON r.id = bk.restaurant_id
     WHERE bk.id = p_booking AND bk.status = 'pending';
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    SELECT t.id INTO tab FROM autoassign.tables t
     WHERE t.restaurant_id = b.restaurant_id AND t.active
       AND t.min_party <= b.party_size AND b.party_size <= coalesce(t.max_party, t.capacity)
       AND NOT EXISTS (SELECT 1 FROM autoassign.allocations a
                        WHERE a.restaurant_id = t.restaurant_id AND a.table_id = t.id
                          AND a.during && b.stay)
     ORDER BY t.capacity, t.priority DESC, t.name LIMIT 1;
    IF tab IS NULL THEN
        RETURN false;
    END IF;
    tabs := jsonb_build_array(tab);
    INSERT INTO autoassign.allocations (restaurant_id, booking_id, table_id, during)
    VALUES (b.restaurant_id, b.id, tab, b.stay);
    INSERT INTO autoassign.outbox (restaurant_id, booking_id, kind, payload)
    VALUES (b.restaurant_id, b.id, 'booking_confirmed',
            jsonb_build_object('booking_id', b.id, 'table_ids', tabs, 'party_size', b.party_size))
    ON CONFLICT (restaurant_id, booking_id, kind) DO NOTHING;
    UPDATE autoassign.bookings
       SET status = 'confirmed', updated_at = now(),
           auto_assign_last_result = jsonb_build_object('v', 1, 'source', 'api', 'success', true,
               'reason', NULL, 'reason_class', NULL, 'strategy', '{}'::jsonb, 'duration_us', 100,
               'attempt', 1, 'table_ids', tabs, 'confirmation_enqueued', true,
               'at', autoassign.clock_now())
     WHERE id = b.id;
    DELETE FROM autoassign.holds WHERE booking_id = b.id;
    INSERT INTO autoassign.events (event_type, restaurant_id, booking_id, source, success,
                                   duration_us, attempt, strategy, payload)
    VALUES ('auto_assign.attempt', b.restaurant_id, b.id, 'api', true, 100, 1, '{}',
            jsonb_build_object('outcome', 'confirmed', 'conflicts', 0, 'table_ids', tabs));
    PERFORM autoassign.write_summary(b.restaurant_id, b.id, 'api', 'confirmed', NULL, 1,
                                     jsonb_build_object('table_ids', tabs));
    RETURN true;
END $$;

-- 0.1.0's autoassign_cancel (src/assign/cancel.rs and writes.rs at 0.1.0).
CREATE FUNCTION pg_temp.cancel_010(p_booking uuid) RETURNS bool
LANGUAGE plpgsql AS $$
DECLARE
    b record;
    freed int;
BEGIN
    SELECT * INTO b FROM autoassign.bookings WHERE id = p_booking AND status IN ('pending', 'confirmed');
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    DELETE FROM autoassign.allocations WHERE booking_id = p_booking;
    GET DIAGNOSTICS freed = ROW_COUNT;
    DELETE FROM autoassign.holds WHERE booking_id = p_booking;
    UPDATE autoassign.bookings SET status = 'cancelled', updated_at = now() WHERE id = p_booking;
    PERFORM autoassign.write_summary(b.restaurant_id, p_booking, 'api', 'cancelled',
        b.auto_assign_last_result ->> 'reason', coalesce((b.auto_assign_last_result ->> 'attempt')::int, 0),
        jsonb_build_object('tables_freed', freed, 'previous_status', b.status));
    RETURN true;
END $$;

-- A failed confirm under 0.1.0: last result, attempt event, then 0.1.0's own
-- retry_after_failure (queues a capacity failure, settles a hard one as gave_up).
CREATE FUNCTION pg_temp.fail_010(p_booking uuid, p_reason text, p_class text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE autoassign.bookings
       SET auto_assign_last_result = jsonb_build_object('v', 1, 'source', 'api', 'success', false,
               'reason', p_reason, 'reason_class', p_class, 'strategy', '{}'::jsonb,
               'duration_us', 100, 'attempt', 1, 'table_ids', '[]'::jsonb,
               'confirmation_enqueued', false, 'at', autoassign.clock_now()),
           updated_at = now()
     WHERE id = p_booking;
    INSERT INTO autoassign.events (event_type, restaurant_id, booking_id, source, success, reason,
                                   duration_us, attempt, strategy, payload)
    SELECT 'auto_assign.attempt', b.restaurant_id, b.id, 'api', false, p_reason, 100, 1, '{}',
           jsonb_build_object('outcome', p_reason, 'reason_class', p_class, 'conflicts', 0,
                              'table_ids', '[]'::jsonb)
      FROM autoassign.bookings b WHERE b.id = p_booking;
    PERFORM autoassign.retry_after_failure(p_booking, p_reason, p_class, 'api');
END $$;

BEGIN;
SELECT CASE WHEN :'mode' = 'api'
            THEN (SELECT bool_and(c.ok) FROM unnest(:'ids'::uuid[]) AS i(id),
                         LATERAL autoassign.autoassign_confirm(i.id) c)
            ELSE (SELECT bool_and(pg_temp.confirm_010(i.id)) FROM unnest(:'ids'::uuid[]) AS i(id))
       END AS all_confirmed \gset
\if :all_confirmed
\else
    \warn 'a confirm under 0.1.0 failed'
    SELECT 1/0;
\endif
SELECT CASE WHEN :'mode' = 'api'
            THEN (SELECT c.ok FROM autoassign.autoassign_cancel(:'cancel') c)
            ELSE pg_temp.cancel_010(:'cancel') END AS cancelled \gset
\if :cancelled
\else
    \warn 'the cancel under 0.1.0 failed'
    SELECT 1/0;
\endif
SELECT CASE WHEN :'mode' = 'api'
            THEN (SELECT NOT c.ok FROM autoassign.autoassign_confirm(:'big') c)
            ELSE (SELECT true FROM pg_temp.fail_010(:'big', 'party_exceeds_floor', 'hard')) END;
SELECT pg_temp.fail_010(:'waiting', 'no_capacity', 'capacity');
COMMIT;
EOF

# 0.1.0 let the booking app set a status with a plain UPDATE; tables stayed allocated.
NO_SHOW="${CONFIRM[2]}"
sql "$DB_A" -c "UPDATE autoassign.bookings SET status = 'no_show', updated_at = now() WHERE id = '$NO_SHOW'"

COUNTS="SELECT (SELECT count(*) FROM autoassign.restaurants) || ' restaurants, '
            || (SELECT count(*) FROM autoassign.zones) || ' zones, '
            || (SELECT count(*) FROM autoassign.tables) || ' tables, '
            || (SELECT count(*) FROM autoassign.table_adjacency) || ' edges, '
            || (SELECT count(*) FROM autoassign.bookings) || ' bookings, '
            || (SELECT count(*) FROM autoassign.outbox) || ' outbox'"
ALLOCS="SELECT count(*) FROM autoassign.allocations"
before_counts="$(sql "$DB_A" -c "$COUNTS")"
before_allocs="$(sql "$DB_A" -c "$ALLOCS")"
# allocations of bookings that no longer hold tables (0.2.0 releases them from now on)
stale_allocs="$(sql "$DB_A" -c "SELECT count(*) FROM autoassign.allocations a
    JOIN autoassign.bookings b ON b.id = a.booking_id
    WHERE b.status NOT IN ('confirmed', 'seated') AND lower(a.during) >= now()")"
before_events="$(sql "$DB_A" -c "SELECT count(*) FROM autoassign.events")"
# the queue rows 0.2.0 keeps: bookings still pending and not settled by a summary
kept_queue="$(sql "$DB_A" -c "SELECT count(*) FROM autoassign.retry_queue q
    JOIN autoassign.bookings b ON b.id = q.booking_id
    WHERE b.status = 'pending' AND NOT EXISTS (SELECT 1 FROM autoassign.events e
        WHERE e.booking_id = b.id AND e.event_type = 'auto_assign.summary')")"
sql "$DB_A" -c "SELECT e.booking_id || ' ' || e.reason || ' ' || e.at FROM autoassign.events e
    WHERE e.event_type = 'auto_assign.summary' ORDER BY 1" >"$WORK/summaries"
echo "   $before_counts, $before_allocs allocations ($stale_allocs of a no-show)," \
    "$(wc -l <"$WORK/summaries") summaries, $kept_queue queued and waiting"
[ "$(wc -l <"$WORK/summaries")" -ge 6 ] || fail "expected at least 6 summaries under $FROM"
[ "$stale_allocs" -ge 1 ] || fail "expected allocations of the no-show booking"

# ---------------------------------------------------------------------------------------
step "database A: ALTER EXTENSION pg_autoassign UPDATE TO '$TO'"
sql "$DB_A" -c "ALTER EXTENSION pg_autoassign UPDATE TO '$TO'"
expect "$DB_A" "extension version is $TO" \
    "SELECT extversion = '$TO' FROM pg_extension WHERE extname = 'pg_autoassign'"

step "database A: the data survived"
after_counts="$(sql "$DB_A" -c "$COUNTS")"
[ "$after_counts" = "$before_counts" ] ||
    fail "counts changed: before '$before_counts', after '$after_counts'"
echo "   ok: $after_counts"
expect "$DB_A" "allocations: $before_allocs kept except the $stale_allocs the no-show no longer holds" \
    "SELECT ($ALLOCS) = $before_allocs - $stale_allocs"
expect "$DB_A" "events kept ($before_events)" "SELECT count(*) = $before_events FROM autoassign.events"
sql "$DB_A" -c "SELECT b.id || ' ' || b.auto_assign_outcome || ' ' || b.auto_assign_settled_at
    FROM autoassign.bookings b WHERE b.auto_assign_outcome IS NOT NULL ORDER BY 1" >"$WORK/outcomes"
diff -u "$WORK/summaries" "$WORK/outcomes" >&2 ||
    fail "bookings.auto_assign_outcome/settled_at do not match the $FROM summaries"
echo "   ok: outcome and settled_at backfilled from the $(wc -l <"$WORK/outcomes") summaries"
expect "$DB_A" "the hard failure is settled as gave_up and not queued" \
    "SELECT b.auto_assign_outcome = 'gave_up' AND b.status = 'pending'
        AND NOT EXISTS (SELECT 1 FROM autoassign.retry_queue q WHERE q.booking_id = b.id)
       FROM autoassign.bookings b WHERE b.id = '$BIG'"
expect "$DB_A" "retry_queue keeps only the $kept_queue waiting bookings" \
    "SELECT count(*) = $kept_queue AND bool_and(b.status = 'pending' AND b.auto_assign_outcome IS NULL)
       FROM autoassign.retry_queue q
       JOIN autoassign.bookings b ON b.restaurant_id = q.restaurant_id AND b.id = q.booking_id"
expect "$DB_A" "the capacity failure is still queued with its attempt" \
    "SELECT q.last_class = 'capacity' AND q.attempts_capacity = 1 AND q.last_reason = 'no_capacity'
       FROM autoassign.retry_queue q WHERE q.booking_id = '$WAITING'"
expect "$DB_A" "a never-attempted booking is still queued" \
    "SELECT count(*) = 1 FROM autoassign.retry_queue WHERE booking_id = '$UNTOUCHED'"

step "database A: the data works under $TO"
NEXT="$(sql "$DB_A" -c "SELECT id FROM autoassign.bookings
    WHERE restaurant_id = '$RID' AND status = 'pending' AND auto_assign_outcome IS NULL
      AND party_size <= 8 AND id <> '$WAITING' ORDER BY start_at, id LIMIT 1")"
[ -n "$NEXT" ] || fail "no pending booking left to confirm"
expect "$DB_A" "autoassign_confirm confirms another booking" \
    "SELECT ok FROM autoassign.autoassign_confirm('$NEXT')"
expect "$DB_A" "it holds tables, is settled as confirmed, left the queue, has one outbox message" \
    "SELECT b.status = 'confirmed' AND b.auto_assign_outcome = 'confirmed'
        AND EXISTS (SELECT 1 FROM autoassign.allocations a WHERE a.booking_id = b.id)
        AND NOT EXISTS (SELECT 1 FROM autoassign.retry_queue q WHERE q.booking_id = b.id)
        AND (SELECT count(*) FROM autoassign.outbox o
              WHERE o.booking_id = b.id AND o.kind = 'booking_confirmed') = 1
       FROM autoassign.bookings b WHERE b.id = '$NEXT'"
OLD_CONFIRMED="${CONFIRM[3]}"   # confirmed under 0.1.0
for bid in "$NEXT" "$OLD_CONFIRMED"; do
    sql "$DB_A" -c "UPDATE autoassign.bookings SET status = 'cancelled' WHERE id = '$bid'"
    expect "$DB_A" "plain UPDATE to cancelled releases the tables of $bid" \
        "SELECT b.status = 'cancelled' AND b.auto_assign_outcome = 'confirmed'
            AND NOT EXISTS (SELECT 1 FROM autoassign.allocations a WHERE a.booking_id = b.id)
            AND EXISTS (SELECT 1 FROM autoassign.events e
                         WHERE e.booking_id = b.id AND e.event_type = 'booking.lifecycle')
           FROM autoassign.bookings b WHERE b.id = '$bid'"
done
expect "$DB_A" "an illegal transition is refused" \
    "SELECT NOT EXISTS (SELECT 1 FROM autoassign.booking_transitions
                         WHERE from_status = 'cancelled' AND to_status = 'confirmed')"
if sql "$DB_A" -c "UPDATE autoassign.bookings SET status = 'confirmed' WHERE id = '$CANCEL'" 2>/dev/null; then
    fail "cancelled -> confirmed was accepted"
fi
sweep="$(sql "$DB_A" -c "SELECT processed FROM autoassign.autoassign_sweep(now => '2030-01-10 12:00+00')")" ||
    fail "autoassign_sweep failed"
echo "   ok: autoassign_sweep runs (processed $sweep)"

# ---------------------------------------------------------------------------------------
step "database B: fresh pg_autoassign $TO"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE \"$DB_B\"" >/dev/null
created+=("$DB_B")
sql "$DB_B" -c "SET client_min_messages = warning" \
    -c "CREATE EXTENSION pg_autoassign VERSION '$TO' CASCADE"

# ---------------------------------------------------------------------------------------
step "compare A (upgraded) with B (fresh)"
differ=0
compare() { # NAME: diff $WORK/A.NAME and $WORK/B.NAME
    if diff -u --label "A: $FROM + update ($1)" --label "B: fresh $TO ($1)" \
        "$WORK/A.$1" "$WORK/B.$1" >"$WORK/diff.$1"; then
        echo "   same: $1 ($(wc -l <"$WORK/A.$1") lines)"
    else
        echo "   DIFFERENT: $1" >&2
        cat "$WORK/diff.$1" >&2
        differ=1
    fi
}

# 1. pg_dump --schema-only -n autoassign. pg_dump leaves out the members of an
#    extension, so this holds little more than the schema itself; dropped: comment and
#    blank lines and the random \restrict key of newer pg_dump versions.
for side in A B; do
    db="DB_$side"
    pg_dump --schema-only -n autoassign "${!db}" |
        grep -v -E '^(--|$|\\(un)?restrict )' >"$WORK/$side.pg_dump"
done
compare pg_dump

# 2. Every member object, in full: pg_dump --binary-upgrade writes extension members out
#    as separate objects (with ALTER EXTENSION ... ADD). Dropped: the random \restrict
#    key and the lines that carry OIDs, relfilenodes and xids (binary_upgrade_set_next_*
#    calls, relfrozenxid, toast OIDs); sequence values (data) are masked, the sequences
#    themselves compared; the extension's config-table OIDs are compared by name in 4.
for side in A B; do
    db="DB_$side"
    pg_dump --schema-only --binary-upgrade "${!db}" | sed -E \
        -e '/^\\(un)?restrict /d' \
        -e '/^-- Dumped (from|by) /d' \
        -e '/^SELECT pg_catalog\.binary_upgrade_set_next_/d' \
        -e "s/^SET relfrozenxid = '[0-9]+', relminmxid = '[0-9]+'$/SET relfrozenxid = <xid>, relminmxid = <mxid>/" \
        -e "s/^WHERE oid = '[0-9]+';$/WHERE oid = <toast oid>;/" \
        -e "s/^(SELECT pg_catalog\.setval\('[^']+', )[0-9]+, (true|false)\);$/\1<value>);/" \
        -e "s/^(SELECT pg_catalog\.binary_upgrade_create_empty_extension\('pg_autoassign', .*, )'\{[0-9,]*\}'(, '.*)$/\1<extconfig oids>\2/" \
        >"$WORK/$side.members"
done
compare members

# 3. The catalog, object by object: columns (physical order, dropped ones included),
#    constraints (with the index each uses), indexes, triggers, functions, comments,
#    privileges and extension membership.
CATALOG="
WITH rel AS (SELECT c.oid, c.relname, c.relkind FROM pg_class c
              WHERE c.relnamespace = 'autoassign'::regnamespace)
SELECT 'column ' || r.relname || '(' || r.relkind::text || ') #' || a.attnum || ' ' ||
       CASE WHEN a.attisdropped THEN '<dropped>' ELSE a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
            || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
            || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
            || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END END
  FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
UNION ALL
SELECT 'relation ' || r.relname || ' ' || r.relkind::text || ' ' || c.relpersistence::text
       || coalesce(' acl ' || c.relacl::text, '') || coalesce(' options ' || c.reloptions::text, '')
  FROM rel r JOIN pg_class c ON c.oid = r.oid
UNION ALL
SELECT 'constraint ' || coalesce(c.conrelid::regclass::text, c.contypid::regtype::text) || ' '
       || c.conname || ' ' || pg_get_constraintdef(c.oid)
       || coalesce(' using index ' || nullif(c.conindid, 0)::regclass::text, '')
       || ' validated ' || c.convalidated || ' deferrable ' || c.condeferrable
  FROM pg_constraint c WHERE c.connamespace = 'autoassign'::regnamespace
UNION ALL
SELECT 'index ' || pg_get_indexdef(i.indexrelid) || ' primary ' || i.indisprimary
       || ' unique ' || i.indisunique || ' clustered ' || i.indisclustered
  FROM pg_index i JOIN rel r ON r.oid = i.indexrelid
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' enabled ' || t.tgenabled::text
  FROM pg_trigger t JOIN rel r ON r.oid = t.tgrelid WHERE NOT t.tgisinternal
UNION ALL
SELECT 'function ' || p.oid::regprocedure || coalesce(' acl ' || p.proacl::text, '') || E'\n'
       || pg_get_functiondef(p.oid)
  FROM pg_proc p WHERE p.pronamespace = 'autoassign'::regnamespace
UNION ALL
SELECT 'type ' || t.oid::regtype || ' ' || t.typtype::text || coalesce(' acl ' || t.typacl::text, '')
  FROM pg_type t WHERE t.typnamespace = 'autoassign'::regnamespace
UNION ALL
SELECT 'comment on ' || pg_describe_object(d.classoid, d.objoid, d.objsubid) || ': ' || d.description
  FROM pg_description d
 WHERE pg_describe_object(d.classoid, d.objoid, d.objsubid) IS NOT NULL
   AND (d.classoid, d.objoid) IN (
        SELECT dep.classid, dep.objid FROM pg_depend dep
         WHERE dep.refclassid = 'pg_extension'::regclass AND dep.deptype = 'e'
           AND dep.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_autoassign')
        UNION ALL SELECT 'pg_extension'::regclass, oid FROM pg_extension WHERE extname = 'pg_autoassign'
        UNION ALL SELECT 'pg_namespace'::regclass, 'autoassign'::regnamespace)
UNION ALL
SELECT 'member ' || pg_describe_object(dep.classid, dep.objid, dep.objsubid)
  FROM pg_depend dep
 WHERE dep.refclassid = 'pg_extension'::regclass AND dep.deptype = 'e'
   AND dep.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_autoassign')
UNION ALL
SELECT 'namespace ' || n.nspname || ' owner ' || n.nspowner::regrole || coalesce(' acl ' || n.nspacl::text, '')
  FROM pg_namespace n WHERE n.nspname = 'autoassign'
ORDER BY 1"
for side in A B; do
    db="DB_$side"
    sql "${!db}" -c "$CATALOG" >"$WORK/$side.catalog"
done
compare catalog

# 4. pg_extension_config_dump registrations, by table name, with their conditions.
EXTCONFIG="SELECT e.extversion || ' ' || e.extrelocatable || ' ' || e.extnamespace::regnamespace
              || ' config: ' || coalesce((SELECT string_agg(format('%s %L', c.cfg::regclass, c.cond), ', '
                                                   ORDER BY c.cfg::regclass::text)
                                            FROM unnest(e.extconfig, e.extcondition) AS c(cfg, cond)), '<none>')
             FROM pg_extension e WHERE e.extname = 'pg_autoassign'"
for side in A B; do
    db="DB_$side"
    sql "${!db}" -c "$EXTCONFIG" >"$WORK/$side.extconfig"
done
compare extconfig

[ "$differ" -eq 0 ] || fail "the upgraded schema differs from a fresh $TO install (diff above: - upgraded, + fresh)"
