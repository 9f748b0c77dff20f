#!/bin/sh
# Fills DIR with a seed corpus for a fuzz target. fuzz_onnx_reader (the default): the smallest
# conformance models of Debian's libonnx-testdata and the first 64 KiB of each shared model
# ($FQ_SHARED, default ../shared). fuzz_image_decode: the shared photos under 64 KiB and a tiny
# PPM and PGM. fuzz_fqm_reader: the smallest conformance models converted to .fqm by
# $FQ_FUZZ_BUILD/tests/fuzz/fqm_seeds (run-fuzz.sh sets FQ_FUZZ_BUILD).
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 DIR [TARGET]" >&2
    exit 2
fi
dir=$1
target=${2:-fuzz_onnx_reader}
count=${FQ_FUZZ_SEED_COUNT:-300}
here=$(cd "$(dirname "$0")" && pwd)
shared=${FQ_SHARED:-$here/../../../shared}
conformance=/usr/share/libonnx-testdata/data/node

mkdir -p "$dir"

if [ "$target" = fuzz_image_decode ]; then
    if [ -d "$shared/images" ]; then
        find "$shared/images" -type f \( -name '*.jpg' -o -name '*.png' -o -name '*.webp' \) \
            -size -64k | head -n 200 | while read -r path; do
                cp "$path" "$dir/$(basename "$(dirname "$path")")_$(basename "$path")"
            done
    fi
    printf 'P6\n2 2\n255\n' > "$dir/tiny.ppm"
    head -c 12 /dev/zero >> "$dir/tiny.ppm"
    printf 'P5\n# gray\n3 1\n255\nabc' > "$dir/tiny.pgm"
    echo "make-seeds: $(ls "$dir" | wc -l) seeds in $dir" >&2
    exit 0
fi

if [ "$target" = fuzz_fqm_reader ]; then
    # The smallest conformance models, converted to .fqm by the build's fqm_seeds helper.
    seeder=${FQ_FUZZ_BUILD:-.}/tests/fuzz/fqm_seeds
    if [ -x "$seeder" ] && [ -d "$conformance" ]; then
        find "$conformance" -mindepth 2 -maxdepth 2 -name model.onnx -printf '%s %p\n' |
            sort -n | head -n "$count" | cut -d' ' -f2- | xargs "$seeder" "$dir"
    else
        echo "make-seeds: $seeder or $conformance is missing; no .fqm seeds" >&2
    fi
    echo "make-seeds: $(ls "$dir" | wc -l) seeds in $dir" >&2
    exit 0
fi

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
