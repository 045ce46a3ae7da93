"""Containers: a scroll view, a list view with columns, selection, drag and drop, and tabs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from guiagent.envs.mock import theme
from guiagent.envs.mock.geometry import Rect
from guiagent.envs.mock.render import Painter
from guiagent.envs.mock.widgets.base import KeyEvent, MouseEvent, Widget
from guiagent.envs.mock.widgets.basic import BOLD, REGULAR, SMALL

SB = theme.SCROLLBAR_W


class ScrollView(Widget):
    """Clips its children to its viewport and scrolls them with the wheel (both axes) or the scroll bar."""

    role = "scroll_area"
    clip_children = True
    header_h = 0

    def __init__(self, name: str = "", rect=(0, 0, 0, 0), bg: str | None = "surface", border: bool = True):
        super().__init__(name, rect)
        self.bg = bg
        self.border = border
        self.opaque = bg is not None
        self._thumb_drag: tuple[float, int] | None = None

    def viewport(self) -> Rect:
        """The area inside the border and below the header (``header_h``) where children show."""
        b = 1 if self.border else 0
        return Rect(b, b + self.header_h, self.w - 2 * b, self.h - 2 * b - self.header_h)

    def content_size(self) -> tuple[int, int]:
        """Extent of the content measured from the viewport's top-left corner (children are laid out in the
        scroll view's own coordinates, starting at the viewport origin)."""
        v = self.viewport()
        w = max((c.x + c.w for c in self.children if c.visible), default=0) - v.x
        h = max((c.y + c.h for c in self.children if c.visible), default=0) - v.y
        return w, h

    def max_scroll(self) -> tuple[int, int]:
        """The largest scroll offsets (x, y) that keep content in view; (0, 0) when it all fits."""
        cw, ch = self.content_size()
        v = self.viewport()
        return max(0, cw - v.w), max(0, ch - v.h)

    def scroll_to(self, x: int | None = None, y: int | None = None) -> None:
        """Scroll to (x, y), clamped to [0, max_scroll]; None keeps that axis. Repaints on change."""
        mx, my = self.max_scroll()
        nx = self.scroll_x if x is None else max(0, min(mx, int(x)))
        ny = self.scroll_y if y is None else max(0, min(my, int(y)))
        if (nx, ny) != (self.scroll_x, self.scroll_y):
            self.scroll_x, self.scroll_y = nx, ny
            self.invalidate()

    def reveal(self, child: Widget) -> None:
        """Scroll vertically just enough to bring ``child`` fully into view."""
        v = self.viewport()
        top = child.y - v.y
        if top < self.scroll_y:
            self.scroll_to(y=top)
        elif top + child.h > self.scroll_y + v.h:
            self.scroll_to(y=top + child.h - v.h)

    def on_wheel(self, ev: MouseEvent) -> bool:
        """Scroll by the wheel's deltas; True only when the view moved (so an exhausted wheel bubbles up)."""
        before = (self.scroll_x, self.scroll_y)
        self.scroll_to(self.scroll_x + ev.dx, self.scroll_y + ev.dy)
        return (self.scroll_x, self.scroll_y) != before

    def _thumb(self) -> tuple[float, float] | None:
        v = self.viewport()
        _, ch = self.content_size()
        if ch <= v.h:
            return None
        th = max(24.0, v.h * v.h / ch)
        ty = v.y + (v.h - th) * self.scroll_y / max(1, ch - v.h)
        return ty, th

    def on_mouse_down(self, ev: MouseEvent) -> bool:
        """A left press on the scroll bar pages towards it or grabs the thumb; elsewhere it is not handled."""
        lx, ly = self.local(ev)
        v = self.viewport()
        thumb = self._thumb()
        if ev.button == "left" and thumb is not None and lx >= v.x + v.w - SB:
            ty, th = thumb
            if not ty <= ly < ty + th:  # page towards the click
                self.scroll_to(y=self.scroll_y + (v.h if ly > ty else -v.h))
            self._thumb_drag = (ly, self.scroll_y)
            return True
        return False

    def on_mouse_drag(self, ev: MouseEvent) -> None:
        """Scroll with the grabbed thumb."""
        if self._thumb_drag is not None:
            _, ly = self.local(ev)
            y0, s0 = self._thumb_drag
            v = self.viewport()
            _, ch = self.content_size()
            thumb = self._thumb()
            if thumb is not None:
                span = max(1.0, v.h - thumb[1])
                self.scroll_to(y=s0 + (ly - y0) * (ch - v.h) / span)

    def on_mouse_up(self, ev: MouseEvent) -> None:
        """Release the thumb."""
        self._thumb_drag = None

    def paint(self, p: Painter) -> None:
        """Fill the background, as configured."""
        pal = self.palette
        if self.bg is not None:
            p.fill(0, 0, self.w, self.h, pal.surface if self.bg == "surface" else pal.window_bg)

    def paint_over(self, p: Painter) -> None:
        """Draw the border and, when the content is taller than the view, the scroll bar thumb."""
        pal = self.palette
        if self.border:
            p.rect(0, 0, self.w, self.h, outline=pal.border_light)
        thumb = self._thumb()
        if thumb is not None:
            v = self.viewport()
            ty, th = thumb
            p.rect(v.x + v.w - SB + 2, ty + 2, SB - 4, th - 4, fill=pal.track, radius=3)

    def a11y_value(self) -> str | None:
        """How far down the view is scrolled, as "NN%", or None when nothing can scroll."""
        mx, my = self.max_scroll()
        return f"{round(100 * self.scroll_y / my)}%" if my else None


