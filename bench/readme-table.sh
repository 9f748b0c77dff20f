#!/usr/bin/env bash
# The README's speed table: every shared face model and the two synthetic large ones, in
# facequant fp32, fp16, int8 and dynamic int8 and in ONNX Runtime fp32 and int8 (QDQ: the
# anchors of ../shared/anchors/ort-qdq where they exist, else facequant's own QDQ export of its
# int8 model), at 1 and 2 threads, interleaved run by run, as a Markdown table on stdout.
# Both runtimes time the model's golden input (../shared/golden/inputs).
#
#   bash bench/readme-table.sh [BUILD_DIR] [WORK_DIR]
#
# Environment: FQ_SHARED (default ../shared beside the checkout), ROUNDS (3), RUNS (10; the
# synthetic models use RUNS_LARGE, 3), THREADS ("1 2"), MODELS (a subset, by name).
# Quantized models are made once in WORK_DIR (calibrated on ../shared/images/face_recognition).
# Needs Node.js and onnxruntime-node for the ORT columns; without them those columns say "-".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
work=${2:-$build/readme-table}
fq=$build/tools/fq
shared=${FQ_SHARED:-$root/../shared}
ortjs=$shared/tools/ort-run.js
rounds=${ROUNDS:-3}
runs=${RUNS:-10}
runs_large=${RUNS_LARGE:-3}
threads=${THREADS:-1 2}
g=$shared/golden/inputs
m=$shared/models
mkdir -p "$work/calib" "$work/ort"
cp -r "$shared/images/face_recognition/." "$work/calib/" 2> /dev/null
bash "$root/models/synth/make.sh" "$build/synth" > /dev/null

have_ort=0
case $(node "$ortjs" 2>&1) in *usage*) have_ort=1 ;; esac

# name, ONNX file, graph input name, golden input
cases="det_500m $m/det_500m.onnx input.1 scrfd_t1_640
det_2.5g $m/det_2.5g.onnx input.1 scrfd_t1_640
scrfd_500m_bnkps_640x640 $m/scrfd_500m_bnkps_640x640.onnx input.1 scrfd_t1_640
yunet_n_640_640 $m/yunet_n_640_640.onnx input yunet_t1_640
mobilefacenet_128d $m/mobilefacenet_128d.onnx input arcface_hanks_112
iresnet50(synth) $build/synth/iresnet50.onnx input.1 arcface_hanks_112
scrfd_10g(synth) $build/synth/scrfd_10g.onnx input.1 scrfd_t1_640"

median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2];
                   else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

fq_ms() { # MODEL THREADS RUNS, on the input ONNX Runtime gets ($work/fq_inputs holds only it)
    "$fq" bench "$1" --inputs "$work/fq_inputs" --warmup 2 --runs "$3" --threads "$2" --json \
        2> /dev/null |
        sed -n 's/.*"median_ms": *\([0-9.e+-]*\).*/\1/p'
}

ort_ms() { # MODEL INPUT THREADS RUNS
    node "$ortjs" "$1" "$work/ort/out" "$2" --time "$4" --threads "$3" 2>&1 |
        sed -n 's/.*median_ms \([0-9.]*\).*/\1/p'
}

prepare() { # NAME ONNX
    local name=$1 onnx=$2 stem
    stem=$(echo "$name" | tr -d '()')
    [ -f "$work/$stem.int8.fqm" ] || "$fq" quantize "$onnx" --type int8 --calib "$work/calib" \
        -o "$work/$stem.int8.fqm" --qdq "$work/$stem.qdq.onnx" > /dev/null 2>&1
    for t in fp16 dynamic; do
        [ -f "$work/$stem.$t.fqm" ] || "$fq" quantize "$onnx" --type "$t" \
            -o "$work/$stem.$t.fqm" > /dev/null 2>&1
    done
}

echo "| model | threads | fq fp32 | fq fp16 | fq int8 | fq dynamic | ORT fp32 | ORT int8 | fq/ORT fp32 | fq/ORT int8 |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
echo "$cases" | while read -r name onnx input npy; do
    if [ -n "${MODELS:-}" ] && ! echo " $MODELS " | grep -q " $name "; then continue; fi
    [ -f "$onnx" ] || continue
    prepare "$name" "$onnx"
    stem=$(echo "$name" | tr -d '()')
    qdq=$shared/anchors/ort-qdq/$stem.qdq.onnx
    [ -f "$qdq" ] || qdq=$work/$stem.qdq.onnx
    n=$runs
    case $name in *synth*) n=$runs_large ;; esac
    rm -rf "$work/fq_inputs" && mkdir -p "$work/fq_inputs"
    ln -s "$(cd "$g" && pwd)/$npy.npy" "$work/fq_inputs/$npy.npy"
    for t in $threads; do
        for v in fp32 fp16 int8 dynamic ortfp32 ortint8; do : > "$work/$v"; done
        for r in $(seq "$rounds"); do
            fq_ms "$onnx" "$t" "$n" >> "$work/fp32"
            for p in fp16 int8 dynamic; do
                fq_ms "$work/$stem.$p.fqm" "$t" "$n" >> "$work/$p"
            done
            if [ "$have_ort" = 1 ]; then
                ort_ms "$onnx" "$input=$g/$npy.npy" "$t" "$n" >> "$work/ortfp32"
                [ -f "$qdq" ] && ort_ms "$qdq" "$input=$g/$npy.npy" "$t" "$n" >> "$work/ortint8"
            fi
        done
        row="| $name | $t"
        for v in fp32 fp16 int8 dynamic ortfp32 ortint8; do
            val=$(median < "$work/$v")
            [ "$val" = nan ] && row="$row | -" || row="$row | $(printf '%.2f' "$val")"
        done
        f32=$(median < "$work/fp32"); o32=$(median < "$work/ortfp32")
        i8=$(median < "$work/int8"); o8=$(median < "$work/ortint8")
        ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b == 0) print "-"; else printf "%.2f", a / b }'; }
        echo "$row | $(ratio "$f32" "$o32") | $(ratio "$i8" "$o8") |"
    done
done
