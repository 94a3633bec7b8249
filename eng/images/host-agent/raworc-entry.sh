#!/bin/bash
# Entry point of a session's computer; runs at every container start, under Docker's init, as the user raworc.
# Makes sure /session/{code,data,secrets,logs} exist, starts the desktop when the session has one
# (RAWORC_DESKTOP_SIZE set, desktop image: raworc-desktop), and replaces itself with the Host agent, which makes itself
# unreadable to other processes, gets its token (exchanging its one-time RAWORC_BOOT_TICKET; a pooled computer waits for
# its claim; elsewhere RAWORC_HOST_TOKEN_FILE) and a new volume's files, then runs setup.sh through
# /usr/local/bin/raworc-setup (RAWORC_SETUP_COMMAND) and reports ready.
set -u
# The session's code may have left something other than a folder or a file where the platform writes its logs: a FIFO
# would make the write wait for a reader for ever, at every start (test
# ComputerBoundaryTests.PipesTheSessionsCodeLeftWhereThePlatformWritesItsLogsDoNotHangItsNextStartOrTurn). Whatever is
# there and is not what it should be goes; the session's files elsewhere are never touched.
if [ -L /session/logs ] || { [ -e /session/logs ] && [ ! -d /session/logs ]; }; then
  rm -f -- /session/logs
fi
for f in /session/logs/desktop.log /session/logs/setup.log /session/logs/setup.status /session/logs/setup.status.tmp /session/logs/tools.log; do
  if [ -L "$f" ] || { [ -e "$f" ] && [ ! -f "$f" ]; }; then
    rm -rf -- "$f"
  fi
done
mkdir -p /session/code /session/data /session/logs
mkdir -p -m 0700 /session/secrets
if [ -n "${RAWORC_DESKTOP_SIZE:-}" ] && [ -x /usr/local/bin/raworc-desktop ]; then
  /usr/local/bin/raworc-desktop
fi
exec /usr/local/bin/raworc-host-agent "$@"