@dataclass
class ListItem:
    """One row of a ListView: ``label`` names it, ``columns`` are extra cells, ``data`` is the caller's object."""

    label: str
    icon: str | None = None
    columns: Sequence[str] = ()
    data: Any = None
    bold: bool = False
    extra: dict = field(default_factory=dict)


class ListRow(Widget):
    """A ListView's row for one ListItem: selection, activation, context menu, dragging and dropping on it."""
    role = "list_item"
    hover_effect = True

    def __init__(self, item: ListItem, rect):
        super().__init__(item.label, rect)
        self.item = item
        self._press: tuple[float, float] | None = None
        self._dragging = False

    @property
    def lv(self) -> "ListView":
        """The ListView this row belongs to."""
        return self.parent  # type: ignore[return-value]

    @property
    def selected(self) -> bool:
        """True when this is the list's selected row."""
        return self.lv.selected is self

    def on_mouse_down(self, ev: MouseEvent) -> bool:
        """Select the row and focus the list; a left double click activates it, a left press may begin a drag.

        A right press is left unhandled so that ``on_context_menu`` runs.
        """
        lv = self.lv
        lv.focus()
        lv.select_row(self)
        if ev.button == "right":
            return False  # let on_context_menu run
        if ev.button == "left" and ev.clicks == 2 and lv.on_activate is not None:
            lv.on_activate(self.item)
            return True
        self._press = (ev.x, ev.y)
        self._dragging = False
        return True

    def on_context_menu(self, ev: MouseEvent) -> bool:
        """Ask the list's ``on_context`` for a menu for this row's item; False without one."""
        if self.lv.on_context is not None:
            self.lv.on_context(self.item, ev)
            return True
        return False

    def on_mouse_drag(self, ev: MouseEvent) -> None:
        """Start dragging the row's item once the pointer moved more than 4 points (draggable lists only)."""
        if self._press is None or not self.lv.draggable:
            return
        if not self._dragging and (abs(ev.x - self._press[0]) + abs(ev.y - self._press[1])) > 4:
            self._dragging = True
            d = self.desktop
            if d is not None:
                d.start_drag(self, ("list_item", self.lv, self.item), self.item.label)

    def on_mouse_up(self, ev: MouseEvent) -> None:
        """Forget the press (a drag in progress is finished by the desktop)."""
        self._press = None
        self._dragging = False

    def accepts_drop(self, payload: Any) -> bool:
        """Whether the list's ``can_drop`` accepts ``payload`` on this row's item."""
        lv = self.lv
        return lv.can_drop is not None and bool(lv.can_drop(self.item, payload))

    def on_drop(self, payload: Any) -> None:
        """Hand the dropped ``payload`` to the list's ``on_drop_item`` with this row's item."""
        if self.lv.on_drop_item is not None:
            self.lv.on_drop_item(self.item, payload)

    def paint(self, p: Painter) -> None:
        """Draw the row's background (drop target, selected, hovered), icon, label and column cells."""
        pal = self.palette
        lv = self.lv
        d = self.desktop
        if d is not None and d.input.drop_target is self:
            p.rect(0, 0, self.w, self.h, fill=pal.list_hover, outline=pal.accent, width=2)
        elif self.selected:
            p.fill(0, 0, self.w, self.h, pal.selection if lv.focused else pal.selection_inactive)
        elif self.hovered:
            p.fill(0, 0, self.w, self.h, pal.list_hover)
        x = 8.0
        if self.item.icon:
            p.icon(x, (self.h - 18) / 2, self.item.icon, 18)
            x += 26
        style = BOLD if self.item.bold else REGULAR
        cols = lv.columns
        first_w = (cols[0][1] if cols else self.w) - x
        p.text_in(x, 0, first_w - 4, self.h, self.item.label, style, pal.text)
        cx = cols[0][1] if cols else self.w
        for (_, cw), val in zip(cols[1:], self.item.columns):
            p.text_in(cx, 0, cw - 8, self.h, val, SMALL if not self.item.bold else BOLD, pal.text_muted
                      if not self.item.bold else pal.text)
            cx += cw

    def a11y_value(self) -> str | None:
        """The extra column cells joined by " | ", or None without any."""
        return " | ".join(self.item.columns) or None

    def a11y_states(self) -> set[str]:
        """The base states, plus "selected" for the selected row."""
        s = super().a11y_states()
        if self.selected:
            s.add("selected")
        return s


