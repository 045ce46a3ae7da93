"""Windows and the window manager: z-order, activation, focus, move, minimize, maximize, close, modal dialogs.

The window manager owns the stacking order (bottom to top). The topmost window that is not minimized is the
*active* window; keyboard input goes to its focused widget. A modal dialog blocks input to its parent: pressing
the parent raises the dialog instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from guiagent.envs.mock import theme
from guiagent.envs.mock.geometry import Rect
from guiagent.envs.mock.render import Painter
from guiagent.envs.mock.text import TextStyle
from guiagent.envs.mock.widgets.base import KeyEvent, MouseEvent, Pressable, Widget

if TYPE_CHECKING:  # pragma: no cover
    from guiagent.envs.mock.services import DesktopCore

TITLE_STYLE = TextStyle("bold", theme.TITLE_FONT_SIZE)


class TitleButton(Pressable):
    """A title-bar button of a window.

    Args:
        kind: "close", "min" (minimize) or "max" (maximize/restore).
        rect: ``(x, y, w, h)`` relative to the window.
    """
    def __init__(self, kind: str, rect):
        super().__init__({"close": "Close", "min": "Minimize", "max": "Maximize"}[kind], rect)
        self.kind = kind

    @property
    def win(self) -> "Window":
        """The window this button belongs to."""
        return self.parent  # type: ignore[return-value]

    def activate(self) -> None:
        """Close (asking the app first), minimize, or maximize/restore the window."""
        wm = self.win.wm
        if wm is None:
            return
        if self.kind == "close":
            wm.request_close(self.win)
        elif self.kind == "min":
            wm.minimize(self.win)
        else:
            wm.toggle_maximize(self.win)

    def a11y_name(self) -> str:
        """The name "Restore" for the maximize button of a maximized window; otherwise the button's name."""
        if self.kind == "max" and self.win.maximized:
            return "Restore"
        return self.name

    def paint(self, p: Painter) -> None:
        """Draw the button's glyph (x, dash, square or restore squares), highlighted on hover."""
        pal = self.palette
        w, h = self.w, self.h
        col = pal.text if self.win.active else pal.title_text_inactive
        if self.hovered:
            p.fill(0, 0, w, h, pal.close_hover if self.kind == "close" else pal.button_hover)
            if self.kind == "close":
                col = (255, 255, 255)
        cx, cy = w / 2, h / 2
        if self.kind == "close":
            p.line(cx - 5, cy - 5, cx + 5, cy + 5, col, 1.4)
            p.line(cx - 5, cy + 5, cx + 5, cy - 5, col, 1.4)
        elif self.kind == "min":
            p.hline(cx - 5, cy + 3, 10, col)
        elif self.win.maximized:
            p.rect(cx - 3, cy - 6, 9, 9, outline=col)
            p.rect(cx - 6, cy - 3, 9, 9, fill=pal.title_active if self.win.active else pal.title_inactive,
                   outline=col)
        else:
            p.rect(cx - 5, cy - 5, 10, 10, outline=col)


