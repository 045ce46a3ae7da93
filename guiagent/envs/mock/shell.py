"""The desktop shell: wallpaper with desktop icons (bottom layer) and the taskbar (above windows)."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from guiagent.envs.mock import text as textmod
from guiagent.envs.mock import theme
from guiagent.envs.mock.geometry import Rect
from guiagent.envs.mock.render import Painter
from guiagent.envs.mock.text import TextStyle
from guiagent.envs.mock.widgets.base import KeyEvent, MouseEvent, Pressable, Widget
from guiagent.envs.mock.widgets.basic import BOLD, REGULAR, SMALL

if TYPE_CHECKING:  # pragma: no cover
    from guiagent.envs.mock.services import DesktopCore

ICON_CELL_W, ICON_CELL_H = 92, 84


@lru_cache(maxsize=8)
def wallpaper(size_px: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    """A vertical gradient with a soft diagonal band (computed with numpy, cached per size and palette)."""
    w, h = size_px
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    a = np.array(top, dtype=np.float32)[None, None, :]
    b = np.array(bottom, dtype=np.float32)[None, None, :]
    img = a + (b - a) * t
    xs = np.linspace(0.0, 1.0, w, dtype=np.float32)[None, :, None]
    band = np.exp(-((xs - 0.65 + 0.4 * t) ** 2) / 0.02) * 18.0
    img = np.clip(img + band, 0, 255).astype(np.uint8)
    img = np.broadcast_to(img, (h, w, 3)).copy()
    return Image.fromarray(img, "RGB")


class DesktopIcon(Widget):
    """An icon on the desktop; double click opens it (``target`` is ("app", id) or ("path", path))."""

    role = "icon"
    hover_effect = True

    def __init__(self, label: str, icon: str, target: tuple[str, str], rect):
        super().__init__(label, rect)
        self.icon = icon
        self.target = target

    @property
    def shell(self) -> "Shell":
        """The Shell (desktop background) this icon lies on."""
        return self.parent  # type: ignore[return-value]

    def on_mouse_down(self, ev: MouseEvent) -> bool:
        """Select the icon; a left double click opens its target."""
        self.shell.select(self)
        if ev.button == "left" and ev.clicks == 2:
            d = self.desktop
            if d is not None:
                d.open_target(self.target)
        return ev.button == "left"

    def on_context_menu(self, ev: MouseEvent) -> bool:
        """Select the icon and offer a context menu with "Open"."""
        from guiagent.envs.mock.widgets.menus import MenuEntry

        d = self.desktop
        if d is None:
            return False
        self.shell.select(self)
        d.open_context_menu([MenuEntry("Open", lambda: d.open_target(self.target))], ev.x, ev.y)
        return True

    def accepts_drop(self, payload: Any) -> bool:
        """Whether a dragged file may be dropped on this icon (trash and folder icons only)."""
        d = self.desktop
        return d is not None and self.target[0] in ("trash", "path") and d.shell_drop_ok(self.target, payload)

    def on_drop(self, payload: Any) -> None:
        """Move the dropped file into this icon's folder, or into the trash."""
        d = self.desktop
        if d is not None:
            d.shell_drop(self.target, payload)

    def paint(self, p: Painter) -> None:
        """Draw the icon with its shadowed, elided label, highlighted when selected, hovered or a drop target."""
        sel = self.shell.selected is self
        d = self.desktop
        if d is not None and d.input.drop_target is self:
            p.rect(2, 2, self.w - 4, self.h - 4, fill=(70, 110, 160), outline=(255, 255, 255), width=2, radius=6)
        elif sel or self.hovered:
            p.rect(2, 2, self.w - 4, self.h - 4, fill=(70, 110, 160) if sel else (60, 95, 135), radius=6)
        p.icon((self.w - 40) / 2, 8, self.icon, 40)
        style = TextStyle("sans", theme.SMALL_FONT_SIZE + 1)
        label = textmod.elide(self.name, self.w - 8, style)
        tw = textmod.measure(label, style)
        x = (self.w - tw) / 2
        p.text(x + 1, 53, label, style, (10, 20, 30))
        p.text(x, 52, label, style, (255, 255, 255))

    def a11y_states(self) -> set[str]:
        """The base states, plus "selected" for the selected icon."""
        s = super().a11y_states()
        if self.shell.selected is self:
            s.add("selected")
        return s


