#!/usr/bin/env bash
# Builds the images Raworc needs on a machine that reaches no image registry, from Debian's packages:
#   raworc/debian-base:bookworm   (debootstrap minbase, imported)
#   raworc/postgres:15            (Debian's postgresql-15 with an entrypoint like the official image's)
#   raworc/redis:7                (Debian's redis-server)
# The AppHost uses the last two when Raworc:OfflineImages=true (env Raworc__OfflineImages=true).
# Images that already exist are kept unless their folder changed; pass --force to rebuild.
set -euo pipefail
export PATH="/usr/local/bin:$PATH"
here=$(cd "$(dirname "$0")" && pwd)
force=${1:-}
base=raworc/debian-base:bookworm

have() { [ "$force" != "--force" ] && docker image inspect "$1" >/dev/null 2>&1; }

if ! have "$base"; then
  if ! command -v debootstrap >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  echo "offline-images: debootstrap bookworm (about 35 s)"
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null
  # Same apt sources as the machine, so apt inside builds reaches the same mirror.
  cp /etc/apt/sources.list "$root/etc/apt/sources.list" 2>/dev/null || true
  if [ -d /etc/apt/sources.list.d ]; then cp -r /etc/apt/sources.list.d/. "$root/etc/apt/sources.list.d/"; fi
  tar -C "$root" -c . | docker import - "$base" >/dev/null
  echo "offline-images: built $base"
fi

# An image is rebuilt when its folder changed since it was built (label raworc.source: a hash of the folder's files),
# so a machine that keeps images between runs never runs an old entrypoint.
build() { # name dir
  local source
  source=$(cd "$2" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  if ! have "$1" || [ "$(docker image inspect -f '{{index .Config.Labels "raworc.source"}}' "$1")" != "$source" ]; then
    docker build -q --build-arg BASE_IMAGE="$base" --label "raworc.source=$source" -t "$1" "$2" >/dev/null
    echo "offline-images: built $1"
  fi
}
build raworc/postgres:15 "$here/images/postgres"
build raworc/redis:7 "$here/images/redis"
