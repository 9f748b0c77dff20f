#!/bin/sh
# fp32 latency of facequant against ONNX Runtime, interleaved run by run on the same inputs:
# for each model, ROUNDS rounds of (fq bench, ort-run.js), each reporting a median; prints the
# per-round medians and the median of the fq / ORT ratios, at 1 thread and at 2.
#
#   bench/compare-ort-f32.sh [BUILD_DIR] [ROUNDS]
#
# Environment: SHARED (default ../shared beside the source tree), NODE_PATH for ort-run.js.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
rounds=${2:-5}
shared=${SHARED:-$here/../shared}
fq=$build/tools/fq
ort="node $shared/tools/ort-run.js"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# MODEL GRAPH_INPUT_NAME INPUT (inputs of the golden set)
cases="det_500m input.1 scrfd_t1_640
det_2.5g input.1 scrfd_t1_640
yunet_n_640_640 input yunet_t1_640
mobilefacenet_128d input arcface_hanks_112"

median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
                   else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

fq_ms() { # MODEL THREADS
    "$fq" bench "$shared/models/$1.onnx" --warmup 3 --runs 20 --threads "$2" --json |
        sed -n 's/.*"median_ms":\([0-9.e+-]*\).*/\1/p'
}

ort_ms() { # MODEL NAME INPUT THREADS
    $ort "$shared/models/$1.onnx" "$out/ort_outputs" "$2=$shared/golden/inputs/$3.npy" \
        --time 20 --threads "$4" 2>&1 | sed -n 's/.*median_ms \([0-9.]*\).*/\1/p'
}

printf '%-20s %7s %10s %10s %8s\n' model threads fq_ms ort_ms fq/ort
echo "$cases" | while read -r model name input; do
    for threads in 1 2; do
        : > "$out/ratios"
        : > "$out/fq"
        : > "$out/ort"
        for r in $(seq "$rounds"); do
            f=$(fq_ms "$model" "$threads")
            o=$(ort_ms "$model" "$name" "$input" "$threads")
            echo "$f" >> "$out/fq"
            echo "$o" >> "$out/ort"
            awk -v f="$f" -v o="$o" 'BEGIN { print f / o }' >> "$out/ratios"
        done
        printf '%-20s %7d %10.2f %10.2f %8.3f\n' "$model" "$threads" "$(median < "$out/fq")" \
            "$(median < "$out/ort")" "$(median < "$out/ratios")"
        echo "$model $threads $(tr '\n' ' ' < "$out/ratios")" >> "$out/all"
    done
done
echo "per-round fq/ort ratios:"
cat "$out/all"