class ListView(ScrollView):
    """Rows with an icon, a label and optional columns. Click selects, double click / Enter activates,
    right click asks ``on_context``, dragging a row (``draggable``) starts a drag whose payload is
    ("list_item", list_view, item); rows accept drops where ``can_drop(item, payload)`` says so."""

    role = "list"
    focusable = True
    focus_on_click = True

    def __init__(self, name: str, rect=(0, 0, 0, 0), columns: Sequence[tuple[str, int]] = (),
                 on_select: Callable[[ListItem | None], None] | None = None,
                 on_activate: Callable[[ListItem], None] | None = None,
                 on_context: Callable[[ListItem | None, MouseEvent], None] | None = None,
                 draggable: bool = False, row_h: int = theme.ROW_H):
        super().__init__(name, rect)
        self.columns = list(columns)
        self.header_h = theme.ROW_H if columns else 0
        self.on_select = on_select
        self.on_activate = on_activate
        self.on_context = on_context
        self.draggable = draggable
        self.can_drop: Callable[[ListItem, Any], bool] | None = None
        self.on_drop_item: Callable[[ListItem, Any], None] | None = None
        self.can_drop_empty: Callable[[Any], bool] | None = None
        self.on_drop_empty: Callable[[Any], None] | None = None
        self.row_h = row_h
        self.rows: list[ListRow] = []
        self.selected: ListRow | None = None
        self.empty_text = ""

    def set_items(self, items: Sequence[ListItem], keep_selection: bool = True) -> None:
        """Replace the rows with one per item.

        Args:
            items: the new rows, top to bottom.
            keep_selection: re-select the row whose label matches the previously selected one, if any.
        """
        key = self.selected.item.label if (self.selected is not None and keep_selection) else None
        for r in self.rows:
            self.remove(r)
        self.rows = []
        self.selected = None
        v = self.viewport()
        for i, it in enumerate(items):
            self.rows.append(self.add(ListRow(it, (v.x, v.y + i * self.row_h, v.w, self.row_h))))
        self.scroll_to(y=self.scroll_y)
        if key is not None:
            for r in self.rows:
                if r.item.label == key:
                    self.selected = r
        self.invalidate()

    @property
    def items(self) -> list[ListItem]:
        """The items of the rows, top to bottom."""
        return [r.item for r in self.rows]

    @property
    def selected_item(self) -> ListItem | None:
        """The selected row's item, or None."""
        return self.selected.item if self.selected is not None else None

    def resized(self) -> None:
        """Stretch the rows to the new width and re-clamp the scroll offset."""
        v = self.viewport()
        for i, r in enumerate(self.rows):
            r.x, r.y, r.w = v.x, v.y + i * self.row_h, v.w
        self.scroll_to(y=self.scroll_y)

    def select_row(self, row: ListRow | None) -> None:
        """Select ``row`` (None clears the selection), scroll it into view and call ``on_select``."""
        if row is self.selected:
            return
        old, self.selected = self.selected, row
        for r in (old, row):
            if r is not None:
                r.invalidate()
        if row is not None:
            self.reveal(row)
        if self.on_select is not None:
            self.on_select(row.item if row is not None else None)

    def select_label(self, label: str) -> bool:
        """Select the first row labelled ``label``; False when there is none."""
        for r in self.rows:
            if r.item.label == label:
                self.select_row(r)
                return True
        return False

    def on_mouse_down(self, ev: MouseEvent) -> bool:
        """A left press below the rows (not on the scroll bar) focuses the list and clears the selection."""
        if super().on_mouse_down(ev):
            return True
        self.focus()
        if ev.button == "left":
            self.select_row(None)
            return True
        return False

    def on_context_menu(self, ev: MouseEvent) -> bool:
        """A right click below the rows clears the selection and asks ``on_context`` with no item."""
        if self.on_context is not None:
            self.select_row(None)
            self.on_context(None, ev)
            return True
        return False

    def accepts_drop(self, payload: Any) -> bool:
        """Whether ``can_drop_empty`` accepts ``payload`` dropped below the rows."""
        return self.can_drop_empty is not None and bool(self.can_drop_empty(payload))

    def on_drop(self, payload: Any) -> None:
        """Hand ``payload`` dropped below the rows to ``on_drop_empty``."""
        if self.on_drop_empty is not None:
            self.on_drop_empty(payload)

    def on_key(self, ev: KeyEvent) -> bool:
        """Up/down, page up/down, home/end move the selection; Enter activates the selected row."""
        if not self.rows:
            return False
        i = self.rows.index(self.selected) if self.selected in self.rows else -1
        page = max(1, self.viewport().h // self.row_h - 1)
        moves = {"down": 1, "up": -1, "pagedown": page, "pageup": -page}
        if ev.combo in moves:
            j = max(0, min(len(self.rows) - 1, (i if i >= 0 else -1) + moves[ev.combo]))
            self.select_row(self.rows[j])
        elif ev.combo == "home":
            self.select_row(self.rows[0])
        elif ev.combo == "end":
            self.select_row(self.rows[-1])
        elif ev.combo == "enter" and self.selected is not None and self.on_activate is not None:
            self.on_activate(self.selected.item)
        else:
            return False
        return True

    def paint(self, p: Painter) -> None:
        """Draw the background, the column headers and, for an empty list, ``empty_text``."""
        super().paint(p)
        pal = self.palette
        if self.columns:
            p.fill(1, 1, self.w - 2, self.header_h, pal.window_bg)
            p.hline(1, self.header_h, self.w - 2, pal.border_light)
            x = 0
            for title, cw in self.columns:
                p.text_in(x + 8, 1, cw - 8, self.header_h, title, SMALL, pal.text_muted)
                x += cw
        if not self.rows and self.empty_text:
            v = self.viewport()
            p.text_in(v.x, v.y + 10, v.w, 30, self.empty_text, REGULAR, pal.text_muted, align="center")

    def a11y_value(self) -> str | None:
        """The selected row's label, or None."""
        return self.selected.item.label if self.selected is not None else None


class TabButton(Widget):
    """The button of one tab in a Tabs row; its name is the tab's title."""
    role = "tab"
    hover_effect = True

    @property
    def tabs(self) -> "Tabs":
        """The Tabs this button belongs to."""
        return self.parent  # type: ignore[return-value]

    def on_mouse_down(self, ev: MouseEvent) -> bool:
        """A left click selects this tab and focuses the tab row."""
        if ev.button == "left":
            self.tabs.select(self.name)
            self.tabs.focus()
        return True

    def paint(self, p: Painter) -> None:
        """Draw the tab: raised with an accent bar when selected, highlighted on hover, with its title."""
        pal = self.palette
        sel = self.tabs.selected == self.name
        if sel:
            p.rect(0, 0, self.w, self.h + 1, fill=pal.surface, outline=pal.border_light, radius=4)
            p.fill(1, self.h - 2, self.w - 2, 3, pal.surface)
            p.fill(6, 1, self.w - 12, 3, pal.accent)
        elif self.hovered:
            p.rect(0, 2, self.w, self.h - 2, fill=pal.button_hover, radius=4)
        p.text_in(0, 2, self.w, self.h - 2, self.name, BOLD if sel else REGULAR, pal.text if sel else pal.text_muted,
                  align="center")
        if sel and self.tabs.focused:
            p.rect(3, 5, self.w - 6, self.h - 8, outline=pal.focus_ring, radius=3)

    def a11y_states(self) -> set[str]:
        """The base states, plus "selected" for the selected tab."""
        s = super().a11y_states()
        if self.tabs.selected == self.name:
            s.add("selected")
        return s


class TabPage(Widget):
    """The page shown under a tab; the caller adds the page's widgets to it."""
    role = "tab_panel"
    opaque = True

    def paint(self, p: Painter) -> None:
        """Draw the page's background and border."""
        pal = self.palette
        p.rect(0, 0, self.w, self.h, fill=pal.surface, outline=pal.border_light)


class Tabs(Widget):
    """A row of tabs over pages; only the selected page is visible. ``pages[title]`` is the page panel."""

    role = "tab_list"
    focusable = True
    TAB_H = 32

    def __init__(self, name: str, titles: Sequence[str], rect=(0, 0, 0, 0),
                 on_change: Callable[[str], None] | None = None, tab_w: int = 120):
        super().__init__(name, rect)
        self.on_change = on_change
        self.pages: dict[str, TabPage] = {}
        self.buttons: list[TabButton] = []
        for i, t in enumerate(titles):
            self.buttons.append(self.add(TabButton(t, (8 + i * (tab_w + 4), 0, tab_w, self.TAB_H))))
        for t in titles:
            page = self.add(TabPage(t, (0, self.TAB_H - 1, self.w, self.h - self.TAB_H + 1)))
            page.visible = False
            self.pages[t] = page
        self.selected = titles[0] if titles else None
        if self.selected:
            self.pages[self.selected].visible = True
        # buttons paint over the page border
        self.children.sort(key=lambda c: isinstance(c, TabButton))

    def select(self, title: str) -> None:
        """Show the page titled ``title`` (unknown titles are ignored) and call ``on_change``."""
        if title == self.selected or title not in self.pages:
            return
        if self.selected:
            self.pages[self.selected].set_visible(False)
        self.selected = title
        self.pages[title].set_visible(True)
        self.invalidate()
        if self.on_change is not None:
            self.on_change(title)

    def on_key(self, ev: KeyEvent) -> bool:
        """Left/right and ctrl+(shift+)tab move to the previous/next tab, wrapping around."""
        titles = [b.name for b in self.buttons]
        if ev.combo in ("left", "right", "ctrl+tab", "ctrl+shift+tab") and self.selected in titles:
            i = titles.index(self.selected) + (1 if ev.combo in ("right", "ctrl+tab") else -1)
            self.select(titles[i % len(titles)])
            return True
        return False

    def a11y_value(self) -> str | None:
        """The selected tab's title."""
        return self.selected
