"""The retained widget tree: geometry, painting, hit testing, event hooks and accessibility hooks.

Every widget's rectangle is relative to its parent's origin (a scrolling parent also subtracts its scroll offset).
Top-level widgets (the desktop shell, windows, the taskbar, popups) have screen rectangles and a ``desktop``.

Event hooks return True when they handled the event; unhandled mouse and key events bubble to the parent.
A widget that wants repainting calls ``invalidate()``, which damages its visible screen rectangle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

from guiagent.envs.mock import theme
from guiagent.envs.mock.geometry import Rect
from guiagent.envs.mock.render import Painter

if TYPE_CHECKING:  # pragma: no cover
    from guiagent.envs.mock.services import WidgetHost


@dataclass
class MouseEvent:
    """A pointer event in screen points. ``clicks`` counts rapid presses (2 on the second press of a double
    click); ``dx``/``dy`` are wheel deltas in points (positive dy scrolls content up, i.e. "scroll down")."""

    x: float
    y: float
    button: str = "left"
    clicks: int = 1
    mods: frozenset[str] = frozenset()
    dx: float = 0.0
    dy: float = 0.0


@dataclass
class KeyEvent:
    """A non-text key press (canonical key name) with the modifiers held."""

    key: str
    mods: frozenset[str] = field(default_factory=frozenset)

    @property
    def combo(self) -> str:
        """"ctrl+shift+s"-style name, modifiers in a fixed order, for shortcut tables."""
        order = [m for m in ("ctrl", "alt", "shift", "cmd") if m in self.mods]
        return "+".join(order + [self.key])

    @classmethod
    def from_combo(cls, combo: str) -> "KeyEvent":
        """The inverse of ``combo``, for menu entries that stand for a shortcut ("ctrl+c")."""
        mods, _, key = combo.rpartition("+")
        return cls(key, frozenset(mods.split("+")) if mods else frozenset())


class Widget:
    """A node of the mock desktop's widget tree.

    It is a rectangle relative to its parent that is painted, hit-tested and exposed to the accessibility tree.

    Subclasses set the class attributes (``role``, ``focusable``, ``clip_children``, ``hover_effect``, ``opaque``)
    and override the paint, event and accessibility hooks they need.

    Args:
        name: the accessible name (also what ``find(name=...)`` matches).
        rect: ``(x, y, w, h)`` in points, relative to the parent's origin.
    """
    role = "group"
    focusable = False
    clip_children = False
    hover_effect = False     # repaint when the pointer enters/leaves
    opaque = False           # paints every pixel of its rectangle (lets the painter skip what lies below)

    def __init__(self, name: str = "", rect: tuple[int, int, int, int] = (0, 0, 0, 0)):
        self.name = name
        self.x, self.y, self.w, self.h = rect
        self.parent: Widget | None = None
        self.children: list[Widget] = []
        self.visible = True
        self.enabled = True
        self.hovered = False
        self.pressed = False
        self.scroll_x = 0
        self.scroll_y = 0
        self.a11y_hidden = False   # hide this node (not its children) from the accessibility tree
        self.desktop_ref: WidgetHost | None = None  # set on top-level widgets only

    # ------------------------------------------------------------------ tree
    def add(self, child: "W") -> "W":
        """Append ``child`` (painted above its earlier siblings) and damage its area; returns ``child``."""
        child.parent = self
        self.children.append(child)
        child.invalidate()
        return child

    def remove(self, child: "Widget") -> None:
        """Detach ``child`` if it is one, damaging its area and telling the desktop (focus, capture, hover)."""
        if child in self.children:
            child.invalidate()
            d = self.desktop
            if d is not None:
                d.widget_removed(child)
            self.children.remove(child)
            child.parent = None

    def clear(self) -> None:
        """Remove every child."""
        for c in list(self.children):
            self.remove(c)

    @property
    def top(self) -> "Widget":
        """The root of this widget's tree (a window, popup, taskbar or the desktop shell)."""
        w = self
        while w.parent is not None:
            w = w.parent
        return w

    @property
    def desktop(self) -> "WidgetHost | None":
        """The desktop the tree is shown on, or None while it is detached."""
        return self.top.desktop_ref

    @property
    def window(self) -> Any:
        """The Window (or popup) this widget lives in."""
        return self.top

    def walk(self) -> Iterator["Widget"]:
        """This widget and its whole subtree, depth first, parents before children."""
        yield self
        for c in self.children:
            yield from c.walk()

    def is_shown(self) -> bool:
        """True when this widget and every ancestor are visible (it may still be scrolled out of view)."""
        w: Widget | None = self
        while w is not None:
            if not w.visible:
                return False
            w = w.parent
        return True

    # ------------------------------------------------------------------ geometry
    @property
    def rect(self) -> Rect:
        """The rectangle relative to the parent's origin."""
        return Rect(self.x, self.y, self.w, self.h)

    def set_rect(self, x: int, y: int, w: int, h: int) -> None:
        """Move/resize the widget, damaging the old and new areas and calling ``resized``; no-op if unchanged."""
        if (x, y, w, h) == (self.x, self.y, self.w, self.h):
            return
        self.invalidate()
        self.x, self.y, self.w, self.h = x, y, w, h
        self.invalidate()
        self.resized()

    def resized(self) -> None:
        """Hook: lay out children after a size change."""

    def origin(self) -> tuple[float, float]:
        """Screen position of this widget's top-left corner."""
        x, y = self.x, self.y
        p = self.parent
        while p is not None:
            x += p.x - p.scroll_x
            y += p.y - p.scroll_y
            p = p.parent
        return x, y

    def screen_rect(self) -> Rect:
        """The rectangle in screen points, not clipped by ancestors (see ``visible_rect``)."""
        x, y = self.origin()
        return Rect(int(x), int(y), self.w, self.h)

    def visible_rect(self) -> Rect:
        """Screen rectangle clipped by every clipping ancestor (empty when scrolled out of view)."""
        r = self.screen_rect()
        p = self.parent
        while p is not None:
            if p.clip_children or p.parent is None:
                r = r.intersection(p.viewport_screen())
            p = p.parent
        return r

    def viewport(self) -> Rect:
        """Local rectangle in which children are visible (clipping widgets override)."""
        return Rect(0, 0, self.w, self.h)

    def viewport_screen(self) -> Rect:
        """``viewport`` in screen points."""
        ox, oy = self.origin()
        v = self.viewport()
        return Rect(int(ox) + v.x, int(oy) + v.y, v.w, v.h)

    def local(self, ev: MouseEvent) -> tuple[float, float]:
        """The event's position relative to this widget's top-left corner."""
        ox, oy = self.origin()
        return ev.x - ox, ev.y - oy

    def contains_screen(self, sx: float, sy: float) -> bool:
        """True when screen point (sx, sy) is inside the visible (clipped) rectangle."""
        return self.visible_rect().contains(sx, sy)

    # ------------------------------------------------------------------ repaint
    def invalidate(self, local: Rect | None = None) -> None:
        """Schedule a repaint of the widget, or of part of it.

        Args:
            local: the part to repaint, relative to the widget; None repaints its whole visible rectangle.
        """
        d = self.desktop
        if d is None or not self.visible:
            return
        if local is None:
            r = self.visible_rect()
        else:
            ox, oy = self.origin()
            r = Rect(int(ox) + local.x, int(oy) + local.y, local.w, local.h)
            p = self.parent
            r = r.intersection(self.visible_rect()) if p is not None else r
        d.compositor.invalidate(r)

    def set_visible(self, visible: bool) -> None:
        """Show or hide the widget; hiding damages its area and takes focus and the mouse capture away from it."""
        if visible == self.visible:
            return
        if not visible:
            self.invalidate()
            self.visible = False
            d = self.desktop
            if d is not None:
                d.widget_hidden(self)
        else:
            self.visible = True
            self.invalidate()

    def set_enabled(self, enabled: bool) -> None:
        """Enable or disable the widget (shown as the "disabled" a11y state), repainting it when that changes."""
        if enabled != self.enabled:
            self.enabled = enabled
            self.invalidate()

    def paint(self, p: Painter) -> None:
        """Draw this widget at local (0, 0)-(w, h). Children are painted after, by ``paint_tree``."""

    def paint_over(self, p: Painter) -> None:
        """Draw on top of the children (scroll bars, focus rings)."""

    @property
    def palette(self) -> theme.Palette:
        """The colours to paint with: the desktop's current palette, or the light one while detached."""
        d = self.desktop
        return d.palette if d is not None else theme.LIGHT

    # ------------------------------------------------------------------ focus
    @property
    def focused(self) -> bool:
        """True when this widget has the keyboard focus of the active window."""
        d = self.desktop
        return d is not None and d.focus_widget() is self

    def focus(self) -> None:
        """Ask the window this widget lives in to give it the keyboard focus."""
        win = self.top
        if hasattr(win, "set_focus"):
            win.set_focus(self)

    def on_focus(self, gained: bool) -> None:
        """Hook: the widget gained (``gained``) or lost the focus; focusable widgets repaint their focus ring."""
        if self.focusable:
            self.invalidate()

    # ------------------------------------------------------------------ events (return True when handled)
    def on_mouse_down(self, ev: MouseEvent) -> bool:
        """Hook: a button went down on the widget; return True when handled (False bubbles to the parent)."""
        return False

    def on_mouse_drag(self, ev: MouseEvent) -> None:
        """Pointer moved while this widget holds the mouse capture."""

    def on_mouse_up(self, ev: MouseEvent) -> None:
        """Button released while this widget holds the mouse capture."""

    def on_wheel(self, ev: MouseEvent) -> bool:
        """Hook: the wheel turned over the widget; return True when it scrolled (False bubbles up)."""
        return False

    def on_key(self, ev: KeyEvent) -> bool:
        """Hook: a non-text key was pressed while the widget had focus; return True when handled."""
        return False

    def on_text(self, text: str) -> bool:
        """Hook: text was typed while the widget had focus; return True when it took the text."""
        return False

    def on_hover(self, inside: bool) -> None:
        """Hook: the pointer entered (``inside``) or left the widget; hover-styled widgets repaint."""
        if self.hover_effect:
            self.invalidate()

    def on_context_menu(self, ev: MouseEvent) -> bool:
        """Right button pressed on this widget; return True after opening a menu."""
        return False

    def accepts_drop(self, payload: Any) -> bool:
        """Hook: whether a drag carrying ``payload`` may be dropped here (the drop target highlights)."""
        return False

    def on_drop(self, payload: Any) -> None:
        """Something dragged from another widget was released here."""

    # ------------------------------------------------------------------ accessibility
    def a11y_name(self) -> str:
        """The accessible name (default: ``name``)."""
        return self.name

    def a11y_value(self) -> str | None:
        """The accessible value (text of a field, state of a slider...), or None when the role has none."""
        return None

    def a11y_states(self) -> set[str]:
        """The accessibility states: disabled, focusable, focused; subclasses add their own (checked...)."""
        s: set[str] = set()
        if not self.enabled:
            s.add("disabled")
        if self.focusable:
            s.add("focusable")
            if self.focused:
                s.add("focused")
        return s

    def a11y_children(self) -> list["Widget"]:
        """The children the accessibility tree shows (the visible ones by default)."""
        return [c for c in self.children if c.visible]



