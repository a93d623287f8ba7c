#!/usr/bin/env bash
# Installs the real servers and programs the tests run the product against (Debian packages): redis-server for the
# durable session store (SPEC §6), nginx in front of its replicas, and LibreOffice (Writer with its formula engine)
# with poppler-utils to open the Word export as a reader would and render its first page, and python3-httpx for the
# seed's own Python client (the compatibility test). Idempotent and quiet when everything is there; works without stdin and as root.
set -euo pipefail
need=()
for p in redis-server nginx-light libreoffice-writer libreoffice-math poppler-utils python3-httpx; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || need+=("$p")
done
((${#need[@]})) || exit 0
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
echo "[install-services] apt-get install ${need[*]}"
$SUDO apt-get update -qq </dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" </dev/null >/dev/null
# The package starts a system-wide server on 6379; the tests start their own on free ports and need none.
command -v systemctl >/dev/null && $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
(command -v systemctl >/dev/null && $SUDO systemctl disable --now nginx >/dev/null 2>&1) || true
