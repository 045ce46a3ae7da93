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
    """One line of a menu: a label with its action, or a separator (label "-").

    Attributes:
        label: the text shown and the item's accessible name.
        action: called when the entry is chosen (after the menus close); None does nothing.
        shortcut: the key combination shown at the right ("ctrl+c"), for display and accessibility only.
        enabled: False greys the entry out; it cannot be chosen.
        checked: True draws a tick; None (or False) draws none.
    """
    label: str
    action: Callable[[], None] | None = None
    shortcut: str = ""
    enabled: bool = True
    checked: bool | None = None

    @property
    def separator(self) -> bool:
        """True for the separator entry (label "-")."""
        return self.label == "-"


SEPARATOR = MenuEntry("-")


class Popup(Widget):
    """Base of top-level popups. ``owner`` is told when the popup closes (``on_popup_closed``)."""

    role = "menu"

    def __init__(self, name: str, rect, owner: Widget | None = None):
        super().__init__(name, rect)
        self.owner = owner

    def paint(self, p: Painter) -> None:
        """Draw the popup's frame with a drop shadow on the right and bottom edges."""
        pal = self.palette
        p.rect(0, 0, self.w, self.h, fill=pal.menu_bg, outline=pal.border)
        p.hline(1, self.h - 1, self.w - 1, pal.shadow)
        p.vline(self.w - 1, 1, self.h - 1, pal.shadow)

    def on_popup_key(self, ev: KeyEvent) -> bool:
        """Hook: a key pressed while this popup is the topmost one; return True when handled."""
        return False


class MenuItemWidget(Widget):
    """The widget of one MenuEntry inside a Menu."""
    role = "menu_item"
    hover_effect = True

    def __init__(self, entry: MenuEntry, rect):
        super().__init__(entry.label, rect)
        self.entry = entry
        self.enabled = entry.enabled

    @property
    def menu(self) -> "Menu":
        """The Menu this item belongs to."""
        return self.parent  # type: ignore[return-value]

    def on_hover(self, inside: bool) -> None:
        """Highlight the item when the pointer enters it (enabled items only)."""
        if inside and self.enabled:
            self.menu.set_active(self.menu.items.index(self))

    def on_mouse_down(self, ev: MouseEvent) -> bool:
        """Take the press (so the menu stays open); the item acts on release."""
        return True

    def on_mouse_up(self, ev: MouseEvent) -> None:
        """Choose the item when the button is released over it."""
        if self.contains_screen(ev.x, ev.y):
            self.menu.activate(self)

    def paint(self, p: Painter) -> None:
        """Draw the item: highlight, tick, label and shortcut; greyed out when disabled."""
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
        """The entry's shortcut, or None."""
        return self.entry.shortcut or None

    def a11y_states(self) -> set[str]:
        """The base states, plus "selected" when highlighted and "checked" when ticked."""
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
    """A drop-down or context menu: a popup with one item per entry, sized to fit the longest label.

    Args:
        name: the menu's accessible name.
        entries: the entries, top to bottom (separators included).
        x: the left edge in screen points.
        y: the top edge in screen points.
        owner: the widget told (``on_popup_closed``) when the menu closes, e.g. its MenuTitle.
    """
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
        """Highlight item ``index`` (None, or an index out of range, clears the highlight)."""
        new = self.items[index] if index is not None and 0 <= index < len(self.items) else None
        if new is not self.active:
            old, self.active = self.active, new
            if old is not None:
                old.invalidate()
            if new is not None:
                new.invalidate()

    def activate(self, item: MenuItemWidget) -> None:
        """Close every popup, then run the item's action (disabled items do nothing)."""
        if not item.enabled:
            return
        d = self.desktop
        if d is not None:
            d.close_popups()
        if item.entry.action is not None:
            item.entry.action()

    def on_popup_key(self, ev: KeyEvent) -> bool:
        """Keyboard navigation in the menu; returns True when the key was used.

        Up/down move over the enabled items (wrapping), Enter/space choose, left/right open the neighbouring menu
        of a menu bar.
        """
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
        """The MenuBar this title belongs to."""
        return self.parent  # type: ignore[return-value]

    def open(self) -> None:
        """Close any open popup and open this title's menu below it (entries are built fresh each time)."""
        d = self.desktop
        if d is None:
            return
        d.close_popups()
        x, y = self.origin()
        self.menu = Menu(self.name, self.entries(), int(x), int(y + self.h), owner=self)
        d.open_popup(self.menu)
        self.invalidate()

    def on_popup_closed(self) -> None:
        """The menu closed: forget it and repaint the title."""
        self.menu = None
        self.invalidate()

    def on_mouse_down(self, ev: MouseEvent) -> bool:
        """A left press opens the menu, or closes it when it is open."""
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
        """Choose the item under the pointer when the press on the title was dragged into the menu."""
        # press on the title, drag into the menu, release on an item: activate it
        if self.menu is not None:
            for item in self.menu.items:
                if item.contains_screen(ev.x, ev.y):
                    self.menu.activate(item)
                    return

    def on_hover(self, inside: bool) -> None:
        """While another menu of the bar is open, moving onto this title opens its menu instead."""
        self.invalidate()
        if inside and self.menu is None and any(t.menu is not None for t in self.bar.titles):
            self.open()

    def paint(self, p: Painter) -> None:
        """Draw the title, highlighted while its menu is open or hovered."""
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
        """The base states, plus "expanded" while its menu is open."""
        s = super().a11y_states()
        if self.menu is not None:
            s.add("expanded")
        return s


