#!/usr/bin/env bash
# The main job: sets up a fresh Debian 12 machine, builds facequant, runs every shared face
# model on its golden inputs showing how closely each output agrees with ONNX Runtime, runs the
# face pipeline on the shared photos (detect, enroll, recognize, verify), then the quantization
# workflow (scripts/run-workflow.sh): convert, quantize to int8, fp16 and dynamic int8, detect
# and recognize with each, and the comparison tables.
# Models, photos and references come from $FQ_SHARED (default ../shared beside the checkout).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/install-deps.sh || { echo "run-main: installing dependencies failed" >&2; exit 1; }

shared="${FQ_SHARED:-$root/../shared}"
if [ ! -f "$shared/golden/CASES" ] && [ -z "${FQ_MODELS:-}" ]; then
  cat >&2 <<MSG
run-main: no models to run. This job needs either
  - the shared folder with models/, images/ and golden/ (ONNX Runtime reference outputs), at
    ../shared beside the checkout or wherever FQ_SHARED points:
      FQ_SHARED=/path/to/shared bash scripts/run-main.sh
  - or your own models and photos for the quantization workflow alone:
      FQ_MODELS=/dir/with/det_500m.onnx+mobilefacenet_128d.onnx FQ_PHOTOS=/dir/with/calib+eval \\
        bash scripts/run-main.sh
    (models/fetch-pack.sh buffalo_s downloads a pack; scripts/run-workflow.sh says what
    FQ_PHOTOS holds)
MSG
  exit 1
fi

if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release >/dev/null || exit 1
fi
ninja -C build >/dev/null || { echo "run-main: build failed" >&2; exit 1; }
fq=build/tools/fq

out="$root/build/main-job"
rm -rf "$out"
mkdir -p "$out"
failed=0
if [ -f "$shared/golden/CASES" ]; then
  echo "== fq inspect $shared/models/det_500m.onnx --input-size 640x640"
  $fq inspect "$shared/models/det_500m.onnx" --input-size 640x640 || exit 1
  echo

  total=0
  while read -r case; do
    [ -n "$case" ] || continue
    model=${case%%/*}
    dir="$shared/golden/$case"
    args=()
    # case.json lists each graph input with its .npy file.
    while IFS=$'\t' read -r name file; do
      args+=(--input "$name=$dir/$file")
    done < <(python3 -c '
import json, sys
for i in json.load(open(sys.argv[1]))["inputs"]:
    print(i["name"] + "\t" + i["file"])' "$dir/case.json")
    echo "== $case: fq run $model.onnx ${args[*]##*/} --check golden"
    total=$((total + 1))
    $fq run "$shared/models/$model.onnx" "${args[@]}" --output-dir "$out/$case" --check "$dir" ||
      failed=$((failed + 1))
  done < "$shared/golden/CASES"

  echo
  echo "$((total - failed)) of $total golden cases agree with ONNX Runtime"

  export FQ_SHARED="$shared"
  images="$shared/images"
  echo
  echo "== fq detect insightface/t1.jpg --draw (boxes and landmarks drawn on a copy)"
  $fq detect "$images/insightface/t1.jpg" --draw "$out/t1_faces.png" || failed=$((failed + 1))
  echo
  echo "== fq enroll face_recognition/train, then fq recognize the held-out test photos"
  $fq enroll "$images/face_recognition/train" --gallery "$out/people.db" || failed=$((failed + 1))
  $fq recognize "$images"/face_recognition/test/*.jpg --gallery "$out/people.db" ||
    failed=$((failed + 1))
  echo
  echo "== fq verify on pairs of the shared identities"
  ln -s "$images" "$out/images"
  python3 scripts/make-pairs.py "$images" > "$out/pairs.tsv"
  $fq verify "$out/pairs.tsv" || failed=$((failed + 1))
else
  echo "run-main: no shared folder at $shared: golden checks and the shared photos are skipped"
fi
echo
echo "== the quantization workflow: convert, quantize, detect and recognize with each precision"
bash scripts/run-workflow.sh build "$out/workflow" || failed=$((failed + 1))
echo
echo "outputs of this run are in $out"
[ "$failed" -eq 0 ]
