#!/bin/sh
# Runs a fuzz target of BUILD_DIR (configured with -Dfuzz=true; $FQ_FUZZ_TARGET, default
# fuzz_onnx_reader) for SECONDS on a fresh seed corpus. Exits non-zero when libFuzzer finds a crash; the crashing input is written to
# $FQ_FUZZ_ARTIFACTS (default: the current directory). Extra arguments go to libFuzzer.
set -eu

if [ $# -lt 2 ]; then
    echo "usage: $0 BUILD_DIR SECONDS [libFuzzer options]" >&2
    exit 2
fi
build=$1
seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
name=${FQ_FUZZ_TARGET:-fuzz_onnx_reader}
target=$build/tests/fuzz/$name
artifacts=${FQ_FUZZ_ARTIFACTS:-$(pwd)}

if [ ! -x "$target" ]; then
    echo "run-fuzz: $target is missing; configure BUILD_DIR with -Dfuzz=true and build it" >&2
    exit 2
fi

export FQ_FUZZ_BUILD="$build"
corpus=$(mktemp -d "${TMPDIR:-/tmp}/fq-fuzz.XXXXXX")
trap 'rm -rf "$corpus"' EXIT INT TERM
"$here/make-seeds.sh" "$corpus/seeds" "$name"
mkdir -p "$corpus/new"

"$target" -max_len=65536 -seed=1 -max_total_time="$seconds" \
    -artifact_prefix="$artifacts/" -print_final_stats=1 "$@" "$corpus/new" "$corpus/seeds"
