#!/usr/bin/env bash
# A two-node Docker Swarm test cluster on this machine, for Computers:Provider=swarm (README "Providers: Docker and
# Swarm"). The main engine (/var/run/docker.sock) is never touched: each node is a dockerd of its own, in a network
# namespace of its own, with its own data root. The nodes' network is a bridge on this machine (the API's machine) with
# one veth to each namespace: the cluster's traffic (Swarm's 2377/7946/4789) stays on it, and the API is on it at
# <prefix>.254, where computers reach its computer port (Computers:ComputerPort) and nothing else of this machine.
#   up [IMAGE...]   starts the nodes (if not running; anew, empty, when an engine was killed rather than stopped: see
#                   killed below), makes the swarm (node 1 manager, node 2 worker), labels each node
#                   raworc.engine=<its socket>, and copies each IMAGE from the main engine to the nodes whose copy
#                   differs (no registry: one docker save streamed into those nodes' docker load at once, each sent only
#                   the layers it lacks; see load below).
#   stop N          stops node N's engine and keeps its data (a node that leaves; `up` brings it back, its files intact).
#   down            stops both engines, removes the namespaces and the data roots.
#   env             prints the variables that point Raworc at the cluster (Computers__Provider=swarm, the manager, and the
#                   API's computer address Computers__ApiUrl / Computers__ComputerPort).
# Exit status 2: this machine cannot run the cluster (not root, no dockerd/nsenter/ip); the tests then skip.
#   RAWORC_SWARM_NAME   prefix of the namespaces, sockets and data roots (default raworc-swarm)
set -euo pipefail
export PATH="/usr/local/bin:$PATH"

name=${RAWORC_SWARM_NAME:-raworc-swarm}
state=/var/lib/$name
# The nodes' network and the API's computer port: 10.213.7.0/24 and 7413 for the default cluster; a cluster of another
# name gets its own (derived from the name), so two clusters can run beside each other.
# Its links (at most 15 characters) carry a short tag: the name's first 8 characters for the default cluster, else one
# derived from the name (raworc-swall and raworc-swarm share their first 8, and would share a bridge).
if [ "$name" = raworc-swarm ]; then octet=7 api_port=7413 tag=${name:0:8}; else
  sum=$(printf %s "$name" | cksum | cut -d' ' -f1); octet=$((sum % 200 + 20)) api_port=$((7420 + sum % 500)) tag=rw$((sum % 1000000)); fi
prefix=10.213.$octet
addr1=$prefix.1 addr2=$prefix.2 api=$prefix.254 nodes=$prefix.0/24
bridge=$tag-br

sock() { echo "/run/$name-$1.sock"; }
node() { docker -H "unix://$(sock "$1")" "${@:2}"; }

cannot() { echo "swarm-cluster: cannot run here: $*" >&2; exit 2; }

check() {
  [ "$(id -u)" = 0 ] || cannot "needs root (network namespaces, dockerd)"
  for tool in dockerd nsenter ip docker; do command -v "$tool" >/dev/null || cannot "$tool is missing"; done
}

start_node() {
  local n=$1 ns="$name-$1"
  if node "$n" info >/dev/null 2>&1; then return; fi
  mkdir -p "$state/$n/data" "$state/$n/exec"
  # A node that was stopped (`stop N`) starts without its engine's network store: a stop that did not finish removing the
  # Swarm network's record (the store closes first; seen when the machine is loaded) leaves the engine failing every task of
  # the computers' network with "network <id> exists" (Docker's moby/moby#37087). The store holds only networks the engine
  # makes again (its default ones) and the API's configuration network, which the API makes again on a node that was away.
  # The operator's remedy in README "Providers: Docker and Swarm" is the same.
  rm -f "$state/$n/data/network/files/local-kv.db"
  # --iptables stays on (its rules live in the node's own namespace); bip and pools keep clear of the veth pair.
  # --no-new-privileges: a Swarm service (API 1.41) cannot ask for it per container, so the node sets it for all.
  nohup nsenter --net="/var/run/netns/$ns" dockerd \
    --data-root "$state/$n/data" --exec-root "$state/$n/exec" --pidfile "$state/$n/dockerd.pid" \
    -H "unix://$(sock "$n")" --bip "172.30.$n.1/24" --default-address-pool "base=172.31.0.0/16,size=24" \
    --storage-driver overlay2 --no-new-privileges >>"$state/$n/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do
    if node "$n" info >/dev/null 2>&1; then return; fi
    sleep 0.5
  done
  echo "swarm-cluster: node $n did not start; see $state/$n/dockerd.log" >&2
  exit 1
}

