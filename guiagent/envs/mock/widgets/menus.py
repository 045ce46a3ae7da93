"""Popups: menus (menu bar, context menus) and the dropdown (combo box) with its option list.

A popup is a top-level widget that sits above every window. Pressing outside any popup closes them all and the
press is swallowed (as GTK and Windows menus do); Escape closes the topmost one. While a popup is open, keys go to
it first (arrows move the highlight, Enter activates).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from guiagent.envs.mock import text as textmod
from guiagent.envs.mock import theme
from guiagent.envs.mock.geometry import Rect
from guiagent.envs.mock.render import Painter
from guiagent.envs.mock.widgets.base import KeyEvent, MouseEvent, Widget
from guiagent.envs.mock.widgets.basic import REGULAR, SMALL


@dataclass
class MenuEntry:
    label: str
    action: Callable[[], None] | None = None
    shortcut: str = ""
    enabled: bool = True
    checked: bool | None = None

    @property
    def separator(self) -> bool:
        return self.label == "-"


SEPARATOR = MenuEntry("-")


class Popup(Widget):
    """Base of top-level popups. ``owner`` is told when the popup closes (``on_popup_closed``)."""

    role = "menu"

    def __init__(self, name: str, rect, owner: Widget | None = None):
        super().__init__(name, rect)
        self.owner = owner

    def paint(self, p: Painter) -> None:
        pal = self.palette
        p.rect(0, 0, self.w, self.h, fill=pal.menu_bg, outline=pal.border)
        p.hline(1, self.h - 1, self.w - 1, pal.shadow)
        p.vline(self.w - 1, 1, self.h - 1, pal.shadow)

    def on_popup_key(self, ev: KeyEvent) -> bool:
        return False


class MenuItemWidget(Widget):
    role = "menu_item"
    hover_effect = True

    def __init__(self, entry: MenuEntry, rect):
        super().__init__(entry.label, rect)
        self.entry = entry
        self.enabled = entry.enabled

    @property
    def menu(self) -> "Menu":
        return self.parent  # type: ignore[return-value]

    def on_hover(self, inside: bool) -> None:
        if inside and self.enabled:
            self.menu.set_active(self.menu.items.index(self))

    def on_mouse_down(self, ev: MouseEvent) -> bool:
        return True

    def on_mouse_up(self, ev: MouseEvent) -> None:
        if self.contains_screen(ev.x, ev.y):
            self.menu.activate(self)

    def paint(self, p: Painter) -> None:
        pal = self.palette
        active = self.menu.active is self and self.enabled
        if active:
            p.rect(4, 0, self.w - 8, self.h, fill=pal.accent, radius=3)
        fg = pal.accent_text if active else (pal.text if self.enabled else pal.text_disabled)
        if self.entry.checked:
            p.polyline([(12, self.h / 2), (15, self.h / 2 + 3), (21, self.h / 2 - 4)], fg, width=1.6)
        p.text_in(28, 0, self.w - 28, self.h, self.entry.label, REGULAR, fg)
        if self.entry.shortcut:
            p.text_in(0, 0, self.w - 14, self.h, self.entry.shortcut, SMALL,
                      pal.accent_text if active else pal.text_muted, align="right")

    def a11y_value(self) -> str | None:
        return self.entry.shortcut or None

    def a11y_states(self) -> set[str]:
        s = super().a11y_states()
        if self.menu.active is self:
            s.add("selected")
        if self.entry.checked:
            s.add("checked")
        return s


class _MenuSeparator(Widget):
    role = "separator"

    def __init__(self, rect):
        super().__init__("", rect)
        self.a11y_hidden = True

    def paint(self, p: Painter) -> None:
        p.hline(8, self.h // 2, self.w - 16, self.palette.border_light)


class Menu(Popup):
    def __init__(self, name: str, entries: Sequence[MenuEntry], x: int, y: int, owner: Widget | None = None):
        widths = [textmod.measure(e.label, REGULAR) + (textmod.measure(e.shortcut, SMALL) + 30 if e.shortcut else 0)
                  for e in entries]
        w = int(max([170.0] + [wd + 56 for wd in widths]))
        super().__init__(name, (x, y, w, 0), owner)
        self.items: list[MenuItemWidget] = []
        self.active: MenuItemWidget | None = None
        cy = 4
        for e in entries:
            if e.separator:
                self.add(_MenuSeparator((0, cy, w, 9)))
                cy += 9
            else:
                item = self.add(MenuItemWidget(e, (0, cy, w, theme.MENU_ITEM_H)))
                self.items.append(item)
                cy += theme.MENU_ITEM_H
        self.h = cy + 4

    def set_active(self, index: int | None) -> None:
        new = self.items[index] if index is not None and 0 <= index < len(self.items) else None
        if new is not self.active:
            old, self.active = self.active, new
            if old is not None:
                old.invalidate()
            if new is not None:
                new.invalidate()

    def activate(self, item: MenuItemWidget) -> None:
        if not item.enabled:
            return
        d = self.desktop
        if d is not None:
            d.close_popups()
        if item.entry.action is not None:
            item.entry.action()

    def on_popup_key(self, ev: KeyEvent) -> bool:
        enabled = [i for i, it in enumerate(self.items) if it.enabled]
        if not enabled:
            return ev.combo in ("up", "down", "enter")
        cur = self.items.index(self.active) if self.active in self.items else -1
        if ev.combo == "down":
            nxt = [i for i in enabled if i > cur]
            self.set_active(nxt[0] if nxt else enabled[0])
        elif ev.combo == "up":
            prv = [i for i in enabled if i < cur] if cur >= 0 else []
            self.set_active(prv[-1] if prv else enabled[-1])
        elif ev.combo in ("enter", "space"):
            if self.active is not None:
                self.activate(self.active)
        elif ev.combo in ("left", "right") and isinstance(self.owner, MenuTitle):
            self.owner.bar.open_adjacent(self.owner, 1 if ev.combo == "right" else -1)
        else:
            return False
        return True


class MenuTitle(Widget):
    """One title in a menu bar; pressing it opens its menu."""

    role = "menu_item"
    hover_effect = True

    def __init__(self, title: str, entries: Callable[[], Sequence[MenuEntry]], rect):
        super().__init__(title, rect)
        self.entries = entries
        self.menu: Menu | None = None

    @property
    def bar(self) -> "MenuBar":
        return self.parent  # type: ignore[return-value]

    def open(self) -> None:
        d = self.desktop
        if d is None:
            return
        d.close_popups()
        x, y = self.origin()
        self.menu = Menu(self.name, self.entries(), int(x), int(y + self.h), owner=self)
        d.open_popup(self.menu)
        self.invalidate()

    def on_popup_closed(self) -> None:
        self.menu = None
        self.invalidate()

    def on_mouse_down(self, ev: MouseEvent) -> bool:
        if ev.button != "left":
            return True
        if self.menu is not None:
            d = self.desktop
            if d is not None:
                d.close_popups()
        else:
            self.open()
        return True

    def on_mouse_up(self, ev: MouseEvent) -> None:
        # press on the title, drag into the menu, release on an item: activate it
        if self.menu is not None:
            for item in self.menu.items:
                if item.contains_screen(ev.x, ev.y):
                    self.menu.activate(item)
                    return

    def on_hover(self, inside: bool) -> None:
        self.invalidate()
        if inside and self.menu is None and any(t.menu is not None for t in self.bar.titles):
            self.open()

    def paint(self, p: Painter) -> None:
        pal = self.palette
        if self.menu is not None:
            p.rect(0, 2, self.w, self.h - 4, fill=pal.accent, radius=3)
            fg = pal.accent_text
        else:
            if self.hovered:
                p.rect(0, 2, self.w, self.h - 4, fill=pal.button_hover, radius=3)
            fg = pal.text
        p.text_in(0, 0, self.w, self.h, self.name, REGULAR, fg, align="center")

    def a11y_states(self) -> set[str]:
        s = super().a11y_states()
        if self.menu is not None:
            s.add("expanded")
        return s


class MenuBar(Widget):
    role = "menu_bar"
    opaque = True

    def __init__(self, menus: Sequence[tuple[str, Callable[[], Sequence[MenuEntry]]]], rect):
        super().__init__("Menu bar", rect)
        self.titles: list[MenuTitle] = []
        x = 4
        for title, entries in menus:
            w = int(textmod.measure(title, REGULAR) + 20)
            self.titles.append(self.add(MenuTitle(title, entries, (x, 0, w, self.h))))
            x += w

    def open_adjacent(self, title: MenuTitle, delta: int) -> None:
        i = (self.titles.index(title) + delta) % len(self.titles)
        self.titles[i].open()
        if self.titles[i].menu is not None:
            self.titles[i].menu.set_active(0)

    def paint(self, p: Painter) -> None:
        pal = self.palette
        p.fill(0, 0, self.w, self.h, pal.window_bg)
        p.hline(0, self.h - 1, self.w, pal.border_light)


# ---------------------------------------------------------------------------------------------- dropdown
class OptionItem(Widget):
    role = "list_item"
    hover_effect = True

    def __init__(self, label: str, rect):
        super().__init__(label, rect)

    @property
    def popup(self) -> "OptionList":
        return self.parent  # type: ignore[return-value]

    def on_hover(self, inside: bool) -> None:
        if inside:
            self.popup.set_highlight(self.name)

    def on_mouse_down(self, ev: MouseEvent) -> bool:
        return True

    def on_mouse_up(self, ev: MouseEvent) -> None:
        if self.contains_screen(ev.x, ev.y):
            self.popup.choose(self.name)

    def paint(self, p: Painter) -> None:
        pal = self.palette
        hl = self.popup.highlight == self.name
        if hl:
            p.fill(0, 0, self.w, self.h, pal.accent)
        fg = pal.accent_text if hl else pal.text
        if self.popup.dropdown.selected == self.name:
            p.polyline([(8, self.h / 2), (11, self.h / 2 + 3), (17, self.h / 2 - 4)], fg, width=1.6)
        p.text_in(24, 0, self.w - 24, self.h, self.name, REGULAR, fg)

    def a11y_states(self) -> set[str]:
        s = super().a11y_states()
        if self.popup.dropdown.selected == self.name:
            s.add("selected")
        return s


class OptionList(Popup):
    role = "list"
    clip_children = True
    VISIBLE = 8

    def __init__(self, dropdown: "Dropdown", x: int, y: int, w: int):
        n = len(dropdown.options)
        h = min(n, self.VISIBLE) * theme.ROW_H + 4
        super().__init__(dropdown.name, (x, y, w, h), dropdown)
        self.dropdown = dropdown
        self.highlight = dropdown.selected
        for i, opt in enumerate(dropdown.options):
            self.add(OptionItem(opt, (0, 2 + i * theme.ROW_H, w, theme.ROW_H)))
        if dropdown.selected in dropdown.options:
            self.reveal(dropdown.options.index(dropdown.selected))

    def viewport(self) -> Rect:
        return Rect(1, 1, self.w - 2, self.h - 2)

    def max_scroll(self) -> int:
        return max(0, len(self.dropdown.options) * theme.ROW_H + 4 - self.h)

    def reveal(self, i: int) -> None:
        top = 2 + i * theme.ROW_H
        if top < self.scroll_y:
            self.scroll_y = top - 2
        elif top + theme.ROW_H > self.scroll_y + self.h:
            self.scroll_y = top + theme.ROW_H - self.h + 2
        self.scroll_y = max(0, min(self.max_scroll(), self.scroll_y))
        self.invalidate()

    def set_highlight(self, label: str) -> None:
        if label != self.highlight:
            self.highlight = label
            self.invalidate()

    def choose(self, label: str) -> None:
        d = self.desktop
        if d is not None:
            d.close_popups()
        self.dropdown.select(label)

    def on_wheel(self, ev: MouseEvent) -> bool:
        new = max(0, min(self.max_scroll(), int(self.scroll_y + ev.dy)))
        if new != self.scroll_y:
            self.scroll_y = new
            self.invalidate()
        return True

    def paint_over(self, p: Painter) -> None:
        if self.max_scroll() > 0:
            total = len(self.dropdown.options) * theme.ROW_H + 4
            th = max(20, self.h * self.h / total)
            ty = (self.h - th) * self.scroll_y / self.max_scroll()
            p.rect(self.w - 8, ty + 1, 5, th - 2, fill=self.palette.track, radius=2)

    def on_popup_key(self, ev: KeyEvent) -> bool:
        opts = self.dropdown.options
        i = opts.index(self.highlight) if self.highlight in opts else -1
        if ev.combo in ("down", "up"):
            i = max(0, min(len(opts) - 1, i + (1 if ev.combo == "down" else -1)))
            self.set_highlight(opts[i])
            self.reveal(i)
        elif ev.combo in ("enter", "space"):
            if self.highlight is not None:
                self.choose(self.highlight)
        else:
            return False
        return True


class Dropdown(Widget):
    """A combo box (read-only): shows the selected option; pressing it opens the option list."""

    role = "combo_box"
    focusable = True
    hover_effect = True

    def __init__(self, name: str, options: Sequence[str], selected: str | None = None, rect=(0, 0, 0, 0),
                 on_change: Callable[[str], None] | None = None):
        super().__init__(name, rect)
        self.options = list(options)
        self.selected = selected
        self.on_change = on_change
        self.popup: OptionList | None = None
        self.invalid = False

    def select(self, option: str, notify: bool = True) -> None:
        if option != self.selected:
            self.selected = option
            self.invalidate()
            if notify and self.on_change is not None:
                self.on_change(option)

    def open(self) -> None:
        d = self.desktop
        if d is None or not self.enabled:
            return
        d.close_popups()
        x, y = self.origin()
        h = min(len(self.options), OptionList.VISIBLE) * theme.ROW_H + 4
        top = int(y + self.h + 2)
        if top + h > d.height - theme.TASKBAR_H:
            top = int(y - h - 2)
        self.popup = OptionList(self, int(x), top, self.w)
        d.open_popup(self.popup)
        self.invalidate()

    def on_popup_closed(self) -> None:
        self.popup = None
        self.invalidate()

    def on_mouse_down(self, ev: MouseEvent) -> bool:
        if ev.button != "left":
            return True
        self.focus()
        if self.popup is None:
            self.open()
        else:
            d = self.desktop
            if d is not None:
                d.close_popups()
        return True

    def on_key(self, ev: KeyEvent) -> bool:
        if ev.combo in ("enter", "space", "alt+down", "f4"):
            self.open()
            return True
        if ev.combo in ("up", "down") and self.options:
            i = self.options.index(self.selected) if self.selected in self.options else -1
            i = max(0, min(len(self.options) - 1, i + (1 if ev.combo == "down" else -1)))
            self.select(self.options[i])
            return True
        return False

    def on_text(self, text: str) -> bool:
        if text == " ":
            self.open()
            return True
        # type-to-select: the first option starting with the typed letter
        for opt in self.options:
            if opt.lower().startswith(text.lower()):
                self.select(opt)
                return True
        return False

    def paint(self, p: Painter) -> None:
        pal = self.palette
        fill = pal.button_hover if self.hovered and self.enabled else pal.surface
        border = pal.error if self.invalid else (pal.focus_ring if self.focused or self.popup else pal.button_border)
        p.rect(0, 0, self.w, self.h, fill=fill, outline=border, width=2 if self.focused else 1, radius=4)
        p.text_in(8, 0, self.w - 36, self.h, self.selected or "Select…", REGULAR,
                  pal.text if self.selected else pal.text_muted)
        cx, cy = self.w - 16, self.h / 2
        p.polyline([(cx - 5, cy - 2), (cx, cy + 3), (cx + 5, cy - 2)], pal.text_muted, width=1.6)

    def a11y_value(self) -> str | None:
        return self.selected

    def a11y_states(self) -> set[str]:
        s = super().a11y_states()
        s.add("expanded" if self.popup is not None else "collapsed")
        if self.invalid:
            s.add("invalid")
        return s
