"""Simple controls: label, button, checkbox, switch, radio group, slider, panel, image."""

from __future__ import annotations

from typing import Callable, Sequence

from guiagent.envs.mock import text as textmod
from guiagent.envs.mock import theme
from guiagent.envs.mock.render import Painter
from guiagent.envs.mock.text import TextStyle
from guiagent.envs.mock.widgets.base import KeyEvent, MouseEvent, Pressable, Widget

REGULAR = TextStyle("sans", theme.FONT_SIZE)
BOLD = TextStyle("bold", theme.FONT_SIZE)
SMALL = TextStyle("sans", theme.SMALL_FONT_SIZE)
HEADING = TextStyle("bold", theme.HEADING_FONT_SIZE)


class Label(Widget):
    """Static text. ``color`` None uses the theme's text colour; "muted"/"error"/"success" pick theme colours."""

    role = "label"

    def __init__(self, text: str, rect=(0, 0, 0, 0), style: TextStyle = REGULAR, color: str | None = None,
                 align: str = "left", wrap: bool = False):
        super().__init__(text, rect)
        self.text = text
        self.style = style
        self.color = color
        self.align = align
        self.wrap = wrap

    def set_text(self, text: str) -> None:
        """Change the text (and the accessible name, unless it was set apart from the text), repainting it."""
        if text != self.text:
            if self.name == self.text:  # the name follows the text unless it was set apart ("Display")
                self.name = text
            self.text = text
            self.invalidate()

    def _color(self):
        pal = self.palette
        return {"muted": pal.text_muted, "error": pal.error, "success": pal.success,
                "white": (255, 255, 255)}.get(self.color or "", pal.text)

    def paint(self, p: Painter) -> None:
        """Draw the text in its rectangle: one aligned line, or word-wrapped paragraphs with ``wrap``."""
        if not self.wrap:
            p.text_in(0, 0, self.w, self.h, self.text, self.style, self._color(), self.align)
            return
        lh = textmod.line_height(self.style.size) + 2
        y = 0
        for para in self.text.split("\n"):
            for line in textmod.wrap(para, self.w, self.style):
                p.text(0, y, line, self.style, self._color())
                y += lh


class Button(Pressable):
    """A push button. ``kind``: "normal", "primary" (accent filled), "flat" (toolbar style, border on hover)."""

    focusable = True

    def __init__(self, label: str, on_click: Callable[[], None] | None = None, rect=(0, 0, 0, 0),
                 kind: str = "normal", icon: str | None = None, tooltip: str = "", icon_size: int = 16):
        super().__init__(label, rect)
        self.label = label
        self.on_click = on_click
        self.kind = kind
        self.icon = icon
        self.icon_size = icon_size
        self.description = tooltip
        self.font_size = theme.FONT_SIZE

    def activate(self) -> None:
        """Call ``on_click`` (nothing when disabled or without a handler)."""
        if self.enabled and self.on_click is not None:
            self.on_click()

    def on_mouse_drag(self, ev: MouseEvent) -> None:
        """Track whether the held button is still under the pointer (released outside, it does not fire)."""
        inside = self.contains_screen(ev.x, ev.y)
        if inside != self.hovered:
            self.hovered = inside
            self.invalidate()

    def on_key(self, ev: KeyEvent) -> bool:
        """Enter or space clicks the focused button."""
        if ev.combo in ("enter", "space"):
            self.activate()
            return True
        return False

    def on_text(self, text: str) -> bool:
        """A typed space clicks the focused button (as space does on real toolkits)."""
        if text == " ":
            self.activate()
            return True
        return False

    def paint(self, p: Painter) -> None:
        """Draw the button in its kind's style (normal, primary, flat), hover/pressed/disabled state and focus ring."""
        pal = self.palette
        w, h = self.w, self.h
        if self.kind == "primary":
            fill = pal.accent_hover if (self.hovered or self.pressed) and self.enabled else pal.accent
            if not self.enabled:
                fill = pal.track
            p.rect(0, 0, w, h, fill=fill, outline=fill, radius=4)
            fg = pal.accent_text
        elif self.kind == "flat":
            if self.pressed and self.hovered:
                p.rect(0, 0, w, h, fill=pal.button_pressed, outline=pal.border, radius=4)
            elif self.hovered and self.enabled:
                p.rect(0, 0, w, h, fill=pal.button_hover, outline=pal.border_light, radius=4)
            fg = pal.text if self.enabled else pal.text_disabled
        else:
            fill = pal.button
            if self.enabled and self.pressed and self.hovered:
                fill = pal.button_pressed
            elif self.enabled and self.hovered:
                fill = pal.button_hover
            p.rect(0, 0, w, h, fill=fill, outline=pal.button_border, radius=4)
            p.hline(3, h - 2, w - 6, pal.border_light)
            fg = pal.text if self.enabled else pal.text_disabled
        if self.focused:
            p.rect(1, 1, w - 2, h - 2, outline=pal.focus_ring, width=2, radius=4)
        style = TextStyle("bold" if self.kind == "primary" else "sans", self.font_size)
        if self.icon is not None:
            iw = self.icon_size
            if self.label:
                tw = textmod.measure(self.label, style)
                x = max(4.0, (w - iw - 6 - tw) / 2)
                p.icon(x, (h - iw) / 2, self.icon, iw)
                p.text_in(x + iw + 6, 0, w - (x + iw + 6), h, self.label, style, fg)
            else:
                p.icon((w - iw) / 2, (h - iw) / 2, self.icon, iw)
        else:
            p.text_in(0, 0, w, h, self.label, style, fg, align="center", pad=6)

    def a11y_states(self) -> set[str]:
        """The base states, plus "pressed" while the left button is held on it."""
        s = super().a11y_states()
        if self.pressed:
            s.add("pressed")
        return s


