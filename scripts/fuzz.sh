#!/usr/bin/env bash
# scripts/fuzz.sh [NAME|all] [SECONDS]
#
# Builds the libFuzzer targets of fuzz/ with clang (-fsanitize=fuzzer,address,undefined;
# `--config=fuzz` in .bazelrc) in a separate Bazel output base, so the shared gcc output base
# is not rebuilt, then runs each fuzzer (or NAME) for SECONDS (default 60) from its seed corpus
# fuzz/corpus/NAME. New interesting inputs go to .run/fuzz/NAME/corpus (not the repository);
# crashes, leaks, timeouts and failed invariants are saved as fuzz/crashers/NAME-<kind>-<sha1>.
# Prints one RESULT line per fuzzer and exits 1 when any fuzzer found something.
#
# Environment: FUZZ_OUTPUT_BASE (default ~/.cache/updraft-fuzz-output), FUZZ_JOBS (parallel
# libFuzzer workers per target, default 1), FUZZ_ARGS (extra libFuzzer flags).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

ALL=(notification_format push_handler dcinfo catalog_validation device_csv tar_extract
  device_state json semver token release_metadata artifact_upload)
NAME="${1:-all}"
SECONDS_EACH="${2:-60}"
OUTPUT_BASE="${FUZZ_OUTPUT_BASE:-$HOME/.cache/updraft-fuzz-output}"
JOBS="${FUZZ_JOBS:-1}"

if [ "$NAME" = all ]; then
  TARGETS=("${ALL[@]}")
else
  [ -d "fuzz/corpus/$NAME" ] || { echo "unknown fuzzer $NAME; one of: ${ALL[*]}" >&2; exit 2; }
  TARGETS=("$NAME")
fi
[[ "$SECONDS_EACH" =~ ^[0-9]+$ ]] || { echo "SECONDS must be a number" >&2; exit 2; }
source scripts/lib.sh
install_missing "${FUZZ_PACKAGES[@]}"

LABELS=()
for t in "${TARGETS[@]}"; do LABELS+=("//fuzz:$t"); done
echo "==> building ${TARGETS[*]} with clang (output base $OUTPUT_BASE)" >&2
bazel --output_base="$OUTPUT_BASE" build --config=fuzz \
  --disk_cache="$HOME/.cache/updraft-fuzz-disk" "${LABELS[@]}" >&2
BIN="$(bazel --output_base="$OUTPUT_BASE" info --config=fuzz bazel-bin 2>/dev/null)"

mkdir -p fuzz/crashers
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
found=0
for t in "${TARGETS[@]}"; do
  work="$ROOT/.run/fuzz/$t"
  mkdir -p "$work/corpus" "$work/tmp"
  log="$work/fuzz.log"
  parallel=""
  # With -jobs libFuzzer writes each worker's log to fuzz-N.log in the current directory.
  [ "$JOBS" -gt 1 ] && parallel="-jobs=$JOBS -workers=$JOBS -close_fd_mask=0"
  echo "==> fuzzing $t for ${SECONDS_EACH}s (log $log)" >&2
  set +e
  # shellcheck disable=SC2086
  (cd "$work" && TMPDIR="$work/tmp" TEST_TMPDIR="$work/tmp" "$BIN/fuzz/$t" \
    -max_total_time="$SECONDS_EACH" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
    $parallel \
    -artifact_prefix="$ROOT/fuzz/crashers/$t-" ${FUZZ_ARGS:-} \
    "$work/corpus" "$ROOT/fuzz/corpus/$t") >"$log" 2>&1
  rc=$?
  [ "$JOBS" -gt 1 ] && cat "$work"/fuzz-*.log >>"$log"
  set -e
  execs="$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{s+=$2} END {print s+0}')"
  last="$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)"
  cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")"
  ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")"
  corpus="$(ls "$work/corpus" | wc -l)"
  status=ok
  if [ "$rc" -ne 0 ]; then
    status="FAILED(rc=$rc)"
    found=1
    grep -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|fuzz invariant failed|Test unit written' "$log" >&2 || true
  fi
  echo "RESULT fuzzer=$t seconds=$SECONDS_EACH execs=$execs cov=${cov:-?} ft=${ft:-?} new_corpus=$corpus status=$status"
done
exit "$found"
