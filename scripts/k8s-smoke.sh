#!/usr/bin/env bash
# scripts/k8s-smoke.sh [--skip-images]: the Kubernetes manifests, really run.
#   1. builds the images (scripts/images.sh) unless --skip-images;
#   2. renders the development overlay (deploy/k8s/overlays/dev) with
#      generated Secrets, through a podman-smoke overlay that only switches to
#      host networking (addresses 127.0.0.1, PostgreSQL on 55432, Redis on
#      56379 so a system PostgreSQL/Redis does not clash);
#   3. adapts it for podman 4.3 (scripts/k8s-podman-adapt.py) and plays it
#      with `podman kube play`: PostgreSQL, Redis and the four services as pods;
#   4. waits until every service answers SERVING over TLS, publishes a release
#      with updraftctl and takes device_sim through the active upgrade, checks
#      every /metrics endpoint and the catalog's update-check metric;
#   5. runs Prometheus on loopback (deploy/monitoring/alerts.yaml loaded)
#      against the pods and checks every query of the Grafana dashboard
#      returns data (scripts/check-dashboard.py);
#   6. tears everything down (also on failure), and prints "N passed, N failed".
# Needs ports 7401-7404, 9401-9404, 55432, 56379 and 59090 free on this host.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/lib.sh

SKIP_IMAGES=0
[ "${1:-}" = "--skip-images" ] && SKIP_IMAGES=1
WORK="$RUN_DIR/k8s-smoke"
PG_PORT_SMOKE=55432
REDIS_PORT_SMOKE=56379
PROM_PORT=59090
PROM_PID=""
PASSED=0
FAILED=0
step() { printf '\n\033[1;36m### %s\033[0m\n' "$*"; }
check() {  # check NAME COMMAND...: runs a check, counts it.
  local name="$1"; shift
  if "$@"; then PASSED=$((PASSED + 1)); echo "ok: $name"
  else FAILED=$((FAILED + 1)); echo "FAILED: $name"; return 1; fi
}

ensure_packages
ensure_deploy_packages
if [ "$SKIP_IMAGES" -eq 0 ]; then scripts/images.sh; else bz build -c opt //tools/device_sim //tools/updraftctl //tools/health_probe; fi
BIN="$(bazel info -c opt bazel-bin 2>/dev/null)"

for port in 7401 7402 7403 7404 9401 9402 9403 9404 $PG_PORT_SMOKE $REDIS_PORT_SMOKE $PROM_PORT; do
  if ss -Hltn "sport = :$port" | grep -q .; then
    die "port $port is in use (stop ./dev.sh up or whatever listens there)"
  fi
done

step "Rendering deploy/k8s/overlays/dev (+ podman-smoke: host networking)"
rm -rf "$WORK"
mkdir -p "$WORK/device" "$WORK/handset" "$WORK/pkg"
cp -r deploy/k8s "$WORK/k8s"
rm -rf "$WORK/k8s/overlays/dev/secrets"
scripts/k8s-dev-secrets.sh "$WORK/k8s/overlays/dev/secrets" "127.0.0.1:$PG_PORT_SMOKE"
SECRETS="$WORK/k8s/overlays/dev/secrets"
mkdir -p "$WORK/k8s/overlays/podman-smoke"
cat >"$WORK/k8s/overlays/podman-smoke/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [../dev]
configMapGenerator:
  - name: updraft-config
    behavior: merge
    literals:
      - UPDRAFT_REDIS=127.0.0.1:$REDIS_PORT_SMOKE
      - UPDRAFT_AUTH_ADDRESS=127.0.0.1:7401
      - UPDRAFT_DOWNLOAD_ADDRESS=127.0.0.1:7403
patches:
  - target: {kind: Deployment}
    patch: |-
      - {op: add, path: /spec/template/spec/hostNetwork, value: true}
  - target: {kind: Deployment, name: catalog}
    patch: |-
      - {op: replace, path: /spec/template/spec/containers/0/env/1/value, value: "127.0.0.1:7403"}
  - target: {kind: Deployment, name: postgres}
    patch: |-
      - {op: replace, path: /spec/template/spec/containers/0/env/2/value, value: "$PG_PORT_SMOKE"}
      - {op: add, path: /spec/template/spec/containers/0/env/-, value: {name: POSTGRES_LISTEN, value: 127.0.0.1}}
  - target: {kind: Deployment, name: redis}
    patch: |-
      - {op: replace, path: /spec/template/spec/containers/0/args, value: [--port, "$REDIS_PORT_SMOKE", --bind, 127.0.0.1, --save, "", --appendonly, "no", --dir, /tmp]}
