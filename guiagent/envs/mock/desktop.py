"""MockDesktop: the in-process virtual desktop that implements ``guiagent.envs.base.Env``.

    desk = MockDesktop(1280, 800, scale=1.0, initial_state={"files": {...}, "open": ["editor"]})
    obs = desk.observe()                       # PIL screenshot, physical pixels
    desk.execute(Click(Point(400, 300)))       # SCREENSHOT-space point (or Space.SCREEN)
    desk.check(Click(Point(400, 300)))         # the same validation, nothing done (dry runs)
    desk.state()                               # plain JSON-able data for checkers
    desk.accessibility_tree().find(role="button", name="Save")

Everything is deterministic: rendering uses no wall clock and a simulated clock drives double-click timing and the
taskbar clock. See ``docs`` in ``guiagent/envs/mock/README.md`` for the initial-state and state schemas.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import random
from typing import Any, Callable, Iterator

from guiagent.actions import types as T
from guiagent.actions.coords import Display
from guiagent.envs.base import Observation
from guiagent.envs.mock import theme
from guiagent.envs.mock.a11y import A11yNode, build_tree
from guiagent.envs.mock.apps import APP_CLASSES
from guiagent.envs.mock.apps.base import App
from guiagent.envs.mock.fs import HOME, FileSystem
from guiagent.envs.mock.input import SUB_STEP, Input
from guiagent.envs.mock.render import Compositor, Painter
from guiagent.envs.mock.shell import Shell, Taskbar
from guiagent.envs.mock.widgets.base import (
    KeyEvent,
    Widget,
    first_covering,
    paint_tree,
    within,
)
from guiagent.envs.mock.widgets.menus import Menu, MenuEntry, Popup
from guiagent.envs.mock.widgets.textedit import TextEdit
from guiagent.envs.mock.wm import Window, WindowManager
from guiagent.errors import EnvError

#: Wheel notches for a Scroll action without an amount, and points scrolled per notch.
DEFAULT_SCROLL_NOTCHES = 5
NOTCH_POINTS = 40
#: Simulated wall-clock start (shown in the taskbar clock).
EPOCH = _dt.datetime(2025, 3, 14, 9, 30, 0)


#: the largest mock desktop, in points, and the largest HiDPI scale (a screenshot is at most 15360x8640 pixels)
MAX_SIZE = (7680, 4320)
MAX_SCALE = 2.0


def check_size(width: Any, height: Any, scale: Any) -> None:
    """Refuse sizes the mock desktop cannot render in bounded memory (EnvError naming the limits)."""
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (width, height)):
        raise EnvError(f"mock desktop width and height must be whole numbers of points, got {width!r}x{height!r}")
    if not (480 <= width <= MAX_SIZE[0] and 360 <= height <= MAX_SIZE[1]):
        raise EnvError(f"mock desktop size must be between 480x360 and {MAX_SIZE[0]}x{MAX_SIZE[1]} points, "
                       f"got {width}x{height}")
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale <= MAX_SCALE:
        raise EnvError(f"scale must be a number in (0, {MAX_SCALE:g}], got {scale!r}")


#: the longest text one Type action may hold
MAX_TYPE_CHARS = 10_000


class MockDesktopFailed(EnvError):
    """An action failed inside the mock desktop (a bug); its state may be half-changed, so the run must stop and
    the desktop be reset before it is used again."""

    fatal = True


class MockDesktop:
    """A deterministic virtual desktop with a window manager and six apps.

    Args:
        width, height: screen size in logical points (default 1280x800).
        scale: HiDPI factor; screenshots are ``round(width*scale) x round(height*scale)`` pixels while actions
            in SCREEN space use points.
        seed: recorded for reproducibility and used only by ``options={"shuffle_icons": True}``-style variations
            (rendering never depends on randomness otherwise).
        task: an optional task object (kept as ``desktop.task``; its ``initial_state`` is used when
            ``initial_state`` is not given).
        initial_state: files, settings, mail, open apps ... (see README.md in this package).
        step_seconds: simulated seconds each action takes (drives double-click detection and the clock).
    """

    name = "mock"

    def __init__(self, width: int = 1280, height: int = 800, scale: float = 1.0, seed: int = 0, task: Any = None,
                 initial_state: dict | None = None, step_seconds: float = 1.0):
        check_size(width, height, scale)
        self.width, self.height, self.scale = int(width), int(height), float(scale)
        self.seed = seed
        self.task = task
        self.step_seconds = step_seconds
        self._initial_state = initial_state
        self._closed = False
        self.reset(seed=seed)

    # ================================================================== Env protocol
    @property
    def display(self) -> Display:
        """The screen: ``width*scale`` x ``height*scale`` pixels at ``scale``, no offset."""
        return self._display

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Observation:
        """Rebuild the desktop from scratch (file system, apps, windows) and return the first observation.

        Args:
            seed: the new seed (None keeps the current one).
            options: ``task`` and/or ``initial_state`` to replace the ones given at construction.

        Returns:
            The first observation of the rebuilt desktop.

        Raises:
            EnvError: the desktop is closed, or the initial state has an unknown key or setting.
            FsError: the initial state's files clash or have invalid names.
            ValueError: the initial state's mail names an unknown folder.
        """
        options = dict(options or {})
        if seed is not None:
            self.seed = seed
        if "task" in options:
            self.task = options["task"]
        if "initial_state" in options:
            self._initial_state = options["initial_state"]
        init = self._initial_state
        if init is None and self.task is not None:
            init = getattr(self.task, "initial_state", None)
        self.rng = random.Random(self.seed)
        self._build(copy.deepcopy(init or {}))
        self._broken = None
        return self.observe()

    def observe(self) -> Observation:
        """Repaint what changed and return the screenshot, with the simulated clock as its time.

        ``info`` holds the scale and the size in points.

        Raises:
            EnvError: the desktop is closed, or a previous action broke it (MockDesktopFailed; reset it).
        """
        self._check_open()
        self.compositor.flush(self._paint)
        return Observation(self.compositor.snapshot(), self.input.clock,
                           {"scale": self.scale, "size_points": (self.width, self.height)})

    def check(self, action: T.Action) -> T.Action:
        """Every check ``execute`` makes (open, a real action, points on screen, a known app, a browser to go
        back in), without changing anything. Returns the action in SCREEN points. The agent's dry run uses it."""
        self._check_open()
        if not isinstance(action, T.ACTION_CLASSES):
            raise EnvError(f"not a guiagent action: {action!r}")
        action = self._to_screen(action)
        self._validate(action)
        return action

    def execute(self, action: T.Action) -> None:
        """Perform ``action`` on the desktop, advancing the simulated clock by ``step_seconds``.

        Args:
            action: any guiagent action, its points in SCREENSHOT pixels or SCREEN points.

        Raises:
            ActionError: a point is in the wrong space.
            EnvError: the action is refused by ``check`` (nothing changed).
            MockDesktopFailed: a bug inside the desktop; its state may be half-changed and it must be reset.
        """
        action = self.check(action)   # validates every point and size before anything changes
        handler = _HANDLERS[type(action)]
        self.input.tick(self.step_seconds)
        try:
            handler(self, action)
        except EnvError:
            raise
        except Exception as e:  # noqa: BLE001 - a bug, not bad input: the state may be half-changed
            self._broken = f"{type(e).__name__}: {e}"
            raise MockDesktopFailed(f"the mock desktop failed inside {type(action).__name__} and its state may be "
                                    f"half-changed ({self._broken}); reset() it") from e
        self._after_action()

    def close(self) -> None:
        """Mark the desktop closed; later calls raise EnvError. Safe to call twice."""
        self._closed = True

    # ================================================================== public inspection API
    def state(self) -> dict:
        """Plain JSON-able data for checkers; see README.md for the schema."""
        wm = self.wm
        active = wm.active
        return {
            "screen": {"width": self.width, "height": self.height, "scale": self.scale},
            "time": self.input.clock,
            **self.fs.state(),
            "clipboard": self.clipboard,
            "settings": dict(self.settings),
            "mail": self.mail.state(),
            "forms": {"submissions": copy.deepcopy(self.form_submissions)},
            "windows": [{"id": w.wid, "app": getattr(w.app, "app_id", None), "title": w.title,
                         "kind": w.role, "active": w is active, "minimized": w.minimized,
                         "maximized": w.maximized, "bounds": w.rect.as_list()} for w in reversed(wm.windows)],
            "apps": {a.app_id: a.state() for a in self.apps.values() if a.running},
        }

    def accessibility_tree(self) -> A11yNode:
        """The accessibility tree: root "screen" whose children are popups, windows (front to back), the
        taskbar and the desktop; bounds are in SCREEN points."""
        self._check_open()
        return build_tree(self)

    def find(self, **criteria: Any) -> A11yNode:
        """Shortcut for ``accessibility_tree().find(**criteria)``."""
        return self.accessibility_tree().find(**criteria)

    # ================================================================== apps
    def app(self, app_id: str) -> App:
        """The app object for ``app_id`` (any name ``resolve_app`` accepts).

        Raises:
            EnvError: an unknown app.
        """
        return self.apps[self.resolve_app(app_id)]

    def resolve_app(self, name: str) -> str:
        """The app id a user-facing name refers to ("Text Editor", "text-editor", "editor" all give "editor").

        Raises:
            EnvError: no app has that name (the message lists the apps).
        """
        key = name.strip().lower().replace("_", " ").replace("-", " ")
        for app in self.apps.values():
            names = {app.app_id, app.title.lower(), *app.aliases}
            if key in names or key.replace(" ", "") in {n.replace(" ", "") for n in names}:
                return app.app_id
        raise EnvError(f"unknown app {name!r}; the mock desktop has: "
                       + ", ".join(f"{a.app_id} ({a.title})" for a in self.apps.values()))

    def launch(self, app_id: str, **options: Any) -> Window:
        """Open a window of an app (or bring its existing one forward, as the app decides).

        Args:
            app_id: any name ``resolve_app`` accepts.
            options: passed to the app's ``open`` (e.g. ``path=`` for files and editor, ``tab=`` for settings).

        Returns:
            The app's window.

        Raises:
            EnvError: an unknown app.
        """
        return self.apps[self.resolve_app(app_id)].open(**options)

    def open_target(self, target: tuple[str, str]) -> None:
        """Open what a desktop icon points to: ``("app", id)``, ``("trash", _)`` or ``("path", path)``."""
        kind, value = target
        if kind == "app":
            self.launch(value)
        elif kind == "trash":
            self.launch("files", path="trash://")
        elif kind == "path":
            if self.fs.is_dir(value):
                self.launch("files", path=value)
            elif self.fs.is_file(value):
                self.launch("editor", path=value)

    def app_status(self) -> dict[str, tuple[bool, bool]]:
        """For the taskbar: ``app_id -> (running, owns the active window)`` (a dialog counts for its parent)."""
        active = self.wm.active
        owner = getattr(active.app, "app_id", None) if active is not None else None
        if active is not None and active.modal_for is not None:
            owner = getattr(active.modal_for.app, "app_id", owner)
        return {a.app_id: (a.running, a.app_id == owner) for a in self.apps.values()}

    def taskbar_activate(self, app_id: str) -> None:
        """Do what a click on the app's taskbar button does.

        Open the app when it is not running, raise its top window, or minimize its windows when that window is
        already the active one.
        """
        app = self.apps[app_id]
        if not app.windows:
            app.open()
            return
        active = self.wm.active
        top = None
        for w in reversed(self.wm.windows):
            if w.app is app:
                top = w
                break
        if top is not None and top is active and not top.minimized:
            for w in app.windows:
                self.wm.minimize(w)
        elif top is not None:
            self.wm.activate(top)

    # ================================================================== shell services used by widgets/apps
    def layers(self) -> list[Widget]:
        """Top-level widgets that take input, bottom to top."""
        return [self.shell, *self.wm.visible_windows(), self.taskbar, *self.popups]

    def focus_widget(self) -> Widget | None:
        """The widget with the keyboard focus in the active window, or None."""
        active = self.wm.active
        return active.focus_widget if active is not None else None

    def open_popup(self, popup: Popup) -> None:
        """Show ``popup`` above every window, moved as needed to lie fully on screen."""
        popup.desktop_ref = self
        # keep it on screen
        x = max(0, min(popup.x, self.width - popup.w))
        y = max(0, min(popup.y, self.height - popup.h))
        popup.x, popup.y = x, y
        self.popups.append(popup)
        popup.invalidate()

    def close_popups(self, top_only: bool = False) -> None:
        """Close the open popups (``top_only``: just the topmost), telling each popup's owner."""
        while self.popups:
            p = self.popups.pop()
            self.compositor.invalidate(p.rect)
            self.input.forget(p)
            if p.owner is not None and hasattr(p.owner, "on_popup_closed"):
                p.owner.on_popup_closed()
            if top_only:
                break

    def open_context_menu(self, entries: list[MenuEntry], x: float, y: float, owner: Widget | None = None) -> Menu:
        """Close any popup and open a context menu at screen point (x, y).

        Args:
            entries: the menu's entries.
            x: the pointer's x in screen points (the menu opens just right of it).
            y: the pointer's y in screen points (the menu opens just below it).
            owner: told when the menu closes, if given.

        Returns:
            The open menu.
        """
        self.close_popups()
        menu = Menu("Context menu", entries, int(x) + 2, int(y) + 2, owner=owner)
        self.open_popup(menu)
        return menu

    def start_drag(self, source: Widget, payload: Any, label: str = "") -> None:
        """Begin drag and drop from ``source``; ``label`` (if any) follows the pointer until release."""
        self.input.start_drag(source, payload, label)

    def widget_removed(self, w: Widget) -> None:
        """``w`` left the screen (removed or hidden): drop hover, capture, drag and focus references to it."""
        self.input.forget(w)
        for win in self.wm.windows:
            if within(win.focus_widget, w):
                win.focus_widget = None

    widget_hidden = widget_removed

    def desktop_menu_entries(self) -> list[MenuEntry]:
        """The entries of the desktop background's context menu (new folder/file, Files, Display Settings)."""
        return [
            MenuEntry("New Folder", lambda: self.apps["files"].new_folder_in(f"{HOME}/Desktop")),
            MenuEntry("New Text File", lambda: self.apps["files"].new_file_in(f"{HOME}/Desktop")),
            MenuEntry("-"),
            MenuEntry("Open Files", lambda: self.launch("files")),
            MenuEntry("Display Settings", lambda: self.launch("settings", tab="Display")),
        ]

    def shell_drop_ok(self, target: tuple[str, str], payload: Any) -> bool:
        """Whether ``payload`` (a dragged file) may be dropped on ``target``: the desktop, the trash or a folder icon."""
        return self.apps["files"].shell_drop_ok(target, payload)

    def shell_drop(self, target: tuple[str, str], payload: Any) -> None:
        """Drop ``payload`` (a dragged file) on ``target``: move it to the desktop, the trash or a folder."""
        self.apps["files"].shell_drop(target, payload)

    def global_key(self, ev: KeyEvent) -> None:
        """Shortcuts nobody else handled."""
        wm = self.wm
        if ev.combo == "alt+f4" and wm.active is not None:
            wm.request_close(wm.active)
        elif ev.combo in ("alt+tab", "alt+shift+tab"):
            wm.cycle()
        elif ev.combo in ("ctrl+d", "cmd+d"):
            wm.show_desktop()

    @property
    def palette(self) -> theme.Palette:
        """The colours in use: dark when the ``dark_mode`` setting is on, else light."""
        return theme.DARK if self.settings.get("dark_mode") else theme.LIGHT

    def settings_changed(self, key: str) -> None:
        """A setting changed; switching ``dark_mode`` repaints the whole screen."""
        if key == "dark_mode":
            self.compositor.invalidate_all()

    def clock_text(self) -> str:
        """The taskbar clock from the simulated clock: ``"HH:MM|Day DD Mon YYYY"`` (time over date)."""
        minute = int(self.input.clock // 60)
        if getattr(self, "_clock_cache", (None, ""))[0] != minute:
            now = EPOCH + _dt.timedelta(minutes=minute)
            self._clock_cache = (minute, now.strftime("%H:%M") + "|" + now.strftime("%a %d %b %Y"))
        return self._clock_cache[1]

    # ================================================================== internals
    def _build(self, init: dict) -> None:
        from guiagent.envs.mock.apps.mail import MailStore
        from guiagent.envs.mock.apps.settings import default_settings

        unknown = set(init) - INITIAL_STATE_KEYS
        if unknown:
            raise EnvError(f"unknown initial_state keys {sorted(unknown)}; known: {sorted(INITIAL_STATE_KEYS)}")
        self.compositor = Compositor(self.width, self.height, self.scale)
        self._display = Display(self.compositor.size_px, self.scale, (0.0, 0.0))
        self.fs = FileSystem()
        self.fs.load(init.get("files"), init.get("dirs"), init.get("trash"))
        self.settings = default_settings()
        for k, v in (init.get("settings") or {}).items():
            if k not in self.settings:
                raise EnvError(f"unknown setting {k!r}; known settings: {sorted(self.settings)}")
            self.settings[k] = v
        self.mail = MailStore.from_data(init.get("mail") or {})
        self.form_submissions: list[dict] = []
        self.clipboard = str(init.get("clipboard", ""))
        self.popups: list[Popup] = []
        self.input = Input(self)
        self.input.clock = float(init.get("time", 0.0))
        self.wm = WindowManager(self)
        self.apps: dict[str, App] = {cls.app_id: cls(self) for cls in APP_CLASSES}
        self.shell = Shell(self)
        self.taskbar = Taskbar(self, [(a.app_id, a.title, a.icon) for a in self.apps.values()])
        self._icons_version = None  # the new shell has no icons yet, whatever the old file system's version was
        self._sync_desktop_icons()
        for spec in init.get("open") or ():
            if isinstance(spec, str):
                self.launch(spec)
            else:
                spec = dict(spec)
                self.launch(spec.pop("app"), **spec)
        self._after_action()

    def _sync_desktop_icons(self) -> None:
        if getattr(self, "_icons_version", None) == self.fs.version:
            return
        self._icons_version = self.fs.version
        icons = [(a.title, a.icon, ("app", a.app_id)) for a in self.apps.values()]
        icons.append(("Trash", "trash_full" if self.fs.trash else "trash", ("trash", "")))
        for name, is_dir in self.fs.listdir(f"{HOME}/Desktop"):
            icons.append((name, "folder" if is_dir else "file", ("path", f"{HOME}/Desktop/{name}")))
        self.shell.set_icons(icons)
        for ic in self.shell.children:  # the trash icon's look depends on the trash
            if getattr(ic, "target", None) == ("trash", ""):
                new_icon = "trash_full" if self.fs.trash else "trash"
                if ic.icon != new_icon:
                    ic.icon = new_icon
                    ic.invalidate()

    def _after_action(self) -> None:
        for app in self.apps.values():
            app.sync()
        self._sync_desktop_icons()
        self.taskbar.refresh()
        self.input.update_hover()

    def _paint(self, p: Painter) -> None:
        layers = self.layers()
        if self.input.ghost is not None:
            layers.append(self.input.ghost)
        start = max(0, first_covering(layers, 0, 0, p.clip))  # skip layers hidden under an opaque one
        for layer in layers[start:]:
            paint_tree(layer, p)

    def _check_open(self) -> None:
        if self._closed:
            raise EnvError("this MockDesktop was closed; create a new one")
        if getattr(self, "_broken", None):
            raise MockDesktopFailed(f"this MockDesktop failed in an earlier action ({self._broken}); reset() it")

    def _to_screen(self, action: T.Action) -> T.Action:
        return self.display.action_to_screen(action, where="the screen")

    def _validate(self, action: T.Action) -> None:
        if isinstance(action, T.Type) and len(action.text) > MAX_TYPE_CHARS:
            raise EnvError(f"the mock desktop types at most {MAX_TYPE_CHARS:,} characters per action, got "
                           f"{len(action.text):,}; nothing was typed")
        if isinstance(action, T.OpenApp):
            self.resolve_app(action.name)
        elif isinstance(action, T.NavigateBack):
            if not self.apps["webform"].running:
                raise EnvError("navigate_back needs an open browser window (the Web Form app); nothing was done")


INITIAL_STATE_KEYS = frozenset({"files", "dirs", "trash", "settings", "mail", "clipboard", "open", "time"})


# ====================================================================== action handlers
@contextlib.contextmanager
def _holding(d: MockDesktop, keys: tuple[str, ...]) -> Iterator[None]:
    """Modifier keys held down around a click or scroll (the widgets see them in the event's mods)."""
    held = [k for k in keys if k not in d.input.keys]
    for k in held:
        d.input.key_down(k)
    try:
        yield
    finally:
        for k in reversed(held):
            d.input.key_up(k)


def _side_button(d: MockDesktop, button: str) -> None:
    """The side buttons: "back" goes back in the Web Form browser when it is the active window, as browsers
    do; widgets do not handle side buttons, so anywhere else they do nothing (and "forward": the browser keeps
    no forward history)."""
    web = d.apps["webform"]
    active = d.wm.active
    if button == "back" and active is not None and active.app is web and web.can_go_back():
        web.go_back()


def _click(d: MockDesktop, a: T.Click) -> None:
    inp = d.input
    inp.move(a.point.x, a.point.y)
    if a.button in ("back", "forward"):
        for _ in range(a.clicks):
            _side_button(d, a.button)
            inp.tick()
        return
    with _holding(d, a.modifiers):
        for _ in range(a.clicks):
            inp.down(a.button)
            inp.tick()
            inp.up(a.button)
            inp.tick()


def _drag(d: MockDesktop, a: T.Drag) -> None:
    inp = d.input
    inp.move(a.start.x, a.start.y)
    inp.down(a.button)
    steps = 8
    here = a.start
    for target in (*a.via, a.end):
        for i in range(1, steps + 1):
            inp.tick()
            inp.move(here.x + (target.x - here.x) * i / steps, here.y + (target.y - here.y) * i / steps)
        here = target
    inp.tick()
    inp.up(a.button)


def _scroll(d: MockDesktop, a: T.Scroll) -> None:
    inp = d.input
    if a.point is not None:
        inp.move(a.point.x, a.point.y)
    amount = (a.amount or DEFAULT_SCROLL_NOTCHES) * NOTCH_POINTS
    dx = {"left": -amount, "right": amount}.get(a.direction, 0)
    dy = {"up": -amount, "down": amount}.get(a.direction, 0)
    with _holding(d, a.modifiers):
        inp.wheel(dx, dy)


def _type(d: MockDesktop, a: T.Type) -> None:
    inp = d.input
    # In a writable multi-line text box with no modifier held, Enter only inserts a line break: line breaks then
    # go in with the text as one edit (one edit per line would make typing N lines cost N times the text).
    w = d.focus_widget()
    breaks_are_text = (not d.popups and not inp.mods and isinstance(w, TextEdit) and w.multiline
                       and not w.readonly and w.enabled)
    chunk = ""
    for ch in a.text:
        if ch == "\n" and breaks_are_text:
            chunk += ch
        elif ch in "\n\t":
            if chunk:
                inp.text(chunk)
                chunk = ""
            key = "enter" if ch == "\n" else "tab"
            inp.key_down(key)
            inp.key_up(key)
        elif ch != "\r":
            chunk += ch
    if chunk:
        inp.text(chunk)
    if a.submit:
        inp.key_down("enter")
        inp.key_up("enter")


def _hotkey(d: MockDesktop, a: T.Hotkey) -> None:
    for k in a.keys:
        d.input.key_down(k)
        d.input.tick(SUB_STEP / 5)
    for k in reversed(a.keys):
        d.input.key_up(k)


def _press(d: MockDesktop, a: T.Press) -> None:
    d.input.key_down(a.key)
    d.input.key_up(a.key)


def _mouse_down(d: MockDesktop, a: T.MouseDown) -> None:
    if a.point is not None:
        d.input.move(a.point.x, a.point.y)
    if a.button in ("back", "forward"):
        _side_button(d, a.button)  # the navigation happens on the press, as in browsers
        return
    d.input.down(a.button)


def _mouse_up(d: MockDesktop, a: T.MouseUp) -> None:
    if a.point is not None:
        d.input.move(a.point.x, a.point.y)
    if a.button not in ("back", "forward"):
        d.input.up(a.button)


def _wait(d: MockDesktop, a: T.Wait) -> None:
    d.input.tick(a.seconds if a.seconds is not None else 1.0)


def _long_press(d: MockDesktop, a: T.LongPress) -> None:
    d.input.move(a.point.x, a.point.y)
    d.input.down("left")
    d.input.tick(a.seconds if a.seconds is not None else 1.0)
    d.input.up("left")


def _press_back(d: MockDesktop, a: T.PressBack) -> None:
    web = d.apps["webform"]
    active = d.wm.active
    if active is not None and active.app is web and web.can_go_back():
        web.go_back()
    else:
        d.input.key_down("esc")
        d.input.key_up("esc")


_HANDLERS: dict[type, Callable[[MockDesktop, Any], None]] = {
    T.Click: _click,
    T.Drag: _drag,
    T.Scroll: _scroll,
    T.Type: _type,
    T.Hotkey: _hotkey,
    T.Press: _press,
    T.KeyDown: lambda d, a: d.input.key_down(a.key),
    T.KeyUp: lambda d, a: d.input.key_up(a.key),
    T.MoveTo: lambda d, a: d.input.move(a.point.x, a.point.y),
    T.MouseDown: _mouse_down,
    T.MouseUp: _mouse_up,
    T.Wait: _wait,
    T.Finished: lambda d, a: None,
    T.CallUser: lambda d, a: None,
    T.LongPress: _long_press,
    T.OpenApp: lambda d, a: d.launch(a.name),
    T.PressHome: lambda d, a: d.wm.show_desktop(),
    T.PressBack: _press_back,
    T.Navigate: lambda d, a: d.launch("webform", url=a.url),
    T.NavigateBack: lambda d, a: d.apps["webform"].go_back(),
}
assert set(_HANDLERS) == set(T.ACTION_CLASSES), "every action class needs a handler"

