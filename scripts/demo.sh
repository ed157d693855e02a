#!/usr/bin/env bash
# ./dev.sh demo: the whole platform on loopback and a simulated device going
# through active upgrade. ./dev.sh up: the platform only, until Ctrl-C.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/lib.sh

PLATFORM_ONLY=0
[ "${1:-}" = "--platform-only" ] && PLATFORM_ONLY=1

AUTH=127.0.0.1:7401
CATALOG=127.0.0.1:7402
DOWNLOAD=127.0.0.1:7403
NOTIFIER=127.0.0.1:7404
DB=updraft_demo
DEMO="$RUN_DIR/demo"
BIN="$ROOT/bazel-bin"
# Development CA and certificates (scripts/dev-ca.sh); kept across runs.
TLS="$RUN_DIR/tls"

step() { printf '\n\033[1;36m### %s\033[0m\n' "$*"; }

ensure_packages
bazel_build
install_cleanup_trap
start_postgres
start_redis

step "Fresh demo state: database $DB, Redis, artifact volume, device"
psql_admin -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
redis-cli -h 127.0.0.1 -p "$REDIS_PORT" flushdb >/dev/null
rm -rf "$DEMO"
mkdir -p "$DEMO"/{artifacts,keys,device-state,handset,pkg} "$RUN_DIR/logs"

step "TLS: development CA and certificates in .run/tls (scripts/dev-ca.sh; kept while valid)"
scripts/dev-ca.sh "$TLS"

# Every service serves TLS with its certificate, requires client certificates
# signed by the dev CA (mutual TLS), and presents its own when calling others.
start_service() {
  local name="$1"; shift
  "$BIN/services/$name/$name" "$@" --tls_cert="$TLS/$name.pem" --tls_key="$TLS/$name.key" \
    --tls_ca="$TLS/ca.pem" --tls_require_client_cert \
    --tls_client_cert="$TLS/$name.pem" --tls_client_key="$TLS/$name.key" \
    >"$RUN_DIR/logs/$name.log" 2>&1 &
  CHILD_PIDS+=($!)
}
PROBE=("$BIN/tools/health_probe/health_probe" --tls_ca="$TLS/ca.pem"
       --tls_client_cert="$TLS/operator.pem" --tls_client_key="$TLS/operator.key")

step "Starting the four services with mutual TLS (logs in .run/logs/, metrics on :9401-:9404/metrics)"
start_service auth --listen=$AUTH --metrics_listen=127.0.0.1:9401 --pg_uri="$(pg_uri $DB)" \
  --redis=127.0.0.1:$REDIS_PORT --signing_key_file="$DEMO/keys/auth-signing.key" \
  --bootstrap_admin_key_file="$DEMO/keys/admin.key"
"${PROBE[@]}" --address=$AUTH --wait=30s

# Operator API keys: auth created the first admin key (--bootstrap_admin_key_file);
# with it, a publisher key for the release steps and one for the catalog, which
# reads manifests from the download service and announces through the notifier
# (publisher role). Each is shown once.
CTL=("$BIN/tools/updraftctl/updraftctl" --auth=$AUTH --catalog=$CATALOG --download=$DOWNLOAD
     --tls_ca="$TLS/ca.pem" --tls_cert="$TLS/operator.pem" --tls_key="$TLS/operator.key")
ADMIN=("${CTL[@]}" --api_key_file="$DEMO/keys/admin.key")
PUBLISHER=("${CTL[@]}" --api_key_file="$DEMO/keys/publisher.key")
"${ADMIN[@]}" create-api-key --name=publisher --role=publisher --out="$DEMO/keys/publisher.key"
"${ADMIN[@]}" create-api-key --name=catalog --role=publisher --out="$DEMO/keys/catalog.key"
"${ADMIN[@]}" create-api-key --name=dashboard --role=viewer --out="$DEMO/keys/viewer.key"

# The publisher's release-signing key: the private half stays with the
# publisher; the catalog and the device trust only the public half.
"${CTL[@]}" gen-publisher-key --out="$DEMO/keys/release-signing.key" >"$DEMO/keys/publishers.pub"
echo "release-signing public key: $(cat "$DEMO/keys/publishers.pub")"

start_service download --listen=$DOWNLOAD --metrics_listen=127.0.0.1:9403 \
  --artifact_root="$DEMO/artifacts" --auth_address=$AUTH --redis=127.0.0.1:$REDIS_PORT
start_service notifier --listen=$NOTIFIER --metrics_listen=127.0.0.1:9404 \
  --pg_uri="$(pg_uri $DB)" --redis=127.0.0.1:$REDIS_PORT --auth_address=$AUTH
"${PROBE[@]}" --address=$DOWNLOAD --wait=30s
start_service catalog --listen=$CATALOG --metrics_listen=127.0.0.1:9402 --pg_uri="$(pg_uri $DB)" \
  --download_address=$DOWNLOAD --auth_address=$AUTH --redis=127.0.0.1:$REDIS_PORT \
  --api_key_file="$DEMO/keys/catalog.key" --notifier_address=$NOTIFIER \
  --public_catalog_address=$CATALOG --publisher_keys_file="$DEMO/keys/publishers.pub"
for a in $CATALOG $NOTIFIER; do "${PROBE[@]}" --address=$a --wait=30s; done
echo "auth $AUTH, catalog $CATALOG, download $DOWNLOAD, notifier $NOTIFIER: all SERVING over TLS"

if [ "$PLATFORM_ONLY" -eq 1 ]; then
  echo "Platform running; press Ctrl-C to stop."
  wait
  exit 0
fi

