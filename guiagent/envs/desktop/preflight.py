"""Checks run before the real desktop touches the screen, so a missing piece is an EnvError that says what to
install or set, not a KeyError or Xlib traceback from inside pyautogui.

Only X11 needs checks: pyautogui's X backend reads $DISPLAY when it is imported and python-xlib refuses to connect
unless an Xauthority file exists (an empty file is enough for servers without access control, such as Xvfb).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass

from guiagent.errors import EnvError

XVFB_HINT = ("or start a virtual screen: apt install xvfb && Xvfb :99 -screen 0 1920x1080x24 & "
             "then export DISPLAY=:99")


def is_wayland(environ: Mapping[str, str]) -> bool:
    """True when ``environ`` describes a Wayland session (pyautogui and mss need X11 there)."""
    return bool(environ.get("WAYLAND_DISPLAY")) or environ.get("XDG_SESSION_TYPE", "").lower() == "wayland"


def x_display_name(environ: Mapping[str, str], x_display: str | None, allow_xwayland: bool) -> str:
    """The X display to drive, or an EnvError explaining why there is none usable."""
    if x_display:
        return x_display  # an explicit display (a sandbox Xvfb) is fine whatever the session type
    name = environ.get("DISPLAY", "")
    if not name:
        if is_wayland(environ):
            raise EnvError("this is a Wayland session without X access (DISPLAY is not set); pyautogui and mss need "
                           "an X server. Log in with an Xorg session (e.g. 'Ubuntu on Xorg'), " + XVFB_HINT)
        raise EnvError("no display: DISPLAY is not set. Run inside a graphical session, " + XVFB_HINT)
    if is_wayland(environ) and not allow_xwayland:
        raise EnvError(f"this is a Wayland session (DISPLAY={name} is XWayland): screenshots of native Wayland "
                       "windows come back black and input only reaches X11 apps. Log in with an Xorg session, "
                       "drive a separate Xvfb with x_display=':99', or pass allow_xwayland=True if every app "
                       "you need is an X11 app.")
    return name


def xauthority_path(environ: Mapping[str, str]) -> str:
    """The Xauthority file python-xlib will read: ``$XAUTHORITY``, else ``~/.Xauthority``."""
    path = environ.get("XAUTHORITY")
    if path:
        return path
    home = environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".Xauthority")


def check_xauthority(environ: Mapping[str, str]) -> str:
    """The Xauthority file's path, if it exists.

    Raises:
        EnvError: the file is missing; the message says how to create it or where the session's cookie lives.
    """
    path = xauthority_path(environ)
    if not os.path.isfile(path):
        how = "XAUTHORITY points at" if environ.get("XAUTHORITY") else "XAUTHORITY is unset and the default is"
        raise EnvError(f"missing Xauthority file: {how} {path}, which does not exist, and python-xlib (used by "
                       f"pyautogui) will not connect without one. If your X server needs no cookie (Xvfb, "
                       f"xhost +local:) create an empty file: touch {path}; otherwise set XAUTHORITY to your "
                       "session's cookie file (see `ls /run/user/$UID/` or `echo $XAUTHORITY` in a desktop terminal).")
    return path


def check_x_connection(name: str) -> None:
    """Open and close one X connection to ``name`` so an unreachable server fails here, clearly."""
    try:
        from Xlib import error as xerror

        from guiagent.envs.desktop.xlibquiet import open_display
    except ImportError as e:
        raise EnvError("python-xlib is missing: pip install 'guiagent[desktop]'") from e
    try:
        conn = open_display(name)
    except (xerror.DisplayError, xerror.ConnectionClosedError, OSError) as e:
        raise EnvError(f"cannot open X display {name!r}: {e}. Is the X server running, and does XAUTHORITY "
                       "hold its cookie?") from e
    conn.close()


@dataclass(frozen=True)
class Tools:
    """Which clipboard programs exist (X11 only; the clipboard route of non-ASCII typing needs one)."""

    xclip: str | None
    xsel: str | None

    @classmethod
    def find(cls) -> Tools:
        """The clipboard programs on ``PATH``."""
        return cls(shutil.which("xclip"), shutil.which("xsel"))

    @property
    def clipboard(self) -> str | None:
        """The path of the clipboard program to use (xclip preferred), or None when neither exists."""
        return self.xclip or self.xsel


def need_clipboard_tool(tools: Tools) -> str:
    """The path of the clipboard program that clipboard typing will use.

    Raises:
        EnvError: neither xclip nor xsel is installed (the message says what to install).
    """
    if not tools.clipboard:
        raise EnvError("typing non-ASCII text through the clipboard needs xclip or xsel: apt install xclip "
                       "(or use the default, unicode_method='keysym', which needs no extra program)")
    return tools.clipboard
