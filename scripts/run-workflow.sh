#!/usr/bin/env bash
# The quantization workflow of the main job, end to end: convert a detector and a recognizer,
# quantize each to int8 (calibrated on photos), fp16 and dynamic int8, detect and recognize
# faces with every precision, and print the comparison tables (speed, size, agreement with
# fp32) with SVG charts.
#
#   bash scripts/run-workflow.sh BUILD_DIR OUT_DIR
#
# Models: det_500m and mobilefacenet_128d from $FQ_SHARED/models (the shared folder), else from
# $FQ_MODELS (override the names with FQ_DETECTOR and FQ_RECOGNIZER). Photos: $FQ_SHARED/images,
# else $FQ_PHOTOS with calib/ (calibration photos), eval/ (photos to detect in), people/ (one
# folder of photos per person, to enroll) and faces/ (aligned 112x112 crops, optional).
set -uo pipefail
build=${1:?usage: run-workflow.sh BUILD_DIR OUT_DIR}
out=${2:?usage: run-workflow.sh BUILD_DIR OUT_DIR}
fq="$build/tools/fq"
root=$(cd "$(dirname "$0")/.." && pwd)
shared="${FQ_SHARED:-$root/../shared}"
det=${FQ_DETECTOR:-det_500m}
rec=${FQ_RECOGNIZER:-mobilefacenet_128d}

need() {
  cat >&2 <<MSG
run-workflow: $1
It needs a face detector ($det.onnx) and a recognizer ($rec.onnx), and photos:
  - the shared folder (models/ and images/) at ../shared beside the checkout or at FQ_SHARED, or
  - FQ_MODELS=/dir/with/onnx/files and FQ_PHOTOS=/dir with calib/, eval/ and people/NAME/
    (models/fetch-pack.sh buffalo_s puts a pack's models where FQ_MODELS can point)
MSG
  exit 1
}

models=""
for d in "$shared/models" "${FQ_MODELS:-}"; do
  if [ -n "$d" ] && [ -f "$d/$det.onnx" ] && [ -f "$d/$rec.onnx" ]; then models=$d; break; fi
done
[ -n "$models" ] || need "no $det.onnx and $rec.onnx in $shared/models${FQ_MODELS:+ or $FQ_MODELS}."

rm -rf "$out/calib" "$out/eval" "$out/people" "$out/faces"
mkdir -p "$out/calib" "$out/eval" "$out/people" "$out/faces"
# Copies, not links: the calibration walk does not follow links to folders.
if [ -d "$shared/images/face_recognition" ]; then
  img=$shared/images
  # Calibration photos are never the ones accuracy is measured on.
  cp -r "$img/face_recognition/train" "$img/face_recognition/extra" "$img/lfw" "$out/calib/"
  cp "$img"/face_recognition/test/*.jpg "$img/insightface/t1.jpg" \
    "$img/insightface/Tom_Hanks_54745.png" "$out/eval/"
  cp -r "$img/face_recognition/train"/* "$out/people/"
  cp "$img"/insightface_small_lfw_aligned112/*.jpg "$out/faces/"
elif [ -n "${FQ_PHOTOS:-}" ] && [ -d "$FQ_PHOTOS/calib" ] && [ -d "$FQ_PHOTOS/eval" ]; then
  cp -r "$FQ_PHOTOS/calib/." "$out/calib/"
  cp -r "$FQ_PHOTOS/eval/." "$out/eval/"
  [ -d "$FQ_PHOTOS/people" ] && cp -r "$FQ_PHOTOS/people/." "$out/people/"
  [ -d "$FQ_PHOTOS/faces" ] && cp -r "$FQ_PHOTOS/faces/." "$out/faces/"
else
  need "no photos: neither $shared/images nor FQ_PHOTOS (with calib/ and eval/) exists."
fi

failed=0
step() { echo; echo "== $*"; "$@" || { failed=$((failed + 1)); echo "run-workflow: failed: $*" >&2; }; }
m=$out/models
mkdir -p "$m"

for model in "$det" "$rec"; do
  step "$fq" convert "$models/$model.onnx" -o "$m/$model.fqm"
  step "$fq" quantize "$m/$model.fqm" --type int8 --calib "$out/calib" --detector \
    "$models/$det.onnx" -o "$m/$model.int8.fqm" --report "$m/$model.int8.html"
  step "$fq" quantize "$m/$model.fqm" --type fp16 -o "$m/$model.fp16.fqm"
  step "$fq" quantize "$m/$model.fqm" --type dynamic -o "$m/$model.dynamic.fqm"
done

echo
echo "== faces found in $out/eval by each precision of $det"
for p in fp32 int8 fp16 dynamic; do
  f=$m/$det.$p.fqm
  [ "$p" = fp32 ] && f=$m/$det.fqm
  "$fq" detect "$out"/eval/* --model "$f" --json > "$out/detect_$p.json" 2> /dev/null ||
    failed=$((failed + 1))
  printf '  %-8s %s faces\n' "$p" "$(grep -o '"score"' "$out/detect_$p.json" | wc -l)"
done

echo
echo "== people in $out/eval named by each precision of $rec (enrolled from $out/people)"
for p in fp32 int8 fp16 dynamic; do
  f=$m/$rec.$p.fqm
  [ "$p" = fp32 ] && f=$m/$rec.fqm
  rm -f "$out/people_$p.db"
  "$fq" enroll "$out/people" --gallery "$out/people_$p.db" --detector "$m/$det.fqm" \
    --recognizer "$f" > /dev/null 2>&1 || failed=$((failed + 1))
  "$fq" recognize "$out"/eval/*.jpg --gallery "$out/people_$p.db" --detector "$m/$det.fqm" \
    --recognizer "$f" > "$out/recognize_$p.txt" 2> /dev/null || failed=$((failed + 1))
  awk '/ box / { print $9 }' "$out/recognize_$p.txt" > "$out/names_$p.txt"
  same=$(paste -d' ' "$out/names_fp32.txt" "$out/names_$p.txt" | awk '$1 == $2' | wc -l)
  printf '  %-8s %2d faces, %2d named as fp32 names them:%s\n' "$p" \
    "$(wc -l < "$out/names_$p.txt")" "$same" "$(sort "$out/names_$p.txt" | uniq -c |
    awk '{ printf " %s x%s", $2, $1 }')"
done

echo
step "$fq" compare "$m/$det.fqm=fp32" "$m/$det.int8.fqm=int8" "$m/$det.fp16.fqm=fp16" \
  "$m/$det.dynamic.fqm=dynamic" --inputs "$out/eval" --svg "$out/compare_$det.svg"
faces=$out/faces
[ -n "$(ls -A "$faces")" ] || faces=$out/eval
step "$fq" compare "$m/$rec.fqm=fp32" "$m/$rec.int8.fqm=int8" "$m/$rec.fp16.fqm=fp16" \
  "$m/$rec.dynamic.fqm=dynamic" --inputs "$faces" --svg "$out/compare_$rec.svg"
echo
echo "quantized models, reports and charts are in $m and $out"
[ "$failed" -eq 0 ]
