#!/bin/sh
# Writes the two synthetic large models into DIR (default build/synth) unless they are there.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-build/synth}
mkdir -p "$dir"
[ -s "$dir/iresnet50.onnx" ] || python3 "$here/gen_iresnet50.py" "$dir/iresnet50.onnx"
[ -s "$dir/scrfd_10g.onnx" ] || python3 "$here/gen_scrfd10g.py" "$dir/scrfd_10g.onnx"