class Checkbox(Widget):
    """A check box with its label on the right; a click, space or a typed space toggles it.

    Args:
        label: the label, also the accessible name.
        checked: the initial state.
        on_change: called with the new state after every change made through ``set_checked``.
        rect: ``(x, y, w, h)`` relative to the parent.
    """
    role = "checkbox"
    focusable = True
    hover_effect = True

    def __init__(self, label: str, checked: bool = False, on_change: Callable[[bool], None] | None = None,
                 rect=(0, 0, 0, 0)):
        super().__init__(label, rect)
        self.checked = checked
        self.on_change = on_change

    def set_checked(self, checked: bool, notify: bool = True) -> None:
        """Set the state, repainting and (with ``notify``) calling ``on_change`` when it changes.

        Args:
            checked: the new state.
            notify: False to change it silently (when loading a saved state).
        """
        if checked != self.checked:
            self.checked = checked
            self.invalidate()
            if notify and self.on_change is not None:
                self.on_change(checked)

    def on_mouse_down(self, ev: MouseEvent) -> bool:
        """A left click toggles the box (a disabled box swallows it)."""
        if ev.button == "left" and self.enabled:
            self.set_checked(not self.checked)
        return ev.button == "left"

    def on_key(self, ev: KeyEvent) -> bool:
        """Space toggles the focused box."""
        if ev.combo == "space":
            self.set_checked(not self.checked)
            return True
        return False

    def on_text(self, text: str) -> bool:
        """A typed space toggles the focused box."""
        if text == " ":
            self.set_checked(not self.checked)
            return True
        return False

    def paint(self, p: Painter) -> None:
        """Draw the box (filled with a tick when checked), its focus ring and its label."""
        pal = self.palette
        by = (self.h - 16) / 2
        bx = 3  # room for the focus ring inside the widget's rectangle
        if self.checked:
            p.rect(bx, by, 16, 16, fill=pal.accent, outline=pal.accent, radius=3)
            p.polyline([(bx + 3.5, by + 8), (bx + 6.5, by + 11.5), (bx + 12.5, by + 4.5)], pal.accent_text, width=2)
        else:
            p.rect(bx, by, 16, 16, fill=pal.surface, outline=pal.accent if self.hovered else pal.button_border,
                   radius=3)
        if self.focused:
            p.rect(bx - 2, by - 2, 20, 20, outline=pal.focus_ring, radius=4)
        p.text_in(bx + 24, 0, self.w - bx - 24, self.h, self.name, REGULAR,
                  pal.text if self.enabled else pal.text_disabled)

    def a11y_value(self) -> str | None:
        """Either "checked" or "unchecked"."""
        return "checked" if self.checked else "unchecked"

    def a11y_states(self) -> set[str]:
        """The base states, plus "checked" when checked."""
        s = super().a11y_states()
        if self.checked:
            s.add("checked")
        return s


