"""What every mock app is: a named launcher over the desktop's shared data, owning zero or more windows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from guiagent.envs.mock.widgets.base import KeyEvent
from guiagent.envs.mock.wm import Window

if TYPE_CHECKING:  # pragma: no cover
    from guiagent.envs.mock.services import AppHost


class App:
    """Base class. Subclasses set ``app_id``/``title``/``icon``/``aliases`` and implement ``open``.

    Apps keep nothing that must survive a window close except through the desktop's data (file system, settings,
    mail store, form submissions), so closing and relaunching an app shows the same data. An app depends on the
    ``AppHost`` Protocol, not on MockDesktop.
    """

    app_id = "app"
    title = "App"
    icon = "file"
    aliases: tuple[str, ...] = ()
    single_instance = True

    def __init__(self, desktop: "AppHost"):
        #: the services the app may use (``guiagent.envs.mock.services.AppHost``); the MockDesktop in practice
        self.d = desktop
        # the shared data the app works on, handed over once: the window manager, file system and mail store
        self.wm, self.fs, self.mail = desktop.wm, desktop.fs, desktop.mail
        self.windows: list[Window] = []

    # ------------------------------------------------------------------ lifecycle
    def open(self, **options: Any) -> Window:
        """Launch (or, for single-instance apps, raise) the app. ``options`` are app specific."""
        if self.single_instance and self.windows:
            win = self.windows[0]
            self.wm.activate(win)
            self.apply_options(win, **options)
            return win
        win = self.create_window(**options)
        self.windows.append(win)
        self.wm.add(win)
        self.after_open(win, **options)
        return win

    def create_window(self, **options: Any) -> Window:
        """Build a new window of the app (not yet shown); ``options`` are app specific. Subclasses implement it."""
        raise NotImplementedError

    def after_open(self, win: Window, **options: Any) -> None:
        """Hook after the window is on screen (focus a field, load a file ...)."""

    def apply_options(self, win: Window, **options: Any) -> None:
        """Hook when an already open single-instance app is launched again with options."""

    def window_closed(self, win: Window) -> None:
        """The window manager closed ``win``: forget it (the app stops running with its last window)."""
        if win in self.windows:
            self.windows.remove(win)

    def can_close(self, win: Window) -> bool:
        """Whether ``win`` may close now; apps veto to ask first (e.g. about unsaved changes). True by default."""
        return True

    def on_key(self, win: Window, ev: KeyEvent) -> bool:
        """A shortcut in one of the app's windows that no widget handled; return True when handled."""
        return False

    def sync(self) -> None:
        """Called after every action: refresh views whose data changed elsewhere (e.g. the file system)."""

    @property
    def running(self) -> bool:
        """True while the app has a window open."""
        return bool(self.windows)

    def state(self) -> dict:
        """Plain, JSON-able view state for checkers (only meaningful while running)."""
        return {}
