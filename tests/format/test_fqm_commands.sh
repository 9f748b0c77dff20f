#!/bin/bash
# fq convert, and fq run / fq inspect on the .fqm it writes: test_fqm_commands.sh FQ.
# The .fqm's outputs must equal the ONNX model's byte for byte; inspect must show the metadata.
# Exit 77 (skipped) without the shared models.
set -eu

fq=$1
shared=${FQ_SHARED:-${FQ_SHARED_DEFAULT:-}}
model=$shared/models/det_500m.onnx
input=$shared/golden/inputs/scrfd_t1_640.npy
if [ ! -f "$model" ] || [ ! -f "$input" ]; then
    echo "skipped: $model or $input is missing (set FQ_SHARED)"
    exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/fq-fqm-commands.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

"$fq" convert "$model" -o "$work/det_500m.fqm" > "$work/convert.txt"
grep -q "det_500m.fqm: .* bytes (ONNX 2524817 bytes)" "$work/convert.txt" ||
    fail "convert does not report the sizes: $(cat "$work/convert.txt")"
[ -z "$(ls "$work" | grep '\.tmp\.')" ] || fail "convert left a temporary file"

"$fq" inspect "$work/det_500m.fqm" > "$work/inspect.txt"
for line in "source       det_500m.onnx" "input_size   640x640" "color        rgb" \
            "mean         127.5,127.5,127.5" "resize       letterbox" "nodes       87"; do
    grep -qF "$line" "$work/inspect.txt" || fail "inspect does not show '$line'"
done

"$fq" run "$work/det_500m.fqm" --input "$input" --output-dir "$work/fqm" > /dev/null
"$fq" run "$model" --input "$input" --output-dir "$work/onnx" > /dev/null
count=0
for out in "$work"/onnx/*.npy; do
    cmp -s "$out" "$work/fqm/$(basename "$out")" || fail "output $(basename "$out") differs"
    count=$((count + 1))
done
[ "$count" -eq 9 ] || fail "expected 9 outputs, found $count"

if "$fq" run "$work/det_500m.fqm" --input "$input" --input-size 320x320 --output-dir "$work/x" \
        2> "$work/err.txt" > /dev/null; then
    fail "a size the .fqm does not have was accepted"
fi
grep -q "fixed at 640" "$work/err.txt" || fail "no clear message: $(cat "$work/err.txt")"

printf 'FQM1\r\n\032\nbroken' > "$work/broken.fqm"
if "$fq" inspect "$work/broken.fqm" 2> "$work/err.txt" > /dev/null; then
    fail "a broken .fqm was accepted"
fi
grep -q "header" "$work/err.txt" || fail "no clear message: $(cat "$work/err.txt")"
echo "ok: convert, inspect and run on .fqm ($count outputs identical to ONNX)"
