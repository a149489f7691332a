#!/usr/bin/env bash
# Sets everything up and runs every test layer:
#   1. planner unit + property tests (cargo test, pure Rust)
#   2. #[pg_test]s (cargo pgrx test, its own temporary cluster)
#   3. SQL regression cases in pgrx-tests/ against a cluster this script starts
#   4. isolation specs in pgrx-tests/specs (races) against that cluster
#   5. backups (pg_dump and restore), the upgrade from 0.1.0 to this version, and a
#      trusted install by a non-superuser database owner, against that cluster
#   6. integration tests in tests/ (concurrency, holds, timeouts) against that cluster
#   7. pgaa, the operator's tool (ops/tests), against that cluster
# Exits non-zero if any layer fails; prints each runner's summary line at the end.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_all
cd "$ROOT"

TEST_PORT="${PGAA_TEST_PORT:-54329}"
TEST_DIR="$(cluster_dir .pgtest)"
LOGS="$ROOT/target/test-logs"
mkdir -p "$LOGS"
failed=()

run_layer() {
    local name="$1"; shift
    log "$name"
    if "$@" 2>&1 | tee "$LOGS/$name.log"; then :; else failed+=("$name"); fi
}

run_layer planner cargo test --release -p autoassign_planner

PGRX_DATA=/tmp/pgaa-pgrx   # short: the socket path is capped at 107 bytes
as_root mkdir -p "$PGRX_DATA"
as_root chown postgres:postgres "$PGRX_DATA"
run_layer pg_test cargo pgrx test pg15 --runas postgres --pgdata "$PGRX_DATA/data"

install_extension
start_cluster "$TEST_DIR" "$TEST_PORT"

regress() {
    local out="$ROOT/target/regress"
    mkdir -p "$out"
    as_root chmod -R a+rwX "$out"
    local schedule=()
    for f in "$ROOT"/pgrx-tests/sql/*.sql; do schedule+=("$(basename "$f" .sql)"); done
    # setup must run first: it creates the extension
    local ordered=(setup)
    for t in "${schedule[@]}"; do [ "$t" = setup ] || ordered+=("$t"); done
    as_postgres /usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress \
        --inputdir="$ROOT/pgrx-tests" --outputdir="$out" \
        --host=127.0.0.1 --port="$TEST_PORT" --user=postgres --dbname=pgaa_regression \
        "${ordered[@]}" || { cat "$out/regression.diffs" 2>/dev/null | head -200; return 1; }
}
run_layer regress regress

export PGHOST=127.0.0.1 PGPORT="$TEST_PORT" PGUSER=postgres
run_layer isolation bash "$ROOT/scripts/isolation.sh"
run_layer backup bash "$ROOT/scripts/dump_restore_test.sh"
run_layer upgrade bash "$ROOT/scripts/upgrade_test.sh"
run_layer trusted bash "$ROOT/scripts/trusted_install_test.sh"
run_layer replica bash "$ROOT/scripts/replica_test.sh"

export PGAA_TEST_DSN="host=127.0.0.1 port=$TEST_PORT user=postgres dbname=pg_autoassign"
run_layer integration cargo test --release --test '*' -- --ignored --test-threads=1
run_layer ops cargo test --release -p pgaa -- --include-ignored --test-threads=1

log "Summary"
for f in planner pg_test regress isolation backup upgrade trusted replica integration ops; do
    echo "-- $f"
    grep -hE "^test result:|tests? passed|failed \(|All [0-9]+ tests passed|of [0-9]+ tests failed|^(PASS|FAIL)" "$LOGS/$f.log" | sed 's/^/   /' || true
done
# one plain closing line over every runner: cargo's "test result" lines and pg_regress
passed=$(cat "$LOGS"/*.log | awk '/^test result:/ {for (i = 2; i <= NF; i++) if ($i == "passed;") n += $(i - 1)} END {print n + 0}')
failed_n=$(cat "$LOGS"/*.log | awk '/^test result:/ {for (i = 2; i <= NF; i++) if ($i == "failed;") n += $(i - 1)} END {print n + 0}')
# pg_regress and pg_isolation_regress print one "test name ... ok|FAILED" line per case;
# the backup and upgrade scripts one PASS or FAIL line each
regress_ok=$(cat "$LOGS/regress.log" "$LOGS/isolation.log" | grep -cE '^test .* \.\.\. +ok' || true)
regress_bad=$(cat "$LOGS/regress.log" "$LOGS/isolation.log" | grep -cE '^test .* \.\.\. +FAILED' || true)
regress_ok=$((regress_ok + $(cat "$LOGS/backup.log" "$LOGS/upgrade.log" "$LOGS/trusted.log" "$LOGS/replica.log" | grep -c '^PASS' || true)))
regress_bad=$((regress_bad + $(cat "$LOGS/backup.log" "$LOGS/upgrade.log" "$LOGS/trusted.log" "$LOGS/replica.log" | grep -c '^FAIL' || true)))
stop_cluster "$TEST_DIR"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "FAILED layers: ${failed[*]}"
    echo "$((passed + regress_ok)) passed, $((failed_n + regress_bad)) failed"
    exit 1
fi
echo "All test layers passed."
echo "$((passed + regress_ok)) passed, $((failed_n + regress_bad)) failed"
