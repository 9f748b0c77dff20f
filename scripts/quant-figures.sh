#!/usr/bin/env bash
# Accuracy of each quantization of the shared models, measured on photos that calibration did
# not see: calibrates on face_recognition/train + extra + lfw, evaluates the detectors on
# face_recognition/test and insightface/, MobileFaceNet on the aligned LFW crops, and runs
# fq verify on the shared identity pairs with the fp32 and the int8 recognizer.
#
#   bash scripts/quant-figures.sh [BUILD_DIR] [OUT_DIR]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
out=${2:-$build/quant-figures}
fq=$build/tools/fq
shared=${FQ_SHARED:-$root/../shared}
img=$shared/images
m=$shared/models
[ -d "$img/face_recognition" ] || { echo "quant-figures: needs $shared (FQ_SHARED)" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out/calib" "$out/eval" "$out/faces"
cp -r "$img/face_recognition/train" "$img/face_recognition/extra" "$img/lfw" "$out/calib/"
cp "$img"/face_recognition/test/*.jpg "$img/insightface/t1.jpg" "$out/eval/"
cp "$img"/insightface_small_lfw_aligned112/*.jpg "$out/faces/"

# eval A B DIR: one line of figures from fq eval --json
figures() {
  "$fq" eval "$1" "$2" --inputs "$3" --json 2> /dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
o = d.get("overall", d)
parts = ["cos mean %.5f min %.5f" % (o["cosine_mean"], o["cosine_min"])]
f = d.get("faces")
if f:
    parts.append("faces found %d/%d, extra %d, landmark error %.2f%% of box width" % (
        f["matched"], f["reference_faces"], f["extra"], f["landmark_error_percent"]))
print(", ".join(parts))'
}

echo "calibration: $(find "$out/calib" -type f | wc -l) photos; evaluation: $(ls "$out/eval" | wc -l) photos, $(ls "$out/faces" | wc -l) aligned crops"
for model in det_500m det_2.5g mobilefacenet_128d; do
  inputs=$out/eval
  [ "$model" = mobilefacenet_128d ] && inputs=$out/faces
  for method in percentile minmax entropy mse; do
    q=$out/$model.int8.$method.fqm
    "$fq" quantize "$m/$model.onnx" --type int8 --calib "$out/calib" --method "$method" \
      -o "$q" > /dev/null 2>&1 || { echo "$model int8 $method: quantize failed"; continue; }
    printf '%-20s int8 %-10s %8d bytes  %s\n' "$model" "$method" "$(stat -c %s "$q")" \
      "$(figures "$m/$model.onnx" "$q" "$inputs")"
  done
  for type in fp16 dynamic; do
    q=$out/$model.$type.fqm
    "$fq" quantize "$m/$model.onnx" --type "$type" -o "$q" > /dev/null 2>&1 ||
      { echo "$model $type: quantize failed"; continue; }
    printf '%-20s %-15s %8d bytes  %s\n' "$model" "$type" "$(stat -c %s "$q")" \
      "$(figures "$m/$model.onnx" "$q" "$inputs")"
  done
done

q=$out/mobilefacenet_128d.int8.target.fqm
"$fq" quantize "$m/mobilefacenet_128d.onnx" --type int8 --calib "$out/calib" \
  --target-cosine 0.995 -o "$q" 2>/dev/null | grep -E "nodes:|agreement"
printf '%-20s int8 target0.995 %8d bytes  %s\n' mobilefacenet_128d "$(stat -c %s "$q")" \
  "$(figures "$m/mobilefacenet_128d.onnx" "$q" "$out/faces")"

python3 "$root/scripts/make-pairs.py" "$img" > "$out/pairs.tsv"
ln -sfn "$img" "$out/images"
for variant in "fp32:$m/mobilefacenet_128d.onnx" "int8:$out/mobilefacenet_128d.int8.percentile.fqm" \
    "int8-target:$q" "fp16:$out/mobilefacenet_128d.fp16.fqm" \
    "dynamic:$out/mobilefacenet_128d.dynamic.fqm"; do
  name=${variant%%:*}
  file=${variant#*:}
  printf 'verify %-12s %s\n' "$name" "$("$fq" verify "$out/pairs.tsv" --recognizer "$file" \
    --json 2> /dev/null | python3 -c 'import json, sys
d = json.load(sys.stdin)
print("pairs %d, AUC %.4f, accuracy %.3f at the card threshold, same mean %.3f, different max %.3f"
      % (d["pairs"], d["auc"], d["accuracy"], d["same_mean"], d["different_max"]))')"
done
