#!/usr/bin/env bash
# Builds raworc/host-agent:latest, the image of a session's computer (eng/images/host-agent):
# publishes Raworc.HostAgent with Native AOT for linux-x64 (one native executable, no .NET runtime in the image)
# and builds the image around it. The AOT compiler links with the system's clang or gcc.
# Offline machines (Raworc__OfflineImages=true, see eng/prepare.sh) build FROM the local
# raworc/debian-base:bookworm instead of pulling debian:bookworm-slim.
# The build is skipped when the image is newer than every file it is made from; pass --force to rebuild.
set -euo pipefail
export PATH="/usr/local/bin:$PATH"
root=$(cd "$(dirname "$0")/.." && pwd)
# RAWORC_AGENT_IMAGE names another tag (two work trees on one engine keep their own images apart).
image=${RAWORC_AGENT_IMAGE:-raworc/host-agent:latest}
force=${1:-}

# What the image is made from: the agent, what it references, the image files, central build settings.
sources=("$root/Raworc.HostAgent" "$root/Shared" "$root/eng/images/host-agent"
  "$root/Directory.Build.props" "$root/Directory.Packages.props" "$root/global.json" "$0")

work="$root/artifacts/host-agent"
# The stamp holds the id of the image last built here. Docker's own creation time cannot be used:
# a rebuild that hits the layer cache keeps the old image and its old time.
stamp="$work/image.stamp"
if [ "$force" != "--force" ] && [ -f "$stamp" ] \
  && [ "$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null)" = "$(cat "$stamp")" ] \
  && [ -z "$(find "${sources[@]}" -type f -not -path '*/bin/*' -not -path '*/obj/*' -newer "$stamp" -print -quit)" ]; then
  exit 0
fi

rm -rf "$work/context"
mkdir -p "$work/context"
# A separate artifacts path keeps the RID-specific restore out of the projects' obj/ folders,
# which `dotnet build Raworc.sln` uses.
# PublishAot is set in the project; warnings are errors there, so a trim or AOT warning fails this step.
# DebugType=none leaves out the ~100 MB symbol file the image would not use.
dotnet publish "$root/Raworc.HostAgent" -c Release -r linux-x64 -p:DebugType=none -p:StripSymbols=true \
  --artifacts-path "$work/build" -o "$work/publish" -nologo -v:q
cp "$work/publish/Raworc.HostAgent" "$work/context/raworc-host-agent"
cp "$root/eng/images/host-agent/Dockerfile" "$root/eng/images/host-agent/raworc-entry.sh" \
  "$root/eng/images/host-agent/raworc-setup.sh" "$root/eng/images/host-agent/raworc-desktop.sh" \
  "$root/eng/images/host-agent/openbox-rc.xml" "$root/eng/images/host-agent/sxhkdrc" "$work/context/"
chmod 0755 "$work/context/raworc-host-agent" "$work/context/raworc-entry.sh" "$work/context/raworc-setup.sh" \
  "$work/context/raworc-desktop.sh"
# The statx retry for gVisor (statx-retry.c says why), preloaded into every program of the computer; the same C
# compiler as the AOT link. Warnings are errors here too.
cc -O2 -shared -fPIC -Wall -Wextra -Werror -s -o "$work/context/raworc-statx-retry.so" "$root/eng/images/host-agent/statx-retry.c"
chmod 0644 "$work/context/raworc-statx-retry.so"
cp "$root/eng/images/host-agent/ld.so.preload" "$work/context/"
chmod 0644 "$work/context/ld.so.preload"

base_args=()
if [ "${Raworc__OfflineImages:-}" = "true" ]; then
  base_args=(--build-arg BASE_IMAGE=raworc/debian-base:bookworm)
fi
# The output is shown only on failure: the legacy builder warns about itself on every build.
# Target `plain`: the desktop stage after it is built only by eng/host-agent-desktop-image.sh.
if ! out=$(docker build -q "${base_args[@]}" --target plain -t "$image" "$work/context" 2>&1); then
  echo "$out" >&2
  exit 1
fi
docker image inspect -f '{{.Id}}' "$image" >"$stamp"
echo "host-agent-image: built $image"
