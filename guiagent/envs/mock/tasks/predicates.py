"""Declarative success checks over ``MockDesktop.state()``.

A task's ``check`` is a list of predicates that must all hold. Each predicate is a one-key mapping
``{name: arguments}``; ``all`` / ``any`` / ``not`` combine them::

    [{"file_content": {"path": "~/Documents/todo.txt", "equals": "buy milk\\n"}},
     {"not": {"file_exists": "~/Documents/notes.txt"}},
     {"any": [{"setting": {"key": "volume", "min": 28, "max": 32}}, {"setting": {"key": "wifi", "equals": false}}]}]

Predicates are compiled once when a task file is loaded (so a typo fails at load time, naming the valid choices),
and evaluated against the plain-data state, never against widgets: a checker sees exactly what ``state()`` shows.

Text values are compared with a *text matcher*: a string (exact match) or a mapping with any of ``equals``,
``contains`` (a string or a list that must all occur), ``excludes``, ``startswith``, ``endswith``, ``one_of``,
plus the flags ``trim`` (strip surrounding whitespace first) and ``ignore_case``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from guiagent.envs.mock.fs import HOME, norm
from guiagent.errors import ConfigError

#: evaluate(state) -> (holds, reason in words)
Evaluator = Callable[[Mapping[str, Any]], "tuple[bool, str]"]


@dataclass(frozen=True)
class Predicate:
    """A compiled predicate: its source spec (for messages and export) and its evaluator."""

    name: str
    spec: Any
    evaluate: Evaluator

    def __call__(self, state: Mapping[str, Any]) -> tuple[bool, str]:
        return self.evaluate(state)


# ====================================================================== small helpers

def expand_path(path: Any, where: str) -> str:
    """``~/x`` and relative paths are under the user's home, like the mock file system."""
    if not isinstance(path, str) or not path.strip():
        raise ConfigError(f"{where}: a path must be a non-empty string, got {path!r}")
    if path == "~" or path.startswith("~/"):
        path = HOME + path[1:]
    return norm(path)


def _args(spec: Any, where: str, allowed: set[str], required: set[str] = frozenset(),
          shorthand: str | None = None) -> dict[str, Any]:
    """Normalise a predicate's arguments to a dict and check the key names."""
    if shorthand is not None and not isinstance(spec, Mapping):
        spec = {shorthand: spec}
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{where}: expected a mapping with keys {sorted(allowed)}, got {spec!r}")
    unknown = set(spec) - allowed
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; valid keys: {', '.join(sorted(allowed))}")
    missing = set(required) - set(spec)
    if missing:
        raise ConfigError(f"{where}: missing key(s) {sorted(missing)}")
    return dict(spec)


def _short(text: Any, limit: int = 60) -> str:
    s = repr(text)
    return s if len(s) <= limit else s[: limit - 4] + "...'"


# ====================================================================== text matcher

MATCHER_KEYS = {"equals", "contains", "excludes", "startswith", "endswith", "one_of", "trim", "ignore_case"}


