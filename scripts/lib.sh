#!/usr/bin/env bash
# Shared set-up for demo.sh and test.sh. Idempotent: every step checks before it acts.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_MAJOR=15
# PGAA_PG_BIN points the scripts at another (relocated) PostgreSQL 15 copy, so parallel
# work can install its own build without swapping the .so under another cluster.
PG_BIN="${PGAA_PG_BIN:-/usr/lib/postgresql/${PG_MAJOR}/bin}"
PG_CONFIG="${PG_BIN}/pg_config"
# cargo pgrx is always initialised against the system PostgreSQL
SYSTEM_PG_CONFIG="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config"
PGRX_VERSION="0.18.1"
APT_PACKAGES=(postgresql-15 postgresql-server-dev-15 postgresql-15-cron libclang-dev clang
              pkg-config libssl-dev sudo build-essential)

log() { printf '\n==> %s\n' "$*"; }

# Root runs commands directly; anyone else needs sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Runs a command as the postgres OS user, from a directory it can read.
as_postgres() {
    if [ "$(id -un)" = postgres ]; then
        (cd /tmp && "$@")
    elif [ "$(id -u)" -eq 0 ]; then
        (cd /tmp && runuser -u postgres -- "$@")
    else
        (cd /tmp && sudo -u postgres "$@")
    fi
}

# A cluster directory inside the project when the postgres user can reach it,
# else under /tmp (CI clones may sit below directories postgres cannot enter).
cluster_dir() {
    local name="$1"
    if as_postgres test -x "$ROOT"; then
        echo "$ROOT/$name"
    else
        echo "/tmp/pg_autoassign-$(id -u)$name"
    fi
}

ensure_packages() {
    local missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        log "Debian packages already installed"
        return
    fi
    log "Installing Debian packages: ${missing[*]}"
    if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
        echo "sudo is missing: run this script as root once, or install sudo" >&2
        exit 1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
}

ensure_rust() {
    if ! command -v cargo >/dev/null; then
        [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
    fi
    if ! command -v cargo >/dev/null; then
        echo "cargo is missing: install Rust with rustup (https://rustup.rs), then rerun" >&2
        exit 1
    fi
}

ensure_cargo_pgrx() {
    local have
    have="$(cargo pgrx --version 2>/dev/null | awk '{print $2}' || true)"
    if [ "$have" = "$PGRX_VERSION" ]; then
        log "cargo-pgrx $PGRX_VERSION already installed"
    else
        log "Installing cargo-pgrx $PGRX_VERSION (found: ${have:-none}; takes a few minutes)"
        cargo install --locked cargo-pgrx --version "$PGRX_VERSION" --force
    fi
    local config="${PGRX_HOME:-$HOME/.pgrx}/config.toml"
    if [ -f "$config" ] && grep -q "pg${PG_MAJOR} *= *\"${SYSTEM_PG_CONFIG}\"" "$config"; then
        log "cargo pgrx already initialised for pg${PG_MAJOR}"
    else
        log "cargo pgrx init --pg${PG_MAJOR} ${SYSTEM_PG_CONFIG}"
        cargo pgrx init --pg${PG_MAJOR} "$SYSTEM_PG_CONFIG"
    fi
}

setup_all() {
    ensure_packages
    ensure_rust
    ensure_cargo_pgrx
}

# Builds the release extension and installs it into the system PostgreSQL 15.
install_extension() {
    log "Building and installing pg_autoassign (release)"
    (cd "$ROOT" && cargo pgrx package --pg-config "$PG_CONFIG" >/dev/null)
    local pkg="${CARGO_TARGET_DIR:-$ROOT/target}/release/pg_autoassign-pg${PG_MAJOR}"
    local libdir sharedir
    libdir="$("$PG_CONFIG" --pkglibdir)"
    sharedir="$("$PG_CONFIG" --sharedir)"
    as_root cp "$pkg$libdir/pg_autoassign.so" "$libdir/"
    as_root cp "$pkg$sharedir"/extension/pg_autoassign* "$sharedir/extension/"
    # released install scripts (cargo pgrx only packages the current one and upgrades)
    as_root cp "$ROOT"/sql/pg_autoassign--[0-9]*.[0-9]*.[0-9]*.sql "$sharedir/extension/"
}

# start_cluster DIR PORT: a throwaway cluster owned by postgres, loopback only, with
# pg_autoassign and pg_cron preloaded. Restarted if already running, so a freshly
# installed .so is never swapped under live backends.
start_cluster() {
    local dir="$1" port="$2"
    as_root mkdir -p "$dir"
    as_root chown postgres:postgres "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        log "initdb $dir/data"
        as_postgres "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres --no-instructions >/dev/null
        cat <<CONF | as_postgres tee -a "$dir/data/postgresql.conf" >/dev/null
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
shared_preload_libraries = 'pg_autoassign,pg_cron'
cron.database_name = 'pg_autoassign'
max_connections = 60
fsync = off
synchronous_commit = off
CONF
    fi
    if as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    log "Starting PostgreSQL on 127.0.0.1:$port ($dir/data)"
    as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
    as_postgres "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qtAc \
        "SELECT 1 FROM pg_database WHERE datname = 'pg_autoassign'" | grep -q 1 ||
        as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres pg_autoassign
}

stop_cluster() {
    local dir="$1"
    as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}
