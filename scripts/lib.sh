# Shared shell functions for dev.sh and its scripts. Sourced, not run.
# State lives under $ROOT/.run (git-ignored): PostgreSQL data, logs, keys.

RUN_DIR="${RUN_DIR:-$ROOT/.run}"
PG_PORT="${UPDRAFT_DEV_PG_PORT:-54329}"
REDIS_PORT="${UPDRAFT_DEV_REDIS_PORT:-63799}"
PG_BIN=""
STARTED_PG=0
STARTED_REDIS=0
CHILD_PIDS=()

DEBIAN_PACKAGES=(
  bazel-bootstrap default-jdk-headless g++ pkg-config git ca-certificates
  libgrpc++-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev libabsl-dev
  libpqxx-dev libpq-dev libhiredis-dev prometheus-cpp-dev libssl-dev libarchive-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcurl4-openssl-dev
  postgresql redis-server curl openssl nginx mosquitto libmosquitto-dev
  kannel kannel-extras libwbxml2-utils
)
# Only for container images, the Kubernetes smoke test and the monitoring
# checks (scripts/images.sh, scripts/k8s-smoke.sh and its dashboard check);
# installed when those scripts run, not for ./dev.sh test.
DEPLOY_PACKAGES=(podman runc uidmap catatonit prometheus python3-yaml)
# Only for scripts/fuzz.sh: clang and its libFuzzer/sanitizer runtimes.
FUZZ_PACKAGES=(clang libclang-rt-dev)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_packages() {
  install_missing "${DEBIAN_PACKAGES[@]}"
  # Debian starts these system-wide on install; Updraft runs its own instances.
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -x "$PG_BIN/initdb" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
}

ensure_deploy_packages() {
  install_missing "${DEPLOY_PACKAGES[@]}"
  # kubectl (for `kubectl kustomize`) is not in Debian 12 in a version with
  # kustomize v5; use the one on PATH, else Debian's kubernetes-client.
  command -v kubectl >/dev/null || install_missing kubernetes-client
}

# Podman as it works on these machines (no systemd, no overlay mounts, no
# rlimit changes): see DEVELOPERS.md "Containers".
podman_cmd() {
  local conf="$RUN_DIR/containers.conf"
  if [ ! -s "$conf" ]; then
    mkdir -p "$RUN_DIR"
    printf '[containers]\ndefault_ulimits = []\n' >"$conf"
  fi
  CONTAINERS_CONF="$conf" podman --storage-driver vfs --cgroup-manager cgroupfs --runtime runc "$@"
}

install_missing() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      "${missing[@]}" >"${TMPDIR:-/tmp}/updraft-apt.log" 2>&1 \
      || { tail -n 30 "${TMPDIR:-/tmp}/updraft-apt.log"; die "apt-get install failed"; }
  fi
}

# Bazel with a disk cache shared by every clone on this machine, so that CI's
# fresh clone reuses what a developer already compiled.
bz() {
  local sub="$1"; shift
  bazel "$sub" --disk_cache="${UPDRAFT_BAZEL_DISK_CACHE:-$HOME/.cache/updraft-bazel-disk}" "$@"
}

bazel_build() {
  log "building with Bazel (offline, Debian libraries)"
  bz build //services/... //tools/... //sdk/... "$@"
}

