#!/usr/bin/env bash
# Makes gVisor's runsc available to the local Docker engine as the runtime "runsc", so that
# Computers__Runtime=runsc runs every session computer under gVisor's user-space kernel.
#   1. installs Debian's runsc (apt) when it is missing;
#   2. merges the runtime into the engine's daemon.json (other settings are kept);
#   3. reloads the engine with SIGHUP (no restart: running containers keep running);
#   4. waits until `docker info` lists the runtime.
# Running it again changes nothing. Needs root and a dockerd on this machine; for an engine it cannot
# configure (Docker Desktop, a remote DOCKER_HOST) it prints what to do and exits 2.
#   RAWORC_DOCKERD_PIDFILE   pid file of the engine to configure (default /var/run/docker.pid)
set -euo pipefail
export PATH="/usr/local/bin:$PATH"
here=$(cd "$(dirname "$0")" && pwd)

# --network=host: this runsc (Debian's 2022 build) refuses to start in a network namespace Docker made
#   ("cannot run with network enabled in root network namespace") unless it uses the namespace as it is,
#   without its own network stack. The namespace is still the container's own (Docker's bridge or none),
#   not the host's.
# --host-uds=open: computers reach the API through a Unix socket bind-mounted from the host; gVisor
#   refuses to connect to host sockets unless allowed.
runtime_args='["--network=host","--host-uds=open"]'

manual() {
  cat >&2 <<TXT
gvisor: $1
Register gVisor with that engine by hand: install runsc where the engine runs (https://gvisor.dev/docs/user_guide/install/),
add this to its daemon.json (Docker Desktop: Settings > Docker Engine) and reload or restart the engine:
  {"runtimes": {"runsc": {"path": "<path of runsc>", "runtimeArgs": $runtime_args}}}
Docker Desktop runs its engine in a VM of its own, where installing runsc is not supported: use a Linux engine for runsc.
TXT
  exit 2
}

# Whether the engine lists runsc with our arguments (the path may differ from one machine to another).
registered() {
  docker info --format '{{json .Runtimes}}' 2>/dev/null | python3 -c '
import json, sys
runtimes = json.load(sys.stdin) or {}
sys.exit(0 if runtimes.get("runsc", {}).get("runtimeArgs") == json.loads(sys.argv[1]) else 1)' "$runtime_args"
}

case "${DOCKER_HOST:-unix:///var/run/docker.sock}" in
  unix://*) ;;
  *) manual "the engine is remote (DOCKER_HOST=$DOCKER_HOST); its daemon.json is not on this machine." ;;
esac
bash "$here/docker-engine.sh" >/dev/null
if docker info --format '{{.OperatingSystem}}' 2>/dev/null | grep -qi 'docker desktop'; then
  manual "the engine is Docker Desktop's."
fi

pidfile=${RAWORC_DOCKERD_PIDFILE:-/var/run/docker.pid}
pid=$(cat "$pidfile" 2>/dev/null || true)
if [ -z "$pid" ] || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != "dockerd" ]; then
  manual "no dockerd runs on this machine under $pidfile."
fi
if registered && command -v runsc >/dev/null 2>&1; then
  echo "gvisor: runsc is already registered with the engine"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  manual "this needs root (it installs a package, writes the engine's daemon.json and signals dockerd): sudo bash $0"
fi

if ! command -v runsc >/dev/null 2>&1; then
  echo "gvisor: installing Debian's runsc"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runsc >/dev/null
fi
runsc_path=$(command -v runsc)

# The engine reads --config-file when it was started with one, else /etc/docker/daemon.json.
config=$(tr '\0' '\n' <"/proc/$pid/cmdline" | python3 -c '
import sys
args = sys.stdin.read().split("\n")
path = "/etc/docker/daemon.json"
for i, arg in enumerate(args):
    if arg == "--config-file" and i + 1 < len(args): path = args[i + 1]
    elif arg.startswith("--config-file="): path = arg.split("=", 1)[1]
print(path)')

# Merge, never overwrite: other settings (log drivers, mirrors, user namespaces) stay as they are. An unreadable
# file is left alone, since the engine would refuse it on reload anyway. Written to a temporary file and renamed,
# so the engine never reads half a file.
mkdir -p "$(dirname "$config")"
changed=$(python3 - "$config" "$runsc_path" "$runtime_args" <<'PY'
import json, os, sys
config, path, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
settings = {}
if os.path.exists(config) and os.path.getsize(config) > 0:
    try:
        with open(config) as f:
            settings = json.load(f)
    except ValueError as e:
        sys.exit(f"gvisor: {config} is not valid JSON ({e}); fix it first")
wanted = {"path": path, "runtimeArgs": args}
if settings.get("runtimes", {}).get("runsc") == wanted:
    print("no")
    sys.exit(0)
settings.setdefault("runtimes", {})["runsc"] = wanted
with open(config + ".raworc-tmp", "w") as f:
    json.dump(settings, f, indent=2)
    f.write("\n")
os.replace(config + ".raworc-tmp", config)
print("yes")
PY
)
if [ "$changed" = yes ]; then
  echo "gvisor: registered runsc in $config"
fi

# SIGHUP makes dockerd re-read its configuration (runtimes included) without stopping anything.
kill -HUP "$pid"
for _ in $(seq 1 50); do
  if registered; then
    echo "gvisor: the engine lists runsc ($runsc_path, args $runtime_args)"
    exit 0
  fi
  sleep 0.2
done
echo "gvisor: the engine did not pick up runsc from $config after a reload; its log says why" >&2
exit 1
