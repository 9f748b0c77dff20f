#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs every test facequant has:
#   1. release build: unit tests, ONNX conformance, golden real-model cases, robustness, deps check
#   2. AddressSanitizer + UndefinedBehaviorSanitizer build: the same tests on small inputs
#   3. libFuzzer build: the ONNX reader and the image decoders fuzzed 60 s each, fixed seed
#   4. cross builds under qemu (x86-64 Nehalem and Haswell, aarch64 max and cortex-a53, armv7)
#      running the unit tests and a golden case; a Cortex-M7 build of the core library
# Ends with one line "N passed, N failed, N skipped" counted over all stages.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/install-deps.sh || { echo "run-tests: installing dependencies failed" >&2; exit 1; }

export FQ_SHARED="${FQ_SHARED:-$root/../shared}"
if [ "${CI:-}" = "true" ]; then
  # In CI the shared models must be there: a test that would skip fails instead.
  export FQ_REQUIRE_SHARED=1
fi
jobs=$(nproc)
logs=()
status=0

stage() {
  echo "== $*" >&2
}

# meson setup DIR ARGS..., quiet unless it fails.
configure() {
  local dir=$1
  shift
  [ -f "$dir/build.ninja" ] && return 0
  meson setup "$dir" "$@" > "$dir.setup.log" 2>&1 && return 0
  cat "$dir.setup.log" >&2
  echo "run-tests: configuring $dir failed" >&2
  return 1
}

# ninja -C DIR, quiet unless it fails.
build() {
  ninja -C "$1" -j "$jobs" > "$1.build.log" 2>&1 && return 0
  tail -n 60 "$1.build.log" >&2
  echo "run-tests: building $1 failed" >&2
  return 1
}

stage "release build and tests"
configure build-test --buildtype=release || status=1
build build-test || status=1
meson test -C build-test --num-processes "$jobs" --print-errorlogs >&2 || status=1
logs+=(build-test/meson-logs/testlog.json)

stage "sanitizer build (address, undefined) and tests on small inputs"
configure build-asan --buildtype=debugoptimized -Db_sanitize=address,undefined \
  -Db_lundef=false || status=1
build build-asan || status=1
FQ_GOLDEN_CASES=mobilefacenet_128d/arcface_hanks_112,mobilefacenet_128d/randn_112 \
FQ_ROBUSTNESS_CUTS=100 FQ_ROBUSTNESS_FLIPS=20 FQ_SANITIZED=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
  meson test -C build-asan --num-processes "$jobs" --print-errorlogs \
    --no-suite deps --no-suite packaging --timeout-multiplier 3 >&2 || status=1
logs+=(build-asan/meson-logs/testlog.json)

stage "fuzz build (clang, libFuzzer): ONNX reader, image decoders, .fqm reader, 60 s each"
CC=clang configure build-fuzz --buildtype=debugoptimized -Dfuzz=true \
  -Db_sanitize=address,undefined -Db_lundef=false || status=1
build build-fuzz || status=1
meson test -C build-fuzz --suite fuzz --print-errorlogs >&2 || status=1
logs+=(build-fuzz/meson-logs/testlog.json)

stage "cross builds: x86-64 under qemu Nehalem/Haswell, aarch64 max/cortex-a53, armv7; Cortex-M7"
bash scripts/run-cross-tests.sh || status=1
for l in build-cross-*/meson-logs/testlog-*.json; do
  [ -f "$l" ] && logs+=("$l")
done

existing=()
for l in "${logs[@]}"; do
  [ -f "$l" ] && existing+=("$l")
done
python3 scripts/summarize-tests.py "${existing[@]}" || status=1
exit $status
