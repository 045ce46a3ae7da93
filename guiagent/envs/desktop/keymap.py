"""Canonical key names (``guiagent.actions.keys``) -> the names pyautogui uses on each operating system.

Most canonical names are already pyautogui names. The exceptions are the platform meta key ("cmd": Command on
macOS, the Windows key on Windows, Super on Linux), the option key on macOS, the context-menu key, and keys an OS
simply does not have (there is no Print Screen key event on macOS, no Fn key event on X11 or Windows). Asking for
one of those raises UnsupportedAction before any input is sent, instead of pyautogui silently pressing nothing.
"""

from __future__ import annotations

import sys
from typing import Literal

from guiagent.actions.keys import canonical_key
from guiagent.errors import ActionError, UnsupportedAction

OsName = Literal["linux", "macos", "windows"]
OS_NAMES: tuple[str, ...] = ("linux", "macos", "windows")

#: The pyautogui names of the keypad keys ("kp_enter" has none: see XKEYSYM_PREFIX).
_KEYPAD = {**{f"kp_{d}": f"num{d}" for d in range(10)},
           **{f"kp_{op}": op for op in ("add", "subtract", "multiply", "divide", "decimal", "separator")}}
#: Keys pyautogui cannot name, sent as this X11 keysym through XTest instead (``guiagent.envs.desktop.xtest``).
XKEYSYM_PREFIX = "xkeysym:"

_PER_OS: dict[str, dict[str, str | None]] = {
    "linux": {"cmd": "winleft", "menu": "apps", "fn": None, **_KEYPAD, "kp_enter": XKEYSYM_PREFIX + "KP_Enter"},
    "macos": {"cmd": "command", "alt": "option", "delete": "del", "menu": None, "insert": None,
              "printscreen": None, "scrolllock": None, "pause": None, "numlock": None,
              **{k: None for k in (*_KEYPAD, "kp_enter")}},
    "windows": {"cmd": "win", "menu": "apps", "fn": None, **_KEYPAD, "kp_enter": None},
}


def current_os() -> OsName:
    """The OS this process runs on, as one of OS_NAMES ("linux" for every X11 Unix)."""
    if sys.platform == "darwin":
        return "macos"
    if sys.platform.startswith("win"):
        return "windows"
    return "linux"


def check_os(os_name: str) -> OsName:
    """``os_name`` if it is one of ``OS_NAMES`` (linux, macos, windows).

    Raises:
        ActionError: any other name.
    """
    if os_name not in OS_NAMES:
        raise ActionError(f"unknown OS {os_name!r}; expected one of {list(OS_NAMES)}")
    return os_name  # type: ignore[return-value]


def pyautogui_key(key: str, os_name: OsName) -> str:
    """The pyautogui name of one key on ``os_name``. Accepts any alias ``canonical_key`` accepts."""
    key = canonical_key(key)
    table = _PER_OS[check_os(os_name)]
    if key in table:
        name = table[key]
        if name is None:
            raise UnsupportedAction(f"the {key!r} key cannot be sent on {os_name}")
        return name
    return key

