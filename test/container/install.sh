#!/usr/bin/env bash
# Installs what the container test (test/container/) needs, Debian packages only: podman builds and runs the
# Dockerfile and docker-compose.yml without a Docker daemon or a registry; runc is its runtime (crun refuses this
# kernel's hybrid cgroup layout), catatonit the init behind `init: true`, debootstrap makes the base image, and the
# dnsname plugin lets compose services find each other by name. Idempotent and quiet when everything is there;
# works without stdin and as root. A machine where apt cannot install them gets a message, and the test skips.
set -euo pipefail
need=()
for p in podman runc catatonit podman-compose debootstrap golang-github-containernetworking-plugin-dnsname; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || need+=("$p")
done
((${#need[@]})) || exit 0
command -v apt-get >/dev/null || { echo "[container install] no apt-get: install ${need[*]} yourself; the container test will skip"; exit 0; }
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
echo "[container install] apt-get install ${need[*]}"
if ! { $SUDO apt-get update -qq </dev/null && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" </dev/null >/dev/null; }; then
  echo "[container install] could not install ${need[*]}; the container test will skip"
fi
