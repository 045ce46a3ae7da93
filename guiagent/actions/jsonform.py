"""The JSON form of actions, used by ``guiagent parse``, trajectories, replay and the viewer.

    {"type": "click", "x": 99.379, "y": 197.802}

Coordinates are rounded to 3 decimals. The space is not part of the object: whoever stores a list of actions says
which space it is in (trajectories keep one list in screenshot pixels and one in the model's space).
"""

from __future__ import annotations

from typing import Any, Callable

from guiagent.actions import types as t
from guiagent.actions.types import Action, Point, Space
from guiagent.errors import ActionError


def _r(v: float) -> float:
    return round(v, 3) + 0.0  # + 0.0 turns -0.0 into 0.0 (no "-0.0" in files) and leaves every other value as is


def _xy(p: Point | None, keys: tuple[str, str] = ("x", "y")) -> dict[str, Any]:
    kx, ky = keys
    if p is None:
        return {kx: None, ky: None}
    return {kx: _r(p.x), ky: _r(p.y)}


_CLICK_TYPES = {("left", 1): "click", ("left", 2): "double_click", ("right", 1): "right_click"}


def _click(a: t.Click) -> dict[str, Any]:
    p = a.point
    name = _CLICK_TYPES.get((a.button, a.clicks))
    if name is not None and not a.modifiers:
        return {"type": name, "x": round(p.x, 3) + 0.0, "y": round(p.y, 3) + 0.0}  # _r inline: the common case
    out = {"type": "click", "x": _r(p.x), "y": _r(p.y), "button": a.button, "clicks": a.clicks}
    if a.modifiers:
        out["modifiers"] = list(a.modifiers)
    return out


def _drag(a: t.Drag) -> dict[str, Any]:
    out = {"type": "drag", **_xy(a.start), **_xy(a.end, ("to_x", "to_y"))}
    if a.button != "left":
        out["button"] = a.button
    if a.via:
        out["via"] = [[_r(p.x), _r(p.y)] for p in a.via]
    return out


def _scroll(a: t.Scroll) -> dict[str, Any]:
    out = {"type": "scroll", **_xy(a.point), "direction": a.direction}
    if a.amount is not None:
        out["amount"] = a.amount
    if a.modifiers:
        out["modifiers"] = list(a.modifiers)
    return out


#: action class -> its JSON form; looked up by exact type first (one dict lookup per action on the parse path),
#: then in this order with isinstance for subclasses.
_TO_JSON: dict[type, Callable[[Any], dict[str, Any]]] = {
    t.Click: _click,
    t.Drag: _drag,
    t.Scroll: _scroll,
    t.Type: lambda a: {"type": "type", "text": a.text, "submit": a.submit},
    t.Hotkey: lambda a: {"type": "hotkey", "keys": list(a.keys)},
    t.Press: lambda a: {"type": "press", "key": a.key},
    t.KeyDown: lambda a: {"type": "key_down", "key": a.key},
    t.KeyUp: lambda a: {"type": "key_up", "key": a.key},
    t.MoveTo: lambda a: {"type": "move_to", **_xy(a.point)},
    t.MouseDown: lambda a: {"type": "mouse_down", **_xy(a.point), "button": a.button},
    t.MouseUp: lambda a: {"type": "mouse_up", **_xy(a.point), "button": a.button},
    t.Wait: lambda a: {"type": "wait", "seconds": a.seconds},
    t.Finished: lambda a: {"type": "finished", "content": a.content},
    t.CallUser: lambda a: {"type": "call_user", "content": a.content},
    t.LongPress: lambda a: {"type": "long_press", **_xy(a.point), "seconds": a.seconds},
    t.OpenApp: lambda a: {"type": "open_app", "name": a.name},
    t.Navigate: lambda a: {"type": "navigate", "url": a.url},
    t.PressHome: lambda a: {"type": "press_home"},
    t.PressBack: lambda a: {"type": "press_back"},
    t.NavigateBack: lambda a: {"type": "navigate_back"},
}


