#!/usr/bin/env bash
# fq quantize and what reads its files: exit codes and messages, then int8, fp16 and dynamic
# int8 rewrites of the shared models with sizes, agreement, report, inspect and detect.
#
# usage: test_quantize.sh PATH/TO/fq usage    needs nothing
#        test_quantize.sh PATH/TO/fq models   the shared models and photos ($FQ_SHARED, else
#                                             $FQ_SHARED_DEFAULT); skipped (77) without them
#                                             unless FQ_REQUIRE_SHARED=1
set -u

fq=$1
mode=$2
# shellcheck source=cli_lib.sh
. "$(dirname "$0")/cli_lib.sh"

usage_checks() {
    expect_code 0 quantize --help
    grep -q "usage: fq quantize" "$tmp/out" || fail "quantize --help is not on stdout"
    pass "quantize --help prints the usage"
    local args
    for args in "quantize" "quantize m.onnx -o x.fqm" "quantize m.onnx --type int4 -o x.fqm" \
        "quantize m.onnx --type int8" "quantize m.onnx --type int8 -o x.fqm --method best" \
        "quantize m.onnx --type int8 -o x.fqm --percentile 0" \
        "quantize m.onnx --type int8 -o x.fqm --target-cosine 1.5" \
        "quantize m.onnx --type fp16 -o x.fqm --qdq x.onnx" \
        "quantize m.onnx --type int8 -o x.fqm --target-cosine 0.99" \
        "quantize m.onnx --type int8 -o x.fqm --sensitivity"; do
        # shellcheck disable=SC2086
        expect_code 2 $args
    done
    pass "10 malformed command lines exit 2"
    expect_code 1 quantize "$tmp/no_such.onnx" --type fp16 -o "$tmp/x.fqm"
    [ ! -e "$tmp/x.fqm" ] || fail "a failed quantize left an output file"
    pass "a missing model exits 1 and writes nothing"
}

size_of() { stat -c %s "$1"; }

# A JSON field of the last --json output.
json_field() {
    python3 -c 'import json, sys
doc = json.load(open(sys.argv[1]))
for key in sys.argv[2].split("."):
    doc = doc[key]
print(doc)' "$tmp/out" "$1"
}

model_checks() {
    local m=$shared/models
    mkdir -p "$tmp/calib"
    cp "$shared"/images/face_recognition/train/*/*.jp*g "$tmp/calib/"
    echo "not an image" > "$tmp/calib/notes.txt"

    expect_code 1 quantize "$m/det_500m.onnx" --type int8 -o "$tmp/d.fqm"
    grep -q -- "--calib" "$tmp/err" || fail "int8 without photos does not say to give --calib"
    pass "int8 without calibration photos exits 1 naming --calib"

    expect_code 0 quantize "$m/det_500m.onnx" --type int8 --calib "$tmp/calib" \
        -o "$tmp/det.int8.fqm" --report "$tmp/report.html" --json
    grep -q "more give better scales" "$tmp/err" || fail "no warning about few photos"
    local onnx int8
    onnx=$(size_of "$m/det_500m.onnx")
    int8=$(size_of "$tmp/det.int8.fqm")
    [ "$((int8 * 100))" -le "$((onnx * 30))" ] ||
        fail "det_500m int8 is $int8 bytes, more than 30% of $onnx"
    [ "$(json_field size_bytes)" = "$int8" ] || fail "--json size_bytes is not the file size"
    python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > 0.98 else 1)" \
        "$(json_field accuracy.cosine_mean)" || fail "det_500m int8 output cosine below 0.98"
    pass "det_500m int8: $int8 bytes (<= 30% of the ONNX file), cosine $(json_field accuracy.cosine_mean)"
    grep -q "<svg" "$tmp/report.html" && grep -q "Per-layer SQNR" "$tmp/report.html" ||
        fail "the report has no SQNR chart"
    python3 -c 'import sys, xml.dom.minidom
html = open(sys.argv[1]).read()
svg = html[html.index("<svg"):html.index("</svg>") + 6]
xml.dom.minidom.parseString(svg)' "$tmp/report.html" || fail "the report's SVG is not valid XML"
    pass "--report writes an HTML page with a valid SVG SQNR chart"

    expect_code 0 inspect "$tmp/det.int8.fqm"
    grep -q "nodes by precision:.*int8" "$tmp/out" || fail "inspect does not count int8 nodes"
    grep -q "float islands" "$tmp/out" || fail "inspect does not count float islands"
    pass "inspect counts nodes per precision and the float islands"

    expect_code 0 detect "$shared/images/insightface/t1.jpg" --model "$tmp/det.int8.fqm"
    grep -q "6 faces" "$tmp/out" || fail "the int8 detector does not find the 6 faces of t1.jpg"
    pass "the int8 detector finds the 6 faces of t1.jpg"

    expect_code 0 quantize "$m/mobilefacenet_128d.onnx" --type fp16 -o "$tmp/rec.fp16.fqm"
    local fp16
    fp16=$(size_of "$tmp/rec.fp16.fqm")
    onnx=$(size_of "$m/mobilefacenet_128d.onnx")
    [ "$((fp16 * 100))" -le "$((onnx * 52))" ] ||
        fail "mobilefacenet fp16 is $fp16 bytes, more than 52% of $onnx"
    pass "mobilefacenet fp16: $fp16 bytes (<= 52% of the ONNX file)"

    # fp16 models run fp32 arithmetic on their fp16 weights unless fp16 arithmetic is asked for.
    expect_code 0 cpu "$tmp/rec.fp16.fqm"
    if grep -q "f16_gemm_.*+nhwc" "$tmp/out"; then
        fail "fq cpu runs the fp16 model in fp16 arithmetic without --fp16-arithmetic"
    fi
    expect_code 0 cpu "$tmp/rec.fp16.fqm" --fp16-arithmetic
    if grep -qE "^levels .*(avx512fp16|neonfp16)" "$tmp/out"; then
        grep -q "f16_gemm_.*+nhwc" "$tmp/out" ||
            fail "fq cpu --fp16-arithmetic does not run fp16 kernels on a CPU that has them"
        pass "fp16 arithmetic runs only with --fp16-arithmetic"
    else
        grep -q "f16_gemm_.*+nhwc" "$tmp/out" &&
            fail "fq cpu --fp16-arithmetic names fp16 kernels on a CPU without fp16 arithmetic"
        pass "without fp16 arithmetic, --fp16-arithmetic keeps the fp32-arithmetic kernels"
    fi

    expect_code 0 quantize "$m/mobilefacenet_128d.onnx" --type dynamic -o "$tmp/rec.dyn.fqm"
    expect_code 0 inspect "$tmp/rec.dyn.fqm"
    grep -q "dynamic int8" "$tmp/out" || fail "inspect does not see the dynamic int8 nodes"
    pass "dynamic int8 needs no photos and inspect counts its nodes"
}

case $mode in
usage) usage_checks ;;
models) find_shared; model_checks ;;
*) echo "usage: test_quantize.sh FQ usage|models" >&2; exit 2 ;;
esac
echo "$passed checks passed"