class Switch(Checkbox):
    """An on/off toggle with its label on the left and the switch at the right edge."""

    role = "switch"

    def paint(self, p: Painter) -> None:
        """Draw the label on the left and the track with its knob (right when on) at the right edge."""
        pal = self.palette
        sw, sh = 40, 22
        sx, sy = self.w - sw, (self.h - sh) / 2
        p.text_in(0, 0, self.w - sw - 8, self.h, self.name, REGULAR, pal.text if self.enabled else pal.text_disabled)
        track = pal.accent if self.checked else pal.track
        p.rect(sx, sy, sw, sh, fill=track, outline=track, radius=sh / 2)
        kx = sx + sw - sh + 2 if self.checked else sx + 2
        p.ellipse(kx, sy + 2, sh - 4, sh - 4, fill=(255, 255, 255))
        if self.focused:
            p.rect(sx - 2, sy - 2, sw + 4, sh + 4, outline=pal.focus_ring, radius=sh / 2 + 2)

    def a11y_value(self) -> str | None:
        """Either "on" or "off"."""
        return "on" if self.checked else "off"


class RadioButton(Widget):
    """One option of a RadioGroup (its parent); its name is the option."""
    role = "radio_button"
    hover_effect = True

    def __init__(self, label: str, rect=(0, 0, 0, 0)):
        super().__init__(label, rect)

    @property
    def group(self) -> "RadioGroup":
        """The RadioGroup this option belongs to."""
        return self.parent  # type: ignore[return-value]

    @property
    def checked(self) -> bool:
        """True when the group's selected option is this one."""
        return self.group.selected == self.name

    def on_mouse_down(self, ev: MouseEvent) -> bool:
        """A left click selects this option and focuses the group (unless either is disabled)."""
        if ev.button == "left" and self.enabled and self.group.enabled:
            self.group.select(self.name)
            self.group.focus()
        return ev.button == "left"

    def paint(self, p: Painter) -> None:
        """Draw the circle (with a dot when selected), the focus ring while the group has focus, and the label."""
        pal = self.palette
        cy = (self.h - 16) / 2
        cx = 3  # room for the focus ring inside the widget's rectangle
        p.ellipse(cx, cy, 16, 16, fill=pal.surface, outline=pal.accent if (self.checked or self.hovered)
                  else pal.button_border, width=1.5 if self.checked else 1)
        if self.checked:
            p.ellipse(cx + 4, cy + 4, 8, 8, fill=pal.accent)
        if self.group.focused and self.checked:
            p.ellipse(cx - 2, cy - 2, 20, 20, outline=pal.focus_ring)
        p.text_in(cx + 24, 0, self.w - cx - 24, self.h, self.name, REGULAR, pal.text)

    def a11y_states(self) -> set[str]:
        """The base states, plus "checked" when selected."""
        s = super().a11y_states()
        if self.checked:
            s.add("checked")
        return s


class RadioGroup(Widget):
    """A set of mutually exclusive options, laid out as RadioButton children; the arrow keys move the selection.

    Args:
        name: the group's accessible name.
        options: the options, in order (each becomes a RadioButton named after it).
        selected: the option selected at first, or None.
        rect: ``(x, y, w, h)`` relative to the parent.
        on_change: called with the option after every change made through ``select``.
        horizontal: lay the options out in a row of ``item_w``-wide cells instead of a column.
        item_w: the width of each option in a row.
    """
    role = "radio_group"
    focusable = True

    def __init__(self, name: str, options: Sequence[str], selected: str | None = None, rect=(0, 0, 0, 0),
                 on_change: Callable[[str], None] | None = None, horizontal: bool = False, item_w: int = 120):
        super().__init__(name, rect)
        self.selected = selected
        self.on_change = on_change
        self.options = list(options)
        for i, opt in enumerate(options):
            if horizontal:
                self.add(RadioButton(opt, (i * item_w, 0, item_w, self.h)))
            else:
                self.add(RadioButton(opt, (0, i * 26, self.w, 26)))

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

    def on_key(self, ev: KeyEvent) -> bool:
        """The arrow keys select the next (down/right) or previous (up/left) option, wrapping around."""
        if ev.combo in ("down", "right", "up", "left") and self.options:
            i = self.options.index(self.selected) if self.selected in self.options else -1
            i = (i + (1 if ev.combo in ("down", "right") else -1)) % len(self.options)
            self.select(self.options[i])
            return True
        return False

    def a11y_value(self) -> str | None:
        """The selected option, or None."""
        return self.selected


