#!/usr/bin/env bash
# Give Dawn (npm `webgpu`) a software Vulkan adapter on a CPU-only Debian 12 machine:
# Mesa's lavapipe from bookworm-backports (Mesa 25; bookworm's own Mesa 22 lacks
# features Dawn requires), the Vulkan loader, and the glvnd libraries Dawn loads.
# Idempotent; Debian packages only. Needs root (or sudo).
# Usage: scripts/ci/install-lavapipe.sh   then check with: ls /usr/share/vulkan/icd.d/lvp_icd*.json
set -euo pipefail

SUDO=''
if [ "$(id -u)" -ne 0 ]; then SUDO='sudo'; fi

icd_dir=/usr/share/vulkan/icd.d
have_new_mesa() {
  compgen -G "$icd_dir/lvp_icd*.json" >/dev/null && dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -q '~bpo12'
}

if have_new_mesa && dpkg-query -W libvulkan1 >/dev/null 2>&1; then
  echo "lavapipe already installed: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
  exit 0
fi

if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo 'adding the bookworm-backports apt source'
  $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports mesa-vulkan-drivers
$SUDO apt-get install -y -qq --no-install-recommends libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2

if ! have_new_mesa; then
  echo "error: lavapipe ICD $icd_dir/lvp_icd*.json missing or not from bookworm-backports after install" >&2
  exit 1
fi
echo "lavapipe ready: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers), ICD $(ls $icd_dir/lvp_icd*.json)"
