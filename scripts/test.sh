#!/usr/bin/env bash
# ./dev.sh test: installs what is missing, starts PostgreSQL, Redis and
# Kannel (scripts/kannel.sh) on loopback, runs every Bazel test (unit and integration), stops what it
# started, and prints a closing "N passed, N failed" line.
# Extra arguments go to `bazel test` (e.g. a target pattern or --config=asan).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/lib.sh

ensure_packages
install_cleanup_trap
start_postgres
start_redis
start_kannel

targets=("//...")
extra=()
for a in "$@"; do
  case "$a" in
    //*|:*) targets=("$@"); extra=(); break ;;
    *) extra+=("$a") ;;
  esac
done

log "running tests"
out="$RUN_DIR/logs/test-summary.txt"
mkdir -p "$RUN_DIR/logs"
set +e
bz test "${targets[@]}" "${extra[@]}" \
  --test_summary=short \
  --test_env=UPDRAFT_TEST_PG_URI="$(pg_admin_uri)" \
  --test_env=UPDRAFT_TEST_REDIS="127.0.0.1:$REDIS_PORT" \
  --test_env=UPDRAFT_ROOT="$ROOT" \
  --test_env=LSAN_OPTIONS="suppressions=$ROOT/fuzz/lsan.supp" \
  "${KANNEL_ENV[@]/#/--test_env=}" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
set -e

passed=$(grep -cE '^//\S+\s+(\(cached\) )?PASSED' "$out" || true)
failed=$(grep -cE '^//\S+\s+(\(cached\) )?(FAILED|TIMEOUT|NO STATUS|INCOMPLETE)' "$out" || true)
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1  # a build failure counts as a failed run
fi
echo "${passed} passed, ${failed} failed"
exit "$rc"