class Window(Widget):
    """A top-level window: a title bar (icon, title, minimize/maximize/close) over ``content``.

    ``app`` is the owning app object (may be None); it is asked ``on_key(window, ev)`` for shortcuts that the
    focused widget did not handle, and ``can_close(window)`` before closing. ``on_layout(window)`` is called
    after the window changes size so the app can lay out ``content``.
    """

    role = "window"
    opaque = True

    def __init__(self, title: str, rect: tuple[int, int, int, int], app: Any = None, *, icon: str = "file",
                 resizable: bool = True, modal_for: "Window | None" = None, minimizable: bool = True,
                 on_layout: Callable[["Window"], None] | None = None):
        super().__init__(title, rect)
        self.title = title
        self.app = app
        self.icon = icon
        self.resizable = resizable
        self.minimizable = minimizable and modal_for is None
        self.modal_for = modal_for
        if modal_for is not None:
            self.role = "dialog"
        self.on_layout = on_layout
        self.wm: WindowManager | None = None
        self.minimized = False
        self.maximized = False
        self.restore_rect: Rect | None = None
        self.focus_widget: Widget | None = None
        self.wid = 0
        self._drag: tuple[float, float, int, int] | None = None
        self.content = self.add(_Content((1, theme.TITLE_H, self.w - 2, self.h - theme.TITLE_H - 1)))
        self.buttons: list[TitleButton] = []
        kinds = ["close"] + (["max"] if resizable else []) + (["min"] if self.minimizable else [])
        for i, k in enumerate(kinds):
            self.buttons.append(self.add(TitleButton(k, (self.w - 1 - 44 * (i + 1), 1, 44, theme.TITLE_H - 1))))

    # ------------------------------------------------------------------ state
    @property
    def active(self) -> bool:
        """True when this is the window manager's active (topmost non-minimized) window."""
        return self.wm is not None and self.wm.active is self

    def set_title(self, title: str) -> None:
        """Change the title (also the accessible name), repainting the title bar and the taskbar."""
        if title != self.title:
            self.title = self.name = title
            self.invalidate(Rect(0, 0, self.w, theme.TITLE_H))
            if self.wm is not None:
                self.wm.changed()

    def resized(self) -> None:
        """Lay out the content area and title buttons for the new size, then call ``on_layout``."""
        self.content.set_rect(1, theme.TITLE_H, self.w - 2, self.h - theme.TITLE_H - 1)
        for i, b in enumerate(self.buttons):
            b.set_rect(self.w - 1 - 44 * (i + 1), 1, 44, theme.TITLE_H - 1)
        if self.on_layout is not None:
            self.on_layout(self)

    def set_focus(self, widget: Widget | None) -> None:
        """Give the keyboard focus within this window to ``widget`` (None: no widget), telling both widgets."""
        if widget is self.focus_widget:
            return
        old, self.focus_widget = self.focus_widget, widget
        if old is not None:
            old.on_focus(False)
        if widget is not None:
            widget.on_focus(True)

    def focus_chain(self) -> list[Widget]:
        """The widgets tab moves through: focusable, enabled and shown, in tree order."""
        return [w for w in self.content.walk() if w.focusable and w.enabled and w.is_shown()]

    def focus_next(self, backwards: bool = False) -> None:
        """Move the focus to the next (``backwards``: previous) widget of the chain, scrolling it into view."""
        chain = self.focus_chain()
        if not chain:
            return
        i = chain.index(self.focus_widget) if self.focus_widget in chain else -1
        i = (i + (-1 if backwards else 1)) % len(chain)
        self.set_focus(chain[i])
        sv = chain[i].parent
        while sv is not None:
            if hasattr(sv, "reveal") and sv.clip_children:
                sv.reveal(chain[i])  # type: ignore[attr-defined]
                break
            sv = sv.parent

    # ------------------------------------------------------------------ events
    def on_mouse_down(self, ev: MouseEvent) -> bool:
        """Start moving the window on a left press on its title bar (a double click maximizes/restores it).

        Left presses on the content that no widget handled are taken too, so they do not reach the desktop below.
        """
        lx, ly = self.local(ev)
        if ly < theme.TITLE_H and ev.button == "left":
            if ev.clicks == 2 and self.resizable and self.wm is not None:
                self.wm.toggle_maximize(self)
                return True
            if not self.maximized:
                self._drag = (ev.x, ev.y, self.x, self.y)
            return True
        return ev.button == "left"

    def on_mouse_drag(self, ev: MouseEvent) -> None:
        """Move the window with the pointer while its title bar is held."""
        if self._drag is None or self.wm is None:
            return
        x0, y0, wx, wy = self._drag
        self.wm.move(self, int(round(wx + ev.x - x0)), int(round(wy + ev.y - y0)))

    def on_mouse_up(self, ev: MouseEvent) -> None:
        """End moving the window."""
        self._drag = None

    def on_key(self, ev: KeyEvent) -> bool:
        """Tab/shift+tab move the focus; then the app's shortcuts; Escape closes a modal dialog."""
        if ev.combo in ("tab", "shift+tab"):
            self.focus_next(backwards=ev.combo == "shift+tab")
            return True
        if self.app is not None and hasattr(self.app, "on_key") and self.app.on_key(self, ev):
            return True
        if ev.combo == "esc" and self.modal_for is not None and self.wm is not None:
            self.wm.request_close(self)
            return True
        return False

    def on_text(self, text: str) -> bool:
        """Text no widget took goes to the app's ``on_text``, if it has one."""
        if self.app is not None and hasattr(self.app, "on_text"):
            return bool(self.app.on_text(self, text))
        return False

    # ------------------------------------------------------------------ painting
    def paint(self, p: Painter) -> None:
        """Draw the frame and the title bar (icon and title), coloured by whether the window is active."""
        pal = self.palette
        w, h = self.w, self.h
        active = self.active
        p.rect(0, 0, w, h, fill=pal.window_bg, outline=pal.accent if active else pal.border)
        p.fill(1, 1, w - 2, theme.TITLE_H - 1, pal.title_active if active else pal.title_inactive)
        p.hline(1, theme.TITLE_H - 1, w - 2, pal.border_light)
        p.icon(10, (theme.TITLE_H - 16) / 2, self.icon, 16)
        p.text_in(34, 0, w - 34 - 44 * len(self.buttons) - 8, theme.TITLE_H, self.title, TITLE_STYLE,
                  pal.text if active else pal.title_text_inactive)

    def paint_over(self, p: Painter) -> None:
        """Draw the frame again over the content."""
        # the frame is drawn again on top so content never covers it
        pal = self.palette
        p.rect(0, 0, self.w, self.h, outline=pal.accent if self.active else pal.border)

    # ------------------------------------------------------------------ a11y
    def a11y_name(self) -> str:
        """The window's title."""
        return self.title

    def a11y_states(self) -> set[str]:
        """The base states, plus active, minimized, maximized and modal."""
        s = super().a11y_states()
        if self.active:
            s.add("active")
        if self.minimized:
            s.add("minimized")
        if self.maximized:
            s.add("maximized")
        if self.modal_for is not None:
            s.add("modal")
        return s


