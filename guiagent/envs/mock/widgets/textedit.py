"""Editable text: a single-line ``TextField`` and a multi-line ``TextArea`` over one editing core.

Behaviour follows common desktop toolkits: click places the caret, shift+click and drag select, double click
selects a word, triple click a line; arrows/home/end move (with shift: select; with ctrl: by word / to the document
ends); backspace/delete (ctrl: by word); ctrl+a/c/x/v with the desktop clipboard; ctrl+z / ctrl+y undo and redo.
Enter inserts a newline in a text area and calls ``on_submit`` in a field. The caret is always drawn (no blinking,
so screenshots are deterministic).
"""

from __future__ import annotations

from typing import Callable

from guiagent.envs.mock import text as textmod
from guiagent.envs.mock import theme
from guiagent.envs.mock.geometry import Rect
from guiagent.envs.mock.render import Painter
from guiagent.envs.mock.text import TextStyle
from guiagent.envs.mock.widgets.base import KeyEvent, MouseEvent, Widget

PAD = 6


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class TextEdit(Widget):
    """The editing core shared by TextField and TextArea: text, caret, selection, clipboard, undo and redo.

    The subclasses decide the geometry (``caret_xy``, ``index_at``, ``ensure_caret_visible``) and painting.

    Args:
        name: the accessible name.
        text: the initial text.
        rect: ``(x, y, w, h)`` relative to the parent.
        placeholder: grey hint shown while the text is empty.
        on_submit: called on Enter in a single-line field.
        on_change: called with the new text after every edit by the user (and ``set_text(notify=True)``).
        readonly: the text can be selected and copied but not changed.
        style: font and size (default: the theme's regular text).
        password: shown and exposed to accessibility as bullets; it cannot be copied or cut.
    """
    focusable = True
    focus_on_click = True
    multiline = False

    def __init__(self, name: str, text: str = "", rect=(0, 0, 0, 0), placeholder: str = "",
                 on_submit: Callable[[], None] | None = None, on_change: Callable[[str], None] | None = None,
                 readonly: bool = False, style: TextStyle | None = None, password: bool = False):
        super().__init__(name, rect)
        self.text = text
        self.caret = len(text) if not self.multiline else 0
        self.anchor: int | None = None
        self.placeholder = placeholder
        self.on_submit = on_submit
        self.on_change = on_change
        self.readonly = readonly
        self.password = password
        self.invalid = False
        self.style = style or TextStyle("sans", theme.FONT_SIZE)
        self._undo: list[tuple[str, int]] = []
        self._redo: list[tuple[str, int]] = []
        self._dragging = False

    # ------------------------------------------------------------------ model
    @property
    def selection(self) -> tuple[int, int] | None:
        """The selected range ``(start, end)``, start < end, or None when nothing is selected."""
        if self.anchor is None or self.anchor == self.caret:
            return None
        return (min(self.anchor, self.caret), max(self.anchor, self.caret))

    @property
    def selected_text(self) -> str:
        """The selected text ('' when nothing is selected)."""
        sel = self.selection
        return self.text[sel[0]:sel[1]] if sel else ""

    def set_text(self, text: str, notify: bool = False, keep_undo: bool = False) -> None:
        """Replace the whole text (programmatic; caret to the end of a field, the start of an area)."""
        if not keep_undo:
            self._undo.clear()
            self._redo.clear()
        self.text = text
        self.caret = 0 if self.multiline else len(text)
        self.anchor = None
        self.scroll_x = self.scroll_y = 0
        self.changed(notify)

    def changed(self, notify: bool = True) -> None:
        """After an edit: keep the caret in view, repaint and (with ``notify``) call ``on_change``."""
        self.ensure_caret_visible()
        self.invalidate()
        if notify and self.on_change is not None:
            self.on_change(self.text)

    def _snapshot(self) -> None:
        self._undo.append((self.text, self.caret))
        if len(self._undo) > 200:
            self._undo.pop(0)
        self._redo.clear()

    def insert(self, s: str) -> None:
        """Replace the selection (or insert at the caret) with ``s``, as typing does; undoable.

        Newlines become spaces in a single-line field. Read-only widgets ignore it.
        """
        if self.readonly:
            return
        if not self.multiline:
            s = s.replace("\r", "").replace("\n", " ")
        self._snapshot()
        a, b = self.selection or (self.caret, self.caret)
        self.text = self.text[:a] + s + self.text[b:]
        self.caret = a + len(s)
        self.anchor = None
        self.changed()

    def _delete_range(self, a: int, b: int) -> None:
        if self.readonly or a == b:
            return
        self._snapshot()
        self.text = self.text[:a] + self.text[b:]
        self.caret = a
        self.anchor = None
        self.changed()

    def move_to(self, index: int, extend: bool = False) -> None:
        """Move the caret to ``index`` (clamped to the text).

        Args:
            index: the new caret position, in characters.
            extend: grow the selection from its anchor (as with shift) instead of clearing it.
        """
        index = max(0, min(len(self.text), index))
        if extend:
            if self.anchor is None:
                self.anchor = self.caret
        else:
            self.anchor = None
        self.caret = index
        self.ensure_caret_visible()
        self.invalidate()

    def select_all(self) -> None:
        """Select the whole text, the caret at the end."""
        self.anchor = 0
        self.caret = len(self.text)
        self.ensure_caret_visible()
        self.invalidate()

    def _word_left(self, i: int) -> int:
        t = self.text
        while i > 0 and not _is_word(t[i - 1]):
            i -= 1
        while i > 0 and _is_word(t[i - 1]):
            i -= 1
        return i

    def _word_right(self, i: int) -> int:
        t = self.text
        while i < len(t) and not _is_word(t[i]):
            i += 1
        while i < len(t) and _is_word(t[i]):
            i += 1
        return i

    def _line_bounds(self, i: int) -> tuple[int, int]:
        start = self.text.rfind("\n", 0, i) + 1
        end = self.text.find("\n", i)
        return start, len(self.text) if end < 0 else end

    # ------------------------------------------------------------------ geometry (overridden by TextArea)
    def display_text(self) -> str:
        """The text as drawn: bullets for a password field."""
        return "•" * len(self.text) if self.password else self.text

    def caret_xy(self, index: int) -> tuple[float, float]:
        """Local position of caret ``index`` (before scrolling)."""
        return PAD + textmod.measure(self.display_text()[:index], self.style), 0.0

    def index_at(self, lx: float, ly: float) -> int:
        """The caret index nearest local point (lx, ly)."""
        return textmod.index_at(self.display_text(), lx + self.scroll_x - PAD, self.style)

    def ensure_caret_visible(self) -> None:
        """Scroll horizontally just enough to keep the caret inside the field."""
        cx, _ = self.caret_xy(self.caret)
        inner = self.w - 2 * PAD
        x = cx - PAD
        if x - self.scroll_x > inner:
            self.scroll_x = int(x - inner + 1)
        elif x < self.scroll_x:
            self.scroll_x = int(max(0, x - inner / 3))

    # ------------------------------------------------------------------ events
    def on_mouse_down(self, ev: MouseEvent) -> bool:
        """Place the caret or select, as a left press does in text inputs everywhere.

        The press focuses the widget; one click places the caret (shift extends the selection) and starts a drag
        selection, a double click selects a word, a triple click the line (the whole text of a field). A right
        press is left to ``on_context_menu``.
        """
        if ev.button == "right":
            return False
        if ev.button != "left" or not self.enabled:
            return True
        self.focus()
        lx, ly = self.local(ev)
        i = self.index_at(lx, ly)
        if ev.clicks == 2:
            a, b = i, i
            while a > 0 and _is_word(self.text[a - 1]):
                a -= 1
            while b < len(self.text) and _is_word(self.text[b]):
                b += 1
            self.anchor, self.caret = a, b
            self.invalidate()
        elif ev.clicks >= 3:
            a, b = self._line_bounds(i) if self.multiline else (0, len(self.text))
            self.anchor, self.caret = a, b
            self.invalidate()
        else:
            self.move_to(i, extend="shift" in ev.mods)
            self._dragging = True
        return True

    def on_context_menu(self, ev: MouseEvent) -> bool:
        """Right click: Cut / Copy / Paste / Select All, as text inputs offer everywhere."""
        from guiagent.envs.mock.widgets.menus import MenuEntry

        d = self.desktop
        if d is None or not self.enabled:
            return False
        self.focus()
        has_sel = self.selection is not None and not self.password

        def key(combo: str):
            return lambda: self.on_key(KeyEvent.from_combo(combo))

        d.open_context_menu([
            MenuEntry("Cut", key("ctrl+x"), "Ctrl+X", enabled=has_sel and not self.readonly),
            MenuEntry("Copy", key("ctrl+c"), "Ctrl+C", enabled=has_sel),
            MenuEntry("Paste", key("ctrl+v"), "Ctrl+V", enabled=bool(d.clipboard) and not self.readonly),
            MenuEntry("-"),
            MenuEntry("Select All", key("ctrl+a"), "Ctrl+A"),
        ], ev.x, ev.y, owner=None)
        return True

    def on_mouse_drag(self, ev: MouseEvent) -> None:
        """Extend the selection to the pointer while a drag selection is in progress."""
        if self._dragging:
            lx, ly = self.local(ev)
            self.move_to(self.index_at(lx, ly), extend=True)

    def on_mouse_up(self, ev: MouseEvent) -> None:
        """End the drag selection."""
        self._dragging = False

    def on_text(self, text: str) -> bool:
        """Insert typed text (not handled when read-only, so it can bubble up)."""
        if self.readonly:
            return False
        self.insert(text)
        return True

    def on_key(self, ev: KeyEvent) -> bool:
        """Handle the editing keys listed in the module docstring; other keys go to ``on_other_key``.

        They are caret moves, selection, clipboard, undo/redo, deletion and Enter.
        """
        c = ev.combo
        shift = "shift" in ev.mods
        base = c.replace("shift+", "")
        d = self.desktop
        if base == "left":
            if self.selection and not shift:
                self.move_to(self.selection[0])
            else:
                self.move_to(self.caret - 1, shift)
        elif base == "right":
            if self.selection and not shift:
                self.move_to(self.selection[1])
            else:
                self.move_to(self.caret + 1, shift)
        elif base == "ctrl+left":
            self.move_to(self._word_left(self.caret), shift)
        elif base == "ctrl+right":
            self.move_to(self._word_right(self.caret), shift)
        elif base == "home":
            self.move_to(self._line_bounds(self.caret)[0] if self.multiline else 0, shift)
        elif base == "end":
            self.move_to(self._line_bounds(self.caret)[1] if self.multiline else len(self.text), shift)
        elif base == "ctrl+home":
            self.move_to(0, shift)
        elif base == "ctrl+end":
            self.move_to(len(self.text), shift)
        elif c == "ctrl+a":
            self.select_all()
        elif c in ("ctrl+c", "ctrl+insert"):
            if self.selection and d is not None and not self.password:
                d.clipboard = self.selected_text
        elif c in ("ctrl+x", "shift+delete"):
            if self.selection and d is not None and not self.password and not self.readonly:
                d.clipboard = self.selected_text
                self._delete_range(*self.selection)
        elif c in ("ctrl+v", "shift+insert"):
            if d is not None and d.clipboard and not self.readonly:
                self.insert(d.clipboard)
        elif c == "ctrl+z":
            if self._undo and not self.readonly:
                self._redo.append((self.text, self.caret))
                self.text, self.caret = self._undo.pop()
                self.anchor = None
                self.changed()
        elif c in ("ctrl+y", "ctrl+shift+z"):
            if self._redo and not self.readonly:
                self._undo.append((self.text, self.caret))
                self.text, self.caret = self._redo.pop()
                self.anchor = None
                self.changed()
        elif c in ("backspace", "shift+backspace", "ctrl+backspace"):
            if self.selection:
                self._delete_range(*self.selection)
            elif self.caret > 0:
                a = self._word_left(self.caret) if c == "ctrl+backspace" else self.caret - 1
                self._delete_range(a, self.caret)
        elif c in ("delete", "ctrl+delete"):
            if self.selection:
                self._delete_range(*self.selection)
            elif self.caret < len(self.text):
                b = self._word_right(self.caret) if c == "ctrl+delete" else self.caret + 1
                self._delete_range(self.caret, b)
        elif c == "enter":
            if self.multiline and not self.readonly:
                self.insert("\n")
            elif self.on_submit is not None:
                self.on_submit()
            else:
                return False
        else:
            return self.on_other_key(ev)
        return True

    def on_other_key(self, ev: KeyEvent) -> bool:
        """Hook for keys the core does not handle (TextArea: up/down/page, tab); False by default."""
        return False

    # ------------------------------------------------------------------ a11y
    def a11y_value(self) -> str | None:
        """The text (bullets for a password field)."""
        return "•" * len(self.text) if self.password else self.text

    def a11y_states(self) -> set[str]:
        """The base states, plus readonly or editable, multiline, invalid and protected (password)."""
        s = super().a11y_states()
        s.add("readonly" if self.readonly else "editable")
        if self.multiline:
            s.add("multiline")
        if self.invalid:
            s.add("invalid")
        if self.password:
            s.add("protected")
        return s

    def a11y_extra(self) -> dict:
        """Extra accessibility fields: caret index, selection range and placeholder."""
        return {"caret": self.caret, "selection": list(self.selection) if self.selection else None,
                "placeholder": self.placeholder or None}


