#!/usr/bin/env bash
# Benchmarks: criterion + latency example on the planner core, pgbench on the SQL API
# (quote, confirm+cancel, telemetry on/off/sample) against a throwaway cluster.
# Prints the numbers recorded in BENCHMARKS.md.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_all
cd "$ROOT"
PORT="${PGAA_BENCH_PORT:-54331}"
DIR="$(cluster_dir .pgbench)"
SECS="${PGAA_BENCH_SECONDS:-10}"

log "Planner core: latency example (µs per plan, combinations per second)"
cargo run --release -q -p autoassign_planner --example latency -- 2000

install_extension
start_cluster "$DIR" "$PORT"
PSQL=(as_postgres "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d pg_autoassign -v ON_ERROR_STOP=1)
PGBENCH=(as_postgres "$PG_BIN/pgbench" -n -h 127.0.0.1 -p "$PORT" -U postgres pg_autoassign)
cp bench/*.pgbench /tmp/ && chmod a+r /tmp/*.pgbench
"${PSQL[@]}" -f "$ROOT/bench/setup.sql"

server_side() { # label, source, event type
    "${PSQL[@]}" -tAc "SELECT '$1: server-side duration_us p50 ' || percentile_disc(0.5) WITHIN GROUP (ORDER BY duration_us)
        || ', p99 ' || percentile_disc(0.99) WITHIN GROUP (ORDER BY duration_us) || ', n ' || count(*)
        FROM autoassign.events WHERE source = '$2' AND event_type = '$3'"
    "${PSQL[@]}" -c "DELETE FROM autoassign.events WHERE source = '$2'"
}

for clients in 1 8; do
    log "pgbench quote, $clients client(s), ${SECS}s"
    "${PGBENCH[@]}" -c "$clients" -j "$clients" -T "$SECS" -f /tmp/quote.pgbench | grep -E "^(tps|latency)"
    server_side "quote c=$clients" bench auto_assign.quote
    log "pgbench confirm+cancel, $clients client(s), ${SECS}s"
    "${PGBENCH[@]}" -c "$clients" -j "$clients" -T "$SECS" -f /tmp/confirm_cancel.pgbench | grep -E "^(tps|latency)"
    server_side "confirm c=$clients" bench auto_assign.attempt
done

for mode in off on sample; do
    log "pgbench quote with autoassign.telemetry=$mode, 1 client, ${SECS}s"
    as_postgres env PGOPTIONS="-c autoassign.telemetry=$mode" "$PG_BIN/pgbench" -n -h 127.0.0.1 -p "$PORT" -U postgres \
        -c 1 -j 1 -T "$SECS" -f /tmp/quote.pgbench pg_autoassign | grep -E "^(tps|latency)"
done

log "Exhaustive (no pruning, no floor cache) vs normal: 2000 quotes each"
"${PSQL[@]}" -c "SET autoassign.telemetry = on" -c "
    SELECT count(*) FROM public.bench_bookings b, generate_series(1, 66) g,
           autoassign.autoassign_quote(b.id, source => 'bench_norm') q" \
    -c "SELECT count(*) FROM public.bench_bookings b, generate_series(1, 66) g,
           autoassign.autoassign_quote(b.id, '{\"exhaustive\": true}', source => 'bench_exh') q"
"${PSQL[@]}" -tAc "SELECT source || ': p50 ' || percentile_disc(0.5) WITHIN GROUP (ORDER BY duration_us)
        || ' us, mean ' || round(avg(duration_us)) || ' us, combinations ' || sum((payload->>'combinations_tried')::bigint)
        FROM autoassign.events WHERE source IN ('bench_norm', 'bench_exh') GROUP BY source ORDER BY source"
stop_cluster "$DIR"