class Pressable(Widget):
    """A widget that acts when the left button goes down on it and comes back up over it, like a real push
    button: releasing elsewhere cancels. Buttons, title-bar buttons and taskbar buttons share this."""

    role = "button"
    hover_effect = True

    def activate(self) -> None:
        """Hook: the button was clicked (pressed and released over it). Subclasses must override it."""
        raise NotImplementedError

    def on_mouse_down(self, ev: MouseEvent) -> bool:
        """Arm the button on a left press (disabled buttons swallow it without arming)."""
        if ev.button != "left" or not self.enabled:
            return ev.button == "left"
        self.pressed = True
        self.invalidate()
        return True

    def on_mouse_up(self, ev: MouseEvent) -> None:
        """Disarm the button, and ``activate`` it if the release is over it."""
        was = self.pressed
        self.pressed = False
        self.invalidate()
        if was and self.contains_screen(ev.x, ev.y):
            self.activate()


W = Any  # generic child type for ``add``


def within(w: Widget | None, ancestor: Widget) -> bool:
    """Whether ``w`` is ``ancestor`` or lies in its subtree (False for None)."""
    while w is not None:
        if w is ancestor:
            return True
        w = w.parent
    return False


def first_covering(ws: list[Widget], ox: float, oy: float, clip: Rect) -> int:
    """Occlusion culling: the index of the top-most visible opaque widget in ``ws`` (siblings whose parent origin
    is screen point ``ox``, ``oy``) that covers the whole ``clip``, or -1. Painting can begin there."""
    for i in range(len(ws) - 1, -1, -1):
        w = ws[i]
        if w.opaque and w.visible:
            x, y = ox + w.x, oy + w.y
            if x <= clip.x and y <= clip.y and x + w.w >= clip.x + clip.w and y + w.h >= clip.y + clip.h:
                return i
    return -1