def action_to_json(action: Action) -> dict[str, Any]:
    """Plain-data form of an action.

    Args:
        action: any typed action (a subclass of an action class gets its base class's form).

    Returns:
        The JSON object: ``type`` plus the action's fields, coordinates rounded to 3 decimals.

    Raises:
        ActionError: ``action`` is not an action.
    """
    to_json = _TO_JSON.get(type(action))
    if to_json is not None:
        return to_json(action)
    for cls, to_json in _TO_JSON.items():
        if isinstance(action, cls):
            return to_json(action)
    raise ActionError(f"not an action: {action!r}")


def _modifiers(data: dict[str, Any]) -> tuple[str, ...]:
    mods = data.get("modifiers", [])
    if not isinstance(mods, list):
        raise ActionError(f"modifiers must be a list of key names, got {mods!r}")
    return tuple(mods)


def _via(data: dict[str, Any], space: Space) -> tuple[Point, ...]:
    via = data.get("via", [])
    if not isinstance(via, list) or not all(isinstance(p, list) and len(p) == 2 for p in via):
        raise ActionError(f"drag via must be a list of [x, y] pairs, got {via!r}")
    return tuple(Point(x, y, space) for x, y in via)


def action_from_json(data: dict[str, Any], space: Space = Space.SCREENSHOT) -> Action:
    """Inverse of ``action_to_json``; points get ``space``. Raises ActionError on malformed data."""
    if not isinstance(data, dict) or "type" not in data:
        raise ActionError(f"an action must be an object with a 'type', got {data!r}")
    kind = data["type"]

    def point(prefix: str = "", optional: bool = False) -> Point | None:
        x, y = data.get(f"{prefix}x"), data.get(f"{prefix}y")
        if x is None and y is None and optional:
            return None
        if x is None or y is None:
            raise ActionError(f"{kind} needs {prefix}x and {prefix}y, got {data!r}")
        return Point(x, y, space)

    try:
        if kind == "click":
            return t.Click(point(), data.get("button", "left"), data.get("clicks", 1), _modifiers(data))
        if kind == "double_click":
            return t.double_click(point())
        if kind == "right_click":
            return t.right_click(point())
        if kind == "drag":
            return t.Drag(point(), point("to_"), data.get("button", "left"), _via(data, space))
        if kind == "scroll":
            return t.Scroll(data["direction"], point(optional=True), data.get("amount"), _modifiers(data))
        if kind == "type":
            return t.Type(data["text"], data.get("submit", False))
        if kind == "hotkey":
            return t.Hotkey(tuple(data["keys"]))
        if kind in ("press", "key_down", "key_up"):
            return {"press": t.Press, "key_down": t.KeyDown, "key_up": t.KeyUp}[kind](data["key"])
        if kind == "move_to":
            return t.MoveTo(point())
        if kind in ("mouse_down", "mouse_up"):
            cls = t.MouseDown if kind == "mouse_down" else t.MouseUp
            return cls(point(optional=True), data.get("button", "left"))
        if kind == "wait":
            return t.Wait(data.get("seconds"))
        if kind == "finished":
            return t.Finished(data.get("content"))
        if kind == "call_user":
            return t.CallUser(data.get("content"))
        if kind == "long_press":
            return t.LongPress(point(), data.get("seconds"))
        if kind == "open_app":
            return t.OpenApp(data["name"])
        if kind == "navigate":
            return t.Navigate(data["url"])
        simple = {"press_home": t.PressHome, "press_back": t.PressBack, "navigate_back": t.NavigateBack}
        if kind in simple:
            return simple[kind]()
    except KeyError as e:
        raise ActionError(f"{kind} action is missing field {e.args[0]!r}: {data!r}") from None
    raise ActionError(f"unknown action type {kind!r}")
