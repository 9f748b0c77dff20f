#!/usr/bin/env bash
# Load time of a model in facequant (ONNX read + passes, as `fq inspect` reports it) against
# ONNX Runtime's session creation (ort-run.js --time 1 prints load_ms), interleaved in one run.
#   bench/compare-load.sh [MODEL.onnx] [RUNS] [WxH]
# Says so and exits 0 when Node.js or onnxruntime-node is missing.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared="${FQ_SHARED:-$root/../shared}"
model="${1:-$shared/models/det_500m.onnx}"
runs="${2:-11}"
size="${3:-640x640}"
fq="${FQ:-$root/build/tools/fq}"
input="$shared/golden/inputs/scrfd_t1_640.npy"

if ! command -v node >/dev/null || ! node -e "require('onnxruntime-node')" 2>/dev/null &&
   ! NODE_PATH="$HOME/.cache/ort/node_modules" node -e "require('onnxruntime-node')" 2>/dev/null
then
  echo "compare-load: Node.js or onnxruntime-node is missing; see ../shared/tools/ort-run.js"
  exit 0
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fq_ms=()
ort_ms=()
for ((i = 0; i < runs; i++)); do
  line=$("$fq" inspect "$model" --input-size "$size" 2>/dev/null | grep -E '^  read ')
  read_ms=$(echo "$line" | awk '{ print $2 }')
  pass_ms=$(echo "$line" | awk '{ print $5 }')
  fq_ms+=("$(awk -v a="$read_ms" -v b="$pass_ms" 'BEGIN { print a + b }')")
  ort_ms+=("$(node "$shared/tools/ort-run.js" "$model" "$out" "input.1=$input" --time 1 2>/dev/null |
              awk '/load_ms/ { print $2 }')")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
f=$(median "${fq_ms[@]}")
o=$(median "${ort_ms[@]}")
echo "model $(basename "$model") at $size, $runs interleaved runs, medians:"
echo "  facequant read + passes   $f ms"
echo "  ONNX Runtime session      $o ms"
awk -v o="$o" -v f="$f" 'BEGIN { printf "  ratio                     %.1fx\n", o / f }'
