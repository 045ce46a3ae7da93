"""DesktopEnv: the real screen, captured with mss and driven with pyautogui.

    env = DesktopEnv(monitor=1)            # or "all", "primary", 2, ...
    obs = env.observe()                    # PIL image in physical pixels of that monitor
    env.execute(Click(Point(640, 400)))    # a point in that screenshot (Space.SCREENSHOT) or Space.SCREEN

Every point is converted once, with ``env.display`` (``guiagent.actions.coords.Display``: HiDPI scale and
monitor offset), to whole logical points, and checked against the selected monitor before any input is sent.
Key combinations are checked against the deny list (``guiagent.envs.desktop.safety``), counting keys still held
by earlier KeyDown actions. ``check(action)`` runs every check and returns the SCREEN-space action without
sending anything: that is what an agent's dry-run and confirm modes show.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from guiagent.actions import types as t
from guiagent.actions.coords import Display
from guiagent.actions.keys import canonical_key
from guiagent.actions.types import Action, Point, Space, map_points, points_of
from guiagent.envs.base import Observation
from guiagent.envs.desktop import preflight
from guiagent.envs.desktop.capture import (
    Capture,
    Monitor,
    MonitorSpec,
    MssCapture,
    display_for,
    select_monitor,
)
from guiagent.envs.desktop.executor import PyAutoGuiExecutor, load_pyautogui
from guiagent.envs.desktop.keymap import OsName, check_os, current_os
from guiagent.envs.desktop.safety import DenyList, default_deny
from guiagent.envs.desktop.text import (
    CONTROL_KEYS,
    ClipboardTyper,
    PyperclipClipboard,
    X11LayoutCheck,
    XClipboard,
    XKeysymTyper,
    check_control_chars,
    key_of_char,
    paste_route,
    x11_focused_window_class,
)
from guiagent.errors import ActionError, ConfigError, EnvError

UNICODE_METHODS = ("auto", "keysym", "clipboard")


class DesktopEnv:
    """The user's real desktop (or an Xvfb) as an ``Env``.

    Args:
        monitor: which monitor to capture and act on: 1.. (mss order), "primary", or "all" / 0 for the whole
            virtual screen. Points outside it are refused.
        scale: physical pixels per logical point. None measures it (capture width / monitor width); give it to
            override the measurement.
        x_display: X11 only: the display to drive (e.g. ":99" for a sandbox Xvfb); default $DISPLAY.
        pause: seconds pyautogui waits after each call (its own default, 0.1 s, makes typing slow).
        failsafe: keep pyautogui's fail-safe (pointer in a screen corner stops the agent). Turn off only for VMs
            whose pointer starts in a corner.
        deny: key combinations to refuse, as "ctrl+alt+delete" strings; None means ``default_deny(os)``;
            an empty collection refuses nothing.
        scroll_amount: wheel notches per Scroll whose amount is None.
        drag_duration: seconds the pointer takes to move from a drag's start to its end.
        click_interval: seconds between the clicks of a double or triple click (a person's pace; with none, real
            toolkits miscount them).
        type_interval: seconds between typed keys.
        unicode_method: how non-ASCII text is typed: "keysym" (X11: spare keycodes bound to the characters),
            "clipboard" (paste, old clipboard restored), or "auto" (keysym on X11, the clipboard elsewhere).
            See ``guiagent.envs.desktop.text``.
        paste_restore_delay: seconds between sending the paste shortcut and restoring the old clipboard.
        default_wait: seconds a Wait without a duration sleeps.
        allow_xwayland: drive XWayland in a Wayland session (only X11 apps are visible and reachable).
        os_name: "linux", "macos" or "windows"; default: this machine.
        capture: a Capture to use instead of mss (tests; remote screens).
        gui: a pyautogui-like module to use instead of importing pyautogui (tests).
        environ: the environment variables preflight checks read (default ``os.environ``).
    """

    name = "desktop"

    def __init__(self, monitor: MonitorSpec = 1, *, scale: float | None = None, x_display: str | None = None,
                 pause: float = 0.02, failsafe: bool = True, deny: Iterable[str] | None = None,
                 scroll_amount: int = 5, drag_duration: float = 0.3, type_interval: float = 0.0,
                 unicode_method: str = "auto", paste_restore_delay: float = 0.3, default_wait: float = 1.0,
                 allow_xwayland: bool = False, os_name: OsName | None = None, capture: Capture | None = None,
                 gui: Any = None, environ: Mapping[str, str] | None = None, click_interval: float = 0.05):
        self.os_name: OsName = check_os(os_name or current_os())
        if unicode_method not in UNICODE_METHODS:
            raise ConfigError(f"unicode_method must be one of {list(UNICODE_METHODS)}, got {unicode_method!r}")
        for label, value in (("pause", pause), ("drag_duration", drag_duration), ("type_interval", type_interval),
                             ("paste_restore_delay", paste_restore_delay), ("default_wait", default_wait),
                             ("click_interval", click_interval)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value < 0:
                raise ConfigError(f"{label} must be a non-negative number of seconds, got {value!r}")
        if isinstance(scroll_amount, bool) or not isinstance(scroll_amount, int) or scroll_amount <= 0 \
                or scroll_amount > t.MAX_SCROLL:
            raise ConfigError(f"scroll_amount must be a positive integer up to {t.MAX_SCROLL}, got {scroll_amount!r}")
        self.monitor_spec = monitor
        self.scale_override = scale
        self.unicode_method = unicode_method
        self.paste_restore_delay = float(paste_restore_delay)
        self.deny = DenyList(default_deny(self.os_name) if deny is None else deny)
        environ = os.environ if environ is None else environ

        self.x_display: str | None = None
        self.tools = preflight.Tools(None, None)
        if self.os_name == "linux" and (capture is None or gui is None):
            self.x_display = preflight.x_display_name(environ, x_display, allow_xwayland)
            preflight.check_xauthority(environ)
            preflight.check_x_connection(self.x_display)
            self.tools = preflight.Tools.find()
            if unicode_method == "clipboard":
                preflight.need_clipboard_tool(self.tools)
        elif self.os_name == "linux":
            self.x_display = x_display or environ.get("DISPLAY")
            self.tools = preflight.Tools.find()

        self._capture: Capture = capture if capture is not None else MssCapture(self.x_display)
        gui = gui if gui is not None else load_pyautogui(self.os_name, self.x_display)
        self.executor = PyAutoGuiExecutor(
            gui, self.os_name, pause=pause, failsafe=failsafe, scroll_amount=scroll_amount,
            drag_duration=drag_duration, type_interval=type_interval, default_wait=default_wait,
            unicode_typer=self._unicode_typer, key_typable=self._key_typable, click_interval=click_interval)
        self._monitor: Monitor = select_monitor(self._capture.monitors(), monitor)
        self._display: Display | None = None
        self._closed = False
        self._typer: Any = None  # an object with .type(text), created on first non-ASCII text
        self._layout: X11LayoutCheck | None = None

    # ------------------------------------------------------------ Env protocol

    @property
    def monitor(self) -> Monitor:
        """The monitor chosen by the last ``reset`` (whose rectangle actions are confined to)."""
        return self._monitor

    @property
    def display(self) -> Display:
        """The Display of the last screenshot (captured now if there is none yet)."""
        if self._display is None:
            self.observe()
        assert self._display is not None
        return self._display

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Observation:
        """Release held keys/buttons, look up the monitors again, and capture. The desktop itself is not reset."""
        self._check_open()
        self.executor.release_all()
        self._monitor = select_monitor(self._capture.monitors(), self.monitor_spec)
        return self.observe()

    def observe(self) -> Observation:
        """Capture the monitor; ``info`` carries its index, offset, scale, sizes and the OS.

        The display (scale and size) is re-derived from every capture, so a resolution change is picked up.

        Raises:
            EnvError: the env is closed, or the capture failed.
        """
        self._check_open()
        image = self._capture.grab(self._monitor)
        self._display = display_for(self._monitor, image.size, self.scale_override)
        d = self._display
        info = {"monitor": self._monitor.index, "offset": list(d.offset), "scale": d.scale,
                "size_px": list(d.size_px), "size_points": list(d.size_points), "os": self.os_name}
        return Observation(image, time.time(), info)

    def check(self, action: Action) -> Action:
        """Every check ``execute`` makes, without input. Returns the action in whole SCREEN points."""
        self._check_open()
        action = self._to_screen(action)
        self._check_keys(action)
        self.executor.check(action)
        return action

    def execute(self, action: Action) -> None:
        """Perform ``action`` with the real mouse and keyboard, after every check of ``check``.

        Raises:
            ActionError: the action is refused (a point off the monitor, an action or key the desktop cannot
                carry out); nothing was sent.
            DeniedAction: it presses a deny-listed key combination.
            FailSafeTriggered: pyautogui's fail-safe fired (the pointer was moved into a screen corner).
            EnvError: the env is closed.
        """
        self.executor.run(self.check(action))

    def close(self) -> None:
        """Release every held key and button, then close the typers and the capture. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            self.executor.release_all()
            if self._typer is not None and hasattr(self._typer, "close"):
                self._typer.close()
            if self._layout is not None:
                self._layout.close()
        finally:
            self._capture.close()

    def __enter__(self) -> DesktopEnv:  # noqa: PYI034 (typing.Self needs Python 3.11)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ conversion and checks

    def _check_open(self) -> None:
        if self._closed:
            raise EnvError("this DesktopEnv is closed")

    def _to_screen(self, action: Action) -> Action:
        """Convert every point to SCREEN space once, refuse points off the monitor, round to whole points."""
        return self.display.action_to_screen(action, where=f"monitor {self._monitor.index}", whole_points=True)

    def _check_keys(self, a: Action) -> None:
        held = list(self.executor.held_keys)
        if isinstance(a, t.Hotkey):
            self.deny.check(held + [k for k in a.keys if k not in held], f"hotkey {'+'.join(a.keys)}")
        elif isinstance(a, (t.Press, t.KeyDown)):
            self.deny.check(held + ([a.key] if a.key not in held else []), f"{type(a).__name__} {a.key!r}")
        elif isinstance(a, t.Type):
            check_control_chars(a.text)
            for ch in dict.fromkeys(a.text):
                # a control character is a key press (checked even with nothing held: "backspace" may be denied
                # alone); other characters only matter as combinations with held keys
                if not held and ch not in CONTROL_KEYS:
                    continue
                key = key_of_char(ch)
                if key is None:
                    continue  # a character no key names (non-ASCII): typed another way, no combination
                while_held = f" while {'+'.join(held)} is held" if held else ""
                self.deny.check(held + ([key] if key not in held else []), f"typing {ch!r}{while_held}")

    # ------------------------------------------------------------ non-ASCII text

    def _key_typable(self) -> Callable[[str], bool]:
        gui = self.executor.gui
        if self.os_name != "linux" or not hasattr(getattr(gui, "platformModule", None), "keyboardMapping"):
            return gui.isValidKey
        if self._layout is None:
            assert self.x_display is not None
            self._layout = X11LayoutCheck(self.x_display, gui)
        return self._layout.typable().__contains__

    def _unicode_typer(self) -> Callable[[str], None]:
        if self._typer is None:
            self._typer = self._make_typer()
        return self._typer.type

    def _make_typer(self) -> Any:
        method = self.unicode_method
        if self.os_name == "linux":
            assert self.x_display is not None
            if method in ("auto", "keysym"):
                return XKeysymTyper(self.x_display)
            tool = preflight.need_clipboard_tool(self.tools)
            x_display = self.x_display
            return ClipboardTyper(lambda sel: XClipboard(tool, x_display, sel),
                                  lambda: paste_route("linux", x11_focused_window_class(x_display)),
                                  self.executor.press_combo, self.paste_restore_delay)
        if method == "keysym":
            raise ConfigError(f"unicode_method={method!r} is X11 only; use 'clipboard' or 'auto'")
        clipboard = PyperclipClipboard()
        os_name = self.os_name
        return ClipboardTyper(lambda sel: clipboard, lambda: paste_route(os_name), self.executor.press_combo,
                              self.paste_restore_delay)
