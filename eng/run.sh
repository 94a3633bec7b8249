#!/usr/bin/env bash
# Runs Raworc: Postgres, Redis and the API (http://localhost:9000/api/v0) under the Aspire AppHost,
# with the dashboard on http://localhost:15000 (its login link is printed below).
set -euo pipefail
cd "$(dirname "$0")/.."
source eng/prepare.sh
exec dotnet run --project Raworc.AppHost --launch-profile http "$@"
