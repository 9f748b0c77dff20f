#!/usr/bin/env bash
# The main job: sets up a fresh Debian 12 machine, builds facequant, and runs every shared face
# model on its golden inputs, showing how closely each output agrees with ONNX Runtime.
# Models and references come from $FQ_SHARED (default ../shared beside the checkout).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/install-deps.sh || { echo "run-main: installing dependencies failed" >&2; exit 1; }

shared="${FQ_SHARED:-$root/../shared}"
if [ ! -f "$shared/golden/CASES" ]; then
  cat >&2 <<MSG
run-main: no models to run. This job needs the shared folder with models/ and golden/
(ONNX Runtime reference outputs), at ../shared beside the checkout or wherever FQ_SHARED points:
  FQ_SHARED=/path/to/shared bash scripts/run-main.sh
MSG
  exit 1
fi

if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release >/dev/null || exit 1
fi
ninja -C build >/dev/null || { echo "run-main: build failed" >&2; exit 1; }
fq=build/tools/fq

echo "== fq inspect $shared/models/det_500m.onnx --input-size 640x640"
$fq inspect "$shared/models/det_500m.onnx" --input-size 640x640 || exit 1
echo

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
failed=0
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
[ "$failed" -eq 0 ]
