#!/bin/bash
# Entry point of a session's computer; runs at every container start, under Docker's init, as the user raworc.
# Makes sure /session/{code,data,secrets,logs} exist, starts the desktop when the session has one
# (RAWORC_DESKTOP_SIZE set, desktop image: raworc-desktop), and replaces itself with the Host agent, which makes itself
# unreadable to other processes, gets its token (exchanging its one-time RAWORC_BOOT_TICKET; a pooled computer waits for
# its claim; elsewhere RAWORC_HOST_TOKEN_FILE) and a new volume's files, then runs setup.sh through
# /usr/local/bin/raworc-setup (RAWORC_SETUP_COMMAND) and reports ready.
set -u
mkdir -p /session/code /session/data /session/logs
mkdir -p -m 0700 /session/secrets
if [ -n "${RAWORC_DESKTOP_SIZE:-}" ] && [ -x /usr/local/bin/raworc-desktop ]; then
  /usr/local/bin/raworc-desktop
fi
exec /usr/local/bin/raworc-host-agent "$@"
