#!/usr/bin/env bash
# xgrad's one entry point, from a fresh clone on Debian 12:
#   ./run.sh demo [NAME] [ARGS...]  install what is missing, build, run the main example (or examples/demo_NAME)
#   ./run.sh test                   install, build, run every test: release, then ASan + UBSan + LSan, then
#                                   the libFuzzer targets of the file parsers (FUZZ_RUNS executions each)
#   ./run.sh bench [FILTER]         install, build release, run the Google Benchmark programs
#   ./run.sh compare [ARGS...]      install libtorch-dev too, build build-compare/, run xgrad against libtorch
#                                   (benchmarks/compare/run_compare.py ARGS; table, results in benchmarks/results/)
#   ./run.sh deps                   only install the missing Debian packages
# Environment: JOBS (default 2) parallel jobs; XGRAD_SKIP_SANITIZERS=1 / XGRAD_SKIP_FUZZ=1 skip those passes
# of `test`; FUZZ_RUNS (default 100000) executions per fuzz target;
# BENCH_MIN_TIME (seconds per benchmark, default 0.2).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
JOBS="${JOBS:-2}"
# ccache (used by CMakeLists.txt when installed): paths relative to the clone, so that another clone
# of the same sources (CI's fresh one) hits the same cache entries.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"

# Debian packages: everything the build and the tests need, then what only some commands need.
# g++'s -fsanitize=address,undefined runtime comes with g++ (libasan8, libubsan1); listed to be sure.
BUILD_PACKAGES=(cmake make g++ pkg-config ccache libxtensor-dev libxtensor-blas-dev xtl-dev libxsimd-dev
  libopenblas-dev libgtest-dev libbenchmark-dev zlib1g-dev nlohmann-json3-dev libasan8 libubsan1
  clang libclang-rt-14-dev)  # clang + compiler-rt: the libFuzzer targets (libclang-rt is only a Recommends)
DEMO_PACKAGES=(dataset-fashion-mnist)
COMPARE_PACKAGES=(libtorch-dev python3)

log() { printf '\n==> [%d:%02d] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

usage() {
  sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

# Installs the packages that dpkg does not know as installed. As root with apt-get; otherwise
# prints the exact command to run and stops.
ensure_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    log "not a Debian system (no dpkg-query): assuming these are installed: $*"
    return 0
  fi
  local missing=() pkg
  for pkg in "$@"; do
    if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)" != "installed" ]]; then
      missing+=("$pkg")
    fi
  done
  ((${#missing[@]} == 0)) && return 0
  local install=(apt-get install -y --no-install-recommends "${missing[@]}")
  if [[ "$(id -u)" -ne 0 ]]; then
    printf 'run.sh: missing Debian packages: %s\nInstall them as root, then run this again:\n\n' "${missing[*]}" >&2
    printf '  sudo apt-get update && sudo %s\n\n' "${install[*]}" >&2
    exit 1
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  "${install[@]}"
}

# configure + build one preset (release: build/, asan: build-asan/) with JOBS jobs; extra args are targets.
# Returns non-zero instead of exiting, so that callers can report (errexit is off inside `if`).
build() {
  local preset="$1"
  shift
  local targets=() target
  for target in "$@"; do targets+=(--target "$target"); done
  log "configure ($preset)"
  cmake --preset "$preset" >/dev/null || return 1
  log "build ($preset, -j$JOBS)${*:+: $*}"
  cmake --build --preset "$preset" -j "$JOBS" "${targets[@]}" || return 1
}

binary_dir() {
  case "$1" in
    release) echo build ;;
    asan) echo build-asan ;;
    debug) echo build-debug ;;
    fuzz) echo build-fuzz ;;
    *) die "unknown preset $1" ;;
  esac
}