# Runs a command as the unprivileged user that owns the PostgreSQL data.
PG_USER=""
pg_as_user() {
  if [ -n "$PG_USER" ]; then
    setpriv --reuid="$PG_USER" --regid="$(id -g "$PG_USER")" --clear-groups -- "$@"
  else
    "$@"
  fi
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The first port from $1 up that nothing listens on.
free_port_from() {
  local p="$1"
  while port_in_use "$p"; do p=$((p + 1)); done
  echo "$p"
}

start_postgres() {
  local data="$RUN_DIR/pg/data" sock="$RUN_DIR/pg/sock"
  mkdir -p "$RUN_DIR/pg/sock" "$RUN_DIR/logs"
  if [ "$(id -u)" -eq 0 ]; then
    # PostgreSQL refuses to run as root: use the unprivileged postgres account.
    PG_USER=postgres
    id "$PG_USER" >/dev/null 2>&1 || die "user postgres missing (package postgresql)"
    chown -R "$PG_USER" "$RUN_DIR/pg"
    chmod 0711 "$RUN_DIR" "$RUN_DIR/pg"
  fi
  if [ ! -s "$data/PG_VERSION" ]; then
    log "initialising PostgreSQL data in $data"
    pg_as_user "$PG_BIN/initdb" -D "$data" -U updraft --auth=trust -E UTF8 >/dev/null
  fi
  if pg_as_user "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    PG_PORT="$(sed -n 4p "$data/postmaster.pid")"
    log "PostgreSQL already running on 127.0.0.1:$PG_PORT"
  else
    if port_in_use "$PG_PORT"; then
      # Another checkout's server (or anything else) holds the port.
      PG_PORT="$(free_port_from $((PG_PORT + 1)))"
    fi
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    pg_as_user "$PG_BIN/pg_ctl" -D "$data" -w -t 60 -l "$RUN_DIR/pg/server.log" \
      -o "-p $PG_PORT -k $sock -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" \
      start >/dev/null || { tail -n 20 "$RUN_DIR/pg/server.log"; die "PostgreSQL did not start"; }
    STARTED_PG=1
  fi
}

stop_postgres() {
  if [ "$STARTED_PG" -eq 1 ]; then
    log "stopping PostgreSQL"
    pg_as_user "$PG_BIN/pg_ctl" -D "$RUN_DIR/pg/data" -m fast -w stop >/dev/null 2>&1 || true
    STARTED_PG=0
  fi
}

pg_admin_uri() { echo "postgresql://updraft@127.0.0.1:$PG_PORT/postgres"; }
pg_uri() { echo "postgresql://updraft@127.0.0.1:$PG_PORT/$1"; }

psql_admin() {
  psql -X -q -v ON_ERROR_STOP=1 "$(pg_admin_uri)" "$@"
}

start_redis() {
  mkdir -p "$RUN_DIR/redis"
  local pidfile="$RUN_DIR/redis/redis.pid" port_file="$RUN_DIR/redis/port"
  if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && [ -s "$port_file" ]; then
    REDIS_PORT="$(cat "$port_file")"
    log "Redis already running on 127.0.0.1:$REDIS_PORT"
    return
  fi
  if port_in_use "$REDIS_PORT"; then
    REDIS_PORT="$(free_port_from $((REDIS_PORT + 1)))"
  fi
  echo "$REDIS_PORT" >"$port_file"
  log "starting Redis on 127.0.0.1:$REDIS_PORT"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --protected-mode yes --daemonize yes \
    --dir "$RUN_DIR/redis" --pidfile "$RUN_DIR/redis/redis.pid" \
    --logfile "$RUN_DIR/redis/redis.log" --save '' --appendonly no >/dev/null
  for _ in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && { STARTED_REDIS=1; return; }
    sleep 0.1
  done
  die "Redis did not start (see $RUN_DIR/redis/redis.log)"
}

stop_redis() {
  if [ "$STARTED_REDIS" -eq 1 ]; then
    log "stopping Redis"
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    STARTED_REDIS=0
  fi
}

# Kannel (SMS/WAP Push gateway with fakesmsc) for the notifier's tests;
# KANNEL_ENV holds the UPDRAFT_TEST_KANNEL_* settings for them.
STARTED_KANNEL=0
KANNEL_ENV=()
start_kannel() {
  local out
  "$ROOT/scripts/kannel.sh" status || STARTED_KANNEL=1
  log "starting Kannel on 127.0.0.1 (scripts/kannel.sh)"
  out="$(RUN_DIR="$RUN_DIR" "$ROOT/scripts/kannel.sh" start)" \
    || { STARTED_KANNEL=0; die "Kannel did not start (logs in $RUN_DIR/kannel)"; }
  mapfile -t KANNEL_ENV <<<"$out"
}

stop_kannel() {
  if [ "$STARTED_KANNEL" -eq 1 ]; then
    log "stopping Kannel"
    RUN_DIR="$RUN_DIR" "$ROOT/scripts/kannel.sh" stop || true
    STARTED_KANNEL=0
  fi
}

stop_children() {
  local pid
  for pid in "${CHILD_PIDS[@]:-}"; do
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${CHILD_PIDS[@]:-}"; do
    [ -n "$pid" ] && wait "$pid" 2>/dev/null || true
  done
  CHILD_PIDS=()
}

cleanup_all() {
  local rc=$?
  trap - EXIT INT TERM
  stop_children
  stop_kannel
  stop_redis
  stop_postgres
  exit "$rc"
}

install_cleanup_trap() {
  trap cleanup_all EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
