#!/bin/bash
# Runs a session's setup.sh; the Host agent runs it (RAWORC_SETUP_COMMAND) at every computer start, after it has
# taken its token and before it reports ready, so no code of the session runs while the token is on disk.
#
# Contract (read by the Host agent and by the API's computer layer):
#  1. Makes sure /session/{code,data,secrets,logs} exist.
#  2. If /session/code/setup.sh exists, runs it with bash as the user `raworc`, from /session/code,
#     stdin closed, limited to $RAWORC_SETUP_TIMEOUT seconds (default 300); the script's whole process
#     group is sent TERM at the limit and KILL 10 s later. Its stdout and stderr are appended to
#     /session/logs/setup.log after a header line "== <UTC time> setup.sh".
#  3. Writes /session/logs/setup.status (replaced atomically) as key=value lines:
#       result=ok|failed|timeout|none   (none: there is no setup.sh)
#       exit_code=<status of setup.sh; 124 or 137 on timeout; empty for none>
#       timeout_seconds=<the limit>
#       finished_at=<UTC ISO 8601>
#     While the script runs the file holds result=running.
#  4. Exits 0 whatever the setup's outcome: a failing setup is reported to the user, it does not stop the computer.
set -u
logs=/session/logs
status=$logs/setup.status
limit=${RAWORC_SETUP_TIMEOUT:-300}
mkdir -p /session/code /session/data /session/secrets "$logs"

write_status() { # result exit_code
  # A FIFO setup.sh may have left there would make the redirection wait for ever: anything but a folder is removed first
  # (a folder only makes the write fail, and the status then stays as it was).
  if [ ! -d "$status.tmp" ]; then
    rm -f -- "$status.tmp"
  fi
  printf 'result=%s\nexit_code=%s\ntimeout_seconds=%s\nfinished_at=%s\n' \
    "$1" "$2" "$limit" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$status.tmp" && mv -f "$status.tmp" "$status"
}

# Under gVisor the agent keeps a reserve of processes: setup.sh gets the tools' limit (see BashOptions.ProcessLimit).
if [ -n "${RAWORC_TOOL_PROCESS_LIMIT:-}" ]; then
  ulimit -u "$RAWORC_TOOL_PROCESS_LIMIT"
fi

if [ -f /session/code/setup.sh ]; then
  write_status running ""
  echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) setup.sh" >>"$logs/setup.log"
  # timeout runs the script in its own process group and signals the whole group, so children
  # such as `sleep infinity` end with it.
  (cd /session/code && timeout --kill-after=10 "$limit" bash /session/code/setup.sh) \
    >>"$logs/setup.log" 2>&1 </dev/null
  code=$?
  case $code in
    0) write_status ok 0 ;;
    124|137) write_status timeout "$code" ;;
    *) write_status failed "$code" ;;
  esac
else
  write_status none ""
fi
exit 0