class Shell(Widget):
    """Wallpaper plus the icon grid; the bottom-most layer."""

    role = "desktop"
    opaque = True

    def __init__(self, desktop: "DesktopCore"):
        super().__init__("Desktop", (0, 0, desktop.width, desktop.height - theme.TASKBAR_H))
        self.desktop_ref = desktop
        self.selected: DesktopIcon | None = None

    def set_icons(self, icons: list[tuple[str, str, tuple[str, str]]]) -> None:
        """Lay the icons out in columns, top to bottom; keeps the selection when its target is still there.

        Args:
            icons: ``(label, icon name, target)`` triples; a target is ``("app", id)``, ``("trash", _)`` or
                ``("path", path)``. Unchanged icons are not rebuilt.
        """
        old = {(c.name, c.target) for c in self.children}
        new = {(label, target) for label, _, target in icons}
        if old == new and len(self.children) == len(icons):
            return
        sel = self.selected.target if self.selected is not None else None
        self.clear()
        self.selected = None
        rows = max(1, (self.h - 10) // ICON_CELL_H)
        for i, (label, icon, target) in enumerate(icons):
            col, row = divmod(i, rows)
            ic = self.add(DesktopIcon(label, icon, target,
                                      (8 + col * ICON_CELL_W, 8 + row * ICON_CELL_H, ICON_CELL_W, ICON_CELL_H)))
            if target == sel:
                self.selected = ic

    def select(self, icon: DesktopIcon | None) -> None:
        """Select ``icon`` (None clears the selection), repainting both icons."""
        if icon is not self.selected:
            old, self.selected = self.selected, icon
            for ic in (old, icon):
                if ic is not None:
                    ic.invalidate()

    def on_mouse_down(self, ev: MouseEvent) -> bool:
        """A press on the background clears the icon selection."""
        self.select(None)
        return ev.button == "left"

    def on_context_menu(self, ev: MouseEvent) -> bool:
        """Open the desktop's context menu (new folder, new file, ...)."""
        d = self.desktop_ref
        if d is None:
            return False
        d.open_context_menu(d.desktop_menu_entries(), ev.x, ev.y)
        return True

    def on_key(self, ev: KeyEvent) -> bool:
        """Enter opens the selected icon's target."""
        d = self.desktop_ref
        if ev.combo == "enter" and self.selected is not None and d is not None:
            d.open_target(self.selected.target)
            return True
        return False

    def accepts_drop(self, payload: Any) -> bool:
        """Whether a dragged file may be dropped on the desktop (moved to ~/Desktop)."""
        d = self.desktop_ref
        return d is not None and d.shell_drop_ok(("desktop", ""), payload)

    def on_drop(self, payload: Any) -> None:
        """Move the dropped file to ~/Desktop."""
        d = self.desktop_ref
        if d is not None:
            d.shell_drop(("desktop", ""), payload)

    def paint(self, p: Painter) -> None:
        """Draw the wallpaper gradient in the current palette."""
        pal = self.palette
        p.backdrop(wallpaper(self.desktop_ref.compositor.size_px, pal.wallpaper_top,
                             pal.wallpaper_bottom))


class TaskbarButton(Pressable):
    """A pinned app's taskbar button: launches the app, switches to it, or minimizes it when it is active.

    Args:
        app_id: the app it stands for.
        label: the app's title (shown when the button is wide enough, and the accessible name).
        icon: the app's icon name.
        rect: ``(x, y, w, h)`` relative to the taskbar.
    """
    def __init__(self, app_id: str, label: str, icon: str, rect):
        super().__init__(label, rect)
        self.app_id = app_id
        self.icon = icon

    @property
    def bar(self) -> "Taskbar":
        """The Taskbar this button belongs to."""
        return self.parent  # type: ignore[return-value]

    def activate(self) -> None:
        """Launch, raise or minimize the app (see ``MockDesktop.taskbar_activate``)."""
        if self.desktop is not None:
            self.desktop.taskbar_activate(self.app_id)

    def paint(self, p: Painter) -> None:
        """Draw the icon (and label), the active/hover highlight and the running indicator."""
        pal = self.palette
        running, active = self.bar.status.get(self.app_id, (False, False))
        if active:
            p.rect(2, 4, self.w - 4, self.h - 8, fill=pal.taskbar_active, radius=5)
        elif self.hovered or self.pressed:
            p.rect(2, 4, self.w - 4, self.h - 8, fill=pal.taskbar_hover, radius=5)
        show_label = self.w >= 90
        ix = 12 if show_label else (self.w - 22) / 2
        p.icon(ix, (self.h - 22) / 2, self.icon, 22)
        if show_label:
            p.text_in(ix + 30, 0, self.w - ix - 36, self.h, self.name, REGULAR, pal.taskbar_text)
        if running:
            p.rect(self.w / 2 - 8 if not active else 8, self.h - 5, 16 if not active else self.w - 16, 3,
                   fill=(120, 170, 255), radius=1.5)

    def a11y_states(self) -> set[str]:
        """The base states, plus "running" and "active" for the app's status."""
        s = super().a11y_states()
        running, active = self.bar.status.get(self.app_id, (False, False))
        if running:
            s.add("running")
        if active:
            s.add("active")
        return s


class Taskbar(Widget):
    """Pinned app buttons (launch / switch / minimize) and a clock driven by the simulated time."""

    role = "taskbar"
    opaque = True

    def __init__(self, desktop: "DesktopCore", apps: list[tuple[str, str, str]]):
        super().__init__("Taskbar", (0, desktop.height - theme.TASKBAR_H, desktop.width, theme.TASKBAR_H))
        self.desktop_ref = desktop
        self.status: dict[str, tuple[bool, bool]] = {}
        n = max(1, len(apps))
        bw = int(max(44, min(136, (desktop.width - 150) / n)))
        for i, (app_id, label, icon) in enumerate(apps):
            self.add(TaskbarButton(app_id, label, icon, (8 + i * (bw + 2), 0, bw, theme.TASKBAR_H)))
        self.clock_text = ""

    def refresh(self) -> None:
        """Repaint the buttons whose app status changed and the clock when its text changed."""
        d = self.desktop_ref
        if d is None:
            return
        status = d.app_status()
        if status != self.status:
            changed = {k for k in set(status) | set(self.status) if status.get(k) != self.status.get(k)}
            self.status = status
            for b in self.children:
                if isinstance(b, TaskbarButton) and b.app_id in changed:
                    b.invalidate()
        clock = d.clock_text()
        if clock != self.clock_text:
            self.clock_text = clock
            self.invalidate(Rect(self.w - 130, 0, 130, self.h))

    def paint(self, p: Painter) -> None:
        """Fill the bar and draw the clock (time over date) at the right."""
        pal = self.palette
        p.fill(0, 0, self.w, self.h, pal.taskbar)
        p.hline(0, 0, self.w, (60, 64, 74))
        if self.clock_text:
            time_s, date_s = self.clock_text.split("|")
            p.text_in(self.w - 124, 4, 112, 18, time_s, BOLD, pal.taskbar_text, align="right")
            p.text_in(self.w - 124, 22, 112, 16, date_s, SMALL, (180, 184, 194), align="right")

    def a11y_value(self) -> str | None:
        """The clock's time and date, or None before the first refresh."""
        return self.clock_text.replace("|", " ") or None