def text_matcher(spec: Any, where: str) -> Callable[[Any], tuple[bool, str]]:
    """Compile a text matcher; the returned function gives (matches, why not / what matched)."""
    if isinstance(spec, str):
        spec = {"equals": spec}
    spec = _args(spec, where, MATCHER_KEYS)
    if not set(spec) - {"trim", "ignore_case"}:
        raise ConfigError(f"{where}: a text matcher needs at least one of equals, contains, excludes, startswith, "
                          "endswith, one_of")
    for key in ("equals", "startswith", "endswith"):
        if key in spec and not isinstance(spec[key], str):
            raise ConfigError(f"{where}: {key} must be a string, got {spec[key]!r}")
    lists: dict[str, list[str]] = {}
    for key in ("contains", "excludes", "one_of"):
        if key in spec:
            v = spec[key]
            v = [v] if isinstance(v, str) else v
            if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
                raise ConfigError(f"{where}: {key} must be a string or a list of strings, got {spec[key]!r}")
            lists[key] = v
    trim, icase = bool(spec.get("trim")), bool(spec.get("ignore_case"))

    def norm(s: str) -> str:
        s = s.strip() if trim else s
        return s.casefold() if icase else s

    def match(value: Any) -> tuple[bool, str]:
        if not isinstance(value, str):
            return False, f"is {_short(value)}, not text"
        v = norm(value)
        if "equals" in spec and v != norm(spec["equals"]):
            return False, f"is {_short(value)}, expected {_short(spec['equals'])}"
        for s in lists.get("contains", ()):
            if norm(s) not in v:
                return False, f"is {_short(value)}, which does not contain {_short(s)}"
        for s in lists.get("excludes", ()):
            if norm(s) in v:
                return False, f"is {_short(value)}, which contains {_short(s)}"
        if "startswith" in spec and not v.startswith(norm(spec["startswith"])):
            return False, f"is {_short(value)}, which does not start with {_short(spec['startswith'])}"
        if "endswith" in spec and not v.endswith(norm(spec["endswith"])):
            return False, f"is {_short(value)}, which does not end with {_short(spec['endswith'])}"
        if "one_of" in spec and v not in {norm(s) for s in lists["one_of"]}:
            return False, f"is {_short(value)}, expected one of {lists['one_of']}"
        return True, f"is {_short(value)}"

    return match


def same_value(a: Any, b: Any) -> bool:
    """JSON equality that keeps true/false apart from 1/0 (Python's ``True == 1`` would not)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    return a == b


def value_matcher(spec: Mapping[str, Any], where: str) -> Callable[[Any], tuple[bool, str]]:
    """``equals`` (any JSON value), ``min`` / ``max`` (numbers), ``one_of`` (list) or a text matcher's keys."""
    if set(spec) & (MATCHER_KEYS - {"equals", "one_of"}):
        return text_matcher(spec, where)
    if not set(spec) & {"equals", "min", "max", "one_of"}:
        raise ConfigError(f"{where}: give equals, min/max or one_of")
    for key in ("min", "max"):
        if key in spec and (isinstance(spec[key], bool) or not isinstance(spec[key], (int, float))):
            raise ConfigError(f"{where}: {key} must be a number, got {spec[key]!r}")

    def match(value: Any) -> tuple[bool, str]:
        if "equals" in spec and not same_value(value, spec["equals"]):
            return False, f"is {_short(value)}, expected {_short(spec['equals'])}"
        if "one_of" in spec and not any(same_value(value, v) for v in spec["one_of"]):
            return False, f"is {_short(value)}, expected one of {spec['one_of']}"
        if "min" in spec or "max" in spec:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return False, f"is {_short(value)}, not a number"
            if "min" in spec and value < spec["min"]:
                return False, f"is {value}, below {spec['min']}"
            if "max" in spec and value > spec["max"]:
                return False, f"is {value}, above {spec['max']}"
        return True, f"is {_short(value)}"

    return match


# ====================================================================== file system

def _presence(table: str, noun: str, present: bool) -> Callable[[Any, str], Evaluator]:
    """Predicate builder: the path must (``present``) or must not be a key of ``state[table]``."""

    def build(spec: Any, where: str) -> Evaluator:
        path = expand_path(_args(spec, where, {"path"}, {"path"}, "path")["path"], where)

        def evaluate(st: dict) -> tuple[bool, str]:
            if path in st[table]:
                return present, f"{noun} {path} {'exists' if present else 'still exists'}"
            return not present, f"{noun} {path} {'does not exist' if present else 'is gone'}"
        return evaluate
    return build


_file_exists = _presence("files", "file", True)
_file_absent = _presence("files", "file", False)
_dir_exists = _presence("dirs", "folder", True)
_dir_absent = _presence("dirs", "folder", False)


