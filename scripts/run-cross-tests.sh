#!/usr/bin/env bash
# Builds facequant for other CPUs and runs its tests under qemu-user, so that every kernel path
# the run-time dispatch can pick is tested on this one x86-64 machine:
#   x86_64     native compiler, tests under qemu -cpu Nehalem (SSE4.2, no AVX) and Haswell (AVX2,
#              FMA, F16C, no AVX-512); AVX-512 paths run natively in scripts/run-tests.sh
#   aarch64    gcc-aarch64-linux-gnu, tests under -cpu max (dot product, fp16) and cortex-a53
#              (ARMv8.0 NEON only)
#   armv7      gcc-arm-linux-gnueabihf (ARMv7-A, NEON, hard float), tests under cortex-a7
#   cortex-m7  arm-none-eabi with newlib: the core library only, compiled, archived and linked
#              whole into a dummy firmware image (no emulator)
# An emulated run is the unit suite (less FQ_CROSS_SKIP, the tests too slow under emulation)
# plus one golden case (FQ_CROSS_GOLDEN), each CPU writing
# build-cross-<stage>/meson-logs/testlog-<cpu>.json. Before its tests, each CPU is checked to show
# the features it must have and to hide those it must not, and facequant's detection to pick the
# expected level (cross/cpu-probe.c), since dispatch trusts CPUID and HWCAP.
#
#   scripts/run-cross-tests.sh [STAGE...]     (default: all four stages)
# Exits non-zero when a stage fails to build or a test fails.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/install-cross-deps.sh || { echo "run-cross-tests: installing failed" >&2; exit 1; }

export FQ_SHARED="${FQ_SHARED:-$root/../shared}"
if [ "${CI:-}" = "true" ]; then
  export FQ_REQUIRE_SHARED=1
fi
golden="${FQ_CROSS_GOLDEN:-mobilefacenet_128d/arcface_hanks_112}"
jobs=$(nproc)
status=0
logs=()
timings=()

# Emulation runs the tests 5 to 30 times slower than the host.
timeout_multiplier=10
# Unit tests left out under emulation: whole real models through the format and sessions, and
# calibration's threshold searches, take minutes there and run no per-ISA code; the native
# stages run them. FQ_CROSS_SKIP replaces the list.
emulation_skip="${FQ_CROSS_SKIP-test_fqm_models quant_calib_stats}"
# qemu runs 256-bit AVX2 and FMA instructions about ten times slower than SSE ones (measured on
# an Intel host: the Winograd kernel test 48 s under Nehalem, 342 s under Haswell), so under
# -cpu Haswell the quantizer's tests (whole small models quantized and run, 14 minutes there)
# are left out, and the kernel tests run a quarter of their random cases
# (FQ_TEST_CASES_PERCENT): the quantizer has no code of its own per ISA, and every AVX2 kernel
# also runs natively, with every case, on the x86-64 hosts that run the release stage. What
# this stage proves is that a CPU without AVX-512 picks the AVX2 kernels and passes with them.
# FQ_CROSS_SKIP_AVX2 replaces the list.
avx2_skip="${FQ_CROSS_SKIP_AVX2-quant_quantize_dynamic quant_quantize_static quant_quantize_fp16}"
# Benchmarks are not run under emulation, where their timings mean nothing.
linux_options=(--buildtype=release -Dtools=false -Dexamples=false -Dbench=false)

fail() {
  echo "run-cross-tests: $*" >&2
  status=1
}

# setup_and_build DIR CROSS_FILE [meson options...]
setup_and_build() {
  local dir=$1 cross=$2
  shift 2
  if [ ! -f "$dir/build.ninja" ]; then
    mkdir -p "$dir"
    meson setup "$dir" --cross-file "$cross" "$@" >"$dir/setup.log" 2>&1 || {
      cat "$dir/setup.log" >&2
      # A half-configured directory would not be set up again on the next run.
      rm -rf "$dir"
      return 1
    }
  fi
  ninja -C "$dir" -j "$jobs" >"$dir/ninja.log" 2>&1 || { tail -40 "$dir/ninja.log" >&2; return 1; }
}

