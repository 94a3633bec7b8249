#!/usr/bin/env bash
# Runs the whole test suite against a real Docker engine, Postgres and Redis (the tests start the AppHost themselves),
# in two lanes at once: the test classes whose systems run session computers (trait Lane=computers, the [ComputerLane]
# mark; they mostly wait on containers and agents) and the rest (mostly the API's CPU), each a `dotnet test` process of
# its own over one build, their output lines prefixed "[computers] " and "[others] ". The exit status is the first failing
# lane's. Extra arguments go to `dotnet test` (a --filter is combined with each lane's).
#   --no-build       skips the one build before the lanes (CI builds first, with warnings as errors).
#   --and-runtime NAME  also runs the tests over real computers under the OCI runtime NAME (see --runtime) as a third
#                    lane, "computers-NAME", alone once both lanes are done: CI's gVisor pass (--and-runtime runsc).
#   RAWORC_TEST_RESULTS=DIR  writes each lane's results to DIR/<lane>.trx.
#   --runtime NAME   runs only the tests over real computers (namespaces Raworc.Tests.Computers and
#                    Raworc.Tests.EndToEnd), with every computer under the OCI runtime NAME
#                    (RAWORC_TEST_RUNTIME, which the fixtures read), in one process. For runsc, eng/gvisor.sh installs
#                    and registers gVisor first. Less the few whose subject does not depend on the runtime (listed below).
#   --provider swarm runs only the tests over real computers (the same namespaces), with every system's computers on
#                    eng/swarm-cluster.sh's two-node cluster (RAWORC_TEST_PROVIDER=swarm, which the fixtures read; the
#                    cluster's name is RAWORC_SWARM_NAME's), less the tests marked [OnlyProvider("docker", reason)]
#                    (trait OnlyProvider=docker), whose subject exists on the single engine only. Not in CI: it takes
#                    longer than CI's budget (README "Providers: Docker and Swarm" has the last run's result).
# The Swarm tests (SwarmComputersTests, SwarmBoundaryTests, SwarmWarmPoolTests) bring up eng/swarm-cluster.sh's two-node
# cluster themselves, in the computers lane (and in the --provider swarm run).
set -euo pipefail
cd "$(dirname "$0")/.."

runtime=""
provider=""
and_runtime=""
build=true
user_filter=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --and-runtime) and_runtime=${2:?--and-runtime needs a runtime name}; shift 2 ;;
    --and-runtime=*) and_runtime=${1#--and-runtime=}; shift ;;
    --no-build) build=false; shift ;;
    --filter) user_filter=${2:?--filter needs an expression}; shift 2 ;;
    --filter=*) user_filter=${1#--filter=}; shift ;;
    --runtime) runtime=${2:?--runtime needs a runtime name}; shift 2 ;;
    --runtime=*) runtime=${1#--runtime=}; shift ;;
    --provider) provider=${2:?--provider needs a provider name}; shift 2 ;;
    --provider=*) provider=${1#--provider=}; shift ;;
    *) args+=("$1"); shift ;;
  esac
done

single=()
if [ "$build" = false ]; then single+=(--no-build); fi
# Combines a lane's or a mode's filter with the caller's --filter, if any.
with_user_filter() { if [ -n "$user_filter" ]; then echo "($user_filter)&($1)"; else echo "$1"; fi; }

source eng/prepare.sh
computers="FullyQualifiedName~Raworc.Tests.Computers.|FullyQualifiedName~Raworc.Tests.EndToEnd."
if [ -n "$provider" ] && [ "$provider" != docker ]; then
  [ "$provider" = swarm ] || { echo "test.sh: --provider is docker or swarm" >&2; exit 64; }
  # A Swarm service cannot choose its OCI runtime (the nodes' dockerd --default-runtime does).
  [ -z "$runtime" ] || { echo "test.sh: --runtime and --provider swarm do not go together" >&2; exit 64; }
  export RAWORC_TEST_PROVIDER=swarm
  exec dotnet test Raworc.sln "${single[@]}" --filter "$(with_user_filter "($computers)&OnlyProvider!=docker")" "${args[@]}"
fi

