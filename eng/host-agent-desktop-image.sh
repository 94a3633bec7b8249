#!/usr/bin/env bash
# Builds raworc/host-agent-desktop:latest, the image of computers of sessions created with "desktop": true: the
# `desktop` target of eng/images/host-agent/Dockerfile, i.e. the plain agent image's layers plus Xvfb, Openbox,
# xdotool, ImageMagick, st (a terminal) and a browser (BROWSER_PACKAGE, default firefox-esr). Builds the plain image first
# (eng/host-agent-image.sh), whose build context it reuses. The packages come from Debian's apt mirror during the
# build; their layer is cached, so rebuilding the agent only replaces its last layer.
# RAWORC_DESKTOP_IMAGE names another tag (RAWORC_AGENT_IMAGE does for the plain image); pass --force to rebuild.
set -euo pipefail
export PATH="/usr/local/bin:$PATH"
root=$(cd "$(dirname "$0")/.." && pwd)
image=${RAWORC_DESKTOP_IMAGE:-raworc/host-agent-desktop:latest}
force=${1:-}
work="$root/artifacts/host-agent"

# The plain build leaves its context in $work/context; when it was skipped as up to date the context is still there
# unless artifacts/ was cleaned, in which case it is forced.
if [ -d "$work/context" ] && [ "$force" != "--force" ]; then
  bash "$root/eng/host-agent-image.sh"
else
  bash "$root/eng/host-agent-image.sh" --force
fi

stamp="$work/desktop-image.stamp"
plain_stamp="$work/image.stamp"
if [ "$force" != "--force" ] && [ -f "$stamp" ] && [ "$plain_stamp" -ot "$stamp" ] \
  && [ "$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null)" = "$(cat "$stamp")" ] \
  && [ -z "$(find "$root/eng/images/host-agent" "$0" -type f -newer "$stamp" -print -quit)" ]; then
  exit 0
fi

build_args=(--build-arg "BROWSER_PACKAGE=${BROWSER_PACKAGE:-firefox-esr}")
if [ "${Raworc__OfflineImages:-}" = "true" ]; then
  build_args+=(--build-arg BASE_IMAGE=raworc/debian-base:bookworm)
fi
if ! out=$(docker build -q "${build_args[@]}" --target desktop -t "$image" "$work/context" 2>&1); then
  echo "$out" >&2
  exit 1
fi
docker image inspect -f '{{.Id}}' "$image" >"$stamp"
echo "host-agent-desktop-image: built $image"
