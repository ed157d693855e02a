#!/usr/bin/env bash
# Updraft developer entry point. Two commands do everything on a fresh Debian 12
# machine (both idempotent; both install what is missing first):
#   ./dev.sh demo   start PostgreSQL, Redis and the four services, publish a sample
#                   package with two deployment components, and take a simulated
#                   device through active upgrade (fresh install, then overwrite).
#   ./dev.sh test   run every test (unit and integration) against real
#                   PostgreSQL and Redis.
# Other commands: build, deps, up (start the platform and wait for Ctrl-C).
# Everything it starts listens on 127.0.0.1 only and is stopped on exit or Ctrl-C.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
source scripts/lib.sh

usage() {
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

cmd="${1:-}"
[ -n "$cmd" ] || usage
shift || true
case "$cmd" in
  deps) ensure_packages ;;
  build) ensure_packages; bazel_build ;;
  test) exec scripts/test.sh "$@" ;;
  demo) exec scripts/demo.sh "$@" ;;
  up) exec scripts/demo.sh --platform-only "$@" ;;
  *) usage ;;
esac
