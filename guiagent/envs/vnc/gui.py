"""A pyautogui-shaped input backend that sends RFB key and pointer events, plus the screen as a ``Capture``.

``DesktopEnv`` drives the screen through a pyautogui module and a ``Capture``; giving it these two instead turns
it into a remote desktop with every check, conversion and refusal unchanged (``guiagent.envs.vnc.env``).

Keys are X keysyms (RFB's key events carry keysyms whatever the remote OS): named keys from ``KEYSYMS``, printable
ASCII as its own keysym, and any other character as its Unicode keysym (0x01000000 + code point), which X servers
such as x11vnc and TigerVNC bind to a spare key on the fly. Wheel notches are button 4/5 clicks; horizontal ones
are shift + button 4/5 by default (what X toolkits and Windows apps read as horizontal scrolling; x11vnc drops
buttons 6/7), or button 6/7 clicks with ``hscroll_buttons=True`` (servers that pass them on, such as TigerVNC).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from PIL import Image

from guiagent.envs.desktop.capture import Monitor
from guiagent.envs.desktop.text import keysym_for
from guiagent.envs.vnc.client import Event, VncClient

#: pyautogui key names (as ``guiagent.envs.desktop.keymap.pyautogui_key`` gives them for any OS) -> X keysyms
KEYSYMS: dict[str, int] = {
    "ctrl": 0xFFE3, "shift": 0xFFE1, "alt": 0xFFE9, "option": 0xFFE9,
    "winleft": 0xFFEB, "win": 0xFFEB, "command": 0xFFEB,
    "enter": 0xFF0D, "tab": 0xFF09, "space": 0x20, "backspace": 0xFF08, "delete": 0xFFFF, "del": 0xFFFF,
    "esc": 0xFF1B, "insert": 0xFF63, "home": 0xFF50, "end": 0xFF57, "pageup": 0xFF55, "pagedown": 0xFF56,
    "left": 0xFF51, "up": 0xFF52, "right": 0xFF53, "down": 0xFF54,
    "capslock": 0xFFE5, "numlock": 0xFF7F, "scrolllock": 0xFF14, "printscreen": 0xFF61, "pause": 0xFF13,
    "apps": 0xFF67, "menu": 0xFF67,
    "volumeup": 0x1008FF13, "volumedown": 0x1008FF11, "volumemute": 0x1008FF12, "playpause": 0x1008FF14,
    "nexttrack": 0x1008FF17, "prevtrack": 0x1008FF16,
    **{f"f{i}": 0xFFBE + i - 1 for i in range(1, 25)},
}
BUTTONS = {"left": 1, "middle": 2, "right": 3}
_PRINTABLE = frozenset(chr(c) for c in range(0x20, 0x7F)) | {"\n", "\t"}


class FailSafeException(Exception):
    """Never raised: a remote pointer has no corner a person can push it into. Present for the executor."""


def linear(n: float) -> float:
    return n


class VncGui:
    """The part of pyautogui's API that ``PyAutoGuiExecutor`` uses, over one ``VncClient``.

    Args:
        client: the connection.
        move_step_s: spacing of the intermediate pointer positions of a timed move (a drag).
        key_delay: pause after each key release while typing (0: none; servers queue events in order).
        hscroll_buttons: horizontal wheel as buttons 6/7 instead of shift + buttons 4/5.
        switch_pause: seconds between a pointer event and a following key event (or the reverse), so servers
            that queue pointer events (x11vnc) apply them in the order sent.
    """

    FailSafeException = FailSafeException
    linear = staticmethod(linear)

    def __init__(self, client: VncClient, move_step_s: float = 1 / 60, key_delay: float = 0.0,
                 hscroll_buttons: bool = False, switch_pause: float = 0.1):
        self.client = client
        self.hscroll_buttons = hscroll_buttons
        self.switch_pause = switch_pause
        self.click_gap = 0.05
        self._last_kind: str | None = None
        self._last_sent = 0.0
        self.PAUSE = 0.0
        self.FAILSAFE = False
        self.move_step_s, self.key_delay = move_step_s, key_delay
        self.x, self.y, self.buttons = 0, 0, 0

    # ------------------------------------------------------------ keys

    def isValidKey(self, key: str) -> bool:  # noqa: N802 (pyautogui's name)
        return key in KEYSYMS or key in _PRINTABLE

    @staticmethod
    def keysym(key: str) -> int:
        if key in KEYSYMS:
            return KEYSYMS[key]
        if len(key) == 1:
            return keysym_for(key)
        raise ValueError(f"no keysym for {key!r}")

    def _done(self, events: list[Event]) -> None:
        # x11vnc applies key events at once but queues pointer events for a moment, so a key sent right after a
        # click could overtake it (and shift+wheel loses its shift). Where the kind of event changes, within this
        # batch or from the last one, wait ``switch_pause`` so the server applies them in the order sent.
        paced: list[Event] = []
        for ev in events:
            kind = ev[0]
            if kind in ("key", "pointer"):
                if self._last_kind is not None and kind != self._last_kind:
                    if paced:
                        paced.append(("sleep", self.switch_pause))
                    else:
                        wait = self.switch_pause - (time.monotonic() - self._last_sent)
                        if wait > 0:
                            time.sleep(wait)
                self._last_kind = kind
            paced.append(ev)
        self.client.send(paced)
        self._last_sent = time.monotonic()
        if self.PAUSE:
            time.sleep(self.PAUSE)

    def keyDown(self, key: str) -> None:  # noqa: N802
        self._done([("key", self.keysym(key), True)])

    def keyUp(self, key: str) -> None:  # noqa: N802
        self._done([("key", self.keysym(key), False)])

    def press(self, key: str) -> None:
        sym = self.keysym(key)
        self._done([("key", sym, True), ("key", sym, False)])

    def key_events(self, text: str, interval: float = 0.0) -> list[Event]:
        events: list[Event] = []
        for ch in text:
            sym = keysym_for(ch)
            events += [("key", sym, True), ("key", sym, False)]
            if interval or self.key_delay:
                events.append(("sleep", interval or self.key_delay))
        return events

    def write(self, text: str, interval: float = 0.0) -> None:
        self._done(self.key_events(text, interval))

    # ------------------------------------------------------------ pointer

    def _pointer(self, x: int | None = None, y: int | None = None) -> Event:
        if x is not None:
            self.x = int(x)
        if y is not None:
            self.y = int(y)
        return ("pointer", self.x, self.y, self.buttons)

    def _path(self, x: int, y: int, duration: float) -> list[Event]:
        """Pointer positions from here to (x, y) over ``duration`` seconds (just the end point when 0)."""
        steps = max(1, round(duration / self.move_step_s)) if duration > 0 else 1
        x0, y0 = self.x, self.y
        events: list[Event] = []
        for i in range(1, steps + 1):
            events.append(self._pointer(round(x0 + (x - x0) * i / steps), round(y0 + (y - y0) * i / steps)))
            if i < steps:
                events.append(("sleep", duration / steps))
        return events

    def moveTo(self, x: int | None = None, y: int | None = None, duration: float = 0.0,  # noqa: N802
               tween: Any = None, **_: Any) -> None:
        self._done(self._path(self.x if x is None else int(x), self.y if y is None else int(y), duration))

    def _button(self, button: str | int, down: bool) -> Event:
        number = BUTTONS[button] if isinstance(button, str) else int(button)
        if down:
            self.buttons |= 1 << (number - 1)
        else:
            self.buttons &= ~(1 << (number - 1))
        return self._pointer()

    def mouseDown(self, x: int | None = None, y: int | None = None,  # noqa: N802
                  button: str = "left", **_: Any) -> None:
        self._done([self._pointer(x, y), self._button(button, True)])

    def mouseUp(self, x: int | None = None, y: int | None = None, button: str = "left", **_: Any) -> None:  # noqa: N802
        self._done([self._pointer(x, y), self._button(button, False)])

    def click(self, x: int | None = None, y: int | None = None, clicks: int = 1, interval: float = 0.0,
              button: str = "left", **_: Any) -> None:
        events: list[Event] = [self._pointer(x, y)]
        for i in range(int(clicks)):
            events += [self._button(button, True), self._button(button, False)]
            if i < clicks - 1:  # servers that sample the pointer state can merge back-to-back clicks
                events.append(("sleep", max(interval, self.click_gap)))
        self._done(events)

    def _wheel(self, up_button: int, down_button: int, clicks: int, x: int | None, y: int | None,
               shift: bool = False) -> None:
        button = up_button if clicks > 0 else down_button
        events: list[Event] = [self._pointer(x, y)]
        if shift:
            events.append(("key", KEYSYMS["shift"], True))
        for _ in range(abs(int(clicks))):
            events += [self._button(button, True), self._button(button, False)]
        if shift:
            events.append(("key", KEYSYMS["shift"], False))
        self._done(events)

    def scroll(self, clicks: int, x: int | None = None, y: int | None = None, **_: Any) -> None:
        self._wheel(4, 5, clicks, x, y)

    def hscroll(self, clicks: int, x: int | None = None, y: int | None = None, **_: Any) -> None:
        if self.hscroll_buttons:
            self._wheel(7, 6, clicks, x, y)  # positive: right (button 7), as pyautogui on X11
        else:
            self._wheel(5, 4, clicks, x, y, shift=True)  # shift + wheel down: right


class VncCapture:
    """The remote framebuffer as the desktop env's ``Capture``: one monitor, at (0, 0), the framebuffer's size."""

    def __init__(self, client: VncClient):
        self.client = client

    def monitors(self) -> Sequence[Monitor]:
        width, height = self.client.screen_size()
        if not width or not height:
            self.client.capture()
            width, height = self.client.screen_size()
        return [Monitor(0, 0, 0, width, height), Monitor(1, 0, 0, width, height, primary=True, name="vnc")]

    def grab(self, monitor: Monitor) -> Image.Image:
        image = self.client.capture()
        box = (monitor.left, monitor.top, monitor.left + monitor.width, monitor.top + monitor.height)
        return image if box == (0, 0, *image.size) else image.crop(box)

    def close(self) -> None:
        self.client.close()