# Whether process PID is a dockerd (not another process that was given the number of one that ended).
is_engine() { [ "$(cat "/proc/$1/comm" 2>/dev/null)" = dockerd ]; }

stop_node() {
  local pidfile="$state/$1/dockerd.pid" pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  is_engine "$pid" || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do is_engine "$pid" || return 0; sleep 0.5; done
}

network() {
  if ! ip netns list | grep -qw "$name-1"; then ip netns add "$name-1"; fi
  if ! ip netns list | grep -qw "$name-2"; then ip netns add "$name-2"; fi
  if ! ip link show "$bridge" >/dev/null 2>&1; then
    ip link add "$bridge" type bridge
    ip addr add "$api/24" dev "$bridge"
  fi
  ip link set "$bridge" up
  # The main engine sets FORWARD's policy to DROP, and bridged frames pass iptables (br_netfilter): node to node is let through.
  iptables -w -C FORWARD -i "$bridge" -o "$bridge" -j ACCEPT 2>/dev/null || iptables -w -I FORWARD -i "$bridge" -o "$bridge" -j ACCEPT
  for n in 1 2; do
    local inside="$tag-v$n" outside="$tag-h$n" addr
    addr=$([ "$n" = 1 ] && echo "$addr1" || echo "$addr2")
    if ! ip link show "$outside" >/dev/null 2>&1; then
      # A cluster made before the bridge joined its namespaces with one veth pair: that pair goes (the swarm keeps its addresses).
      ip -n "$name-$n" link del "$inside" 2>/dev/null || true
      ip link add "$outside" type veth peer name "$inside" netns "$name-$n"
      ip -n "$name-$n" addr add "$addr/24" dev "$inside"
    fi
    ip link set "$outside" master "$bridge" up
    ip -n "$name-$n" link set lo up
    ip -n "$name-$n" link set "$inside" up
  done
}