class _Content(Widget):
    """The client area of a window (plain background)."""

    opaque = True

    def __init__(self, rect):
        super().__init__("", rect)
        self.a11y_hidden = True

    def paint(self, p: Painter) -> None:
        p.fill(0, 0, self.w, self.h, self.palette.window_bg)


class WindowManager:
    """The stacking order of the desktop's windows and every operation on it (activate, move, minimize, close...).

    Args:
        desktop: the desktop core the windows are shown on (work area, popups, taskbar).
    """
    def __init__(self, desktop: "DesktopCore"):
        self.desktop = desktop
        self.windows: list[Window] = []   # bottom to top
        self._next_id = 1
        self._cascade = 0

    # ------------------------------------------------------------------ queries
    @property
    def active(self) -> Window | None:
        """The topmost window that is not minimized, or None; it gets keyboard input."""
        for w in reversed(self.windows):
            if not w.minimized:
                return w
        return None

    def visible_windows(self) -> list[Window]:
        """The windows that are not minimized, bottom to top."""
        return [w for w in self.windows if not w.minimized]

    def work_area(self) -> Rect:
        """The screen minus the taskbar: where windows are placed and maximized."""
        d = self.desktop
        return Rect(0, 0, d.width, d.height - theme.TASKBAR_H)

    def changed(self) -> None:
        """Something the taskbar shows changed (titles, running apps, active window)."""
        self.desktop.taskbar.refresh()

    # ------------------------------------------------------------------ operations
    def place(self, w: int, h: int, parent: Window | None = None) -> tuple[int, int]:
        """Where to open a new ``w`` x ``h`` window, always inside the work area.

        A dialog is centred over ``parent``; other windows take the next cascade position.

        Returns:
            The window's top-left corner ``(x, y)``.
        """
        area = self.work_area()
        if parent is not None:
            x = parent.x + (parent.w - w) // 2
            y = parent.y + max(theme.TITLE_H, (parent.h - h) // 3)
        else:
            x = 140 + 32 * self._cascade
            y = 40 + 28 * self._cascade
            self._cascade = (self._cascade + 1) % 6
            if x + w > area.right:
                x = max(0, area.right - w - 10)
            if y + h > area.bottom:
                y = max(0, area.bottom - h - 10)
        x = max(area.x, min(x, area.right - w))
        y = max(area.y, min(y, area.bottom - h))
        return x, y

    def add(self, win: Window, *, activate: bool = True) -> Window:
        """Show ``win`` with a new id, fitted into the work area.

        Unless a widget already has the focus, its first widget that takes focus on click (a text input, list or
        slider) gets it.

        Args:
            win: the window.
            activate: put it on top (the active window); False puts it at the bottom of the stack.

        Returns:
            ``win``.
        """
        win.wm = self
        win.wid = self._next_id
        self._next_id += 1
        win.desktop_ref = self.desktop
        area = self.work_area()
        win.w, win.h = min(win.w, area.w), min(win.h, area.h)
        win.resized()
        if activate or not self.windows:
            self.windows.append(win)
        else:
            self.windows.insert(0, win)
        win.invalidate()
        self._activation_changed(None)
        if win.focus_widget is None:
            chain = win.focus_chain()
            text_inputs = [c for c in chain if getattr(c, "focus_on_click", False)]
            if text_inputs:
                win.set_focus(text_inputs[0])
        self.changed()
        return win

    def _activation_changed(self, previous: Window | None) -> None:
        for w in self.windows:
            w.invalidate(Rect(0, 0, w.w, theme.TITLE_H))
            w.invalidate(Rect(0, 0, 1, w.h))  # frame colour
            w.invalidate(Rect(w.w - 1, 0, 1, w.h))
            w.invalidate(Rect(0, w.h - 1, w.w, 1))
            if w.focus_widget is not None:
                w.focus_widget.invalidate()

    def activate(self, win: Window) -> None:
        """Raise ``win`` (and any modal dialog over it) to the top, restoring it if minimized."""
        if win not in self.windows:
            return
        before = self.active
        stack = [win]
        child = self.modal_child(win)
        while child is not None:
            stack.append(child)
            child = self.modal_child(child)
        for w in stack:
            if w.minimized:
                w.minimized = False
                w.invalidate()
        if self.windows[-len(stack):] != stack:
            for w in stack:
                self.windows.remove(w)
                self.windows.append(w)
                w.invalidate()
        if self.active is not before:
            self._activation_changed(before)
            self.desktop.close_popups()
        self.changed()

    def modal_child(self, win: Window) -> Window | None:
        """The modal dialog opened directly over ``win``, or None."""
        for w in self.windows:
            if w.modal_for is win:
                return w
        return None

    def blocking_dialog(self, win: Window) -> Window | None:
        """The innermost modal dialog blocking ``win``, if any."""
        child = self.modal_child(win)
        while child is not None:
            deeper = self.modal_child(child)
            if deeper is None:
                return child
            child = deeper
        return None

    def move(self, win: Window, x: int, y: int) -> None:
        """Move ``win`` to (x, y), keeping its title bar reachable (at least 80 points stay on screen)."""
        area = self.work_area()
        x = max(-win.w + 80, min(area.right - 80, x))
        y = max(0, min(area.bottom - theme.TITLE_H, y))
        win.set_rect(x, y, win.w, win.h)

    def minimize(self, win: Window) -> None:
        """Minimize ``win`` with its dialogs (not a window that cannot be minimized)."""
        if win.minimized or not win.minimizable:
            return
        before = self.active
        win.invalidate()
        win.minimized = True
        for w in self.windows:  # dialogs go with their parent
            if w.modal_for is win and not w.minimized:
                w.invalidate()
                w.minimized = True
        self.desktop.close_popups()
        if self.active is not before:
            self._activation_changed(before)
        self.changed()

    def toggle_maximize(self, win: Window) -> None:
        """Maximize ``win`` to the work area, or restore its previous rectangle (resizable windows only)."""
        if not win.resizable:
            return
        if win.maximized:
            r = win.restore_rect or Rect(win.x, win.y, win.w, win.h)
            win.maximized = False
            win.set_rect(*r)
        else:
            win.restore_rect = win.rect
            win.maximized = True
            a = self.work_area()
            win.set_rect(a.x, a.y, a.w, a.h)
        win.invalidate()
        self.desktop.close_popups()
        self.changed()

    def request_close(self, win: Window) -> None:
        """Close ``win`` unless its app vetoes (e.g. to ask about unsaved changes)."""
        dialog = self.blocking_dialog(win)
        if dialog is not None:
            self.activate(dialog)
            return
        app = win.app
        if app is not None and hasattr(app, "can_close") and not app.can_close(win):
            return
        self.close(win)

    def close(self, win: Window) -> None:
        """Close ``win`` and its dialogs at once (no veto), tell its app, and re-activate a dialog's parent."""
        if win not in self.windows:
            return
        for w in list(self.windows):
            if w.modal_for is win:
                self.close(w)
        before = self.active
        win.invalidate()
        self.desktop.close_popups()
        self.windows.remove(win)
        self.desktop.widget_removed(win)
        app = win.app
        if app is not None and hasattr(app, "window_closed"):
            app.window_closed(win)
        if win.modal_for is not None and win.modal_for in self.windows:
            self.activate(win.modal_for)
        if self.active is not before:
            self._activation_changed(before)
        self.changed()

    def cycle(self) -> None:
        """alt+tab: activate the bottom-most window (which brings the others' order round)."""
        if len(self.windows) > 1:
            self.activate(self.windows[0] if not self.windows[0].modal_for else self.windows[0].modal_for)

    def show_desktop(self) -> None:
        """Minimize every window that can be minimized."""
        for w in list(self.windows):
            if w.minimizable:
                self.minimize(w)
