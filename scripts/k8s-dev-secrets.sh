#!/usr/bin/env bash
# scripts/k8s-dev-secrets.sh OUT_DIR [POSTGRES_HOST:PORT]: the files the
# development overlay (deploy/k8s/overlays/dev) turns into Secrets:
#   postgres-password, postgres-uri   the dev database's password and the
#                                     services' URI (host default postgres:5432)
#   signing.key                       auth's Ed25519 token signing key (base64url)
#   admin.key                         the bootstrap admin API key (base64url)
#   ca.pem, <service>.pem/.key        TLS from scripts/dev-ca.sh (no ca.key)
# Idempotent: existing keys and passwords are kept (the URI is rewritten).
# Development only: production Secrets are created by the carrier (docs/deploy.md).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 OUT_DIR [POSTGRES_HOST:PORT]" >&2; exit 2; }
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$1"
PG_HOSTPORT="${2:-postgres:5432}"
mkdir -p "$OUT"
umask 077

random_key() { [ -s "$1" ] || head -c 32 /dev/urandom | basenc --base64url | tr -d '\n=' >"$1"; }
random_key "$OUT/signing.key"
random_key "$OUT/admin.key"
[ -s "$OUT/postgres-password" ] || head -c 18 /dev/urandom | basenc --base64url | tr -d '\n=' >"$OUT/postgres-password"
printf 'postgresql://updraft:%s@%s/updraft' "$(cat "$OUT/postgres-password")" "$PG_HOSTPORT" \
  >"$OUT/postgres-uri"

# Certificates: the dev CA kept in OUT_DIR/ca (its key never goes into a Secret).
"$ROOT/scripts/dev-ca.sh" "$OUT/ca" >/dev/null
cp "$OUT/ca/ca.pem" "$OUT/ca.pem"
for s in auth catalog download notifier; do
  cp "$OUT/ca/$s.pem" "$OUT/ca/$s.key" "$OUT/"
done
