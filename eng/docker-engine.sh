#!/usr/bin/env bash
# Makes sure a Docker engine is running on this machine.
# On a machine that already runs Docker (Docker Desktop, a systemd dockerd) this does nothing.
# On a bare Debian machine (as in CI) it installs Debian's engine and starts dockerd in the background.
# Aspire's orchestrator needs a Docker client >= 25, so /usr/local/bin (where a newer client may live)
# goes first on PATH; Debian's 20.10 client in /usr/bin would make DCP call the runtime unhealthy.
set -euo pipefail
export PATH="/usr/local/bin:$PATH"

if docker info >/dev/null 2>&1; then
  echo "docker-engine: engine already running"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "docker-engine: installing Debian's docker.io"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi

echo "docker-engine: starting dockerd"
# Without its userland proxy the engine forwards published ports (the API's Postgres and Redis) in the kernel instead of
# through a docker-proxy process per port, which cost 0.25-0.30 cores at 2,000 requests a second (README "Performance").
# Such an engine turns route_localnet on for its bridges; the API turns it off again on the computers' bridge.
mkdir -p /var/log
nohup dockerd --userland-proxy=false >/var/log/raworc-dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "docker-engine: ready"
    exit 0
  fi
  sleep 1
done
echo "docker-engine: dockerd did not become ready in 60 s; see /var/log/raworc-dockerd.log" >&2
exit 1
