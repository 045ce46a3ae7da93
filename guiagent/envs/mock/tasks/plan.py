"""Reference solutions as data: a task's ``solution`` is a list of steps the scripted solver carries out.

Steps name *what* to act on, never where: a target is a query over the accessibility tree, resolved when the step
is taken, so a solution keeps working at any screen size, HiDPI scale or window placement::

    {"double_click": {"role": "icon", "name": "notes.txt"}}
    {"click": {"role": "button", "name": "Save", "app": "editor"}, "thought": "Save the file."}
    {"type": "Dear Ann,\\n"}                          # or {"type": {"text": "42", "submit": true}}
    {"hotkey": "ctrl s"}  {"press": "enter"}
    {"right_click": {"role": "list_item", "name": "old.txt"}}
    {"drag": {"from": {"role": "list_item", "name": "a.txt"}, "to": {"role": "list_item", "name": "Archive"}}}
    {"scroll": {"target": {"role": "list", "name": "Files"}, "direction": "down",
                "until_visible": {"role": "list_item", "name": "zebra.txt"}}}
    {"slider": {"target": {"role": "slider", "name": "Volume"}, "value": 30, "min": 0, "max": 100}}
    {"finished": "The answer is 42."}

Every step may add ``"thought"`` (the text the model "thinks"), ``"if"`` / ``"unless"`` (a target query: take
the step only when such a node exists / does not exist, e.g. a confirmation dialog).

Target query keys: ``role``, ``name``, ``name_contains``, ``value``, ``value_contains``, ``states`` (all
present), ``not_states``, ``within`` / ``within_contains`` (title of the enclosing window or dialog), ``app``
(app id of the enclosing window), ``inside`` (role of any ancestor, e.g. "taskbar"), ``index`` (n-th match, front-most first), and where to point inside the node:
``at`` ([fx, fy] fractions of its visible bounds, default the centre), ``offset`` ([dx, dy] points added), or
``part: "title_bar"`` (a window's title bar).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from guiagent.actions.keys import canonical_key
from guiagent.errors import ActionError, ConfigError

QUERY_KEYS = {"role", "name", "name_contains", "value", "value_contains", "states", "not_states", "within",
              "within_contains", "app", "inside", "index", "at", "offset", "part"}
STEP_KINDS = ("click", "double_click", "right_click", "type", "hotkey", "press", "drag", "scroll", "slider",
              "finished", "wait")
COMMON_KEYS = {"thought", "if", "unless"}
PARTS = ("title_bar",)
#: a scroll step with until_visible gives up after this many wheel turns
MAX_SCROLLS = 30


@dataclass(frozen=True)
class Query:
    """Which accessibility node a step acts on, and where inside it."""

    role: str | None = None
    name: str | None = None
    name_contains: str | None = None
    value: str | None = None
    value_contains: str | None = None
    states: tuple[str, ...] = ()
    not_states: tuple[str, ...] = ()
    within: str | None = None
    within_contains: str | None = None
    app: str | None = None
    inside: str | None = None
    index: int = 0
    at: tuple[float, float] = (0.5, 0.5)
    offset: tuple[float, float] = (0.0, 0.0)
    part: str | None = None

    def describe(self) -> str:
        """Words for thoughts and errors: "the button 'Save'"."""
        role = (self.role or "element").replace("_", " ")
        name = self.name if self.name is not None else self.name_contains
        title = app_title(self.app)
        scope = self.within or self.within_contains or (f"the {title} window" if title else self.app) or (
            f"the {self.inside}" if self.inside else None)
        where = f" in {scope}" if scope else ""
        if self.part == "title_bar":
            return f"the title bar of the {name or ''} window".replace("  ", " ")
        return f"the {role} '{name}'{where}" if name else f"the {role}{where}"

    # ------------------------------------------------------------------ matching
    def matches(self, node: Any) -> bool:
        """True when accessibility node ``node`` has every role, name, value and state this query asks for."""
        if self.role is not None and node.role != self.role:
            return False
        if self.name is not None and node.name != self.name:
            return False
        if self.name_contains is not None and self.name_contains.casefold() not in node.name.casefold():
            return False
        if self.value is not None and node.value != self.value:
            return False
        if self.value_contains is not None and self.value_contains.casefold() not in (node.value or "").casefold():
            return False
        if any(s not in node.states for s in self.states):
            return False
        return not any(s in node.states for s in self.not_states)

    def find_all(self, root: Any) -> list[tuple[Any, Any, tuple]]:
        """(node, enclosing window or None, ancestors) triples, front-most first."""
        return [(n, win, anc) for n, win, anc in _walk(root, None, ())
                if self._scope_ok(win) and self.matches(n)
                and (self.inside is None or any(a.role == self.inside for a in anc))]

    def _scope_ok(self, win: Any) -> bool:
        if self.within is None and self.within_contains is None and self.app is None:
            return True
        if win is None:
            return False
        if self.within is not None and win.name != self.within:
            return False
        if self.within_contains is not None and self.within_contains.casefold() not in win.name.casefold():
            return False
        return self.app is None or win.extra.get("app") == self.app

    def find(self, root: Any) -> tuple[Any, Any, tuple] | None:
        """The ``index``-th match, preferring nodes that are on screen."""
        hits = self.find_all(root)
        visible = [h for h in hits if "offscreen" not in h[0].states]
        pool = visible if len(visible) > self.index else hits
        return pool[self.index] if len(pool) > self.index else None

    def point_in(self, node: Any) -> tuple[float, float]:
        """The SCREEN point this query aims at inside ``node``'s bounds."""
        x, y, w, h = node.bounds
        if self.part == "title_bar":
            from guiagent.envs.mock import theme
            h = min(h, theme.TITLE_H)
            fx, fy = self.at if self.at != (0.5, 0.5) else (0.4, 0.5)
        else:
            fx, fy = self.at
        return x + w * fx + self.offset[0], y + h * fy + self.offset[1]