def _file_content(spec: Any, where: str) -> Evaluator:
    a = _args(spec, where, {"path"} | MATCHER_KEYS, {"path"})
    path = expand_path(a.pop("path"), where)
    match = text_matcher(a, where)

    def ev(st):
        if path not in st["files"]:
            return False, f"file {path} does not exist"
        ok, why = match(st["files"][path])
        return ok, f"file {path} content {why}"
    return ev


def _in_trash(spec: Any, where: str) -> Evaluator:
    a = _args(spec, where, {"name", "original_path", "is_dir"}, shorthand="original_path")
    if not set(a) & {"name", "original_path"}:
        raise ConfigError(f"{where}: give name and/or original_path")
    if "original_path" in a:
        a["original_path"] = expand_path(a["original_path"], where)
    what = a.get("original_path") or a.get("name")

    def ev(st):
        for e in st["trash"]:
            if all(e.get(k) == v for k, v in a.items()):
                return True, f"{what} is in the trash"
        have = [e.get("original_path") for e in st["trash"]] or "nothing"
        return False, f"{what} is not in the trash (the trash holds {have})"
    return ev


def _trash_empty(spec: Any, where: str) -> Evaluator:
    if spec is not True:
        raise ConfigError(f"{where}: trash_empty takes true")
    return lambda st: ((True, "the trash is empty") if not st["trash"]
                       else (False, f"the trash holds {len(st['trash'])} item(s)"))


def _dir_count(spec: Any, where: str) -> Evaluator:
    """Number of entries (files and folders) directly inside a folder."""
    a = _args(spec, where, {"path", "equals", "min", "max"}, {"path"})
    path = expand_path(a.pop("path"), where)
    match = value_matcher(a, where)

    def ev(st):
        prefix = path.rstrip("/") + "/"
        n = sum(1 for p in list(st["files"]) + list(st["dirs"])
                if p.startswith(prefix) and "/" not in p[len(prefix):])
        ok, why = match(n)
        return ok, f"the number of entries in {path} {why}"
    return ev


# ====================================================================== settings, clipboard, calculator

def _setting(spec: Any, where: str) -> Evaluator:
    a = _args(spec, where, {"key", "equals", "min", "max", "one_of"} | MATCHER_KEYS, {"key"})
    key = a.pop("key")
    match = value_matcher(a, where)

    def ev(st):
        if key not in st["settings"]:
            return False, f"there is no setting {key!r} (settings: {sorted(st['settings'])})"
        ok, why = match(st["settings"][key])
        return ok, f"setting {key} {why}"
    return ev


def _clipboard(spec: Any, where: str) -> Evaluator:
    match = text_matcher(spec, where)

    def ev(st):
        ok, why = match(st.get("clipboard", ""))
        return ok, f"the clipboard {why}"
    return ev


def _calculator_display(spec: Any, where: str) -> Evaluator:
    match = text_matcher(spec, where)

    def ev(st):
        calc = st["apps"].get("calculator")
        if calc is None:
            return False, "the calculator is not open"
        ok, why = match(calc.get("display"))
        return ok, f"the calculator display {why}"
    return ev


# ====================================================================== mail and forms

def _addresses(value: Any) -> frozenset[str]:
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    return frozenset(a.strip().casefold() for a in str(value or "").replace(";", ",").split(",") if a.strip())


MAIL_FIELDS = {"to", "cc", "from", "subject", "body"}