class TextField(TextEdit):
    """A single-line text input; Enter calls ``on_submit``."""
    role = "text_field"

    def paint(self, p: Painter) -> None:
        """Draw the box (red when ``invalid``), the visible part of the text or placeholder, selection and caret."""
        pal = self.palette
        w, h = self.w, self.h
        border = pal.error if self.invalid else (pal.focus_ring if self.focused else pal.button_border)
        p.rect(0, 0, w, h, fill=pal.surface if not self.readonly else pal.window_bg, outline=border,
               width=2 if self.focused else 1, radius=3)
        lh = textmod.line_height(self.style.size)
        ty = (h - lh) / 2
        sub = p.sub(2, 2, w - 4, h - 4)
        if sub is None:
            return
        shown = self.display_text()
        ox = -self.scroll_x
        sel = self.selection
        if sel and self.focused:
            x0 = self.caret_xy(sel[0])[0] + ox
            x1 = self.caret_xy(sel[1])[0] + ox
            sub.fill(x0, ty, x1 - x0, lh, pal.selection)
        if shown:
            sub.text(PAD + ox, ty, shown, self.style, pal.text if self.enabled else pal.text_disabled)
        elif self.placeholder:
            sub.text(PAD, ty, self.placeholder, self.style, pal.text_muted)
        if self.focused and not self.readonly:
            cx = self.caret_xy(self.caret)[0] + ox
            sub.fill(cx, ty, 1, lh, pal.caret)
        sub.commit()