class MenuBar(Widget):
    """A window's menu bar: one MenuTitle per menu, left to right.

    Args:
        menus: ``(title, entries)`` pairs; ``entries()`` builds the menu's entries each time it opens.
        rect: ``(x, y, w, h)`` relative to the window.
    """
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
        """Open the menu ``delta`` titles away from ``title`` (wrapping) with its first item highlighted."""
        i = (self.titles.index(title) + delta) % len(self.titles)
        self.titles[i].open()
        if self.titles[i].menu is not None:
            self.titles[i].menu.set_active(0)

    def paint(self, p: Painter) -> None:
        """Fill the bar and draw its bottom border."""
        pal = self.palette
        p.fill(0, 0, self.w, self.h, pal.window_bg)
        p.hline(0, self.h - 1, self.w, pal.border_light)


# ---------------------------------------------------------------------------------------------- dropdown
class OptionItem(Widget):
    """One option in a dropdown's OptionList; its name is the option."""
    role = "list_item"
    hover_effect = True

    def __init__(self, label: str, rect):
        super().__init__(label, rect)

    @property
    def popup(self) -> "OptionList":
        """The OptionList this option belongs to."""
        return self.parent  # type: ignore[return-value]

    def on_hover(self, inside: bool) -> None:
        """Highlight this option when the pointer enters it."""
        if inside:
            self.popup.set_highlight(self.name)

    def on_mouse_down(self, ev: MouseEvent) -> bool:
        """Take the press (so the list stays open); the option is chosen on release."""
        return True

    def on_mouse_up(self, ev: MouseEvent) -> None:
        """Choose this option when the button is released over it."""
        if self.contains_screen(ev.x, ev.y):
            self.popup.choose(self.name)

    def paint(self, p: Painter) -> None:
        """Draw the option: highlighted, with a tick when it is the dropdown's selected one."""
        pal = self.palette
        hl = self.popup.highlight == self.name
        if hl:
            p.fill(0, 0, self.w, self.h, pal.accent)
        fg = pal.accent_text if hl else pal.text
        if self.popup.dropdown.selected == self.name:
            p.polyline([(8, self.h / 2), (11, self.h / 2 + 3), (17, self.h / 2 - 4)], fg, width=1.6)
        p.text_in(24, 0, self.w - 24, self.h, self.name, REGULAR, fg)

    def a11y_states(self) -> set[str]:
        """The base states, plus "selected" for the dropdown's selected option."""
        s = super().a11y_states()
        if self.popup.dropdown.selected == self.name:
            s.add("selected")
        return s


