#!/usr/bin/env bash
# Runs the whole test suite against a real Docker engine, Postgres and Redis (the tests start the
# AppHost themselves). Extra arguments go to `dotnet test`.
#   --runtime NAME   runs only the tests over real computers (namespaces Raworc.Tests.Computers and
#                    Raworc.Tests.EndToEnd), with every computer under the OCI runtime NAME
#                    (RAWORC_TEST_RUNTIME, which the fixtures read). For runsc, eng/gvisor.sh installs
#                    and registers gVisor first. CI runs these tests once more with --runtime runsc, less the
#                    few whose subject does not depend on the runtime (listed below).
# The Swarm tests (SwarmComputersTests, SwarmBoundaryTests, SwarmWarmPoolTests) bring up eng/swarm-cluster.sh's two-node
# cluster themselves, in the plain run only.
set -euo pipefail
cd "$(dirname "$0")/.."

runtime=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runtime) runtime=${2:?--runtime needs a runtime name}; shift 2 ;;
    --runtime=*) runtime=${1#--runtime=}; shift ;;
    *) args+=("$1"); shift ;;
  esac
done

source eng/prepare.sh
if [ -z "$runtime" ]; then
  exec dotnet test Raworc.sln "${args[@]}"
fi
if [ "$runtime" = runsc ]; then
  bash eng/gvisor.sh
fi
export RAWORC_TEST_RUNTIME=$runtime
filter="FullyQualifiedName~Raworc.Tests.Computers.|FullyQualifiedName~Raworc.Tests.EndToEnd."
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

exec dotnet test Raworc.sln --filter "$filter" "${args[@]}"
