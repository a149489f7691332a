#!/usr/bin/env bash
# Runs the isolation specs in pgrx-tests/specs/ (pg_isolation_regress) against a running
# cluster that has pg_autoassign installed and preloaded:
#
#   PGHOST=127.0.0.1 PGPORT=54420 scripts/isolation.sh [spec ...]
#
# PGHOST/PGPORT/PGUSER come from the environment (defaults 127.0.0.1, 5432, postgres).
# With no arguments every spec runs. The database ($PGAA_ISO_DB, default pgaa_isolation)
# is dropped and re-created with CREATE EXTENSION pg_autoassign CASCADE, then the specs
# run with --use-existing. On failure the diffs are printed, the database is kept for
# inspection and the exit status is non-zero; on success the database is dropped.
# Run as root (the commands then run as the postgres OS user) or as postgres.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_MAJOR=15
PG_BIN="${PGAA_PG_BIN:-/usr/lib/postgresql/${PG_MAJOR}/bin}"
ISO_REGRESS="${PG_BIN%/bin}/lib/pgxs/src/test/isolation/pg_isolation_regress"
export PGHOST="${PGHOST:-127.0.0.1}"
export PGPORT="${PGPORT:-5432}"
export PGUSER="${PGUSER:-postgres}"
DB="${PGAA_ISO_DB:-pgaa_isolation}"

# Runs a command as the postgres OS user, from a directory it can read (the same rule
# as scripts/lib.sh): the output directory belongs to it.
as_postgres() {
    if [ "$(id -un)" = postgres ]; then
        (cd /tmp && "$@")
    elif [ "$(id -u)" -eq 0 ]; then
        (cd /tmp && runuser -u postgres -- env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" "$@")
    else
        (cd /tmp && sudo -u postgres env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" "$@")
    fi
}

if [ ! -x "$ISO_REGRESS" ]; then
    echo "pg_isolation_regress not found at $ISO_REGRESS (install postgresql-server-dev-${PG_MAJOR})" >&2
    exit 2
fi

specs=("$@")
if [ "${#specs[@]}" -eq 0 ]; then
    for f in "$ROOT"/pgrx-tests/specs/*.spec; do specs+=("$(basename "$f" .spec)"); done
fi

OUT="$(mktemp -d /tmp/pgaa-isolation.XXXXXX)"
chmod 755 "$OUT"
if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$OUT"
elif [ "$(id -un)" != postgres ]; then
    sudo chown postgres "$OUT"
fi

setup_failed() {
    echo "FAIL: isolation specs ($1 failed)"
    as_postgres rm -rf "$OUT" 2>/dev/null || true
    exit 1
}

echo "==> database $DB on $PGHOST:$PGPORT"
as_postgres "$PG_BIN/dropdb" --if-exists "$DB" || setup_failed "dropdb $DB"
as_postgres "$PG_BIN/createdb" "$DB" || setup_failed "createdb $DB"
as_postgres "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$DB" \
    -c "SET client_min_messages = warning" -c "CREATE EXTENSION pg_autoassign CASCADE" ||
    setup_failed "CREATE EXTENSION pg_autoassign CASCADE"
# pg_regress sets these on a database it creates itself; with --use-existing we do it
as_postgres "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$DB" \
    -c "ALTER DATABASE \"$DB\" SET lc_messages TO 'C'" \
    -c "ALTER DATABASE \"$DB\" SET timezone TO 'PST8PDT'" \
    -c "ALTER DATABASE \"$DB\" SET datestyle TO 'Postgres, MDY'" ||
    setup_failed "ALTER DATABASE $DB"

echo "==> pg_isolation_regress ${specs[*]}"
status=0
as_postgres "$ISO_REGRESS" --inputdir="$ROOT/pgrx-tests" --outputdir="$OUT" \
    --host="$PGHOST" --port="$PGPORT" --user="$PGUSER" --dbname="$DB" --use-existing \
    "${specs[@]}" || status=$?

if [ "$status" -ne 0 ]; then
    if [ -s "$OUT/regression.diffs" ]; then
        echo "==> diffs ($OUT/regression.diffs)"
        cat "$OUT/regression.diffs"
    fi
    echo "FAIL: isolation specs (exit $status); database $DB kept, output in $OUT"
    exit 1
fi
as_postgres "$PG_BIN/dropdb" --if-exists "$DB"
as_postgres rm -rf "$OUT"
echo "PASS: isolation specs (${specs[*]})"