def paint_tree(w: Widget, p: Painter) -> None:
    """Paint ``w`` and its subtree with ``p`` translated to w's parent origin, skipping what misses ``p.clip``."""
    if not w.visible:
        return
    ax, ay = p.ox + w.x, p.oy + w.y
    c = p.clip
    if not (ax < c.x + c.w and c.x < ax + w.w and ay < c.y + c.h and c.y < ay + w.h):
        return
    p.ox, p.oy = ax, ay
    children = w.children
    start = first_covering(children, ax, ay, c) if children and not w.clip_children else -1
    if start < 0:
        w.paint(p)
    if children:
        if start >= 0:
            for ch in children[start:]:
                paint_tree(ch, p)
        elif w.clip_children:
            v = w.viewport()
            sub = p.sub(v.x, v.y, v.w, v.h)
            if sub is not None:
                sub.ox -= w.scroll_x
                sub.oy -= w.scroll_y
                for ch in w.children:
                    paint_tree(ch, sub)
                sub.commit()
        else:
            for ch in w.children:
                paint_tree(ch, p)
    w.paint_over(p)
    p.ox, p.oy = ax - w.x, ay - w.y


def hit_test(w: Widget, sx: float, sy: float, ox: float = 0.0, oy: float = 0.0) -> Widget | None:
    """Deepest visible widget under screen point (sx, sy); ``ox``/``oy`` is w's parent origin on screen."""
    if not w.visible:
        return None
    ax, ay = ox + w.x, oy + w.y
    if not (ax <= sx < ax + w.w and ay <= sy < ay + w.h):
        return None
    if w.children:
        if w.clip_children:
            v = w.viewport()
            if not (ax + v.x <= sx < ax + v.x + v.w and ay + v.y <= sy < ay + v.y + v.h):
                return w
        cx, cy = ax - w.scroll_x, ay - w.scroll_y
        for ch in reversed(w.children):
            hit = hit_test(ch, sx, sy, cx, cy)
            if hit is not None:
                return hit
    return w

