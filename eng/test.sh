#!/usr/bin/env bash
# Runs the whole test suite against a real Docker engine, Postgres and Redis (the tests start the
# AppHost themselves). Extra arguments go to `dotnet test`.
set -euo pipefail
cd "$(dirname "$0")/.."
source eng/prepare.sh
exec dotnet test Raworc.sln "$@"