def _mail_in(spec: Any, where: str, folder: str | None) -> Evaluator:
    allowed = MAIL_FIELDS | {"count"} | ({"folder"} if folder is None else set())
    a = _args(spec, where, allowed)
    folder = a.pop("folder", folder)
    if not isinstance(folder, str):
        raise ConfigError(f"{where}: folder must be a mail folder name such as 'sent', got {folder!r}")
    count = a.pop("count", None)
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
        raise ConfigError(f"{where}: count must be a whole number, got {count!r}")
    addr = {k: _addresses(a.pop(k)) for k in ("to", "cc") if k in a}
    texts = {k: text_matcher(v, f"{where}.{k}") for k, v in a.items()}

    def matches(m: Mapping[str, Any]) -> tuple[bool, str]:
        for k, want in addr.items():
            got = _addresses(m.get(k))
            if got != want:
                return False, f"{k} is {sorted(got)}, expected {sorted(want)}"
        for k, match in texts.items():
            ok, why = match(m.get(k, ""))
            if not ok:
                return False, f"{k} {why}"
        return True, ""

    def ev(st):
        msgs = (st.get("mail") or {}).get(folder)
        if msgs is None:
            return False, f"there is no mail folder {folder!r} (folders: {sorted(st.get('mail') or {})})"
        hits, misses = [], []
        for m in msgs:
            ok, why = matches(m)
            (hits if ok else misses).append(why)
        desc = f"message in {folder}" + (f" ({', '.join(f'{k}={v!r}' for k, v in (spec or {}).items())})"
                                         if isinstance(spec, Mapping) else "")
        if count is not None:
            if len(hits) == count:
                return True, f"{count} matching message(s) in {folder}"
            return False, f"{len(hits)} matching message(s) in {folder}, expected {count}"
        if hits:
            return True, f"found a {desc}"
        if not msgs:
            return False, f"no {desc}: the folder is empty"
        return False, f"no {desc}; closest: {misses[-1]}"
    return ev


def _mail_sent(spec: Any, where: str) -> Evaluator:
    return _mail_in(spec, where, "sent")


def _mail(spec: Any, where: str) -> Evaluator:
    return _mail_in(spec, where, None)


def _form_submitted(spec: Any, where: str) -> Evaluator:
    a = _args(spec, where, {"form", "fields", "exact", "count"})
    fields = a.get("fields", {})
    if not isinstance(fields, Mapping):
        raise ConfigError(f"{where}: fields must map a field name to a value or text matcher")
    matchers: dict[str, Callable[[Any], tuple[bool, str]]] = {}
    for name, want in fields.items():
        if isinstance(want, Mapping):
            matchers[name] = value_matcher(want, f"{where}.fields.{name}")
        else:
            matchers[name] = value_matcher({"equals": want}, f"{where}.fields.{name}")
    exact, form, count = bool(a.get("exact")), a.get("form"), a.get("count")

    def matches(sub: Mapping[str, Any]) -> tuple[bool, str]:
        if form is not None and sub.get("form") != form:
            return False, f"form is {sub.get('form')!r}, expected {form!r}"
        values = sub.get("values", sub.get("fields", sub))
        for name, match in matchers.items():
            if name not in values:
                return False, f"no field {name!r} (fields: {sorted(values)})"
            ok, why = match(values[name])
            if not ok:
                return False, f"field {name} {why}"
        if exact and set(values) - set(matchers):
            return False, f"unexpected fields {sorted(set(values) - set(matchers))}"
        return True, ""

    def ev(st):
        subs = (st.get("forms") or {}).get("submissions") or []
        results = [matches(s) for s in subs]
        hits = sum(ok for ok, _ in results)
        if count is not None:
            return hits == count, f"{hits} matching form submission(s), expected {count}"
        if hits:
            return True, "the form was submitted with the expected values"
        if not subs:
            return False, "the form was not submitted"
        return False, f"no submission matches: {results[-1][1]}"
    return ev


# ====================================================================== windows and editor

def _find_windows(st: Mapping[str, Any], app: str | None, title) -> list[Mapping[str, Any]]:
    out = []
    for w in st.get("windows", []):
        if app is not None and w.get("app") != app:
            continue
        if title is not None and not title(w.get("title", ""))[0]:
            continue
        out.append(w)
    return out