class TextArea(TextEdit):
    """Multi-line text without soft wrapping; scrolls both ways to keep the caret visible."""

    role = "text_area"
    multiline = True
    opaque = True

    def __init__(self, name: str, text: str = "", rect=(0, 0, 0, 0), *, tab_inserts: bool = False,
                 line_numbers: bool = False, **kw):
        super().__init__(name, text, rect, **kw)
        self.tab_inserts = tab_inserts
        self.line_numbers = line_numbers
        self._painted: tuple | None = None   # what the screen shows (see invalidate)

    def _view_key(self) -> tuple:
        return (self.scroll_x, self.scroll_y, self.w, self.h, self.enabled, self.invalid,
                self.text.count("\n"), self.palette)

    def _rows_of(self, text: str, caret: int, sel: tuple[int, int] | None) -> set[int]:
        rows = {text.count("\n", 0, caret)}
        if sel:
            rows.update(range(text.count("\n", 0, sel[0]), text.count("\n", 0, sel[1]) + 1))
        return rows

    def invalidate(self, local: Rect | None = None) -> None:
        """Damage only the rows that changed since the last paint when the view did not move (typing and caret
        moves then repaint one line instead of the whole area)."""
        snap = self._painted
        if local is not None or snap is None or snap[0] != self._view_key():
            super().invalidate(local)
            return
        _, text, caret, sel, focused = snap
        rows = self._rows_of(text, caret, sel) | self._rows_of(self.text, self.caret, self.selection)
        if focused != self.focused:  # the frame changes colour and width
            w, h = self.w, self.h
            for r in (Rect(0, 0, w, 2), Rect(0, h - 2, w, 2), Rect(0, 0, 2, h), Rect(w - 2, 0, 2, h)):
                super().invalidate(r)
        if text != self.text:
            old, new = text.split("\n"), self.text.split("\n")
            rows.update(i for i in range(len(new)) if old[i] != new[i])
        lh = self.lh
        for r in rows:
            y = PAD + r * lh - self.scroll_y
            if y + lh > 0 and y < self.h:
                super().invalidate(Rect(0, int(y), self.w, lh + 2))

    @property
    def lh(self) -> int:
        """The height of one line, in points."""
        return textmod.line_height(self.style.size) + 3

    @property
    def gutter(self) -> float:
        """The width of the line-number gutter (0 without line numbers)."""
        return 36.0 if self.line_numbers else 0.0

    def lines(self) -> list[str]:
        """The text split into lines (a trailing newline gives a last empty line)."""
        return self.text.split("\n")

    def line_col(self, index: int) -> tuple[int, int]:
        """The (line, column) of character index ``index``, both 0-based."""
        line = self.text.count("\n", 0, index)
        start = self.text.rfind("\n", 0, index) + 1
        return line, index - start

    def index_of(self, line: int, col: int) -> int:
        """The character index of (line, col), both clamped to the text."""
        lines = self.lines()
        line = max(0, min(len(lines) - 1, line))
        return sum(len(s) + 1 for s in lines[:line]) + max(0, min(col, len(lines[line])))

    def caret_xy(self, index: int) -> tuple[float, float]:
        """Local position of caret ``index``'s top (before scrolling)."""
        line, col = self.line_col(index)
        start = index - col
        return (PAD + self.gutter + textmod.measure(self.text[start:index], self.style), PAD + line * self.lh)

    def index_at(self, lx: float, ly: float) -> int:
        """The caret index nearest local point (lx, ly), past the gutter and taking the scroll into account."""
        lines = self.lines()
        line = int((ly + self.scroll_y - PAD) // self.lh)
        line = max(0, min(len(lines) - 1, line))
        col = textmod.index_at(lines[line], lx + self.scroll_x - PAD - self.gutter, self.style)
        return self.index_of(line, col)

    def content_height(self) -> int:
        """The height of all lines plus the padding, in points."""
        return len(self.lines()) * self.lh + 2 * PAD

    def max_scroll_y(self) -> int:
        """The largest vertical scroll offset; 0 when every line fits."""
        return max(0, self.content_height() - self.h)

    def ensure_caret_visible(self) -> None:
        """Scroll both ways just enough to keep the caret's line and column in view."""
        cx, cy = self.caret_xy(self.caret)
        if cy - self.scroll_y < PAD:
            self.scroll_y = int(max(0, cy - PAD))
        elif cy + self.lh - self.scroll_y > self.h - PAD:
            self.scroll_y = int(cy + self.lh - self.h + PAD)
        inner = self.w - 2 * PAD - self.gutter - theme.SCROLLBAR_W
        x = cx - PAD - self.gutter
        if x - self.scroll_x > inner:
            self.scroll_x = int(x - inner + 1)
        elif x < self.scroll_x:
            self.scroll_x = int(max(0, x - inner / 3))

    def on_wheel(self, ev: MouseEvent) -> bool:
        """Scroll vertically; True only when the view moved (so an exhausted wheel bubbles up)."""
        if ev.dy:
            new = int(max(0, min(self.max_scroll_y(), self.scroll_y + ev.dy)))
            if new != self.scroll_y:
                self.scroll_y = new
                self.invalidate()
                return True
            return False
        return False

    def on_other_key(self, ev: KeyEvent) -> bool:
        """Up/down and page up/down move by lines, keeping the column; tab inserts 4 spaces with ``tab_inserts``."""
        c = ev.combo
        shift = "shift" in ev.mods
        base = c.replace("shift+", "")
        if base in ("up", "down", "pageup", "pagedown"):
            line, col = self.line_col(self.caret)
            page = max(1, self.h // self.lh - 1)
            delta = {"up": -1, "down": 1, "pageup": -page, "pagedown": page}[base]
            target = line + delta
            if target < 0:
                self.move_to(0, shift)
            elif target >= len(self.lines()):
                self.move_to(len(self.text), shift)
            else:
                self.move_to(self.index_of(target, col), shift)
            return True
        if c == "tab" and self.tab_inserts and not self.readonly:
            self.insert("    ")
            return True
        return False

    def paint(self, p: Painter) -> None:
        """Draw the frame, then only the damaged lines (selection, text, line numbers), the caret and scroll bar."""
        self._painted = (self._view_key(), self.text, self.caret, self.selection, self.focused)
        pal = self.palette
        w, h = self.w, self.h
        p.rect(0, 0, w, h, fill=pal.surface, outline=pal.error if self.invalid else
               (pal.focus_ring if self.focused else pal.border), width=2 if self.focused else 1)
        sub = p.sub(1, 1, w - 2, h - 2)
        if sub is None:
            return
        lh = self.lh
        lines = self.lines()
        # only the lines inside the damaged area (the painter's clip) need drawing
        top = max(0.0, sub.clip.y - sub.oy)
        bottom = min(float(h), sub.clip.bottom - sub.oy)
        first = max(0, int((self.scroll_y + top - PAD) // lh))
        last = min(len(lines), int((self.scroll_y + bottom - PAD) // lh) + 1)
        g = self.gutter
        sel = self.selection if self.focused or self.readonly else None
        tl = textmod.line_height(self.style.size)
        if g:
            sub.fill(0, 0, g, h, pal.window_bg)
        start_index = sum(len(s) + 1 for s in lines[:first])
        for i in range(first, last):
            y = PAD + i * lh - self.scroll_y
            s = lines[i]
            if sel:
                a, b = max(sel[0], start_index), min(sel[1], start_index + len(s) + 1)
                if a < b or (a == b and sel[0] <= start_index < sel[1]):
                    x0 = PAD + g + textmod.measure(s[:a - start_index], self.style) - self.scroll_x
                    x1 = PAD + g + textmod.measure(s[:min(b, start_index + len(s)) - start_index], self.style) \
                        - self.scroll_x
                    if b > start_index + len(s):
                        x1 += 5
                    sub.fill(x0, y + 1, x1 - x0, lh - 1, pal.selection)
            if s:
                sub.text(PAD + g - self.scroll_x, y + 1.5, s, self.style, pal.text)
            if g:
                sub.fill(0, y, g, lh, pal.window_bg)
                sub.text_in(0, y, g - 6, lh, str(i + 1), TextStyle("mono", theme.SMALL_FONT_SIZE), pal.text_muted,
                            align="right")
            start_index += len(s) + 1
        if not self.text and self.placeholder:
            sub.text(PAD + g, PAD + 1.5, self.placeholder, self.style, pal.text_muted)
        if self.focused and not self.readonly:
            cx, cy = self.caret_xy(self.caret)
            sub.fill(cx - self.scroll_x, cy - self.scroll_y + 1, 1, tl + 1, pal.caret)
        ch = self.content_height()
        if ch > h:
            track = h - 4
            th = max(24, track * h / ch)
            ty = 2 + (track - th) * self.scroll_y / max(1, ch - h)
            sub.rect(w - 2 - theme.SCROLLBAR_W + 1, ty, theme.SCROLLBAR_W - 3, th, fill=pal.track, radius=3)
        sub.commit()
