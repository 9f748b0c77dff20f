#!/usr/bin/env bash
# Installs what facequant needs to build and test on Debian 12, and nothing when it is all there.
set -euo pipefail

packages=(
  build-essential pkg-config meson ninja-build python3   # build
  libcmocka-dev                                          # unit tests
  libcjson-dev                                           # JSON (tools, golden test)
  libjpeg62-turbo-dev libspng-dev libwebp-dev            # image decoders (tools only)
  libsqlite3-dev                                         # galleries (tools only)
  libonnx-testdata                                       # ONNX conformance node tests
  clang libclang-rt-14-dev                               # libFuzzer and sanitizer runtimes
  binutils                                               # nm, for the dependency check
  time                                                   # /usr/bin/time: peak RSS figures
  libmicrohttpd-dev curl                                 # fq serve (tools only), its tests
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