cmd_test() {
  ensure_packages "${BUILD_PACKAGES[@]}"
  local started=$SECONDS failed=() passes=(release)
  [[ "${XGRAD_SKIP_SANITIZERS:-0}" == 1 ]] || passes+=(asan)

  local preset
  for preset in "${passes[@]}"; do
    if ! build "$preset"; then
      failed+=("$preset build")
      break  # a broken build fails the same way in the next pass: stop early
    fi
    # The asan preset sets ASAN_OPTIONS (leak detection on) and UBSAN_OPTIONS (halt on error).
    log "ctest ($preset)"
    ctest --preset "$preset" -j "$JOBS" || failed+=("$preset tests")
  done

  # The file parsers under libFuzzer (a small clang build of the parsers only; about a minute).
  if [[ "${XGRAD_SKIP_FUZZ:-0}" != 1 && ${#failed[@]} -eq 0 ]]; then
    passes+=(fuzz)
    if build fuzz; then
      log "fuzz (${FUZZ_RUNS:-100000} executions per target)"
      tests/fuzz/run_fuzzers.sh "$(binary_dir fuzz)" "${FUZZ_RUNS:-100000}" || failed+=("fuzz findings")
    else
      failed+=("fuzz build")
    fi
  fi

  local elapsed=$((SECONDS - started)) time_taken
  time_taken="$(printf '%dm%02ds' $((elapsed / 60)) $((elapsed % 60)))"
  if ((${#failed[@]})); then
    printf '\nrun.sh test: FAILED: %s (%s)\n' "$(IFS=,; echo "${failed[*]}")" "$time_taken"
    exit 1
  fi
  printf '\nrun.sh test: all passed: %s (%s)\n' "$(IFS=,; echo "${passes[*]}")" "$time_taken"
}

# `./run.sh demo` runs the program `demo` (the main example); `./run.sh demo NAME` runs `demo_NAME`.
cmd_demo() {
  local program=demo
  if (($# > 0)) && [[ "$1" != -* ]]; then
    program="demo_$1"
    shift
  fi
  ensure_packages "${BUILD_PACKAGES[@]}" "${DEMO_PACKAGES[@]}"
  build release "$program" || die "build failed"
  log "run $program $*"
  "./$(binary_dir release)/examples/$program" "$@"
}

cmd_bench() {
  local filter="${1:-}"
  ensure_packages "${BUILD_PACKAGES[@]}"
  build release benchmarks || die "build failed"
  local out_dir results=()
  out_dir="$(binary_dir release)/bench-results"
  mkdir -p "$out_dir"
  local program name
  for program in "$(binary_dir release)"/benchmarks/bench_*; do
    [[ -x "$program" && -f "$program" ]] || continue
    name="$(basename "$program")"
    log "$name"
    local args=(--benchmark_min_time="${BENCH_MIN_TIME:-0.2}" --benchmark_out="$out_dir/$name.json"
      --benchmark_out_format=json)
    [[ -z "$filter" ]] || args+=(--benchmark_filter="$filter")
    "$program" "${args[@]}"
    results+=("$out_dir/$name.json")
  done
  ((${#results[@]})) || die "no benchmark programs found under $(binary_dir release)/benchmarks"
  log "results (JSON): ${results[*]}"
}

# Side by side with libtorch: its own build tree (libtorch's CMake package is heavy; the other trees never
# look for it), only the compare targets, then the driver (alternating runs, medians, CSV, SVG).
cmd_compare() {
  ensure_packages "${BUILD_PACKAGES[@]}" "${COMPARE_PACKAGES[@]}"
  local dir=build-compare
  log "configure ($dir)"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DXGRAD_BUILD_COMPARE=ON -DXGRAD_BUILD_TESTS=OFF \
    -DXGRAD_BUILD_EXAMPLES=OFF >/dev/null || die "configure failed"
  [[ -d "$dir/benchmarks/compare" ]] || die "CMake did not find libtorch (find_package(Torch)): is libtorch-dev installed?"
  log "build ($dir, -j$JOBS): compare"
  cmake --build "$dir" -j "$JOBS" --target compare || die "build failed"
  log "run benchmarks/compare/run_compare.py $*"
  python3 benchmarks/compare/run_compare.py --build-dir "$dir" --out-dir benchmarks/results "$@"
}

main() {
  local command="${1:-}"
  (($#)) && shift
  case "$command" in
    test) cmd_test "$@" ;;
    demo) cmd_demo "$@" ;;
    bench) cmd_bench "$@" ;;
    compare) cmd_compare "$@" ;;
    deps) ensure_packages "${BUILD_PACKAGES[@]}" "${DEMO_PACKAGES[@]}" ;;
    -h | --help | help) usage ;;
    "") usage; exit 2 ;;
    *) usage >&2; die "unknown command '$command'" ;;
  esac
}

main "$@"
