#!/bin/sh
# Start a virtual X desktop served over VNC: Xvfb + openbox + x11vnc (Debian: apt install xvfb openbox x11vnc).
# This is the script guiagent's tests start their VNC desktops with (tests/test_vnc_env.py); see
# docs/remote-desktops.md for running it in a container or VM.
#
#   start-vnc-desktop.sh [DISPLAY_NUMBER [PORT [WIDTHxHEIGHT]]]       defaults: 1 5900 1280x800
#
# Environment: VNC_PASSWORD  if set, clients must give this password (stored with x11vnc -storepasswd under
#                            $HOME/.vnc); unset, no password (then keep the port private: VNC_LISTEN=localhost)
#              VNC_LISTEN    "localhost" (default): accept connections from this machine only (use an SSH tunnel);
#                            "all": from anywhere (a container's published port)
# Runs in the foreground until stopped; stopping it (SIGTERM, Ctrl-C) stops all three.
set -eu
N="${1:-1}"
PORT="${2:-5900}"
SIZE="${3:-1280x800}"

Xvfb ":$N" -screen 0 "${SIZE}x24" -nolisten tcp -noreset +extension RANDR &
XVFB=$!
trap 'kill $XVFB ${WM:-} ${VNC:-} 2>/dev/null; wait' EXIT INT TERM
i=0
until [ -S "/tmp/.X11-unix/X$N" ]; do       # the server is up once its socket exists
    i=$((i + 1)); [ "$i" -le 200 ] || { echo "Xvfb :$N did not start" >&2; exit 1; }
    sleep 0.05
done

DISPLAY=":$N" openbox &
WM=$!

if [ -n "${VNC_PASSWORD:-}" ]; then
    mkdir -p "$HOME/.vnc"
    x11vnc -storepasswd "$VNC_PASSWORD" "$HOME/.vnc/passwd" >/dev/null 2>&1
    AUTH="-rfbauth $HOME/.vnc/passwd"
else
    AUTH="-nopw"
fi
LISTEN="-localhost"
[ "${VNC_LISTEN:-localhost}" = "all" ] && LISTEN=""
# -forever: keep serving after a client disconnects; -shared: let a person watch while the agent works;
# -noxdamage: poll the whole screen (Xvfb's damage reports can lag, and screenshots must be exact);
# -nowireframe -noscrollcopyrect: pass drags and wheel turns on as they are (the defaults intercept them to
# speed up a person's window moves and scrolling).
# shellcheck disable=SC2086
x11vnc -display ":$N" -rfbport "$PORT" $LISTEN -forever -shared -noxdamage -nowireframe -noscrollcopyrect \
    $AUTH -quiet &
VNC=$!
wait $XVFB    # the desktop lives as long as its X server (restart x11vnc alone if it ever exits)
