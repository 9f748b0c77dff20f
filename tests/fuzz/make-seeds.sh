#!/bin/sh
# Fills DIR with a seed corpus for fuzz_onnx_reader: the smallest conformance models of Debian's
# libonnx-testdata and the first 64 KiB of each shared model ($FQ_SHARED, default ../shared).
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir=$1
count=${FQ_FUZZ_SEED_COUNT:-300}
here=$(cd "$(dirname "$0")" && pwd)
shared=${FQ_SHARED:-$here/../../../shared}
conformance=/usr/share/libonnx-testdata/data/node

mkdir -p "$dir"

if [ -d "$conformance" ]; then
    # Sizes first, then path: the smallest $count files, named after their test.
    find "$conformance" -mindepth 2 -maxdepth 2 -name model.onnx -printf '%s %p\n' |
        sort -n | head -n "$count" | while read -r _ path; do
            test_name=$(basename "$(dirname "$path")")
            cp "$path" "$dir/conformance_$test_name.onnx"
        done
else
    echo "make-seeds: $conformance is missing (libonnx-testdata); no conformance seeds" >&2
fi

if [ -d "$shared/models" ]; then
    for model in "$shared"/models/*.onnx; do
        [ -e "$model" ] || continue
        head -c 65536 "$model" > "$dir/cut_$(basename "$model")"
    done
else
    echo "make-seeds: $shared/models is missing; no model seeds" >&2
fi

echo "make-seeds: $(ls "$dir" | wc -l) seeds in $dir" >&2