# The filter of a pass over real computers under another runtime: the computers' namespaces, less what follows.
runtime_filter() {
filter=$computers
# The Swarm subset (the Swarm* test classes, on eng/swarm-cluster.sh's two nodes) runs in the plain pass only: a Swarm
# service cannot choose its OCI runtime (the nodes' dockerd --default-runtime does), so a second pass would rerun it
# under runc.
filter="($filter)&FullyQualifiedName!~Raworc.Tests.Computers.Swarm"
# Tests whose subject does not depend on the OCI runtime, each on a system of its own (about a minute apiece of start-up
# and shutdown), run in the plain pass only: two API replicas (ReplicasTests, and their shared warm pool,
# ReplicasWarmPoolTests; WarmPoolTests covers the pool under each runtime), the API and the whole system restarted
# (ApiRestartTests, LocalStateTests), the warm pool's share of the capacity (WarmPoolCapacityTests).
for plain_only in EndToEnd.ReplicasTests EndToEnd.ReplicasWarmPoolTests Computers.ApiRestartTests EndToEnd.LocalStateTests Computers.WarmPoolCapacityTests; do
  filter="$filter&FullyQualifiedName!~Raworc.Tests.$plain_only."
done
# And the API's start deadline, which waits it out whatever runs the computer (on ApiRestartTests' system, whose deadline is short).
filter="$filter&FullyQualifiedName!~Raworc.Tests.Computers.StartDeadlineTests."
# And those that start no computer at all (the computer port's listeners and bounds, the provider's options), or whose
# subject is the API's or the client's side of a turn whatever runs the computer: the command line's output, a turn's
# trace, a ready report racing the worker's record.
for plain_only in Computers.ComputerPortSharingTests Computers.ComputerPortConnectionLimitTests Computers.ComputerProviderOptionsTests \
  EndToEnd.CommandLineTests EndToEnd.TurnTraceTests Computers.ReadyRaceTests; do
  filter="$filter&FullyQualifiedName!~Raworc.Tests.$plain_only."
done

# And three tests whose subject gVisor does not touch but which it makes slow (one fork there costs 50-300 ms on some
# machines, README "gVisor"; each took 70-130 s in a gVisor pass of 22 min on such a machine): the remix copy's boundary
# (the copy helper always runs under runc, and gVisor's inotify cannot stage the attack), twenty concurrent claims of the
# warm pool (the API's claim, the same whatever runs the computer; the pool's handover still runs under both) and a
# terminal typed into on the desktop (the desktop's display, screenshot and actions still run under both).
for plain_only in Computers.RemixCopyBoundaryTests. Computers.WarmPoolTests.TwentyConcurrentCreates \
  EndToEnd.DesktopTests.TheHostOpensATerminal; do
  filter="$filter&FullyQualifiedName!~Raworc.Tests.$plain_only"
done

# And one whose staging gVisor does not show: a network taken away from a running computer (`docker network disconnect`)
# leaves the sandbox's own view of its routes as it was (a UDP connect still succeeded in CI's gVisor pass), so the
# "found without its network" state cannot be made there (and under gVisor computers are attached before their start).
filter="$filter&FullyQualifiedName!~Raworc.Tests.Computers.SessionComputersTests.AComputerFoundWithoutItsNetworkIsAttachedAgain"

echo "$filter"
}

if [ -n "$runtime" ]; then
  if [ "$runtime" = runsc ]; then
    bash eng/gvisor.sh
  fi
  export RAWORC_TEST_RUNTIME=$runtime
  exec dotnet test Raworc.sln "${single[@]}" --filter "$(with_user_filter "$(runtime_filter)")" "${args[@]}"
fi

# The lanes.
if [ "$build" = true ]; then
  dotnet build Raworc.sln -nologo -v:q
fi
if [ "$and_runtime" = runsc ]; then
  bash eng/gvisor.sh
fi
# Runs one lane: `lane NAME FILTER [ENV=VALUE...]`; its output lines carry the lane's name, its status is dotnet test's.
lane() {
  local name=$1 filter=$2 results=()
  shift 2
  if [ -n "${RAWORC_TEST_RESULTS:-}" ]; then
    results=(--logger "trx;LogFileName=$name.trx" --results-directory "$RAWORC_TEST_RESULTS")
  fi
  set +e
  env "$@" dotnet test Raworc.sln --no-build --filter "$(with_user_filter "$filter")" "${results[@]}" "${args[@]}" 2>&1 \
    | sed -u "s/^/[$name] /"
  local status=${PIPESTATUS[0]}
  set -e
  return "$status"
}
lane computers "Lane=computers" &
computers_lane=$!
lane others "Lane!=computers" &
others_lane=$!
status=0
wait "$computers_lane" || status=$?
wait "$others_lane" || { s=$?; [ "$status" -ne 0 ] || status=$s; }
# The runtime's lane runs alone, after both: beside the computers lane (a third process of systems with computers on two
# cores, load averages of 25-44) waits that hold on a quieter machine ran out in every CI run.
if [ -n "$and_runtime" ]; then
  lane "computers-$and_runtime" "$(runtime_filter)" "RAWORC_TEST_RUNTIME=$and_runtime" || { s=$?; [ "$status" -ne 0 ] || status=$s; }
fi
exit "$status"