def _window_args(spec: Any, where: str, extra: set[str]) -> tuple[dict, str | None, Any]:
    a = _args(spec, where, {"app", "title"} | extra, shorthand="app")
    app = a.pop("app", None)
    title = text_matcher(a.pop("title"), f"{where}.title") if "title" in a else None
    return a, app, title


def _window_open(spec: Any, where: str) -> Evaluator:
    a, app, title = _window_args(spec, where, {"minimized", "maximized", "kind"})
    flags = a
    label = f"a {app or ''} window".replace("  ", " ") + (f" titled {spec.get('title')!r}"
                                                          if isinstance(spec, Mapping) and "title" in spec else "")

    def ev(st):
        wins = _find_windows(st, app, title)
        for w in wins:
            if all(w.get(k) == v for k, v in flags.items()):
                return True, f"{label} is open" + (f" ({flags})" if flags else "")
        if wins:
            return False, f"{label} is open but not with {flags}"
        return False, f"no {label} is open"
    return ev


def _app_focused(spec: Any, where: str) -> Evaluator:
    app = _args(spec, where, {"app"}, {"app"}, "app")["app"]

    def ev(st):
        active = [w for w in st.get("windows", []) if w.get("active")]
        got = active[0].get("app") if active else None
        return (got == app), (f"the focused app is {got!r}" + ("" if got == app else f", expected {app!r}"))
    return ev


def _window_at(spec: Any, where: str) -> Evaluator:
    """A window whose centre lies in ``center_in`` = [x, y, w, h] in fractions of the screen."""
    a, app, title = _window_args(spec, where, {"center_in"})
    region = a.get("center_in")
    if not (isinstance(region, list) and len(region) == 4 and all(isinstance(v, (int, float)) for v in region)):
        raise ConfigError(f"{where}: center_in must be [x, y, w, h] in fractions of the screen, got {region!r}")
    rx, ry, rw, rh = region

    def ev(st):
        wins = _find_windows(st, app, title)
        if not wins:
            return False, f"no {app or ''} window is open"
        sw, sh = st["screen"]["width"], st["screen"]["height"]
        for w in wins:
            x, y, ww, wh = w["bounds"]
            cx, cy = (x + ww / 2) / sw, (y + wh / 2) / sh
            if rx <= cx <= rx + rw and ry <= cy <= ry + rh and not w.get("minimized"):
                return True, f"the {app} window's centre is at ({cx:.2f}, {cy:.2f}) of the screen"
        return False, (f"the {app} window's centre is at ({cx:.2f}, {cy:.2f}) of the screen, outside "
                       f"x {rx:g}..{rx + rw:g}, y {ry:g}..{ry + rh:g}")
    return ev


def _editor_text(spec: Any, where: str) -> Evaluator:
    """An open editor document (``path`` given, or null for an untitled one; omitted: any) whose text matches."""
    a = _args(spec, where, {"path", "modified"} | MATCHER_KEYS)
    any_path = "path" not in a
    path = a.pop("path", None)
    path = expand_path(path, where) if path is not None else None
    modified = a.pop("modified", None)
    match = text_matcher(a, where) if a else (lambda v: (True, ""))

    def ev(st):
        docs = (st["apps"].get("editor") or {}).get("documents", [])
        docs = [d for d in docs if any_path or d.get("path") == path]
        if not docs:
            return False, f"no editor document {path or ''} is open".replace("  ", " ")
        last = ""
        for d in docs:
            ok, why = match(d.get("text"))
            if ok and (modified is None or d.get("modified") == modified):
                return True, f"editor document {d.get('path') or 'Untitled'} text {why}"
            last = why if not ok else f"modified is {d.get('modified')}"
        return False, f"editor document {path or ''} {last}"
    return ev


# ====================================================================== generic state path

