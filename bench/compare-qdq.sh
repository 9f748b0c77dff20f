#!/usr/bin/env bash
# Agreement of facequant with ONNX Runtime on QDQ int8 models: each model runs in ONNX Runtime
# (../shared/tools/ort-run.js, which fuses the QDQ graph onto its own int8 kernels) and in
# `fq run` on the same .npy input; per output the script prints max |fq - ort|, mean |fq - ort|,
# max |ort| and the cosine of the two, and, for scale, the same figures of ORT int8 against the
# fp32 golden outputs where ../shared/golden has them.
#   bench/compare-qdq.sh                       the four anchors of ../shared/anchors/ort-qdq
#   bench/compare-qdq.sh MODEL.onnx INPUT.npy [FQ_MODEL]
#                                              one model; with FQ_MODEL (an .fqm, say the int8
#                                              model MODEL.onnx was exported from), fq runs that
# $FQ names the fq binary (default build/tools/fq). Says so and exits 0 when Node.js or
# onnxruntime-node is missing.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared="${FQ_SHARED:-$root/../shared}"
fq="${FQ:-$root/build/tools/fq}"
export NODE_PATH="${NODE_PATH:-$HOME/.cache/ort/node_modules}"

if ! command -v node >/dev/null || ! node -e "require('onnxruntime-node')" 2>/dev/null; then
  echo "compare-qdq: Node.js or onnxruntime-node is missing; see ../shared/tools/ort-run.js"
  exit 0
fi
if [ ! -x "$fq" ]; then
  echo "compare-qdq: $fq is not built (set FQ to the fq binary)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Prints one line per .npy of the first folder that the second also has: max and mean |a - b|,
# max |b| and cosine. Float32 little-endian .npy files only.
compare_dirs() {
  node - "$1" "$2" "$3" <<'EOF'
const fs = require('fs');
const path = require('path');
function readNpy(file) {
  const buf = fs.readFileSync(file);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + hlen);
  if (!/'descr':\s*'<f4'/.test(header)) return null;
  const body = buf.subarray(start + hlen);
  return new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length));
}
const [a, b, label] = process.argv.slice(2);
for (const file of fs.readdirSync(b).filter((f) => f.endsWith('.npy')).sort()) {
  if (!fs.existsSync(path.join(a, file))) continue;
  const x = readNpy(path.join(a, file)), y = readNpy(path.join(b, file));
  if (x === null || y === null || x.length !== y.length) {
    console.log(`  ${label} ${file}: not comparable (dtype or size)`);
    continue;
  }
  let worst = 0, sum = 0, peak = 0, dot = 0, nx = 0, ny = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i] - y[i]);
    worst = Math.max(worst, d);
    sum += d;
    peak = Math.max(peak, Math.abs(y[i]));
    dot += x[i] * y[i];
    nx += x[i] * x[i];
    ny += y[i] * y[i];
  }
  const cos = dot / Math.sqrt(nx * ny || 1);
  console.log(`  ${label} ${file.padEnd(16)} max ${worst.toPrecision(3).padStart(9)}  ` +
    `mean ${(sum / x.length).toPrecision(3).padStart(9)}  max|ref| ${peak.toPrecision(3)}  ` +
    `cos ${cos.toFixed(6)}`);
}
EOF
}

# compare_model MODEL INPUT [GOLDEN_DIR] [FQ_MODEL]
compare_model() {
  local model=$1 input=$2 golden=${3:-} fq_model=${4:-$1}
  local name out_fq="$work/fq" out_ort="$work/ort"
  rm -rf "$out_fq" "$out_ort"
  name=$("$fq" inspect "$fq_model" 2>/dev/null | awk '$1 == "inputs" { print $2; exit }')
  if [ -z "$name" ]; then
    echo "$(basename "$fq_model"): fq cannot read it"
    "$fq" inspect "$fq_model" 2>&1 | tail -1
    return 1
  fi
  echo "$(basename "$model") on $(basename "$input")$([ "$fq_model" != "$model" ] &&
    echo ", fq running $(basename "$fq_model")")"
  if ! node "$shared/tools/ort-run.js" "$model" "$out_ort" "$name=$input" >/dev/null; then
    echo "  ONNX Runtime failed"
    return 1
  fi
  if ! "$fq" run "$fq_model" --input "$name=$input" --output-dir "$out_fq" >/dev/null; then
    echo "  fq run failed"
    return 1
  fi
  compare_dirs "$out_fq" "$out_ort" "fq vs ORT int8 "
  if [ -n "$golden" ] && [ -d "$golden" ]; then
    compare_dirs "$out_ort" "$golden" "ORT int8 vs fp32"
  fi
}

status=0
if [ $# -ge 2 ]; then
  compare_model "$1" "$2" "" "${3:-$1}" || status=1
  exit $status
fi
anchors="$shared/anchors/ort-qdq"
inputs="$shared/golden/inputs"
while read -r model input; do
  compare_model "$anchors/$model.qdq.onnx" "$inputs/$input.npy" \
    "$shared/golden/$model/$input" || status=1
done <<'LIST'
scrfd_500m_bnkps_640x640 scrfd_t1_640
det_2.5g scrfd_t1_640
mobilefacenet_128d arcface_hanks_112
yunet_n_640_640 yunet_t1_640
LIST
exit $status
