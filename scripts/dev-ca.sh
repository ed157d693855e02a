#!/usr/bin/env bash
# scripts/dev-ca.sh OUT_DIR: a development certificate authority and the
# certificates the Updraft services, the operator tool and a simulated device
# use for TLS and mutual TLS. For development and tests only: the CA key sits
# next to the certificates.
#
# Creates in OUT_DIR (ECDSA P-256 keys, mode 0600; certificates PEM):
#   ca.pem ca.key                 the CA (10 years)
#   auth.pem auth.key, catalog.*, download.*, notifier.*
#                                 server and client usage; SANs DNS:localhost,
#                                 DNS:<service>, DNS:<service>.updraft.svc,
#                                 DNS:<service>.updraft.svc.cluster.local,
#                                 IP:127.0.0.1
#   operator.pem operator.key     client usage (updraftctl, health_probe)
#   device.pem device.key         client usage (device_sim)
# Idempotent: a file set that exists, verifies against ca.pem and is valid
# for more than 30 more days is kept; anything else is (re)created. A new CA
# re-issues every certificate.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
OUT="$1"
command -v openssl >/dev/null || { echo "dev-ca.sh: openssl not found (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$OUT"
cd "$OUT"

SERVICES=(auth catalog download notifier)
MIN_VALID_SECONDS=$((30 * 24 * 3600))
LEAF_DAYS=397
CA_DAYS=3650
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

new_key() {
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.tmp" 2>/dev/null)
  chmod 0600 "$1.tmp"
  mv -f "$1.tmp" "$1"
}

# True when $1.pem and $1.key exist, match, and the certificate is valid for
# 30 more days (and, for a leaf, is signed by ca.pem).
valid() {
  local name="$1"
  [ -s "$name.pem" ] && [ -s "$name.key" ] || return 1
  openssl x509 -in "$name.pem" -noout -checkend "$MIN_VALID_SECONDS" >/dev/null 2>&1 || return 1
  [ "$(openssl x509 -in "$name.pem" -noout -pubkey 2>/dev/null)" = \
    "$(openssl pkey -in "$name.key" -pubout 2>/dev/null)" ] || return 1
  if [ "$name" != ca ]; then
    openssl verify -CAfile ca.pem "$name.pem" >/dev/null 2>&1 || return 1
  fi
}

# issue NAME EXTENSIONS: a leaf certificate signed by the CA.
issue() {
  local name="$1" ext="$2"
  new_key "$name.key"
  printf '%b\n' "$ext" >"$WORK/$name.ext"
  openssl req -new -key "$name.key" -subj "/O=Updraft development/CN=$name" \
    -out "$WORK/$name.csr" 2>/dev/null
  openssl x509 -req -in "$WORK/$name.csr" -CA ca.pem -CAkey ca.key \
    -set_serial "0x$(openssl rand -hex 16)" -days "$LEAF_DAYS" -sha256 \
    -extfile "$WORK/$name.ext" -out "$name.pem.tmp" 2>/dev/null
  chmod 0644 "$name.pem.tmp"
  mv -f "$name.pem.tmp" "$name.pem"
  echo "dev-ca: issued $OUT/$name.pem"
}

new_ca=0
if ! valid ca; then
  new_key ca.key
  openssl req -x509 -new -key ca.key -sha256 -days "$CA_DAYS" \
    -subj "/O=Updraft development/CN=Updraft development CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out ca.pem.tmp 2>/dev/null
  chmod 0644 ca.pem.tmp
  mv -f ca.pem.tmp ca.pem
  new_ca=1
  echo "dev-ca: created CA $OUT/ca.pem"
fi

BASE='basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature'
for s in "${SERVICES[@]}"; do
  if [ "$new_ca" -eq 1 ] || ! valid "$s"; then
    issue "$s" "$BASE\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:localhost,DNS:$s,DNS:$s.updraft.svc,DNS:$s.updraft.svc.cluster.local,IP:127.0.0.1"
  fi
done
for c in operator device; do
  if [ "$new_ca" -eq 1 ] || ! valid "$c"; then
    issue "$c" "$BASE\nextendedKeyUsage=clientAuth"
  fi
done