swarm() {
  if [ "$(node 1 info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
    node 1 swarm init --advertise-addr "$addr1" --listen-addr "$addr1:2377" >/dev/null
  fi
  if [ "$(node 2 info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
    node 2 swarm join --token "$(node 1 swarm join-token -q worker)" --advertise-addr "$addr2" "$addr1:2377" >/dev/null
  fi
  for n in 1 2; do
    local id
    id=$(node "$n" info --format '{{.Swarm.NodeID}}')
    node 1 node update --label-add "raworc.engine=unix://$(sock "$n")" "$id" >/dev/null
  done
}

# The Docker provider's host rules (README "Security model"), in each node's namespace: nothing a computer sends on
# the computers' bridge reaches the node itself, and no link-local, private or shared address is reached; and the
# cluster's third: nothing it sends reaches the nodes' own network (the other nodes' Swarm ports 2377/7946 and engines),
# which a computer on one node otherwise reached through the node's forwarding (SwarmBoundaryTests), except the API's
# computer port, put first: the one address of the nodes' network a computer reaches.
firewall() {
  local n=$1 computers=${RAWORC_SWARM_BRIDGE:-raworc0}
  local ipt=(nsenter --net="/var/run/netns/$name-$n" iptables -w)
  "${ipt[@]}" -C INPUT -i "$computers" -j DROP 2>/dev/null || "${ipt[@]}" -I INPUT -i "$computers" -j DROP
  # Link-local (metadata services), then the private, shared and reserved ranges (the node's LAN; Raworc's own chain on the
  # Docker provider, README "Security model"). The nodes have no resolver to let through: their namespaces route nowhere else.
  local range
  for range in 169.254.0.0/16 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 100.64.0.0/10 0.0.0.0/8 192.0.0.0/24 198.18.0.0/15 240.0.0.0/4; do
    "${ipt[@]}" -C DOCKER-USER -i "$computers" -d "$range" -j DROP 2>/dev/null \
      || "${ipt[@]}" -I DOCKER-USER -i "$computers" -d "$range" -j DROP
  done
  "${ipt[@]}" -C DOCKER-USER -i "$computers" -d "$nodes" -j DROP 2>/dev/null \
    || "${ipt[@]}" -I DOCKER-USER -i "$computers" -d "$nodes" -j DROP
  while "${ipt[@]}" -D DOCKER-USER -i "$computers" -d "$api/32" -p tcp --dport "$api_port" -j ACCEPT 2>/dev/null; do :; done
  "${ipt[@]}" -I DOCKER-USER 1 -i "$computers" -d "$api/32" -p tcp --dport "$api_port" -j ACCEPT
}

# Copies IMAGE from the main engine to each node whose copy differs (there is no registry): one `docker save`, streamed
# into every such node's `docker load` at once, each node sent only the layers it was not sent before ($state/N/layers,
# eng/swarm-load.py), so an image rebuilt over cached layers costs its new layers, not its size (the desktop image's
# 1.6 GB). A node whose load fails (a layer it was sent was removed since) gets the whole archive again.
load() {
  local image=$1 want n targets=() retry=() failed
  want=$(docker image inspect --format '{{.Id}}' "$image")
  for n in 1 2; do
    if [ "$(node "$n" image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)" != "$want" ]; then
      targets+=("unix://$(sock "$n")" "$state/$n/layers")
    fi
  done
  [ ${#targets[@]} -gt 0 ] || return 0
  if ! failed=$(docker save "$image" | python3 "$(dirname "$0")/swarm-load.py" "${targets[@]}" 2>&1 >/dev/null); then
    # The nodes it names (all of them when it failed before it could say) forget what they were sent, and get it all.
    for n in 1 2; do
      if printf '%s\n' "$failed" | grep -qx "unix://$(sock "$n")" || ! printf '%s\n' "$failed" | grep -qx 'failed:'; then
        : >"$state/$n/layers"
        retry+=("unix://$(sock "$n")" "$state/$n/layers")
      fi
    done
    echo "swarm-cluster: $image: the layers-only copy failed on ${retry[*]}; copying it whole" >&2
    failed=$(docker save "$image" | python3 "$(dirname "$0")/swarm-load.py" "${retry[@]}" 2>&1 >/dev/null) || true
  fi
  for n in 1 2; do
    [ "$(node "$n" image inspect --format '{{.Id}}' "$image")" = "$want" ] || { echo "swarm-cluster: $image did not reach node $n: $failed" >&2; exit 1; }
  done
  echo "swarm-cluster: $image loaded on $(( ${#targets[@]} / 2 )) node(s)"
}

# Whether a node's engine was killed rather than stopped: its pid file (which dockerd removes when it stops) names a
# process that is gone. Such an engine restarts over a stale network store: node 1, killed with a test run, refused every
# later task of the computers' network ("network … exists", each session errored) until the cluster was made anew.
killed() {
  local pidfile="$state/$1/dockerd.pid"
  [ -f "$pidfile" ] && ! is_engine "$(cat "$pidfile")"
}

down() {
  for n in 1 2; do
    stop_node "$n"
    ip netns del "$name-$n" 2>/dev/null || true
  done
  ip link del "$bridge" 2>/dev/null || true
  iptables -w -D FORWARD -i "$bridge" -o "$bridge" -j ACCEPT 2>/dev/null || true
  # Leftover mounts of the engines' data roots (overlay layers, netns files) go before the files.
  grep -o " $state/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$state"
}

case "${1:-}" in
  up)
    check
    shift
    if killed 1 || killed 2; then
      echo "swarm-cluster: a node's engine was killed (not stopped); making the cluster anew (its sessions' files go)" >&2
      down
    fi
    network
    start_node 1
    start_node 2
    swarm
    firewall 1
    firewall 2
    for image in "$@"; do load "$image"; done
    echo "swarm-cluster: up ($(node 1 node ls --format '{{.Hostname}} {{.Status}}' | tr '\n' ' '))"
    ;;
  stop)
    check
    stop_node "${2:?stop needs a node number}"
    ;;
  down)
    check
    down
    echo "swarm-cluster: down"
    ;;
  env)
    echo "Computers__Provider=swarm"
    echo "Computers__DockerEndpoint=unix://$(sock 1)"
    echo "Computers__ApiUrl=http://$api:$api_port/"
    echo "Computers__ComputerPort=$api_port"
    ;;
  *)
    echo "usage: $0 up [IMAGE...] | down | env" >&2
    exit 64
    ;;
esac
