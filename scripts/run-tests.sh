#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs every test facequant has:
#   1. release build: unit tests, ONNX conformance, golden real-model cases, robustness, deps check
#   2. AddressSanitizer + UndefinedBehaviorSanitizer build: the same tests on small inputs
#   3. libFuzzer build: the ONNX reader fuzzed for 60 s with a fixed seed
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

stage "release build and tests"
if [ ! -f build-test/build.ninja ]; then
  meson setup build-test --buildtype=release >/dev/null || status=1
fi
ninja -C build-test -j "$jobs" >/dev/null || { echo "run-tests: release build failed" >&2; status=1; }
meson test -C build-test --num-processes "$jobs" --print-errorlogs >&2 || status=1
logs+=(build-test/meson-logs/testlog.json)

stage "sanitizer build (address, undefined) and tests on small inputs"
if [ ! -f build-asan/build.ninja ]; then
  meson setup build-asan --buildtype=debugoptimized -Db_sanitize=address,undefined \
    -Db_lundef=false >/dev/null || status=1
fi
ninja -C build-asan -j "$jobs" >/dev/null || { echo "run-tests: sanitizer build failed" >&2; status=1; }
FQ_GOLDEN_CASES=mobilefacenet_128d/arcface_hanks_112,mobilefacenet_128d/randn_112 \
FQ_ROBUSTNESS_CUTS=100 FQ_ROBUSTNESS_FLIPS=20 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
  meson test -C build-asan --num-processes "$jobs" --print-errorlogs \
    --no-suite deps --no-suite packaging --timeout-multiplier 3 >&2 || status=1
logs+=(build-asan/meson-logs/testlog.json)

stage "fuzz build (clang, libFuzzer) and a 60 s run of the ONNX reader"
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang meson setup build-fuzz --buildtype=debugoptimized -Dfuzz=true \
    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || status=1
fi
ninja -C build-fuzz -j "$jobs" >/dev/null || { echo "run-tests: fuzz build failed" >&2; status=1; }
meson test -C build-fuzz --suite fuzz --print-errorlogs >&2 || status=1
logs+=(build-fuzz/meson-logs/testlog.json)

existing=()
for l in "${logs[@]}"; do
  [ -f "$l" ] && existing+=("$l")
done
python3 scripts/summarize-tests.py "${existing[@]}" || status=1
exit $status
