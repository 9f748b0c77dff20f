#!/usr/bin/env bash
# Installs what the cross builds of facequant need on Debian 12 (scripts/run-cross-tests.sh), and
# nothing when it is all there: the aarch64 and armhf Linux cross compilers, the bare-metal Arm
# compiler with newlib, qemu's user-mode emulators, and the test-only libraries of the targets
# (cmocka, cJSON, libjpeg) from Debian's arm64 and armhf ports, installed by multiarch.
set -euo pipefail

host_packages=(
  gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf        # Linux cross compilers
  gcc-arm-none-eabi libnewlib-arm-none-eabi            # Cortex-M, build only
  qemu-user-static                                     # qemu-{x86_64,aarch64,arm}-static
  meson ninja-build pkg-config
)
# The -dev packages of both foreign architectures are Multi-Arch: same, so they install beside
# the native ones (same version as the amd64 package, which apt pulls from the same snapshot).
target_packages=()
for arch in arm64 armhf; do
  target_packages+=("libcmocka0:$arch" "libcmocka-dev:$arch" "libcjson1:$arch" "libcjson-dev:$arch"
                    "libjpeg62-turbo-dev:$arch")
done

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi

is_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=()
for p in "${host_packages[@]}" "${target_packages[@]}"; do
  is_installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

for arch in arm64 armhf; do
  dpkg --print-foreign-architectures | grep -qx "$arch" || $sudo dpkg --add-architecture "$arch"
done

echo "install-cross-deps: installing ${missing[*]}" >&2
# Once per install: the lists may predate the foreign architectures.
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