class OptionList(Popup):
    """The popup list of a Dropdown's options: at most ``VISIBLE`` rows, scrolled to show the selected one.

    Args:
        dropdown: the dropdown the list belongs to (told when it closes).
        x: the left edge in screen points.
        y: the top edge in screen points.
        w: the width (the dropdown's).
    """
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
        """The area inside the one-point border."""
        return Rect(1, 1, self.w - 2, self.h - 2)

    def max_scroll(self) -> int:
        """The largest vertical scroll offset; 0 when every option fits."""
        return max(0, len(self.dropdown.options) * theme.ROW_H + 4 - self.h)

    def reveal(self, i: int) -> None:
        """Scroll just enough to show option ``i``."""
        top = 2 + i * theme.ROW_H
        if top < self.scroll_y:
            self.scroll_y = top - 2
        elif top + theme.ROW_H > self.scroll_y + self.h:
            self.scroll_y = top + theme.ROW_H - self.h + 2
        self.scroll_y = max(0, min(self.max_scroll(), self.scroll_y))
        self.invalidate()

    def set_highlight(self, label: str) -> None:
        """Highlight the option ``label``."""
        if label != self.highlight:
            self.highlight = label
            self.invalidate()

    def choose(self, label: str) -> None:
        """Close the popups and select ``label`` in the dropdown."""
        d = self.desktop
        if d is not None:
            d.close_popups()
        self.dropdown.select(label)

    def on_wheel(self, ev: MouseEvent) -> bool:
        """Scroll the options; always handled, so the window below never scrolls."""
        new = max(0, min(self.max_scroll(), int(self.scroll_y + ev.dy)))
        if new != self.scroll_y:
            self.scroll_y = new
            self.invalidate()
        return True

    def paint_over(self, p: Painter) -> None:
        """Draw the scroll bar thumb when not every option fits."""
        if self.max_scroll() > 0:
            total = len(self.dropdown.options) * theme.ROW_H + 4
            th = max(20, self.h * self.h / total)
            ty = (self.h - th) * self.scroll_y / self.max_scroll()
            p.rect(self.w - 8, ty + 1, 5, th - 2, fill=self.palette.track, radius=2)

    def on_popup_key(self, ev: KeyEvent) -> bool:
        """Up/down move the highlight (stopping at the ends); Enter/space choose it."""
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
        """Select ``option``, repainting and (with ``notify``) calling ``on_change`` when the selection changes.

        Args:
            option: the option to select.
            notify: False to change it silently.
        """
        if option != self.selected:
            self.selected = option
            self.invalidate()
            if notify and self.on_change is not None:
                self.on_change(option)

    def open(self) -> None:
        """Open the option list below the box (above it when it would reach the taskbar); not when disabled."""
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
        """The list closed: forget it and repaint."""
        self.popup = None
        self.invalidate()

    def on_mouse_down(self, ev: MouseEvent) -> bool:
        """A left press focuses the box and opens the list, or closes it when open."""
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
        """Enter, space, alt+down or F4 open the list; up/down select the previous/next option directly."""
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
        """A typed space opens the list; another character selects the first option starting with it."""
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
        """Draw the box with the selected option (or "Select…"), its arrow, and a red border when ``invalid``."""
        pal = self.palette
        fill = pal.button_hover if self.hovered and self.enabled else pal.surface
        border = pal.error if self.invalid else (pal.focus_ring if self.focused or self.popup else pal.button_border)
        p.rect(0, 0, self.w, self.h, fill=fill, outline=border, width=2 if self.focused else 1, radius=4)
        p.text_in(8, 0, self.w - 36, self.h, self.selected or "Select…", REGULAR,
                  pal.text if self.selected else pal.text_muted)
        cx, cy = self.w - 16, self.h / 2
        p.polyline([(cx - 5, cy - 2), (cx, cy + 3), (cx + 5, cy - 2)], pal.text_muted, width=1.6)

    def a11y_value(self) -> str | None:
        """The selected option, or None."""
        return self.selected

    def a11y_states(self) -> set[str]:
        """The base states, plus "expanded" or "collapsed", and "invalid" when flagged."""
        s = super().a11y_states()
        s.add("expanded" if self.popup is not None else "collapsed")
        if self.invalid:
            s.add("invalid")
        return s