def app_title(app_id: str | None) -> str | None:
    """The title of the mock app ``app_id`` (also its taskbar button's name); None for no or an unknown app."""
    if app_id is None:
        return None
    from guiagent.envs.mock.apps import APP_CLASSES

    return next((c.title for c in APP_CLASSES if c.app_id == app_id), None)


def _walk(node: Any, win: Any, ancestors: tuple) -> Iterator[tuple[Any, Any, tuple]]:
    yield node, win, ancestors
    inner = node if node.role in ("window", "dialog") else win
    below = ancestors + (node,)
    for c in node.children:
        yield from _walk(c, inner, below)


@dataclass(frozen=True)
class PlanStep:
    """One compiled solution step; ``args`` holds the kind-specific fields (queries already compiled)."""

    kind: str
    args: Mapping[str, Any]
    thought: str | None = None
    when: Query | None = None
    unless: Query | None = None
    spec: Any = field(default=None, compare=False)


# ====================================================================== compiling

def compile_query(spec: Any, where: str) -> Query:
    """Check and compile a solution step's target mapping from a task file.

    Args:
        spec: the mapping (keys in ``QUERY_KEYS``).
        where: where it sits in the task file, for the error message.

    Returns:
        The query.

    Raises:
        ConfigError: not a mapping, an unknown key, or a value of the wrong type.
    """
    if isinstance(spec, str):
        raise ConfigError(f"{where}: a target is a mapping such as {{\"role\": \"button\", \"name\": {spec!r}}}, "
                          f"not a bare string")
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{where}: a target must be a mapping of {sorted(QUERY_KEYS)}, got {spec!r}")
    unknown = set(spec) - QUERY_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown target key(s) {sorted(unknown)}; valid keys: {', '.join(sorted(QUERY_KEYS))}")
    kw: dict[str, Any] = {}
    for key in ("role", "name", "name_contains", "value", "value_contains", "within", "within_contains", "app",
                "inside"):
        if key in spec:
            if not isinstance(spec[key], str):
                raise ConfigError(f"{where}.{key}: must be a string, got {spec[key]!r}")
            kw[key] = spec[key]
    for key in ("states", "not_states"):
        if key in spec:
            v = [spec[key]] if isinstance(spec[key], str) else spec[key]
            if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
                raise ConfigError(f"{where}.{key}: must be a list of state names")
            kw[key] = tuple(v)
    for key in ("at", "offset"):
        if key in spec:
            v = spec[key]
            if not (isinstance(v, list) and len(v) == 2 and all(isinstance(n, (int, float)) and not isinstance(n, bool)
                                                               for n in v)):
                raise ConfigError(f"{where}.{key}: must be a list of two numbers, got {v!r}")
            kw[key] = (float(v[0]), float(v[1]))
    if "index" in spec:
        if isinstance(spec["index"], bool) or not isinstance(spec["index"], int) or spec["index"] < 0:
            raise ConfigError(f"{where}.index: must be a whole number >= 0")
        kw["index"] = spec["index"]
    if "part" in spec:
        if spec["part"] not in PARTS:
            raise ConfigError(f"{where}.part: must be one of {list(PARTS)}, got {spec['part']!r}")
        kw["part"] = spec["part"]
    if not set(kw) & {"role", "name", "name_contains", "value", "value_contains"}:
        raise ConfigError(f"{where}: a target needs at least a role or a name")
    return Query(**kw)


def _keys(value: Any, where: str) -> tuple[str, ...]:
    keys = value.split() if isinstance(value, str) else value
    if not isinstance(keys, list) and not isinstance(keys, tuple) or not keys:
        raise ConfigError(f"{where}: give keys as 'ctrl s' or ['ctrl', 's'], got {value!r}")
    try:
        return tuple(canonical_key(k) for k in keys)
    except ActionError as e:
        raise ConfigError(f"{where}: {e}") from None


