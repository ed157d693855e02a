#!/usr/bin/env bash
# bench/run.sh NAME: runs one benchmark against its peer, measured in the same
# run on this machine, and prints RESULT lines (the last one is the headline).
#   auth      logins/s over gRPC+TLS vs raw OpenSSL Ed25519 verifications/s;
#             cached token verifications/s on one core
#   download  MiB/s of a 256 MiB artifact by the SDK from the download service
#             vs libcurl Range requests to nginx (sendfile); chunks re-fetched
#             after a cut
#   catalog   update checks/s over gRPC by 10,000 devices with 50-component
#             inventories, from a load process, vs a bare gRPC server on the
#             same method (same requests), in alternating rounds; p99, server
#             CPU per check
#   sdk       device SDK footprint: stripped size of the SDK + C API as a
#             shared library; RSS of one idle device holding its IP Push stream
#             vs a bare gRPC client holding one stream; KiB per device in the
#             fleet simulator at 5,000 devices
#   push      15,000 IP Push streams on one notifier from 4 processes and
#             127.0.0.2-9: KiB per idle stream, fan-out p50/p99/max of 5
#             announcements, reconnect storms after a restart (jitter on/off)
#             vs Mosquitto with 15,000 QoS 0 subscribers; `push --tuning`:
#             KiB per stream for each channel setting
# Installs what is missing, builds with -c opt, starts its own PostgreSQL and
# Redis on loopback (see scripts/lib.sh) and stops them afterwards.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/lib.sh

name="${1:-}"
case "$name" in
  auth|download|catalog|sdk|push) ;;
  *) echo "usage: bench/run.sh auth|download|catalog|sdk|push" >&2; exit 2 ;;
esac

ensure_packages
install_cleanup_trap
log "building //bench:${name}_bench (-c opt)"
bz build -c opt "//bench:${name}_bench"
if [ "$name" = sdk ]; then
  bz build -c opt //bench:grpc_stream_peer //bench:grpc_stream_peer_static \
    //sdk/device:updraft_example //sdk/device:updraft_example_static \
    //sdk/device:libupdraft_device.so //tools/fleet_sim
fi
start_postgres
start_redis
# An empty database $1 and no Redis keys matching $2.
fresh_state() {
  psql_admin -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --scan --pattern "$2" | xargs -r redis-cli -h 127.0.0.1 -p "$REDIS_PORT" del >/dev/null
}

printf 'machine: %s, %s cores, %s\n' "$(uname -m)" "$(nproc)" \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
date -u '+date: %Y-%m-%d %H:%M UTC'

case "$name" in
  push)
    fresh_state updraft_bench_push 'bench:push:*'
    ulimit -n 20000 2>/dev/null || true
    mkdir -p "$RUN_DIR/bench-push"
    # bazel-out/k8-opt, not bazel-bin: another build may have re-pointed that.
    "$ROOT/bazel-out/k8-opt/bin/bench/push_bench" --pg_uri="$(pg_uri updraft_bench_push)" \
      --redis="127.0.0.1:$REDIS_PORT" --work_dir="$RUN_DIR/bench-push" "${@:2}"
    ;;
  auth)
    fresh_state updraft_bench 'bench:*'
    tls="$RUN_DIR/bench-tls"
    scripts/dev-ca.sh "$tls" >/dev/null
    rm -f "$tls/bench-signing.key" "$tls/bench-admin.key"
    "$ROOT/bazel-bin/bench/auth_bench" --pg_uri="$(pg_uri updraft_bench)" \
      --redis="127.0.0.1:$REDIS_PORT" --tls_dir="$tls"
    ;;
  catalog)
    fresh_state updraft_bench 'bench:*'
    "$ROOT/bazel-bin/bench/catalog_bench" --pg_uri="$(pg_uri updraft_bench)" \
      --redis="127.0.0.1:$REDIS_PORT" --work_dir="$RUN_DIR" "${@:2}"
    ;;
  sdk)
    fresh_state updraft_bench_sdk 'bench:sdk:*'
    work="$RUN_DIR/bench-sdk"
    rm -rf "$work" && mkdir -p "$work"
    # Copies of the -c opt outputs (bazel-bin follows whatever was built
    # last), so that other builds in the workspace cannot swap them meanwhile.
    opt_bin="$(bz info -c opt bazel-bin 2>/dev/null)"
    bin="$work/bin"
    for t in bench/sdk_bench bench/grpc_stream_peer bench/grpc_stream_peer_static \
      sdk/device/updraft_example sdk/device/updraft_example_static tools/fleet_sim/fleet_sim; do
      mkdir -p "$bin/$(dirname "$t")" && cp "$opt_bin/$t" "$bin/$t"
    done
    cp "$opt_bin/sdk/device/libupdraft_device.so" "$work/"
    if ldd "$bin"/*/* "$bin"/*/*/* "$work/libupdraft_device.so" 2>/dev/null | grep -q 'lib[at]san'; then
      die "bazel-bin holds sanitizer builds (another build replaced them); run again"
    fi
    chmod u+w "$work/libupdraft_device.so" && strip --strip-all "$work/libupdraft_device.so"
    printf 'sdk: libupdraft_device.so (SDK + C API, -c opt, stripped): %s KiB; system shared libraries it needs (grpc++, grpc, protobuf, absl, ssl, ...): %s KiB\n' \
      "$(( $(stat -c %s "$work/libupdraft_device.so") / 1024 ))" \
      "$(ldd "$work/libupdraft_device.so" | awk '/=> \//{print $3}' | xargs -r stat -L -c %s | awk '{s+=$1} END {print int(s/1024)}')"
    "$bin/bench/sdk_bench" --pg_uri="$(pg_uri updraft_bench_sdk)" \
      --redis="127.0.0.1:$REDIS_PORT" --work_dir="$work" --bin_dir="$bin"
    ;;
  download)
    dl="$RUN_DIR/bench-download"
    rm -rf "$dl" && mkdir -p "$dl/artifacts" "$dl/work" "$dl/nginx"
    port="$(free_port_from 18080)"
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
