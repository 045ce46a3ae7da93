"""Carry out typed actions with pyautogui.

The executor receives actions whose points are already whole logical points in SCREEN space (the env converts
and checks them first) and turns each into pyautogui calls. Everything here that can refuse an action (an
unknown key, an unsupported action) does so before the first event is sent.

pyautogui facts this module works around:
- it reads $DISPLAY once, when imported (X11); ``load_pyautogui`` imports it for the chosen display, and re-binds
  its X backend if it was imported for another display earlier in the process;
- it silently ignores key names it has no keycode for, so keys are checked with ``isValidKey`` first;
- its ``PAUSE`` (0.1 s after every call by default) and ``FAILSAFE`` are module globals: they are set for the
  duration of each action and put back afterwards;
- on Windows a wheel "click" is 1/120 of a notch and ``hscroll`` scrolls vertically, so amounts are multiplied by
  120 there and horizontal scrolling is shift+wheel, the convention Windows apps follow;
- it has no side buttons (back/forward) and no name for the keypad's Enter: on X11 those go through XTest on
  pyautogui's own connection (``guiagent.envs.desktop.xtest``), elsewhere they are UnsupportedAction;
- its multi-click sends the clicks ``interval`` apart; with no interval a real toolkit (Tk) merges or drops
  presses (a triple click arrives as a double), so clicks are spaced ``click_interval`` apart, as a person
  clicks: tens of milliseconds, well under any double-click time.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from guiagent.actions import types as t
from guiagent.actions.types import Action
from guiagent.envs.desktop.keymap import XKEYSYM_PREFIX, OsName, pyautogui_key
from guiagent.envs.desktop.text import (CONTROL_KEYS, PRESSED_CONTROLS, check_control_chars, split_pressed_controls,
                                        split_runs)
from guiagent.envs.desktop.xlibquiet import quiet_xauth
from guiagent.envs.desktop.xtest import SIDE_BUTTONS, XTestInput
from guiagent.errors import EnvError, FailSafeTriggered, UnsupportedAction

MOBILE_ONLY: tuple[type, ...] = (t.LongPress, t.OpenApp, t.PressHome, t.PressBack, t.Navigate, t.NavigateBack)


@contextlib.contextmanager
def _display_env(name: str) -> Iterator[None]:
    old = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = name
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = old


def load_pyautogui(os_name: OsName, x_display: str | None = None) -> Any:
    """Import pyautogui (bound to ``x_display`` on X11) and return the module."""
    try:
        if os_name == "linux" and x_display:
            with _display_env(x_display), quiet_xauth():
                import pyautogui
                _bind_x11(pyautogui, x_display)
        else:
            import pyautogui
    except ImportError as e:
        raise EnvError(f"the real desktop needs pyautogui and mss: pip install 'guiagent[desktop]' ({e})") from e
    except KeyError as e:  # pyautogui's X backend reads os.environ['DISPLAY'] at import
        raise EnvError("no display: DISPLAY is not set; run inside a graphical session or an Xvfb") from e
    except Exception as e:  # Xlib's XauthError / DisplayConnectionError and friends
        raise EnvError(f"pyautogui could not connect to the display {x_display or ''}: {e}") from e
    return pyautogui


def _bind_x11(gui: Any, x_display: str) -> None:
    """Point pyautogui's X backend (a module-level Xlib connection and keycode table) at ``x_display``."""
    backend = gui.platformModule
    if backend._display.get_display_name() != x_display or not _alive(backend._display):
        old = backend._display
        importlib.reload(backend)  # re-runs the module: new connection to $DISPLAY and a fresh keycode table
        with contextlib.suppress(Exception):
            old.close()
    width, height = backend._size()
    # pyautogui computes its corner fail-safe points once, at import; recompute them for this screen.
    gui.FAILSAFE_POINTS[:] = [(0, 0), (0, height - 1), (width - 1, 0), (width - 1, height - 1)]


def _alive(conn: Any) -> bool:
    """Whether an Xlib connection still reaches its server (a display name can be reused by a new server)."""
    try:
        conn.get_input_focus()
        return True
    except Exception:  # noqa: BLE001 (python-xlib raises ConnectionClosedError, or TypeError from its own bug)
        return False


def _xy(point: t.Point | None) -> tuple[int | None, int | None]:
    if point is None:
        return None, None
    return int(point.x), int(point.y)