class Slider(Widget):
    """A horizontal slider over integers [lo, hi]; click the track to jump, drag the thumb, or use the arrows."""

    role = "slider"
    focusable = True
    hover_effect = True
    focus_on_click = True

    def __init__(self, name: str, lo: int, hi: int, value: int, rect=(0, 0, 0, 0), step: int = 1,
                 on_change: Callable[[int], None] | None = None, show_value: bool = True):
        super().__init__(name, rect)
        self.lo, self.hi, self.step = lo, hi, step
        self.value = value
        self.on_change = on_change
        self.show_value = show_value

    @property
    def track(self) -> tuple[float, float]:
        """The track's left and right ends, in local x (the value label, if shown, sits right of it)."""
        right = self.w - (48 if self.show_value else 10)
        return 10.0, float(right)

    def set_value(self, v: int) -> None:
        """Set the value, snapped to ``step`` and clamped to [lo, hi]; repaints and calls ``on_change`` on change."""
        v = max(self.lo, min(self.hi, int(round(v / self.step) * self.step)))
        if v != self.value:
            self.value = v
            self.invalidate()
            if self.on_change is not None:
                self.on_change(v)

    def value_at(self, lx: float) -> int:
        """The value at local x ``lx`` along the track (clamped to the track's ends)."""
        a, b = self.track
        frac = min(1.0, max(0.0, (lx - a) / (b - a)))
        return int(round(self.lo + frac * (self.hi - self.lo)))

    def thumb_x(self) -> float:
        """The thumb's centre, in local x."""
        a, b = self.track
        return a + (self.value - self.lo) / (self.hi - self.lo) * (b - a)

    def on_mouse_down(self, ev: MouseEvent) -> bool:
        """A left press focuses the slider and jumps the value to the pointer; dragging follows."""
        if ev.button != "left" or not self.enabled:
            return ev.button == "left"
        self.focus()
        lx, _ = self.local(ev)
        self.set_value(self.value_at(lx))
        self.pressed = True
        return True

    def on_mouse_drag(self, ev: MouseEvent) -> None:
        """Move the value with the pointer while the button is held."""
        lx, _ = self.local(ev)
        self.set_value(self.value_at(lx))

    def on_mouse_up(self, ev: MouseEvent) -> None:
        """End the drag."""
        self.pressed = False
        self.invalidate()

    def on_key(self, ev: KeyEvent) -> bool:
        """Arrows move one step, page up/down a tenth of the range, home/end to the ends."""
        big = max(self.step, (self.hi - self.lo) // 10)
        moves = {"left": -self.step, "down": -self.step, "right": self.step, "up": self.step,
                 "pageup": big, "pagedown": -big}
        if ev.combo in moves:
            self.set_value(self.value + moves[ev.combo])
        elif ev.combo == "home":
            self.set_value(self.lo)
        elif ev.combo == "end":
            self.set_value(self.hi)
        else:
            return False
        return True

    def paint(self, p: Painter) -> None:
        """Draw the track (filled up to the thumb), the thumb and, with ``show_value``, the value."""
        pal = self.palette
        a, b = self.track
        cy = self.h / 2
        tx = self.thumb_x()
        p.rect(a, cy - 2, b - a, 4, fill=pal.track, radius=2)
        p.rect(a, cy - 2, tx - a, 4, fill=pal.accent, radius=2)
        r = 8
        p.ellipse(tx - r, cy - r, 2 * r, 2 * r, fill=(255, 255, 255),
                  outline=pal.focus_ring if self.focused else (pal.accent if self.hovered else pal.button_border),
                  width=2 if self.focused else 1)
        if self.show_value:
            p.text_in(b + 10, 0, self.w - b - 10, self.h, str(self.value), REGULAR, pal.text)

    def a11y_value(self) -> str | None:
        """The value as text."""
        return str(self.value)


class Panel(Widget):
    """A plain container with an optional background ("window", "surface" or None) and border."""

    role = "group"

    def __init__(self, name: str = "", rect=(0, 0, 0, 0), bg: str | None = None, border: bool = False):
        super().__init__(name, rect)
        self.bg = bg
        self.border = border
        self.opaque = bg is not None
        self.a11y_hidden = not name

    def paint(self, p: Painter) -> None:
        """Fill the background and draw the border, as configured."""
        pal = self.palette
        if self.bg is not None:
            p.fill(0, 0, self.w, self.h, pal.surface if self.bg == "surface" else pal.window_bg)
        if self.border:
            p.rect(0, 0, self.w, self.h, outline=pal.border_light)


class ImageView(Widget):
    """A named icon, shown as an image."""
    role = "image"

    def __init__(self, name: str, icon: str, rect=(0, 0, 0, 0)):
        super().__init__(name, rect)
        self.icon = icon

    def paint(self, p: Painter) -> None:
        """Draw the icon, as large as the shorter side of the rectangle."""
        p.icon(0, 0, self.icon, min(self.w, self.h))
