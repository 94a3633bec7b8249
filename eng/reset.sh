#!/usr/bin/env bash
# Wipes the local state of `bash eng/run.sh` on purpose: every operator, session, message and file is gone, and the
# next run starts as on a fresh machine. Stop eng/run.sh first. Removes, for the data volume named by
# Raworc__DataVolume (default raworc-postgres-data; its PostgreSQL major version is appended):
#   - the session computers and session volumes of the deployment the volume holds
#     (labels raworc.managed=true and raworc.deployment=<its id>) and the API's socket folder for them; with
#     Computers__Provider=swarm (as eng/run.sh was started, e.g. `env $(bash eng/swarm-cluster.sh env) bash eng/reset.sh`)
#     also the deployment's services on the Swarm manager Computers__DockerEndpoint and its containers and volumes on every
#     node engine (node label raworc.engine); the cluster itself stays (eng/swarm-cluster.sh down removes a test cluster);
#   - the data volume itself;
#   - the generated parameters in the AppHost's user secrets (JWT signing key, Postgres and Redis passwords).
# The admin password and model keys you set yourself are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/bin:$PATH"

prefix=${Raworc__DataVolume-raworc-postgres-data}
tmp=${TMPDIR:-/tmp}

# The deployment id lives in the database (table `deployment`): read it from the volume with a Postgres of the same
# major version in single-user mode, which needs neither a server nor the password.
deployment_of() {
  local volume=$1 major=${1##*-} image mount pgdata
  if [ "$major" -ge 18 ] 2>/dev/null; then
    image=docker.io/library/postgres:18.3 mount=/var/lib/postgresql pgdata=/var/lib/postgresql/$major/docker
  else
    image=raworc/postgres:$major mount=/var/lib/postgresql/data pgdata=/var/lib/postgresql/data
  fi
  if ! docker image inspect "$image" >/dev/null 2>&1; then
    echo "reset: $image is not on this machine; the computers of volume $volume cannot be found" >&2
    return 0
  fi
  echo 'SELECT id FROM deployment;' | docker run --rm -i --user postgres --entrypoint sh -v "$volume:$mount" "$image" \
    -c 'PATH="$PATH:$(echo /usr/lib/postgresql/*/bin)"; exec postgres --single -D "$0" raworcdb' "$pgdata" 2>/dev/null \
    | grep -o 'id = "[0-9a-f]*"' | cut -d'"' -f2 | head -n 1 || true
}

# The deployment's Swarm services, then what their tasks, seeds and copies left on each node's engine. A node that is
# down keeps its session volumes (said on stderr); running reset again once it is back removes them.
swarm_remove() {
  local deployment=$1 manager=${Computers__DockerEndpoint:-} services node engine containers volumes
  if [ -z "$manager" ]; then
    echo "reset: Computers__Provider=swarm needs Computers__DockerEndpoint (the manager); the Swarm's computers stay" >&2
    return 0
  fi
  local owned=(--filter label=raworc.managed=true --filter "label=raworc.deployment=$deployment")
  services=$(docker -H "$manager" service ls -q "${owned[@]}")
  [ -z "$services" ] || docker -H "$manager" service rm $services >/dev/null
  for node in $(docker -H "$manager" node ls -q); do
    engine=$(docker -H "$manager" node inspect --format '{{index .Spec.Labels "raworc.engine"}}' "$node")
    if [ -z "$engine" ] || [ "$engine" = "<no value>" ] || ! docker -H "$engine" info >/dev/null 2>&1; then
      echo "reset: Swarm node $node is not reachable (raworc.engine=${engine:-none}); its session volumes stay" >&2
      continue
    fi
    # The removed services' task containers go away by themselves, asynchronously: whatever is left is removed too.
    for _ in $(seq 1 30); do
      containers=$(docker -H "$engine" ps -aq "${owned[@]}")
      [ -n "$containers" ] || break
      docker -H "$engine" rm -f $containers >/dev/null 2>&1 || sleep 1
    done
    volumes=$(docker -H "$engine" volume ls -q "${owned[@]}")
    [ -z "$volumes" ] || docker -H "$engine" volume rm -f $volumes >/dev/null
  done
  echo "reset: removed the Swarm services and the session volumes on the nodes of deployment $deployment"
}

if [ -n "$prefix" ]; then
  for volume in $(docker volume ls -q --filter "name=^${prefix}-[0-9]+$"); do
    if [ -n "$(docker ps -q --filter "volume=$volume")" ]; then
      echo "reset: $volume is in use; stop eng/run.sh first" >&2
      exit 1
    fi
    deployment=$(deployment_of "$volume")
    if [ -n "$deployment" ]; then
      owned=(--filter label=raworc.managed=true --filter "label=raworc.deployment=$deployment")
      containers=$(docker ps -aq "${owned[@]}")
      [ -z "$containers" ] || docker rm -f $containers >/dev/null
      volumes=$(docker volume ls -q "${owned[@]}")
      [ -z "$volumes" ] || docker volume rm -f $volumes >/dev/null
      # Each session volume's own filesystem (Computers:VolumeFileSystems): its mount, its immutable folder, its file.
      volume_filesystems=${Computers__VolumeFileSystemsPath:-/var/lib/raworc/volumes}
      for volume_name in $volumes; do
        mount_point="$volume_filesystems/$volume_name"
        if mountpoint -q "$mount_point" 2>/dev/null; then umount "$mount_point" 2>/dev/null || umount -l "$mount_point"; fi
        if [ -d "$mount_point" ]; then chattr -i "$mount_point" && rmdir "$mount_point"; fi
        rm -f "$mount_point.ext4"
      done
      if [ "${Computers__Provider:-docker}" = swarm ]; then
        swarm_remove "$deployment"
      fi
      rm -rf "$tmp/raworc-$deployment"
      echo "reset: removed the computers and session volumes of deployment $deployment"
    fi
    docker volume rm -f "$volume" >/dev/null
    echo "reset: removed the data volume $volume"
  done
fi

for parameter in jwt-signing-key postgres-password cache-password; do
  dotnet user-secrets remove "Parameters:$parameter" --project Raworc.AppHost >/dev/null
done
echo "reset: removed the generated parameters; the next run generates new ones"
