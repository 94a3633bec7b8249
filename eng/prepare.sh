#!/usr/bin/env bash
# Sourced by eng/run.sh and eng/test.sh: makes sure a Docker engine runs and that the images the
# AppHost needs exist. Where the official Postgres and Redis images can be pulled they are used;
# where no registry answers (an offline machine), images are built from Debian's packages instead
# and Raworc__OfflineImages=true tells the AppHost to use them. Set Raworc__OfflineImages yourself
# to skip the detection.
export PATH="/usr/local/bin:$PATH"
eng_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

bash "$eng_dir/docker-engine.sh" >/dev/null

# Image names Aspire 13.6 asks for (Aspire.Hosting.PostgreSQL / Aspire.Hosting.Redis 13.6.5).
official_images=(docker.io/library/postgres:18.3 docker.io/library/redis:8.6)

if [ -z "${Raworc__OfflineImages:-}" ]; then
  Raworc__OfflineImages=false
  for image in "${official_images[@]}"; do
    if ! docker image inspect "$image" >/dev/null 2>&1 && ! timeout 120 docker pull -q "$image" >/dev/null 2>&1; then
      echo "prepare: $image cannot be pulled; using images built from Debian's packages"
      Raworc__OfflineImages=true
      break
    fi
  done
fi
export Raworc__OfflineImages

if [ "$Raworc__OfflineImages" = "true" ]; then
  bash "$eng_dir/offline-images.sh"
fi

# The image of a session's computer; rebuilt only when the agent or its image files changed.
bash "$eng_dir/host-agent-image.sh"
# The image of computers with a desktop ("desktop": true): the same layers plus the desktop's packages.
bash "$eng_dir/host-agent-desktop-image.sh"
