#!/usr/bin/env bash
# Trusted install (issue 10): a role that owns a database but is not a superuser runs
# CREATE EXTENSION pg_autoassign CASCADE, loads the demo and assigns the service. Every
# object ends up owned by that role, so SECURITY DEFINER code runs with its rights.
#
#   PGHOST=127.0.0.1 PGPORT=54410 scripts/trusted_install_test.sh
#
# Needs a server with pg_autoassign installed and a superuser connection (PGUSER,
# default postgres) to create the role and database; loopback trust auth (start_cluster).
set -euo pipefail
export PGUSER="${PGUSER:-postgres}"
OWNER="pgaa_db_owner_$$"
DB="pgaa_trusted_$$"

finish() {
    local rc=$?
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$DB\"" -c "DROP ROLE IF EXISTS \"$OWNER\"" \
        >/dev/null 2>&1 || echo "warning: could not drop $DB / $OWNER" >&2
    if [ "$rc" -eq 0 ]; then
        echo "PASS: trusted_install_test: a non-superuser database owner installs and runs pg_autoassign"
    else
        echo "FAIL: trusted_install_test (see above)"
    fi
    exit "$rc"
}
trap finish EXIT

psql -X -q -v ON_ERROR_STOP=1 -d postgres \
    -c "CREATE ROLE \"$OWNER\" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE" \
    -c "CREATE DATABASE \"$DB\" OWNER \"$OWNER\""

as_owner() { PGUSER="$OWNER" psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
check() {
    local got
    got="$(as_owner -c "$2")" || { echo "trusted_install_test: $1: query failed" >&2; exit 1; }
    [ "$got" = t ] || { echo "trusted_install_test: $1: got '$got'" >&2; exit 1; }
    echo "   ok: $1"
}

check "the owner is not a superuser" "SELECT NOT rolsuper FROM pg_roles WHERE rolname = current_user"
as_owner -c "SET client_min_messages = warning" -c "CREATE EXTENSION pg_autoassign CASCADE"
echo "   ok: CREATE EXTENSION pg_autoassign CASCADE as $OWNER"
check "every table, view, sequence and function of the extension is the owner's" \
    "SELECT NOT EXISTS (SELECT 1 FROM pg_class WHERE relnamespace = 'autoassign'::regnamespace
                          AND relkind IN ('r', 'v', 'S') AND relowner <> current_user::regrole)
        AND NOT EXISTS (SELECT 1 FROM pg_proc WHERE pronamespace = 'autoassign'::regnamespace
                          AND proowner <> current_user::regrole)"
check "it can hand the roles to its application's login roles" \
    "SELECT bool_and(m.admin_option) AND count(*) = 3 FROM pg_auth_members m
      WHERE m.member = current_user::regrole
        AND m.roleid IN ('autoassign_api'::regrole, 'autoassign_admin'::regrole, 'autoassign_reader'::regrole)"
RID="$(as_owner -c "SELECT autoassign.autoassign_demo_load()")"
echo "   ok: the White Horse demo loaded ($RID)"
as_owner <<SQL
DO \$\$
DECLARE b record;
BEGIN
    FOR b IN SELECT id FROM autoassign.bookings WHERE restaurant_id = '$RID'
              ORDER BY start_at, party_size DESC, id LOOP
        PERFORM autoassign.autoassign_confirm(b.id, source => 'inline');
    END LOOP;
END \$\$;
SQL
check "the service was assigned: bookings confirmed, one outbox message each" \
    "SELECT count(*) FILTER (WHERE b.status = 'confirmed') > 30
        AND bool_and(b.status <> 'confirmed' OR (SELECT count(*) FROM autoassign.outbox o
                      WHERE o.booking_id = b.id AND o.kind = 'booking_confirmed') = 1)
       FROM autoassign.bookings b WHERE b.restaurant_id = '$RID'"
check "telemetry was written" \
    "SELECT count(*) > 0 FROM autoassign.events WHERE restaurant_id = '$RID'"
check "the simulated clock stays a superuser setting" \
    "SELECT NOT has_parameter_privilege('autoassign.simulated_now', 'SET')"
as_owner -c "DROP EXTENSION pg_autoassign"
echo "   ok: DROP EXTENSION as $OWNER"