class PyAutoGuiExecutor:
    """Runs SCREEN-space actions through a pyautogui module (the real one, or a stand-in in unit tests)."""

    def __init__(self, gui: Any, os_name: OsName, *, pause: float = 0.02, failsafe: bool = True,
                 scroll_amount: int = 5, drag_duration: float = 0.3, type_interval: float = 0.0,
                 default_wait: float = 1.0, unicode_typer: Callable[[], Callable[[str], None]] | None = None,
                 key_typable: Callable[[], Callable[[str], bool]] | None = None, click_interval: float = 0.05,
                 xtest: XTestInput | None = None):
        self.gui, self.os_name = gui, os_name
        self.pause, self.failsafe = float(pause), bool(failsafe)
        self.scroll_amount, self.drag_duration = int(scroll_amount), float(drag_duration)
        self.type_interval, self.default_wait = float(type_interval), float(default_wait)
        self.click_interval = float(click_interval)
        self.xtest = xtest if xtest is not None else (XTestInput.from_pyautogui(gui) if os_name == "linux" else None)
        self._unicode_typer = unicode_typer
        # which characters go through pyautogui.write (asked per Type: the layout can change)
        self._key_typable = key_typable or (lambda: self.gui.isValidKey)
        self.held_keys: list[str] = []      # canonical names held by KeyDown, in press order
        self.held_buttons: list[str] = []   # buttons held by MouseDown

    # ------------------------------------------------------------ key names

    def key_name(self, key: str) -> str:
        """pyautogui's name for a canonical key, checked against the keys this machine can send (an X keysym
        with the ``xkeysym:`` prefix for the keys pyautogui has no name for, sent through XTest)."""
        name = pyautogui_key(key, self.os_name)
        if name.startswith(XKEYSYM_PREFIX):
            if self.xtest is None:
                raise UnsupportedAction(f"the {key!r} key needs X11's XTest, which this desktop does not have")
            self.xtest.keycode(name[len(XKEYSYM_PREFIX):])
            return name
        if not self.gui.isValidKey(name):
            raise UnsupportedAction(f"the {key!r} key ({name!r} in pyautogui) has no key code on this machine")
        return name

    def check(self, action: Action) -> None:
        """Raise now for anything ``run`` would refuse, so nothing is half-done."""
        if isinstance(action, MOBILE_ONLY):
            raise UnsupportedAction(f"{type(action).__name__} is a phone/browser action; the desktop environment "
                                    "cannot carry it out")
        keys: tuple[str, ...] = ()
        button = getattr(action, "button", "left")
        if button in SIDE_BUTTONS and self.xtest is None:
            raise UnsupportedAction(f"the {button} mouse button can only be sent on X11 (XTest)")
        if isinstance(action, (t.Click, t.Scroll)):
            keys = action.modifiers
        elif isinstance(action, t.Hotkey):
            keys = action.keys
        elif isinstance(action, (t.Press, t.KeyDown, t.KeyUp)):
            keys = (action.key,)
        elif isinstance(action, t.Type):
            check_control_chars(action.text)
            keys = tuple(CONTROL_KEYS[c] for c in dict.fromkeys(action.text) if c in PRESSED_CONTROLS)
            keys += ("enter",) if action.submit else ()
        for k in keys:
            self.key_name(k)

    # ------------------------------------------------------------ running

    @contextlib.contextmanager
    def _settings(self) -> Iterator[None]:
        gui = self.gui
        saved = gui.PAUSE, gui.FAILSAFE
        gui.PAUSE, gui.FAILSAFE = self.pause, self.failsafe
        try:
            yield
        except gui.FailSafeException as e:
            raise FailSafeTriggered(
                "pyautogui fail-safe: the pointer is in a corner of the screen, which stops the agent. Move it "
                "away to go on; in a VM whose pointer starts in a corner, create the env with "
                "DesktopEnv(failsafe=False) (guiagent run: --no-failsafe).") from e
        finally:
            gui.PAUSE, gui.FAILSAFE = saved

    def run(self, action: Action) -> None:
        self.check(action)
        with self._settings():
            self._run(action)

    def _run(self, a: Action) -> None:
        gui = self.gui
        if isinstance(a, t.Click):
            with self._holding(a.modifiers):
                self._click(a)
        elif isinstance(a, t.Drag):
            self._drag(a)
        elif isinstance(a, t.Scroll):
            with self._holding(a.modifiers):
                self._scroll(a)
        elif isinstance(a, t.Type):
            self._type(a)
        elif isinstance(a, t.Hotkey):
            self.press_combo(a.keys)
        elif isinstance(a, t.Press):
            self._press(self.key_name(a.key))
        elif isinstance(a, t.KeyDown):
            self._key(self.key_name(a.key), True)
            if a.key not in self.held_keys:
                self.held_keys.append(a.key)
        elif isinstance(a, t.KeyUp):
            self._key(self.key_name(a.key), False)
            if a.key in self.held_keys:
                self.held_keys.remove(a.key)
        elif isinstance(a, t.MoveTo):
            x, y = _xy(a.point)
            gui.moveTo(x, y)
        elif isinstance(a, t.MouseDown):
            self._button(a.button, True, *_xy(a.point))
            if a.button not in self.held_buttons:
                self.held_buttons.append(a.button)
        elif isinstance(a, t.MouseUp):
            self._button(a.button, False, *_xy(a.point))
            if a.button in self.held_buttons:
                self.held_buttons.remove(a.button)
        elif isinstance(a, t.Wait):
            time.sleep(self.default_wait if a.seconds is None else a.seconds)
        elif isinstance(a, t.TERMINAL_ACTIONS):
            return  # nothing to do on screen; the agent loop ends the run
        else:
            raise UnsupportedAction(f"the desktop environment cannot carry out {type(a).__name__}")

    def press_combo(self, keys: tuple[str, ...]) -> None:
        """Press ``keys`` (canonical names) down in order, then release the pressed ones in reverse order."""
        with self._holding(keys):
            pass

    @contextlib.contextmanager
    def _holding(self, keys: tuple[str, ...]) -> Iterator[None]:
        """Hold ``keys`` (canonical names) down, in order, for the body; release the pressed ones in reverse."""
        names = [self.key_name(k) for k in keys]
        pressed: list[str] = []
        try:
            for name in names:
                self._key(name, True)
                pressed.append(name)
            yield
        finally:
            for name in reversed(pressed):
                self._key(name, False)

    def _key(self, name: str, down: bool) -> None:
        """Key down or up by the name ``key_name`` gave."""
        if name.startswith(XKEYSYM_PREFIX):
            assert self.xtest is not None  # key_name checked it
            self.xtest.key(name[len(XKEYSYM_PREFIX):], down)
        elif down:
            self.gui.keyDown(name)
        else:
            self.gui.keyUp(name)

    def _press(self, name: str) -> None:
        if name.startswith(XKEYSYM_PREFIX):
            self._key(name, True)
            self._key(name, False)
        else:
            self.gui.press(name)

    def _button(self, button: str, down: bool, x: int | None = None, y: int | None = None) -> None:
        """Mouse button down or up at (x, y) (where the pointer is when None)."""
        if button in SIDE_BUTTONS:
            assert self.xtest is not None  # check() refused side buttons without XTest
            if x is not None:
                self.gui.moveTo(x, y)
            self.xtest.button(button, down)
        elif down:
            self.gui.mouseDown(x=x, y=y, button=button)
        else:
            self.gui.mouseUp(x=x, y=y, button=button)

    def _click(self, a: t.Click) -> None:
        x, y = _xy(a.point)
        interval = self.click_interval if a.clicks > 1 else 0.0
        if a.button not in SIDE_BUTTONS:
            self.gui.click(x=x, y=y, clicks=a.clicks, interval=interval, button=a.button)
            return
        self.gui.moveTo(x, y)
        for i in range(a.clicks):
            if i:
                time.sleep(interval)
            self._button(a.button, True)
            self._button(a.button, False)

    def _drag(self, a: t.Drag) -> None:
        gui = self.gui
        points = [_xy(p) for p in (a.start, *a.via, a.end)]
        (sx, sy), (ex, ey) = points[0], points[-1]
        legs = points[1:]
        # A timed move sends intermediate motion events; apps need them to start and track a drag. pyautogui
        # jumps without any unless the duration is over its MINIMUM_DURATION (0.1 s), so each leg of a drag
        # through several points takes a little more than that at least.
        leg_s = self.drag_duration / len(legs)
        if len(legs) > 1 and self.drag_duration:
            leg_s = max(leg_s, 0.12)
        gui.moveTo(sx, sy)
        self._button(a.button, True, sx, sy)
        try:
            for px, py in legs:
                gui.moveTo(px, py, duration=leg_s, tween=gui.linear)
        finally:
            self._button(a.button, False, ex, ey)

    def _scroll(self, a: t.Scroll) -> None:
        gui = self.gui
        notches = a.amount if a.amount is not None else self.scroll_amount
        x, y = _xy(a.point)
        if x is not None:
            gui.moveTo(x, y)
        sign = 1 if a.direction in ("up", "right") else -1
        if self.os_name == "windows":
            clicks = sign * notches * 120  # WHEEL_DELTA per notch
            if a.direction in ("left", "right"):
                # Windows apps read shift+wheel as horizontal; wheel up (positive) scrolls left.
                gui.keyDown("shift")
                try:
                    gui.scroll(-clicks, x=x, y=y)
                finally:
                    gui.keyUp("shift")
            else:
                gui.scroll(clicks, x=x, y=y)
        elif a.direction in ("left", "right"):
            gui.hscroll(sign * notches, x=x, y=y)
        else:
            gui.scroll(sign * notches, x=x, y=y)

    def _type(self, a: t.Type) -> None:
        gui = self.gui
        check_control_chars(a.text)
        for piece in split_pressed_controls(a.text):
            if piece in PRESSED_CONTROLS:  # backspace, esc, delete: pressed as the keys they are
                gui.press(self.key_name(CONTROL_KEYS[piece]))
                continue
            for key_typable, run in split_runs(piece, self._key_typable()):
                if key_typable:
                    gui.write(run, interval=self.type_interval)
                else:
                    if self._unicode_typer is None:
                        raise UnsupportedAction("this desktop has no way to type non-ASCII text")
                    self._unicode_typer()(run)
        if a.submit:
            gui.press(self.key_name("enter"))

    def release_all(self) -> None:
        """Let go of every key and button held by KeyDown/MouseDown (on close and reset)."""
        with self._settings():
            for key in reversed(self.held_keys):
                with contextlib.suppress(Exception):
                    self._key(self.key_name(key), False)
            for button in self.held_buttons:
                with contextlib.suppress(Exception):
                    self._button(button, False)
        self.held_keys.clear()
        self.held_buttons.clear()
