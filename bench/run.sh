#!/usr/bin/env bash
# bench/run.sh NAME: runs one benchmark against its peer, measured in the same
# run on this machine, and prints RESULT lines (the last one is the headline).
#   auth      logins/s over gRPC+TLS vs raw OpenSSL Ed25519 verifications/s;
#             cached token verifications/s on one core
#   download  MiB/s of a 256 MiB artifact by the SDK from the download service
#             vs libcurl Range requests to nginx (sendfile); chunks re-fetched
#             after a cut
#   catalog   update checks/s over gRPC by 10,000 devices with 50-component
#             inventories vs a bare gRPC unary service (same requests); p99
# Installs what is missing, builds with -c opt, starts its own PostgreSQL and
# Redis on loopback (see scripts/lib.sh) and stops them afterwards.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/lib.sh

name="${1:-}"
case "$name" in
  auth|download|catalog) ;;
  *) echo "usage: bench/run.sh auth|download|catalog" >&2; exit 2 ;;
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
  catalog)
    psql_admin -c "DROP DATABASE IF EXISTS updraft_bench WITH (FORCE)" -c "CREATE DATABASE updraft_bench"
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --scan --pattern 'bench:*' | xargs -r redis-cli -h 127.0.0.1 -p "$REDIS_PORT" del >/dev/null
    "$ROOT/bazel-bin/bench/catalog_bench" --pg_uri="$(pg_uri updraft_bench)" \
      --redis="127.0.0.1:$REDIS_PORT"
    ;;
  download)
    dl="$RUN_DIR/bench-download"
    rm -rf "$dl" && mkdir -p "$dl/artifacts" "$dl/work" "$dl/nginx"
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    {
      if [ "$(id -u)" -eq 0 ]; then echo "user root;"; fi
      cat <<EOF
daemon off;
worker_processes auto;
pid $dl/nginx/nginx.pid;
error_log $dl/nginx/error.log;
events {}
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path $dl/nginx; proxy_temp_path $dl/nginx; fastcgi_temp_path $dl/nginx;
  uwsgi_temp_path $dl/nginx; scgi_temp_path $dl/nginx;
  server {
    listen 127.0.0.1:$port;
    location /objects/ { root $dl/artifacts; default_type application/octet-stream; }
  }
}
EOF
    } >"$dl/nginx/nginx.conf"
    nginx -p "$dl/nginx" -c "$dl/nginx/nginx.conf" &
    nginx_pid=$!
    trap 'kill "$nginx_pid" 2>/dev/null || true; cleanup_all' EXIT
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
    nginx -v 2>&1
    "$ROOT/bazel-bin/bench/download_bench" --artifact_root="$dl/artifacts" \
      --work_dir="$dl/work" --nginx_base="http://127.0.0.1:$port"
    ;;
esac
