"""Actions in words, for people: ``click (552, 371)``, ``type "hello" then Enter``, ``hotkey ctrl+s``.

Used by the live progress output, ``guiagent replay --dry-run`` and the HTML report (which keeps the exact JSON
form in each action's tooltip).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def _coord(value: Any, exact: bool = False) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:g}" if exact else f"{round(value)}"


def _quoted(text: Any, limit: int = 80) -> str:
    text = str(text)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return json.dumps(text, ensure_ascii=False)


#: how each field of an action's JSON form reads in words (fields not listed read as ``name=value``)
_FIELD_TEXT: dict[str, Callable[[Any], str]] = {
    "text": _quoted,
    "content": _quoted,
    "keys": lambda keys: "+".join(str(k) for k in keys) if isinstance(keys, (list, tuple)) else str(keys),
    "key": str,
    "direction": str,
    "amount": lambda n: f"{n} clicks",
    "seconds": lambda s: f"{s:g} s" if isinstance(s, (int, float)) else str(s),
    "submit": lambda on: "then Enter" if on else "",
    "button": lambda b: f"{b} button",
    "clicks": lambda n: f"x{n}",
    "name": _quoted,
    "url": str,
}


def describe_action(action: dict[str, Any], exact: bool = False) -> str:
    """One short readable line for an action's JSON form: ``click (552, 371)``, ``type "hello" then Enter``,
    ``hotkey ctrl+s``, ``scroll (640, 400) down 5 clicks``, ``drag (10, 20) -> (30, 40)``. Pixel coordinates are
    rounded to whole pixels (the JSON form keeps the exact values); ``exact`` shows them as recorded (model
    spaces such as 0..1 need the decimals)."""
    words = [str(action.get("type", "?")).replace("_", " ")]
    if action.get("x") is not None:
        words.append(f"({_coord(action['x'], exact)}, {_coord(action.get('y'), exact)})")
        if action.get("to_x") is not None:
            words.append(f"-> ({_coord(action['to_x'], exact)}, {_coord(action.get('to_y'), exact)})")
    for key, value in action.items():
        if key in ("type", "x", "y", "to_x", "to_y") or value is None:
            continue
        as_text = _FIELD_TEXT.get(key)
        text = as_text(value) if as_text else f"{key}={json.dumps(value, ensure_ascii=False)}"
        if text:
            words.append(text)
    return " ".join(words)
