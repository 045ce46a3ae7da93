"""The accessibility tree of the mock desktop.

Each node has ``role``, ``name``, ``value`` (str or None), ``bounds`` = (x, y, w, h) in SCREEN points, ``states``
(a frozenset such as {"focused", "checked", "disabled", "selected", "expanded", "active", "offscreen",
"occluded"}), ``children``, and ``extra`` (role-specific data: caret/selection of text inputs, app id and window id
of windows).

Bounds are the *visible* part of a widget (clipped by scrolling containers, its window and the screen). A node
scrolled fully out of view keeps its unclipped bounds and has the state "offscreen". A node whose visible centre is
covered by another window or popup has the state "occluded" (clicking its centre would hit something else).
The root (role "screen") lists, front to back: open popups, windows (top of the stack first), the taskbar and the
desktop with its icons. A minimized window is listed without children.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

from guiagent.envs.mock.geometry import Rect
from guiagent.envs.mock.widgets.base import Widget, within

if TYPE_CHECKING:  # pragma: no cover
    from guiagent.envs.mock.services import DesktopCore


@dataclass
class A11yNode:
    """One node of the mock desktop's accessibility tree.

    Attributes:
        role: the widget's role ("button", "text_field", "window"...).
        name: its accessible name.
        value: its value (field text, selected option, slider position...), or None.
        bounds: ``(x, y, w, h)`` in SCREEN points, clipped to what is visible.
        states: e.g. focused, checked, selected, disabled.
        children: the nodes inside it, front to back.
        extra: role-specific details (caret and selection of a text field...).
    """
    role: str
    name: str
    value: str | None
    bounds: tuple[int, int, int, int]
    states: frozenset[str] = frozenset()
    children: list["A11yNode"] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def center(self) -> tuple[float, float]:
        """The centre of ``bounds``: where a click on this node lands."""
        x, y, w, h = self.bounds
        return x + w / 2, y + h / 2

    def walk(self) -> Iterator["A11yNode"]:
        """This node and every node below it, depth first."""
        yield self
        for c in self.children:
            yield from c.walk()

    def find_all(self, role: str | None = None, name: str | None = None, *, name_contains: str | None = None,
                 value: str | None = None, state: str | None = None, within: str | None = None) -> list["A11yNode"]:
        """Nodes matching every given criterion (``name`` exact, ``name_contains`` case-insensitive,
        ``state`` must be in states, ``within`` = the title of an enclosing window or dialog)."""
        roots: list[A11yNode] = [self]
        if within is not None:
            roots = [n for n in self.walk() if n.role in ("window", "dialog") and n.name == within]
        out: list[A11yNode] = []
        for r in roots:
            for n in r.walk():
                if role is not None and n.role != role:
                    continue
                if name is not None and n.name != name:
                    continue
                if name_contains is not None and name_contains.lower() not in n.name.lower():
                    continue
                if value is not None and n.value != value:
                    continue
                if state is not None and state not in n.states:
                    continue
                out.append(n)
        return out

    def find(self, role: str | None = None, name: str | None = None, **kw: Any) -> "A11yNode":
        """The first node matching (front-most first); LookupError naming the criteria when none does."""
        hits = self.find_all(role, name, **kw)
        if not hits:
            crit = {k: v for k, v in dict(role=role, name=name, **kw).items() if v is not None}
            raise LookupError(f"no accessible node matches {crit}")
        return hits[0]

    def to_dict(self) -> dict[str, Any]:
        """The subtree as plain JSON-able data (states sorted)."""
        d: dict[str, Any] = {"role": self.role, "name": self.name, "value": self.value,
                             "bounds": list(self.bounds), "states": sorted(self.states)}
        if self.extra:
            d["extra"] = dict(self.extra)
        d["children"] = [c.to_dict() for c in self.children]
        return d

    def to_text(self, indent: int = 0) -> str:
        """A compact outline, one node per line (for prompts and debugging)."""
        x, y, w, h = self.bounds
        val = f" = {self.value!r}" if self.value not in (None, "") else ""
        st = f" [{', '.join(sorted(self.states))}]" if self.states else ""
        lines = [f"{'  ' * indent}{self.role} {self.name!r}{val} @({x},{y},{w},{h}){st}"]
        lines += [c.to_text(indent + 1) for c in self.children]
        return "\n".join(lines)


def _node(w: Widget, d: "DesktopCore", screen: Rect) -> list[A11yNode]:
    if not w.visible:
        return []
    kids: list[A11yNode] = []
    minimized = getattr(w, "minimized", False)
    if not minimized:
        for c in w.a11y_children():
            kids.extend(_node(c, d, screen))
    if w.a11y_hidden:
        return kids
    full = w.screen_rect()
    vis = w.visible_rect().intersection(screen)
    states = set(w.a11y_states())
    if minimized:
        states.add("offscreen")
        bounds = full
    elif vis.empty:
        states.add("offscreen")
        bounds = full
    else:
        bounds = vis
        cx, cy = vis.center
        if not within(d.input.widget_at(cx, cy), w):
            states.add("occluded")
    extra: dict[str, Any] = {}
    if hasattr(w, "a11y_extra"):
        extra.update(w.a11y_extra())  # type: ignore[attr-defined]
    if hasattr(w, "wid") and hasattr(w, "app"):
        extra["window_id"] = w.wid  # type: ignore[attr-defined]
        extra["app"] = getattr(w.app, "app_id", None)  # type: ignore[attr-defined]
    desc = getattr(w, "description", "")
    if desc:
        extra["description"] = desc
    return [A11yNode(w.role, w.a11y_name(), w.a11y_value(), tuple(bounds), frozenset(states), kids, extra)]


def build_tree(d: "DesktopCore") -> A11yNode:
    """The desktop's accessibility tree: a "screen" root over popups, windows (front to back), taskbar and desktop.

    Args:
        d: the desktop.

    Returns:
        The root node; its ``extra`` holds the HiDPI scale.
    """
    screen = Rect(0, 0, d.width, d.height)
    children: list[A11yNode] = []
    for p in reversed(d.popups):
        children.extend(_node(p, d, screen))
    for w in reversed(d.wm.windows):
        children.extend(_node(w, d, screen))
    children.extend(_node(d.taskbar, d, screen))
    children.extend(_node(d.shell, d, screen))
    return A11yNode("screen", "Screen", None, (0, 0, d.width, d.height), frozenset(), children,
                    {"scale": d.scale})