SIM=("$BIN/tools/device_sim/device_sim" --device_id=phone-0001 --key_file="$DEMO/keys/phone-0001.key"
     --auth_address=$AUTH --catalog_address=$CATALOG --state_dir="$DEMO/device-state"
     --install_dir="$DEMO/handset" --consent=yes --model=Pixel-9 --os_version=15.0.0 --carrier=DemoTel
     --time_zone=Europe/Paris
     --tls_ca="$TLS/ca.pem" --tls_cert="$TLS/device.pem" --tls_key="$TLS/device.key"
     --publisher_keys_file="$DEMO/keys/publishers.pub")

# A package: an application binary and a codec library, each its own DC.
make_package() {
  local version="$1" dir="$DEMO/pkg/$1"
  mkdir -p "$dir"
  head -c 262144 /dev/urandom >"$dir/app.bin"
  printf 'demo-app %s\n' "$version" >>"$dir/app.bin"
  head -c 196608 /dev/urandom >"$dir/libcodec.so"
  tar -C "$dir" -cf "$DEMO/pkg/demo-app-$version.tar" app.bin libcodec.so
  echo "$DEMO/pkg/demo-app-$version.tar"
}

publish() {
  local version="$1" package_id="$2" tarball sha release
  tarball="$(make_package "$version")"
  "${PUBLISHER[@]}" upload --file="$tarball" --chunk_size=65536 | tee "$DEMO/upload.txt"
  sha="$(awk '{print $2}' "$DEMO/upload.txt" | tr -d ':')"
  release="$("${PUBLISHER[@]}" create-release --package_id="$package_id" --version="$version" \
    --artifact_sha256="$sha" --dc=DC_1=app.bin --dc=DC_2=libcodec.so \
    --setting=update_channel=stable --setting=telemetry=off)"
  "${PUBLISHER[@]}" publish --release_id="$release" \
    --signing_key_file="$DEMO/keys/release-signing.key" --expires_in=720h
  LAST_RELEASE="$release"
}

step "Publisher: create demo-app and publish 1.0.0 with components DC_1 (app.bin) and DC_2 (libcodec.so)"
PKG="$("${PUBLISHER[@]}" create-package --name=demo-app --author="Acme Mobile" \
  --description="Demo application with a codec library")"
echo "package $PKG created"
publish 1.0.0 "$PKG"

step "Roles and signatures: a viewer key may read but not publish; an unsigned publication is refused"
if "${CTL[@]}" --api_key_file="$DEMO/keys/viewer.key" publish --release_id="$LAST_RELEASE"; then
  die "a viewer key was allowed to publish"
fi
if "${PUBLISHER[@]}" publish --release_id="$LAST_RELEASE"; then
  die "the catalog accepted a publication without signed metadata"
fi

step "Carrier: pre-provision device phone-0001 with its Ed25519 public key (admin key)"
PUB="$("${SIM[@]}" --print_public_key)"
"${ADMIN[@]}" register-device --device_id=phone-0001 --public_key="$PUB" --attribute=model=Pixel-9

step "Device: active upgrade (sends its inventory, the server answers with what is new)"
"${SIM[@]}"

step "Device: checks again (nothing new expected)"
"${SIM[@]}"

step "Publisher: publish 1.1.0"
publish 1.1.0 "$PKG"

step "Device: active upgrade again (overwrite of the installed version expected)"
"${SIM[@]}"

step "Server's view of the device: Deployed components with their DC IDs, and results"
"${PUBLISHER[@]}" device-state --device_id=phone-0001

step "Operator: deactivate one component (DC_2) on this device by its ID"
"${PUBLISHER[@]}" queue-operation --kind=deactivate --dc_id=DC_2 --device_id=phone-0001

step "Device: next check carries the operation; it deactivates DC_2 and reports 1200"
"${SIM[@]}"
"${PUBLISHER[@]}" operations --device_id=phone-0001

step "The device's SCOMO management tree as OMA DM node paths"
"${PUBLISHER[@]}" scomo-tree --device_id=phone-0001

step "IP Push: the device holds its stream; 1.2.0 is published and a campaign announces it"
"${SIM[@]}" --notifier_address=$NOTIFIER --wait_for_push=90s &
PUSHED_SIM=$!
publish 1.2.0 "$PKG"
"${PUBLISHER[@]}" campaign-create --name=demo-app-1.2.0 --release_id="$LAST_RELEASE" \
  --device_id=phone-0001 --wave=100% --channel=ip_push --jitter=0s
wait "$PUSHED_SIM" || die "the device did not install 1.2.0 after the IP Push announcement"
"${PUBLISHER[@]}" campaign-list

step "Audit trail: who changed what, when (newest first)"
"${ADMIN[@]}" audit --limit=6

step "Handset directory"
find "$DEMO/handset" -maxdepth 3 -not -path '*/.old-*' | sed "s|$DEMO/||" | sort

step "Transport: plaintext, and TLS without a client certificate, are both refused"
for extra in "" --tls_ca="$TLS/ca.pem"; do
  if "$BIN/tools/health_probe/health_probe" --address=$CATALOG ${extra:+"$extra"} 2>/dev/null; then
    die "catalog accepted a client with ${extra:-no TLS} and no client certificate"
  fi
done
echo "refused as expected; with the dev CA and the operator certificate it answers SERVING"

step "A few metrics (full set at http://127.0.0.1:9402/metrics and the other ports)"
curl -s http://127.0.0.1:9402/metrics | grep -E '^updraft_(catalog|grpc_server_handled_total\{code="OK",method="/updraft.v1.DeviceCatalog)' | head -n 8 || true

step "Demo complete: stopping everything it started"
