#!/bin/bash
# Starts the desktop of a session's computer (the desktop image only); raworc-entry runs it at every container
# start, as the user raworc, before the Host agent, when RAWORC_DESKTOP_SIZE (WIDTHxHEIGHT, e.g. 1280x800) is set.
# The display is $DISPLAY (:1 unless set): Xvfb at that size with 24-bit colour, listening on its Unix socket only,
# then sxhkd (the keyboard shortcuts) and the Openbox window manager. Returns once the window manager runs (or after 30 s, leaving the agent to report
# it); both keep running in the background for the container's life. Output goes to /session/logs/desktop.log.
set -u
size=${RAWORC_DESKTOP_SIZE:?}
display=${DISPLAY:-:1}
log=/session/logs/desktop.log
case $size in
  [0-9]*x[0-9]*) ;;
  *) echo "raworc-desktop: RAWORC_DESKTOP_SIZE must be WIDTHxHEIGHT, not '$size'" >>"$log"; exit 1 ;;
esac
# A restored computer starts with a fresh /tmp (in memory), so no stale lock or socket remains.
echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) desktop $size on $display" >>"$log"
# X makes its socket folder only as root.
mkdir -p -m 1777 /tmp/.X11-unix
# -noreset: without it the server resets when its last client leaves (the readiness probe below), refusing
# connections meanwhile.
Xvfb "$display" -screen 0 "${size}x24" -noreset -nolisten tcp -nolisten local -dpi 96 >>"$log" 2>&1 </dev/null &
export DISPLAY=$display
wm=
keys=
for _ in $(seq 300); do
  # (Re)started until they run: a window manager or key daemon that could not connect exits at once. The keys
  # (sxhkd, /etc/raworc/sxhkdrc) start first: their grabs are in place long before Openbox is ready.
  if { [ -z "$keys" ] || ! kill -0 "$keys" 2>/dev/null; } && xdpyinfo >/dev/null 2>&1; then
    # sxhkd runs each command with $SXHKD_SHELL -c (it refuses to start without that or $SHELL).
    SXHKD_SHELL=/bin/sh setsid sxhkd -c /etc/raworc/sxhkdrc >>"$log" 2>&1 </dev/null &
    keys=$!
  fi
  if { [ -z "$wm" ] || ! kill -0 "$wm" 2>/dev/null; } && xdpyinfo >/dev/null 2>&1; then
    setsid openbox >>"$log" 2>&1 </dev/null &
    wm=$!
  fi
  # Openbox sets the work area on the root window last, once it has read its settings and taken its key bindings.
  if [ -n "$wm" ] && xprop -root _NET_WORKAREA 2>/dev/null | grep -q =; then
    # The keyboard focus starts as PointerRoot, which xdotool cannot act on: give it to the root window.
    xdotool windowfocus "$(xwininfo -root | awk '/Window id/ {print $4}')" >>"$log" 2>&1
    exit 0
  fi
  sleep 0.1
done
echo "raworc-desktop: the desktop was not ready within 30 s" >>"$log"
exit 1
