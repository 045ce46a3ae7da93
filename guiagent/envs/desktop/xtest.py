"""Input pyautogui cannot send on X11, sent through the X server's XTest extension.

pyautogui's X11 backend knows buttons 1-7 and a fixed table of key names. The side buttons (back = 8,
forward = 9) and keys missing from its table (the keypad's Enter, ``KP_Enter``) go through ``fake_input`` here,
on the very connection pyautogui uses, so they reach the server in order with pyautogui's own pointer moves and
key presses.
"""

from __future__ import annotations

from typing import Any

from guiagent.errors import UnsupportedAction

#: X11 pointer button numbers of the side buttons.
SIDE_BUTTONS: dict[str, int] = {"back": 8, "forward": 9}


class XTestInput:
    """Buttons by number and keys by keysym name, through XTest on an open python-xlib connection."""

    def __init__(self, conn: Any):
        self.conn = conn

    @classmethod
    def from_pyautogui(cls, gui: Any) -> XTestInput | None:
        """The XTest input sharing pyautogui's X connection; None when pyautogui is not on X11 (or a stand-in)."""
        conn = getattr(getattr(gui, "platformModule", None), "_display", None)
        return cls(conn) if conn is not None and hasattr(conn, "keysym_to_keycode") else None

    def button(self, name: str, down: bool) -> None:
        """Press (``down``) or release a side button ("back" or "forward") where the pointer is."""
        from Xlib import X
        from Xlib.ext.xtest import fake_input

        fake_input(self.conn, X.ButtonPress if down else X.ButtonRelease, SIDE_BUTTONS[name])
        self.conn.sync()

    def keycode(self, keysym_name: str) -> int:
        """The keycode of an X keysym name (e.g. "KP_Enter"); UnsupportedAction when the keymap has none."""
        from Xlib import XK

        sym = XK.string_to_keysym(keysym_name)
        code = self.conn.keysym_to_keycode(sym) if sym else 0
        if not code:
            raise UnsupportedAction(f"the X keyboard map has no key for {keysym_name}")
        return int(code)

    def key(self, keysym_name: str, down: bool) -> None:
        """Press (``down``) or release the key of an X keysym name."""
        from Xlib import X
        from Xlib.ext.xtest import fake_input

        fake_input(self.conn, X.KeyPress if down else X.KeyRelease, self.keycode(keysym_name))
        self.conn.sync()
