"""Reading JSON that comes from outside the program: checkpoint configs, run folders, exports, task files.

``json.loads`` fails in more ways than ``ValueError``: text nested thousands of levels deep raises
``RecursionError``, and valid JSON of the wrong shape (a list where an object belongs) fails later with an
``AttributeError`` far from the file. Here both are a ``ValueError`` whose message says what is wrong ("not valid JSON: ...", "not a JSON
object (found a list)"), so a reader needs one ``except (OSError, ValueError)`` and ``f"{file}: {exc}"`` to turn
every bad file into a one-line error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def loads(text: str | bytes) -> Any:
    """Parse JSON text.

    Args:
        text: the JSON document.

    Returns:
        The decoded value.

    Raises:
        ValueError: malformed JSON, or JSON nested too deeply to decode ("not valid JSON: ...").
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("not valid JSON: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8
        raise ValueError(f"not valid JSON: {exc}") from None


def read_object(path: str | Path) -> dict[str, Any]:
    """The JSON object in the file ``path``.

    Args:
        path: the file (UTF-8).

    Returns:
        The decoded object.

    Raises:
        OSError: the file is missing or unreadable.
        ValueError: not UTF-8, malformed or too deeply nested JSON ("not valid JSON: ..."), or a JSON value that is
            not an object ("not a JSON object (found a list)").
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    data = loads(text)
    if not isinstance(data, dict):
        kind = {list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(type(data), "a number")
        raise ValueError(f"not a JSON object (found {kind})")
    return data
