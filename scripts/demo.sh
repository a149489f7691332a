#!/usr/bin/env bash
# Sets everything up, installs pg_autoassign into a throwaway cluster, loads the White
# Horse demo and auto-assigns tomorrow's dinner service, then prints the floor, the
# free capacity over the evening, every booking's result and the telemetry.
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

cat <<MSG

The demo cluster is still running.
  Connect:  psql -h 127.0.0.1 -p $DEMO_PORT -U postgres pg_autoassign
  Stop:     $( [ "$(id -u)" -eq 0 ] && echo "runuser -u postgres --" || echo "sudo -u postgres" ) $PG_BIN/pg_ctl -D $DEMO_DIR/data stop
MSG