def compile_step(spec: Any, where: str) -> PlanStep:
    """Check and compile one solution step from a task file: exactly one action key, plus the common keys.

    Args:
        spec: the step's mapping, e.g. ``{"click": {"role": "button", "name": "Save"}}``.
        where: where it sits in the task file, for the error message.

    Returns:
        The compiled step.

    Raises:
        ConfigError: the step is malformed (the message suggests the action key meant, if close).
    """
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{where}: a solution step is a mapping such as {{\"click\": {{...}}}}, got {spec!r}")
    kinds = [k for k in spec if k not in COMMON_KEYS]
    if len(kinds) != 1 or kinds[0] not in STEP_KINDS:
        import difflib
        bad = [k for k in kinds if k not in STEP_KINDS]
        close = difflib.get_close_matches(bad[0], STEP_KINDS, n=2) if bad else []
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ConfigError(f"{where}: a step needs exactly one action key{hint}; got {kinds}; valid: "
                          f"{', '.join(STEP_KINDS)} (plus optional {', '.join(sorted(COMMON_KEYS))})")
    kind = kinds[0]
    value = spec[kind]
    here = f"{where}.{kind}"
    args: dict[str, Any] = {}
    if kind in ("click", "double_click", "right_click"):
        value = dict(value) if isinstance(value, Mapping) else value
        extra = {}
        if isinstance(value, dict):
            extra = {k: value.pop(k) for k in ("button", "clicks") if k in value}
        args["target"] = compile_query(value, here)
        button = extra.get("button", "right" if kind == "right_click" else "left")
        clicks = extra.get("clicks", 2 if kind == "double_click" else 1)
        if button not in ("left", "right", "middle") or clicks not in (1, 2, 3):
            raise ConfigError(f"{here}: button must be left/right/middle and clicks 1..3")
        args.update(button=button, clicks=clicks)
    elif kind == "type":
        if isinstance(value, str):
            value = {"text": value}
        if not isinstance(value, Mapping) or not isinstance(value.get("text"), str) \
                or set(value) - {"text", "submit"}:
            raise ConfigError(f"{here}: give a string or {{\"text\": ..., \"submit\": bool}}, got {value!r}")
        args.update(text=value["text"], submit=bool(value.get("submit", False)))
    elif kind == "hotkey":
        args["keys"] = _keys(value, here)
    elif kind == "press":
        args["keys"] = _keys(value, here)
        if len(args["keys"]) != 1:
            raise ConfigError(f"{here}: press takes one key; use hotkey for a combination")
    elif kind == "drag":
        if not isinstance(value, Mapping) or set(value) != {"from", "to"}:
            raise ConfigError(f"{here}: give {{\"from\": TARGET, \"to\": TARGET}}, got {value!r}")
        args.update(start=compile_query(value["from"], f"{here}.from"), end=compile_query(value["to"], f"{here}.to"))
    elif kind == "scroll":
        if not isinstance(value, Mapping) or "target" not in value \
                or set(value) - {"target", "direction", "amount", "until_visible"}:
            raise ConfigError(f"{here}: give target, direction and optionally amount, until_visible")
        direction = value.get("direction", "down")
        if direction not in ("up", "down", "left", "right"):
            raise ConfigError(f"{here}.direction: must be up, down, left or right, got {direction!r}")
        amount = value.get("amount", 3)
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
            raise ConfigError(f"{here}.amount: must be a whole number >= 1")
        args.update(target=compile_query(value["target"], f"{here}.target"), direction=direction, amount=amount,
                    until=compile_query(value["until_visible"], f"{here}.until_visible")
                    if "until_visible" in value else None)
    elif kind == "slider":
        if not isinstance(value, Mapping) or set(value) - {"target", "value", "min", "max"} \
                or not {"target", "value"} <= set(value):
            raise ConfigError(f"{here}: give target, value and optionally min, max (default 0..100)")
        nums = {k: value.get(k, d) for k, d in (("value", None), ("min", 0), ("max", 100))}
        if any(isinstance(v, bool) or not isinstance(v, int) for v in nums.values()) or nums["min"] >= nums["max"]:
            raise ConfigError(f"{here}: value, min and max must be whole numbers with min < max")
        args.update(target=compile_query(value["target"], f"{here}.target"), **nums)
    elif kind == "finished":
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{here}: give the answer text or null")
        args["content"] = value
    elif kind == "wait":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"{here}: give seconds (a number >= 0)")
        args["seconds"] = float(value)
    thought = spec.get("thought")
    if thought is not None and not isinstance(thought, str):
        raise ConfigError(f"{where}.thought: must be a string")
    when = compile_query(spec["if"], f"{where}.if") if "if" in spec else None
    unless = compile_query(spec["unless"], f"{where}.unless") if "unless" in spec else None
    return PlanStep(kind, args, thought, when, unless, spec)


def compile_plan(spec: Any, where: str = "solution") -> tuple[PlanStep, ...]:
    """Check and compile a task's whole solution.

    Args:
        spec: the list of step mappings.
        where: where it sits in the task file, for error messages.

    Returns:
        The compiled steps.

    Raises:
        ConfigError: not a non-empty list, a malformed step, or a last step that is not ``finished``.
    """
    if not isinstance(spec, list) or not spec:
        raise ConfigError(f"{where}: must be a non-empty list of steps")
    steps = tuple(compile_step(s, f"{where}[{i}]") for i, s in enumerate(spec))
    if steps[-1].kind != "finished":
        raise ConfigError(f"{where}: the last step must be {{\"finished\": ...}} so the solver says it is done")
    return steps