# check_cpu WRAPPER PROBE CPU "must have..." "must not have..."
check_cpu() {
  local wrapper=$1 probe=$2 cpu=$3 want=$4 forbid=$5 shown f ok=0
  shown=$(QEMU_CPU=$cpu "$wrapper" "$probe" 2>/dev/null) || {
    echo "cpu $cpu: the probe did not run" >&2
    return 1
  }
  for f in $want; do
    grep -qx "$f" <<<"$shown" || { echo "cpu $cpu: lacks $f" >&2; ok=1; }
  done
  for f in $forbid; do
    grep -qx "$f" <<<"$shown" && { echo "cpu $cpu: shows $f, which it must not" >&2; ok=1; }
  done
  echo "cpu $cpu shows: $(tr '\n' ' ' <<<"$shown")" >&2
  return $ok
}

# run_tests DIR CPU LOGNAME [SKIP] [TIMEOUT_MULTIPLIER] [CASES_PERCENT]: the unit suite and the
# golden case, under QEMU_CPU=CPU, less SKIP (names of tests, on top of FQ_CROSS_SKIP's).
run_tests() {
  local dir=$1 cpu=$2 name=$3 skip="$emulation_skip ${4:-}" multiplier=${5:-$timeout_multiplier}
  local cases=${6:-100} tests
  tests=$(python3 -c 'import json, sys
tests, skip = json.load(open(sys.argv[1])), sys.argv[2].split()
print(" ".join(t["name"] for t in tests
               if "facequant:unit" in t["suite"] and t["name"] not in skip))' \
    "$dir/meson-info/intro-tests.json" "$skip")
  if [ -z "$tests" ]; then
    fail "$dir: no test in the unit suite"
    return
  fi
  rm -f "$dir/meson-logs/$name.json"
  QEMU_CPU=$cpu FQ_GOLDEN_CASES=$golden FQ_TEST_CASES_PERCENT=$cases \
    meson test -C "$dir" --no-rebuild --num-processes "$jobs" --print-errorlogs \
      --timeout-multiplier "$multiplier" --logbase "$name" $tests golden >&2 ||
    fail "$dir: tests failed under cpu $cpu"
  [ -f "$dir/meson-logs/$name.json" ] && logs+=("$dir/meson-logs/$name.json")
}

# emulated_stage NAME CROSS_FILE WRAPPER "PROBE_CC..." then CPU|WANT|FORBID[|SKIP|MULTIPLIER|
# CASES_PERCENT] per CPU: the features the CPU must show and must not, and optionally more
# tests to leave out, a timeout multiplier and a share of the random test cases of its own.
emulated_stage() {
  local name=$1 cross=$2 wrapper=$3 probe_cc=$4 spec cpu want forbid skip multiplier cases
  shift 4
  local dir="build-cross-$name"
  echo "== cross $name: build ($cross)" >&2
  rm -f "$dir"/meson-logs/testlog-*.json
  local start=$SECONDS
  if ! setup_and_build "$dir" "$cross" "${linux_options[@]}"; then
    fail "$name: build failed"
    return
  fi
  timings+=("$name: build $((SECONDS - start)) s")
  # Warnings that only this target's compiler gives are shown; the native builds judge them.
  if grep -q "warning:" "$dir/ninja.log"; then
    grep -A3 "warning:" "$dir/ninja.log" >&2
    echo "run-cross-tests: $name: $(grep -c "warning:" "$dir/ninja.log") compiler warnings" >&2
  fi
  if ! $probe_cc -O2 -Iinclude cross/cpu-probe.c "$dir/libfacequant.a" -lm -pthread \
      -o "$dir/cpu-probe"; then
    fail "$name: the CPU probe does not build"
    return
  fi
  for spec in "$@"; do
    IFS='|' read -r cpu want forbid skip multiplier cases <<<"$spec"
    echo "== cross $name: tests under qemu -cpu $cpu" >&2
    if ! check_cpu "$wrapper" "$dir/cpu-probe" "$cpu" "$want" "$forbid"; then
      fail "$name: qemu's $cpu does not show the features the tests rely on"
      continue
    fi
    local model=${cpu%%,*}
    start=$SECONDS
    run_tests "$dir" "$cpu" "testlog-${model,,}" "$skip" "$multiplier" "$cases"
    timings+=("$name: tests under $model $((SECONDS - start)) s")
  done
}

# The library alone, for Cortex-M7 with newlib: archive, then link every object of it into a
# firmware image so that an undefined symbol (a POSIX call, a missing function) fails here.
cortex_m7_stage() {
  local dir=build-cross-cortex-m7
  local mflags=(-mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16)
  echo "== cross cortex-m7: build of libfacequant.a" >&2
  if [ ! -f "$dir/build.ninja" ]; then
    mkdir -p "$dir"
    meson setup "$dir" --cross-file cross/arm-none-eabi-cortex-m7.ini --buildtype=release \
      -Dtools=false -Dtests=false -Dexamples=false -Dbench=false -Dthreads=false -Dfiles=false \
      -Ddefault_library=static -Db_staticpic=false >"$dir/setup.log" 2>&1 || {
      cat "$dir/setup.log" >&2
      rm -rf "$dir"
      fail "cortex-m7: setup failed"
      return
    }
  fi
  # both_libraries() also declares the shared library, which bare metal cannot link.
  if ! ninja -C "$dir" -j "$jobs" libfacequant.a >"$dir/ninja.log" 2>&1; then
    tail -40 "$dir/ninja.log" >&2
    fail "cortex-m7: build failed"
    return
  fi
  if grep -q "warning:" "$dir/ninja.log"; then
    grep -A3 "warning:" "$dir/ninja.log" >&2
    fail "cortex-m7: the library compiles with warnings"
  fi
  printf 'int main(void)\n{\n    return 0;\n}\n' >"$dir/firmware_main.c"
  if ! arm-none-eabi-gcc "${mflags[@]}" --specs=nosys.specs "$dir/firmware_main.c" \
      -Wl,--whole-archive "$dir/libfacequant.a" -Wl,--no-whole-archive -lm \
      -o "$dir/firmware.elf" 2>"$dir/link.log" || [ -s "$dir/link.log" ]; then
    cat "$dir/link.log" >&2
    fail "cortex-m7: libfacequant.a does not link into a firmware image cleanly"
  else
    arm-none-eabi-size "$dir/firmware.elf" >&2
  fi
}

# timed NAME COMMAND...: runs one stage and records its wall time.
timed() {
  local name=$1 start=$SECONDS
  shift
  "$@"
  timings+=("$name: whole stage $((SECONDS - start)) s")
}

arm32_cc=(arm-linux-gnueabihf-gcc -march=armv7-a -mfpu=neon -mfloat-abi=hard)
# Haswell less the system features qemu's TCG does not emulate (it warns about each one).
haswell=Haswell,-pcid,-x2apic,-tsc-deadline,-hle,-rtm,-invpcid
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(x86_64 aarch64 armv7 cortex-m7)
for stage in "${stages[@]}"; do
  case $stage in
    x86_64)
      timed x86_64 emulated_stage x86_64 cross/x86_64-linux-gnu-qemu.ini qemu-x86_64-static gcc \
        "Nehalem|sse4_1 sse4_2 isa=sse41|avx avx2 fma f16c avx512f" \
        "$haswell|avx avx2 fma f16c os_ymm isa=avx2|avx512f avxvnni|$avx2_skip|20|25"
      ;;
    aarch64)
      timed aarch64 emulated_stage aarch64 cross/aarch64-linux-gnu.ini qemu-aarch64-static \
        aarch64-linux-gnu-gcc \
        "max|asimd asimddp asimdhp i8mm isa=neonfp16|" \
        "cortex-a53|asimd isa=neon|asimddp asimdhp fphp"
      ;;
    armv7)
      timed armv7 emulated_stage armv7 cross/arm-linux-gnueabihf.ini qemu-arm-static \
        "${arm32_cc[*]}" \
        "cortex-a7|neon vfpv4 isa=neon|"
      ;;
    cortex-m7)
      timed cortex-m7 cortex_m7_stage
      ;;
    *)
      fail "unknown stage '$stage' (x86_64, aarch64, armv7, cortex-m7)"
      ;;
  esac
done

for t in "${timings[@]}"; do
  echo "cross stage time: $t" >&2
done
if [ ${#logs[@]} -gt 0 ]; then
  python3 scripts/summarize-tests.py "${logs[@]}" >&2 || status=1
fi
exit $status