def _state(spec: Any, where: str) -> Evaluator:
    """``{"path": "settings.volume", "equals": 30}``: a dotted path into state() (list indices allowed)."""
    a = _args(spec, where, {"path", "equals", "min", "max", "one_of", "length"} | MATCHER_KEYS, {"path"})
    path = a.pop("path")
    if not isinstance(path, str) or not path:
        raise ConfigError(f"{where}: path must be a dotted path such as 'settings.volume'")
    length = a.pop("length", None)
    match = value_matcher(a, where) if a else None

    def ev(st):
        cur: Any = st
        for part in path.split("."):
            if isinstance(cur, Mapping) and part in cur:
                cur = cur[part]
            elif isinstance(cur, list) and part.lstrip("-").isdigit() and -len(cur) <= int(part) < len(cur):
                cur = cur[int(part)]
            else:
                return False, f"state has no {path!r} (stopped at {part!r})"
        if length is not None:
            n = len(cur) if isinstance(cur, (list, dict, str)) else None
            if n != length:
                return False, f"{path} has length {n}, expected {length}"
        if match is None:
            return True, f"{path} has length {length}"
        ok, why = match(cur)
        return ok, f"{path} {why}"
    return ev


# ====================================================================== registry and combinators

PREDICATES: dict[str, Callable[[Any, str], Evaluator]] = {
    "file_exists": _file_exists,
    "file_absent": _file_absent,
    "file_content": _file_content,
    "dir_exists": _dir_exists,
    "dir_absent": _dir_absent,
    "dir_count": _dir_count,
    "in_trash": _in_trash,
    "trash_empty": _trash_empty,
    "setting": _setting,
    "clipboard": _clipboard,
    "calculator_display": _calculator_display,
    "mail_sent": _mail_sent,
    "mail": _mail,
    "form_submitted": _form_submitted,
    "window_open": _window_open,
    "app_focused": _app_focused,
    "window_at": _window_at,
    "editor_text": _editor_text,
    "state": _state,
}
COMBINATORS = ("all", "any", "not")


def predicate_names() -> list[str]:
    """Every name a task's ``check`` may use: the predicates (sorted), then all, any and not."""
    return sorted(PREDICATES) + list(COMBINATORS)


def compile_predicate(spec: Any, where: str = "check") -> Predicate:
    """Compile one ``{name: arguments}`` spec; ConfigError (saying where, listing the valid names) when wrong."""
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise ConfigError(f"{where}: a predicate is a mapping with exactly one key (its name), got {spec!r}; "
                          f"names: {', '.join(predicate_names())}")
    (name, args), = spec.items()
    here = f"{where}.{name}"
    if name in ("all", "any"):
        if not isinstance(args, list) or not args:
            raise ConfigError(f"{here}: takes a non-empty list of predicates")
        parts = [compile_predicate(p, f"{here}[{i}]") for i, p in enumerate(args)]
        return Predicate(name, spec, _all(parts) if name == "all" else _any(parts))
    if name == "not":
        inner = compile_predicate(args, here)

        def negate(st):
            ok, why = inner(st)
            return (not ok), (f"not: {why}")
        return Predicate(name, spec, negate)
    factory = PREDICATES.get(name)
    if factory is None:
        import difflib
        close = difflib.get_close_matches(str(name), predicate_names(), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ConfigError(f"{where}: unknown predicate {name!r}{hint}; valid predicates: "
                          f"{', '.join(predicate_names())}")
    return Predicate(name, spec, factory(args, here))


def _all(parts: list[Predicate]) -> Evaluator:
    def ev(st):
        results = [p(st) for p in parts]
        bad = [why for ok, why in results if not ok]
        return (not bad), ("; ".join(bad) if bad else "; ".join(why for _, why in results))
    return ev


def _any(parts: list[Predicate]) -> Evaluator:
    def ev(st):
        results = [p(st) for p in parts]
        good = [why for ok, why in results if ok]
        return (bool(good)), (good[0] if good else "none of: " + " | ".join(why for _, why in results))
    return ev