EOF
kubectl kustomize "$WORK/k8s/overlays/podman-smoke" >"$WORK/rendered.yaml"
python3 scripts/k8s-podman-adapt.py "$WORK/rendered.yaml" "$WORK" >"$WORK/play.yaml"
grep -E '^kind:' "$WORK/rendered.yaml" | sort | uniq -c

teardown() {
  local rc=$?
  trap - EXIT INT TERM
  step "Tearing down"
  [ -z "$PROM_PID" ] || { kill -TERM "$PROM_PID" 2>/dev/null; wait "$PROM_PID" 2>/dev/null || true; }
  if [ -s "$WORK/play.yaml" ]; then
    mkdir -p "$WORK/logs"
    for c in $(podman_cmd ps -a --format '{{.Names}}' | grep -E -- '-pod-0-' || true); do
      podman_cmd logs "$c" >"$WORK/logs/$c.log" 2>&1 || true
    done
    podman_cmd kube down "$WORK/play.yaml" >/dev/null 2>&1 || true
    podman_cmd volume rm -f postgres-data updraft-artifacts >/dev/null 2>&1 || true
    echo "container logs kept in $WORK/logs"
  fi
  [ "$rc" -eq 0 ] || [ "$FAILED" -gt 0 ] || FAILED=1  # a failed step counts
  echo "${PASSED} passed, ${FAILED} failed"
  [ "$FAILED" -eq 0 ] || rc=1
  exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "podman kube play (PostgreSQL, Redis, auth, catalog, download, notifier)"
podman_cmd kube down "$WORK/play.yaml" >/dev/null 2>&1 || true
podman_cmd volume rm -f postgres-data updraft-artifacts >/dev/null 2>&1 || true
# Without systemd, podman logs that it cannot schedule the exec probes as
# health checks; the pods run regardless (the script probes them itself).
podman_cmd kube play "$WORK/play.yaml" >"$WORK/play.log" 2> >(grep -v 'systemd connection' >&2)
podman_cmd pod ps --format '{{.Name}} {{.Status}}'

step "Waiting for every service to answer SERVING over TLS"
PROBE=("$BIN/tools/health_probe/health_probe" --tls_ca="$SECRETS/ca.pem")
for a in 7401 7403 7404 7402; do
  check "service on 127.0.0.1:$a serving" "${PROBE[@]}" --address=127.0.0.1:$a --wait=90s
done

step "A release through the deployed platform"
CTL=("$BIN/tools/updraftctl/updraftctl" --auth=127.0.0.1:7401 --catalog=127.0.0.1:7402
     --download=127.0.0.1:7403 --tls_ca="$SECRETS/ca.pem")
ADMIN=("${CTL[@]}" --api_key_file="$SECRETS/admin.key")
"${ADMIN[@]}" create-api-key --name=smoke-publisher --role=publisher --out="$WORK/publisher.key"
PUBLISHER=("${CTL[@]}" --api_key_file="$WORK/publisher.key")
head -c 131072 /dev/urandom >"$WORK/pkg/app.bin"
printf 'smoke-app 1.0.0\n' >>"$WORK/pkg/app.bin"
tar -C "$WORK/pkg" -cf "$WORK/smoke-1.0.0.tar" app.bin
"${PUBLISHER[@]}" upload --file="$WORK/smoke-1.0.0.tar" --chunk_size=65536 | tee "$WORK/upload.txt"
SHA="$(awk '{print $2}' "$WORK/upload.txt" | tr -d ':')"
PKG="$("${PUBLISHER[@]}" create-package --name=smoke-app --author="Smoke test")"
RELEASE="$("${PUBLISHER[@]}" create-release --package_id="$PKG" --version=1.0.0 \
  --artifact_sha256="$SHA" --dc=DC_1=app.bin)"
"${PUBLISHER[@]}" publish --release_id="$RELEASE"
# A campaign over the smoke device (feeds the dashboard's campaign panels).
"${PUBLISHER[@]}" campaign-create --name=smoke --release_id="$RELEASE" --device_id=smoke-0001 \
  --wave=100% --success_threshold=1 >/dev/null

SIM=("$BIN/tools/device_sim/device_sim" --device_id=smoke-0001 --key_file="$WORK/device/key"
     --auth_address=127.0.0.1:7401 --catalog_address=127.0.0.1:7402
     --download_address=127.0.0.1:7403 --state_dir="$WORK/device/state"
     --install_dir="$WORK/handset" --consent=yes --model=Smoke-1 --os_version=1.0.0
     --tls_ca="$SECRETS/ca.pem")
"${ADMIN[@]}" register-device --device_id=smoke-0001 --public_key="$("${SIM[@]}" --print_public_key)"
"${SIM[@]}" | tee "$WORK/device_sim.txt"
installed() { find "$WORK/handset" -name app.bin -not -path '*/.old-*' | grep -q . &&
  cmp -s "$(find "$WORK/handset" -name app.bin -not -path '*/.old-*' | head -n 1)" "$WORK/pkg/app.bin"; }
check "device installed the released app.bin" installed
refused() { ! "${SIM[@]/smoke-0001/smoke-unknown}" >"$WORK/unknown-device.txt" 2>&1; }
check "an unregistered device is refused" refused
check "server records the device's deployed component" \
  bash -c '"$@" device-state --device_id=smoke-0001 | grep -q DC_1' _ "${PUBLISHER[@]}"
check "the campaign counted the device's install" \
  bash -c '"$@" --json campaign-list | grep -Eq "\"installed(_outside_waves)?\":\"1\""' _ "${PUBLISHER[@]}"

step "Metrics endpoints"
for p in 9401 9402 9403 9404; do
  check "/metrics on :$p" bash -c "curl -sf http://127.0.0.1:$p/metrics | grep -q '^updraft_grpc_server_handled_total'"
done
check "catalog counted the update check" bash -c \
  "curl -sf http://127.0.0.1:9402/metrics | grep -E '^updraft_catalog_update_checks_total\{result=\"offers\"\} [1-9]'"

step "Prometheus on 127.0.0.1:$PROM_PORT: alert rules load, every dashboard query returns data"
mkdir -p "$WORK/prometheus"
cp deploy/monitoring/alerts.yaml "$WORK/prometheus/"
{
  printf 'global: {scrape_interval: 1s, evaluation_interval: 5s}\nrule_files: [alerts.yaml]\nscrape_configs:\n'
  for s in auth:9401 catalog:9402 download:9403 notifier:9404; do
    printf '  - job_name: %s\n    static_configs: [{targets: ["127.0.0.1:%s"], labels: {service: %s}}]\n' \
      "${s%%:*}" "${s#*:}" "${s%%:*}"
  done
} >"$WORK/prometheus/prometheus.yaml"
promtool check config "$WORK/prometheus/prometheus.yaml" >/dev/null
prometheus --config.file="$WORK/prometheus/prometheus.yaml" --web.listen-address=127.0.0.1:$PROM_PORT \
  --storage.tsdb.path="$WORK/prometheus/data" >"$WORK/prometheus/prometheus.log" 2>&1 &
PROM_PID=$!
# Enough 1 s scrapes for rate() over 1m, after one more update check.
"${SIM[@]}" >/dev/null
sleep 8
check "Prometheus loaded the alert rules" bash -c \
  "curl -sf http://127.0.0.1:$PROM_PORT/api/v1/rules | grep -q UpdraftServiceDown"
# No test client holds an IP Push stream yet, so no notification is ever sent.
if python3 scripts/check-dashboard.py "http://127.0.0.1:$PROM_PORT" \
  deploy/monitoring/grafana-dashboard.json --expect-empty 'updraft_notifier_notifications_total' \
  | tee "$WORK/dashboard-check.txt"; then
  PASSED=$((PASSED + 1))
else
  FAILED=$((FAILED + 1))
fi
