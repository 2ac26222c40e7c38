#!/usr/bin/env bash
# Runs every fuzz target of a build (configured with clang and -DXGRAD_FUZZ=ON, target `fuzz` built)
# for a fixed number of executions, over a copy of its seed corpus (the repository is never written),
# and fails on any finding: a crash, a sanitizer report, a timeout, a leak or a broken round trip.
#   tests/fuzz/run_fuzzers.sh <build-dir> [runs per target, default 20000]
# A finding's input is kept under <build-dir>/fuzz-findings/<target>/; replay it with
#   <build-dir>/tests/fuzz/fuzz_<target> <file>
set -euo pipefail

build="${1:?usage: run_fuzzers.sh <build-dir> [runs per target]}"
runs="${2:-20000}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/xgrad-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT

total=0
failed=()
started=$SECONDS
# Every tests/fuzz/fuzz_<target>.cpp has a program; its seeds are tests/fuzz/corpus/<target>/.
targets=()
for source in "$here"/fuzz_*.cpp; do
  name="$(basename "$source" .cpp)"
  targets+=("${name#fuzz_}")
done
for target in "${targets[@]}"; do
  program="$build/tests/fuzz/fuzz_$target"
  if [[ ! -x "$program" ]]; then
    echo "run_fuzzers.sh: $program is missing: configure with clang and -DXGRAD_FUZZ=ON, build the target fuzz" >&2
    exit 2
  fi
  mkdir -p "$work/$target/corpus" "$work/$target/findings"
  if [[ -d "$here/corpus/$target" ]]; then
    cp "$here/corpus/$target/"* "$work/$target/corpus/"
  else
    echo "run_fuzzers.sh: warning: no seed corpus tests/fuzz/corpus/$target/" >&2
  fi
  args=(-runs="$runs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
    -artifact_prefix="$work/$target/findings/")
  [[ -f "$here/$target.dict" ]] && args+=(-dict="$here/$target.dict")
  log="$work/$target/log"
  target_started=$SECONDS
  if ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}" \
    "$program" "${args[@]}" "$work/$target/corpus" >"$log" 2>&1; then
    status=ok
  else
    status=failed
  fi
  executions="$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)"
  executions="${executions:-0}"
  total=$((total + executions))
  if [[ $status == ok ]]; then
    printf 'fuzz_%s: %d executions in %ds, no findings\n' "$target" "$executions" $((SECONDS - target_started))
  else
    mkdir -p "$build/fuzz-findings/$target"
    cp "$work/$target/findings/"* "$build/fuzz-findings/$target/" 2>/dev/null || true
    printf 'fuzz_%s: FAILED after %d executions; inputs kept in %s\n' "$target" "$executions" \
      "$build/fuzz-findings/$target/" >&2
    tail -n 60 "$log" >&2
    failed+=("fuzz_$target")
  fi
done

printf 'fuzzers: %d executions in all, %ds\n' "$total" $((SECONDS - started))
if ((${#failed[@]})); then
  printf 'fuzzers: FAILED: %s\n' "${failed[*]}" >&2
  exit 1
fi
