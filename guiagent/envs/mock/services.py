"""The narrow core of the mock desktop: what its parts may ask of it, as Protocols.

``MockDesktop`` implements all three; nothing here imports it, so widgets, apps and the desktop's own parts
(window manager, input, shell, accessibility tree) depend on these small interfaces instead of on the desktop, and
a test can stand in for the desktop with a tiny fake (``tests/test_mock_core.py``)::

    WidgetHost    what a widget reaches through ``widget.desktop``: focus, popups and context menus, drag and drop,
                  the clipboard, the palette and the compositor (repaints)
    AppHost       what an app is given: the above, plus the shared data it works on (the window manager, the file
                  system, the mail store, settings, form submissions) and opening things (launch, the clock text)
    DesktopCore   what the window manager, input router, shell and accessibility tree use (screen size, layers,
                  popups, the taskbar and shell, routing of global keys and drops)

Widget, window and popup types are ``Any`` here on purpose: naming them would import the widget modules, and the
point of this module is that it imports nothing from the mock package.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["AppHost", "DesktopCore", "WidgetHost"]


@runtime_checkable
class WidgetHost(Protocol):
    """The services a widget uses."""

    #: the desktop clipboard's text (copy, cut and paste read and write it)
    clipboard: str
    #: the repaint scheduler (``guiagent.envs.mock.render.Compositor``): widgets invalidate what they change
    compositor: Any
    #: the input router (``guiagent.envs.mock.input.Input``): drag state, pointer position
    input: Any
    height: int
    #: the current theme's colours (``guiagent.envs.mock.theme.Palette``)
    palette: Any

    def focus_widget(self) -> Any:
        """The widget with keyboard focus, or None."""
        ...

    def open_popup(self, popup: Any) -> None:
        """Show a popup (menu, dropdown list) above everything."""
        ...

    def close_popups(self, top_only: bool = False) -> None:
        """Close every open popup (or the top one)."""
        ...

    def open_context_menu(self, entries: list, x: float, y: float, owner: Any = None) -> Any:
        """Open a context menu of ``MenuEntry`` items at a screen point; returns the menu."""
        ...

    def start_drag(self, source: Any, payload: Any, label: str = "") -> None:
        """Begin dragging ``payload`` from ``source`` (dropped where the pointer is released)."""
        ...

    def widget_removed(self, w: Any) -> None:
        """A widget left the tree: drop focus, hover and drag state that point at it."""
        ...

    def widget_hidden(self, w: Any) -> None:
        """A widget was hidden: as ``widget_removed`` for the state that needs it visible."""
        ...


@runtime_checkable
class AppHost(WidgetHost, Protocol):
    """The services and shared data an app is given."""

    #: the window manager (``guiagent.envs.mock.wm.WindowManager``)
    wm: Any
    #: the file system (``guiagent.envs.mock.fs.FileSystem``)
    fs: Any
    #: the mail store (``guiagent.envs.mock.apps.mail.MailStore``)
    mail: Any
    settings: dict
    form_submissions: list

    def launch(self, app_id: str, **options: Any) -> Any:
        """Open an app by id (another app's window, e.g. the editor for a file); returns its window."""
        ...

    def clock_text(self) -> str:
        """The simulated clock as "HH:MM|Day DD Mon YYYY"."""
        ...

    def settings_changed(self, key: str) -> None:
        """A setting changed: repaint what depends on it (the theme)."""
        ...


@runtime_checkable
class DesktopCore(AppHost, Protocol):
    """What the desktop's own parts (window manager, input, shell, accessibility tree) use."""

    width: int
    scale: float
    #: open popups, bottom first
    popups: list
    wm: Any
    shell: Any
    taskbar: Any

    def layers(self) -> list:
        """Top-level widgets from the bottom up (shell, windows, taskbar, popups)."""
        ...

    def global_key(self, ev: Any) -> None:
        """A key no focused widget took (shortcuts such as alt+tab)."""
        ...

    def open_target(self, target: tuple[str, str]) -> None:
        """Open a desktop icon's target (an app, a folder, a file, the trash)."""
        ...

    def taskbar_activate(self, app_id: str) -> None:
        """A taskbar button was clicked: launch, raise or minimise the app."""
        ...

    def app_status(self) -> dict[str, tuple[bool, bool]]:
        """app id -> (running, active), for the taskbar."""
        ...

    def desktop_menu_entries(self) -> list:
        """The desktop background's context menu."""
        ...

    def shell_drop_ok(self, target: tuple[str, str], payload: Any) -> bool:
        """Whether a drag payload may be dropped on a desktop icon."""
        ...

    def shell_drop(self, target: tuple[str, str], payload: Any) -> None:
        """Drop a drag payload on a desktop icon."""
        ...
