"""Validation of what a run folder holds, done once when it is loaded (``guiagent.agent.trajectory.load_run``).

Everything downstream (replay, the viewer, export, the Python API) trusts the types checked here, so a damaged or
hand-edited folder gets one precise message naming the file, the line and the field, instead of a traceback
somewhere later. Paths read from the folder must name a file inside it: ``../x``, absolute paths and links that
lead out of the folder are refused (a report must never embed another file of the machine).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from guiagent.actions.jsonform import action_from_json
from guiagent.actions.types import Space
from guiagent.errors import ActionError

#: the states the loop records for an action (StepRecord.status)
STATUSES = frozenset({"executed", "dry_run", "skipped", "stopped", "error", "not_run", "waited", "terminal"})


class FieldError(ValueError):
    """A field of a run folder's JSON that does not hold what it should; the message names the field."""


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__)


def _expect(ok: bool, where: str, wanted: str, value: Any) -> None:
    if not ok:
        shown = repr(value) if not isinstance(value, (dict, list)) else _kind(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        raise FieldError(f"{where} must be {wanted}, got {shown}")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _optional_text(data: Mapping[str, Any], key: str, where: str) -> None:
    v = data.get(key)
    _expect(v is None or isinstance(v, str), f"{where}{key}", "text or null", v)


def _size(value: Any, where: str) -> None:
    _expect(isinstance(value, list) and len(value) == 2 and all(_is_int(v) and v > 0 for v in value), where,
            "[width, height] in whole pixels > 0", value)


def _table(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    v = data.get(key)
    _expect(v is None or isinstance(v, dict), f"{where}{key}", "an object or null", v)
    return v or {}


def check_meta(meta: Any) -> None:
    """Check the fields of meta.json that guiagent reads. Raises FieldError naming the first bad field."""
    _expect(isinstance(meta, dict), "meta.json", "a JSON object", meta)
    fmt = meta.get("format", 1)
    _expect(_is_int(fmt) and fmt >= 1, "format", "a whole number >= 1", fmt)
    finished = meta.get("finished")
    _expect(finished is None or isinstance(finished, bool), "finished", "true or false", finished)
    for key in ("instruction", "task", "model", "family", "grammar", "outcome", "reason", "answer", "started",
                "ended", "model_spec", "guiagent_version"):
        _optional_text(meta, key, "")
    for key in ("steps",):
        v = meta.get(key)
        _expect(v is None or (_is_int(v) and v >= 0), key, "a whole number >= 0", v)
    v = meta.get("duration_s")
    _expect(v is None or _is_number(v), "duration_s", "a number", v)
    env = _table(meta, "env", "")
    _optional_text(env, "name", "env.")
    size = env.get("size")
    _expect(size is None or (isinstance(size, list) and len(size) == 2
                             and all(_is_number(v) and v > 0 for v in size)), "env.size", "[width, height] > 0", size)
    scale = env.get("scale")
    _expect(scale is None or (_is_number(scale) and scale > 0), "env.scale", "a number > 0", scale)
    offset = env.get("offset")
    _expect(offset is None or (isinstance(offset, list) and len(offset) == 2 and all(map(_is_number, offset))),
            "env.offset", "[x, y]", offset)
    _table(meta, "config", "")
    _table(meta, "env_options", "")
    evaluation = _table(meta, "evaluation", "")
    if evaluation:
        # what a user's evaluate callback returned: read leniently (a number for success, reasons of any kind)
        success = evaluation.get("success")
        _expect(success is None or isinstance(success, (bool, int, float)), "evaluation.success", "true or false",
                success)
        reasons = evaluation.get("reasons")
        _expect(reasons is None or isinstance(reasons, list), "evaluation.reasons", "a list", reasons)
        _optional_text(evaluation, "error", "evaluation.")


def _list_of(data: Mapping[str, Any], key: str, check: Callable[[Any, str], None]) -> None:
    value = data.get(key)
    if value is None:
        return
    _expect(isinstance(value, list), key, "a list", value)
    for n, item in enumerate(value):
        check(item, f"{key}[{n}]")


def _text_item(item: Any, where: str) -> None:
    _expect(isinstance(item, str), where, "text", item)


def _action_item(space: Space) -> Callable[[Any, str], None]:
    def check(item: Any, where: str) -> None:
        _expect(isinstance(item, dict), where, "an action object", item)
        try:
            action_from_json(item, space)
        except (ActionError, TypeError, ValueError) as e:
            raise FieldError(f"{where}: {e}") from None
    return check


def _attempt_item(item: Any, where: str) -> None:
    _expect(isinstance(item, dict), where, "an object", item)
    _expect(isinstance(item.get("response"), str), f"{where}.response", "text", item.get("response"))
    for key in ("temperature", "latency_s"):
        _expect(_is_number(item.get(key)), f"{where}.{key}", "a number", item.get(key))
    _optional_text(item, "error", f"{where}.")
    unknown = set(item) - {"response", "temperature", "latency_s", "error"}
    _expect(not unknown, f"{where}", "an attempt (response, temperature, latency_s, error)", sorted(unknown))


def check_screenshot_name(name: Any, where: str = "screenshot") -> None:
    """A screenshot field must be null or the plain name of a file in the run folder (no folders, no ``..``)."""
    if name is None:
        return
    _expect(isinstance(name, str), where, "a file name or null", name)
    plain = (name not in ("", ".", "..") and PurePosixPath(name).name == name and PureWindowsPath(name).name == name
             and "\x00" not in name)
    if not plain:
        raise FieldError(f"{where} {name[:80]!r} is not a file name inside the run folder (paths that lead "
                         f"elsewhere are refused)")


def check_step(data: Any) -> None:
    """Check one trajectory.jsonl line (already JSON-decoded). Raises FieldError naming the first bad field."""
    _expect(isinstance(data, dict), "the line", "a JSON object", data)
    index = data.get("index")
    _expect(_is_int(index) and index >= 0, "index", "a whole number >= 0", index)
    for key in ("started", "ended"):
        _expect(_is_number(data.get(key)), key, "a number (seconds)", data.get(key))
    check_screenshot_name(data.get("screenshot"))
    _size(data.get("screenshot_size"), "screenshot_size")
    for key in ("response", "thought", "reflection"):
        _optional_text(data, key, "")
    _list_of(data, "actions", _action_item(Space.SCREENSHOT))
    _list_of(data, "actions_model", _action_item(Space.MODEL))
    _list_of(data, "status", lambda s, where: _expect(s in STATUSES, where, f"one of {sorted(STATUSES)}", s))
    actions, status = data.get("actions") or [], data.get("status") or []
    _expect(len(status) == len(actions), "status", f"one entry per action ({len(actions)})", status)
    models = data.get("actions_model") or []
    _expect(not models or len(models) == len(actions), "actions_model", f"one entry per action ({len(actions)})",
            models)
    latency = data.get("latency") or {}
    _expect(isinstance(latency, dict) and all(isinstance(k, str) and _is_number(v) for k, v in latency.items()),
            "latency", "an object of seconds", latency)
    _list_of(data, "errors", _text_item)
    _list_of(data, "attempts", _attempt_item)
    frame = data.get("frame")
    _expect(frame is None or isinstance(frame, dict), "frame", "an object or null", frame)


def inside(folder: Path, name: str) -> Path | None:
    """``folder / name`` if it is a regular file whose real location (links followed) is inside ``folder``."""
    path = folder / name
    try:
        real = path.resolve(strict=True)
        root = folder.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not real.is_relative_to(root) or not real.is_file():
        return None
    return path
