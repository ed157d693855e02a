#!/usr/bin/env bash
# bench/run.sh NAME: runs one benchmark against its peer, measured in the same
# run on this machine, and prints RESULT lines (the last one is the headline).
#   auth   logins/s over gRPC+TLS vs raw OpenSSL Ed25519 verifications/s;
#          cached token verifications/s on one core
# Installs what is missing, builds with -c opt, starts its own PostgreSQL and
# Redis on loopback (see scripts/lib.sh) and stops them afterwards.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/lib.sh

name="${1:-}"
case "$name" in
  auth) ;;
  *) echo "usage: bench/run.sh auth" >&2; exit 2 ;;
esac

ensure_packages
install_cleanup_trap
log "building //bench:${name}_bench (-c opt)"
bz build -c opt "//bench:${name}_bench"
start_postgres
start_redis
printf 'machine: %s, %s cores, %s\n' "$(uname -m)" "$(nproc)" \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
date -u '+date: %Y-%m-%d %H:%M UTC'

case "$name" in
  auth)
    psql_admin -c "DROP DATABASE IF EXISTS updraft_bench WITH (FORCE)" -c "CREATE DATABASE updraft_bench"
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --scan --pattern 'bench:*' | xargs -r redis-cli -h 127.0.0.1 -p "$REDIS_PORT" del >/dev/null
    tls="$RUN_DIR/bench-tls"
    scripts/dev-ca.sh "$tls" >/dev/null
    rm -f "$tls/bench-signing.key" "$tls/bench-admin.key"
    "$ROOT/bazel-bin/bench/auth_bench" --pg_uri="$(pg_uri updraft_bench)" \
      --redis="127.0.0.1:$REDIS_PORT" --tls_dir="$tls"
    ;;
esac
