"""UI-TARS grammars.

ui-tars-1.0 / ui-tars-1.5 (Qwen2-VL / Qwen2.5-VL based)::

    Thought: I need to open the File menu.
    Action: click(start_box='<|box_start|>(235,512)<|box_end|>')

ui-tars-2 (and Doubao-1.5-UI-TARS) writes points as ``<point>x y</point>`` and adds press/release, move_to,
mouse_down/up, navigate; UI-TARS-2 also has an XML tool-call form::

    <gui_think>I need to open the File menu.</gui_think>
    <seed:tool_call>
    <function=click>
    <parameter=point><point>500 300</point></parameter>
    </function>
    </seed:tool_call>

The three grammars share one table of functions; they differ in vocabulary (1.x has no press/release/navigate...)
and in how they write points when formatting. Every box/point syntax parses in every grammar (a box means its
centre). Coordinates stay in MODEL space: what 0..1000 or pixels mean is the profile's business.

Decisions worth knowing:
- ``hotkey(key='enter')`` (one key) is a ``Press``; ``press``/``release`` are key-down/key-up (UI-TARS-2 meaning).
- ``type(content=..., start_box=...)`` is a click on the box, then the typing; ``select(start_box)`` is a click
  (with an ``end_box`` it is a drag); mobile ``scroll(start_box, end_box)`` (a swipe) is a drag.
- ``wait()`` is ``Wait(None)``: the agent's default pause (the prompt says about 5 s).
- ``finished(content='')`` is ``Finished(None)``; a terminal action must be the last of its step.
- With ``Reflection:`` / ``Action_Summary:`` sections, ``summary`` holds the summary and ``thought`` the Thought
  section, or the summary when there is no Thought section.
- ``Action:`` may stand on the line of the thought or summary (``Thought: ... close it. Action: click(...)``, as
  UI-TARS 1.0 writes): the first such label followed by a call starts the actions; a label in prose that no call
  follows is prose.
- Special tokens a server left after the last action (``<|im_end|>``, ``<|endoftext|>``, ``</s>``, ``<|end|>``)
  are ignored; inside a typed string they are text.
- UI-TARS-desktop's omni wrapper (``<think>...</think><computer_env>Action: ...</computer_env>``) and O1 wrapper
  (``<Thought>...</Thought>`` + ``Action_Summary:`` + ``Action:`` + ``</Output>``) are read in every UI-TARS
  grammar; an omni ``<answer>X</answer>`` is ``Finished(X)``. See ``wrappers``.
- ``type(text=...)`` is ``type(content=...)``.
- UI-TARS-2 spells a click or scroll with modifiers held as ``press(m)``, the call, ``release(m)``, and a drag with
  another button or through several points as ``mouse_down``, ``move_to``..., ``mouse_up``; such runs are read
  as the one action they spell (``compound``). UI-TARS 1.x cannot write them (UnsupportedAction), nor can any
  UI-TARS grammar write the side buttons (back/forward).
- Refused with a ParseError saying why, because any reading would be a guess: several Thought/Action blocks run
  together, an empty box (``click(start_box='')``), an omni answer with both an action block and an answer or two
  blocks, an unclosed wrapper, a ``<code_env>`` / ``<mcp_env>`` block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from guiagent.actions import types as t
from guiagent.actions.families.literals import (
    Call, action_errors, as_int, as_number, as_text, bind, box_point, check_length, check_step, check_terminal_last,
    fmt_int, model_point, parse_box, parse_calls, py_str, split_keys, typed,
)
from guiagent.actions.families.compound import merge, split
from guiagent.actions.families.wrappers import strip_end_tokens, unwrap
from guiagent.actions.types import Action, Point, Step, canonical
from guiagent.errors import ActionError, ParseError, UnsupportedAction

Builder = Callable[[dict[str, Any], str], list[Action]]


_POINT_ALIASES = {"point": "start_box", "start_point": "start_box", "end_point": "end_box"}


@dataclass(frozen=True)
class _Fn:
    params: tuple[str, ...]
    required: tuple[str, ...]
    build: Builder
    #: other spellings of parameter names (the point aliases are added to every function)
    aliases: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "aliases", {**_POINT_ALIASES, **self.aliases})

    def accepted(self) -> str:
        """The accepted parameter names, for error messages."""
        names = list(self.params) + [a for a, p in self.aliases.items() if p in self.params]
        return ", ".join(names) or "none"


# ---------------------------------------------------------------- argument readers

def _point(args: dict[str, Any], key: str, frag: str) -> Point | None:
    value = args.get(key)
    if isinstance(value, str):
        return parse_box(value) if value.strip() else None
    if value is None:
        return None
    if isinstance(value, (list, tuple)):  # an unquoted [x, y] or [x1, y1, x2, y2]
        if len(value) not in (2, 4) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                for v in value):
            raise ParseError("a box needs 2 or 4 numbers", frag)
        with action_errors(frag):
            return box_point([float(v) for v in value])
    return parse_box(as_text(value, key, frag))


def _need_point(args: dict[str, Any], key: str, frag: str) -> Point:
    value = args.get(key)
    if type(value) is str and value.strip():  # the usual case, read here at once
        return parse_box(value)
    p = _point(args, key, frag)
    if p is None:
        if isinstance(args.get(key), str):
            raise ParseError(f"{key} is empty: this action needs a point, and guessing one would click blindly", frag)
        raise ParseError(f"missing {key}", frag)
    return p


def _choice(value: Any, choices: tuple[str, ...], what: str, frag: str, default: str | None = None) -> str:
    if value is None or value == "":
        if default is None:
            raise ParseError(f"missing {what}", frag)
        return default
    text = as_text(value, what, frag).strip().lower()
    if text not in choices:
        raise ParseError(f"{what} must be one of {', '.join(choices)}, got {value!r}", frag)
    return text


def _content(args: dict[str, Any], key: str, frag: str) -> str | None:
    value = args.get(key)
    if value is None:
        return None
    return as_text(value, key, frag) or None


# ---------------------------------------------------------------- builders

def _click(button: str, clicks: int) -> Builder:
    return lambda a, f: [t.Click(_need_point(a, "start_box", f), button, clicks)]


def _click2(a: dict[str, Any], f: str) -> list[Action]:
    button = _choice(a.get("button"), t.DRAG_BUTTONS, "button", f, "left")
    clicks = as_int(a.get("clicks"), "clicks", f) or 1
    return [t.Click(_need_point(a, "start_box", f), button, clicks)]  # type: ignore[arg-type]


def _drag(a: dict[str, Any], f: str) -> list[Action]:
    return [t.Drag(_need_point(a, "start_box", f), _need_point(a, "end_box", f))]


def _select(a: dict[str, Any], f: str) -> list[Action]:
    start, end = _need_point(a, "start_box", f), _point(a, "end_box", f)
    return [t.Drag(start, end)] if end is not None else [t.Click(start)]


def _hotkey(a: dict[str, Any], f: str) -> list[Action]:
    return [canonical(t.Hotkey(tuple(split_keys(a.get("key"), f))))]


def _type(a: dict[str, Any], f: str) -> list[Action]:
    typing = typed(as_text(a.get("content"), "content", f))
    box = _point(a, "start_box", f)
    return [t.Click(box), typing] if box is not None else [typing]


def _scroll(a: dict[str, Any], f: str) -> list[Action]:
    start, end = _point(a, "start_box", f), _point(a, "end_box", f)
    if end is not None:  # mobile swipe
        if start is None:
            raise ParseError("a swipe (scroll with end_box) needs a start_box", f)
        return [t.Drag(start, end)]
    return [t.Scroll(_choice(a.get("direction"), t.DIRECTIONS, "direction", f), start)]  # type: ignore[arg-type]


def _one_key(cls: type) -> Builder:
    def build(a: dict[str, Any], f: str) -> list[Action]:
        keys = split_keys(a.get("key"), f)
        if len(keys) != 1:
            raise ParseError("expected exactly one key", f)
        return [cls(keys[0])]
    return build


def _mouse(cls: type) -> Builder:
    return lambda a, f: [cls(_point(a, "start_box", f), _choice(a.get("button"), t.DRAG_BUTTONS, "button", f, "left"))]


_NO_ARGS: dict[str, type] = {"press_home": t.PressHome, "press_back": t.PressBack, "navigate_back": t.NavigateBack}

_V1: dict[str, _Fn] = {
    "click": _Fn(("start_box",), ("start_box",), _click("left", 1)),
    "left_single": _Fn(("start_box",), ("start_box",), _click("left", 1)),
    "left_double": _Fn(("start_box",), ("start_box",), _click("left", 2)),
    "right_single": _Fn(("start_box",), ("start_box",), _click("right", 1)),
    "drag": _Fn(("start_box", "end_box"), ("start_box", "end_box"), _drag),
    "select": _Fn(("start_box", "end_box"), ("start_box",), _select),
    "hotkey": _Fn(("key",), ("key",), _hotkey, {"keys": "key"}),
    "type": _Fn(("content", "start_box"), ("content",), _type, {"text": "content"}),
    "scroll": _Fn(("start_box", "direction", "end_box"), (), _scroll),
    "wait": _Fn((), (), lambda a, f: [t.Wait()]),
    "finished": _Fn(("content",), (), lambda a, f: [t.Finished(_content(a, "content", f))]),
    "call_user": _Fn(("content",), (), lambda a, f: [t.CallUser(_content(a, "content", f))]),
    "long_press": _Fn(("start_box", "time"), ("start_box",),
                      lambda a, f: [t.LongPress(_need_point(a, "start_box", f), as_number(a.get("time"), "time", f))]),
    "open_app": _Fn(("app_name",), ("app_name",),
                    lambda a, f: [t.OpenApp(as_text(a.get("app_name"), "app_name", f))]),
    "press_home": _Fn((), (), lambda a, f: [t.PressHome()]),
    "press_back": _Fn((), (), lambda a, f: [t.PressBack()]),
}

_V2: dict[str, _Fn] = {
    **_V1,
    "click": _Fn(("start_box", "button", "clicks"), ("start_box",), _click2),
    "wait": _Fn(("time",), (), lambda a, f: [t.Wait(as_number(a.get("time"), "time", f))]),
    "press": _Fn(("key",), ("key",), _one_key(t.KeyDown)),
    "release": _Fn(("key",), ("key",), _one_key(t.KeyUp)),
    "move_to": _Fn(("start_box",), ("start_box",), lambda a, f: [t.MoveTo(_need_point(a, "start_box", f))]),
    "hover": _Fn(("start_box",), ("start_box",), lambda a, f: [t.MoveTo(_need_point(a, "start_box", f))]),
    "mouse_down": _Fn(("start_box", "button"), (), _mouse(t.MouseDown)),
    "mouse_up": _Fn(("start_box", "button"), (), _mouse(t.MouseUp)),
    "navigate": _Fn(("content",), ("content",), lambda a, f: [t.Navigate(as_text(a.get("content"), "url", f))],
                    {"url": "content"}),
    "navigate_back": _Fn((), (), lambda a, f: [t.NavigateBack()]),
}

_V1_SUPPORTED = frozenset({t.Click, t.Drag, t.Scroll, t.Type, t.Hotkey, t.Press, t.Wait, t.Finished, t.CallUser,
                           t.LongPress, t.OpenApp, t.PressHome, t.PressBack})
_V2_SUPPORTED = _V1_SUPPORTED | {t.KeyDown, t.KeyUp, t.MoveTo, t.MouseDown, t.MouseUp, t.Navigate, t.NavigateBack}


def build_actions(functions: dict[str, _Fn], name: str, args: dict[str, Any] | None, call: Call | None,
                  family: str, frag: str) -> list[Action]:
    """Look ``name`` up in the family's table and build its actions (from a call or from XML parameters)."""
    fn = functions.get(name)
    if fn is None:
        raise ParseError(f"unknown action {name!r} for {family}; known: {', '.join(sorted(functions))}", frag)
    aliases = fn.aliases
    if call is not None:
        bound = bind(call, fn.params, name=name, aliases=aliases, accepted=fn.accepted)
    else:
        bound = {}
        for given, value in (args or {}).items():
            key = aliases.get(given, given)
            if key not in fn.params:
                raise ParseError(f"{name} has no parameter {given!r} (accepted: {fn.accepted()})", frag)
            if key in bound:
                raise ParseError(f"{name} got parameter {given!r} twice", frag)
            bound[key] = value
    for req in fn.required:
        if bound.get(req) is None:
            raise ParseError(f"{name}() is missing argument {req!r}", frag)
    try:  # what action_errors does, without a context manager's cost on every call
        return fn.build(bound, frag)
    except ActionError as e:
        raise ParseError(str(e), frag) from None


# ---------------------------------------------------------------- text form: Thought / Action

# what a response that may carry end tokens or a wrapper ends / starts with ('>' or a blank): one C call each
_ENDS = (">", " ", "\n", "\t", "\r", "<")
# A section header at a line start; group 1 starts where the header starts, group 2 is its label.
_LABEL = r"([ \t]*)(Thought|Reflection|Action_Summary|Action)[ \t]*[:：][ \t]*"
_HEADER = re.compile("^" + _LABEL, re.M)
# The same after a line break. Searched from a header's end (never a line start) it finds what _HEADER finds, and
# a search that starts with a literal "\n" skips to the candidates, where a multiline "^" is tried everywhere.
_NEXT_HEADER = re.compile("\n" + _LABEL)
_LOOKS_LIKE_CALL = re.compile(r"\s*[A-Za-z_][A-Za-z0-9_]*\s*\(")
_ACTION_LABEL = re.compile(r"Action[ \t]*[:：]")
_INLINE_ACTION = re.compile(r"(?<![A-Za-z0-9_])Action[ \t]*[:：][ \t]*")
_FENCE_OPEN = re.compile(r"\A\s*```[A-Za-z]*[ \t]*\n")


def strip_fence(text: str) -> str:
    """Drop a code fence around the whole response (the UI-TARS prompt shows its format inside one)."""
    m = _FENCE_OPEN.match(text)
    if not m:
        return text
    inner = text[m.end():]
    # The closing fence: ``` at the very end (blanks after it allowed), with the blanks and one line break
    # before it. Scanned backwards with str methods: a regex search for it is quadratic on long blank runs.
    body = inner.rstrip()
    if not body.endswith("```"):
        return inner
    body = body[:-3].rstrip(" \t")
    return body[:-1] if body.endswith("\n") else body


def split_sections(text: str) -> tuple[dict[str, str], str | None, str]:
    """(sections before Action, the Action body or None, text before the first header).

    An ``Action:`` label at the start of a line ends the sections. Without one, the first ``Action:`` label inside
    the last section (or the preamble) that is followed by a call starts the actions: UI-TARS 1.0 often writes
    ``Thought: ... close it. Action: click(...)`` on one line.
    """
    sections: dict[str, str] = {}
    m = _HEADER.search(text)
    preamble = text[:m.start(1)] if m else text
    last: tuple[str, int] | None = None
    while m is not None:  # one header at a time: the usual answer stops at the second one, "Action:"
        label = m.group(2)
        if label == "Action":
            return sections, text[m.end():], preamble
        following = _NEXT_HEADER.search(text, m.end())
        if label not in sections:
            sections[label] = text[m.end():following.start(1) if following else len(text)].strip()
            last = (label, m.end())
        m = following
    start = last[1] if last is not None else 0
    for inline in _INLINE_ACTION.finditer(text, start):
        if _LOOKS_LIKE_CALL.match(text, inline.end()):
            if last is not None:
                sections[last[0]] = text[start:inline.start()].strip()
            else:
                preamble = text[:inline.start()]
            return sections, text[inline.end():], preamble
    return sections, None, preamble


_N = r"\s*[0-9]+(?:\.[0-9]+)?\s*"
_BARE_BOX = re.compile(r"((?:start_box|end_box)\s*=\s*)(['\"])\s*(\(" + _N + "," + _N + "(?:," + _N + "," + _N + r")?\))\s*\2")


def restore_box_tokens(text: str) -> str:
    """Put ``<|box_start|>...<|box_end|>`` back around bare ``'(x,y)'`` boxes in start_box/end_box arguments.

    Servers that skip special tokens return ``start_box='(235,512)'``; the model was trained on (and its history
    should show) ``start_box='<|box_start|>(235,512)<|box_end|>'``. Idempotent; thoughts are left alone.
    """
    return _BARE_BOX.sub(lambda m: f"{m.group(1)}{m.group(2)}<|box_start|>{m.group(3)}<|box_end|>{m.group(2)}", text)


# ---------------------------------------------------------------- XML tool-call form (UI-TARS-2)

_THINK_OPEN, _THINK_CLOSE = "<gui_think>", "</gui_think>"


def split_gui_think(body: str) -> tuple[list[str], str]:
    """(the bodies of the ``<gui_think>...</gui_think>`` blocks, the text without them), in one linear scan.

    Each block ends at the first closing tag after its opening tag; an opening tag with no closing tag after it
    is left in the text (and so is everything after it).
    """
    start = body.find(_THINK_OPEN)
    if start < 0:
        return [], body
    thinks: list[str] = []
    kept: list[str] = []
    pos = 0
    while True:
        start = body.find(_THINK_OPEN, pos)
        if start < 0:
            break
        end = body.find(_THINK_CLOSE, start + len(_THINK_OPEN))
        if end < 0:
            break
        kept.append(body[pos:start])
        thinks.append(body[start + len(_THINK_OPEN):end])
        pos = end + len(_THINK_CLOSE)
    kept.append(body[pos:])
    return thinks, "".join(kept)
_TOOL_OPEN, _TOOL_CLOSE = "<seed:tool_call>", "</seed:tool_call>"
_BLANKS = re.compile(r"\s*")
_XML_NAME = re.compile(r"[^<>\s]+")
_XML_STOPPERS = ("</parameter>", "</function>", "<seed:tool_call>", "</seed:tool_call>", "<gui_think>",
                 "</gui_think>")
_TEXT_PARAMS = frozenset({"content", "url", "app_name"})
_XML_TAGS = {tag: (f"<{tag}=", f"</{tag}>") for tag in ("function", "parameter")}


def tool_call_blocks(body: str) -> tuple[list[str], str]:
    """(the bodies of the ``<seed:tool_call>...</seed:tool_call>`` blocks, the text outside them), in one linear
    scan with ``str.find``. Each block ends at the first closing tag after it; one never closed runs to the end."""
    blocks: list[str] = []
    outside: list[str] = []
    pos = 0
    while (start := body.find(_TOOL_OPEN, pos)) >= 0:
        outside.append(body[pos:start])
        inner = start + len(_TOOL_OPEN)
        end = body.find(_TOOL_CLOSE, inner)
        if end < 0:
            blocks.append(body[inner:])
            pos = len(body)
            break
        blocks.append(body[inner:end])
        pos = end + len(_TOOL_CLOSE)
    outside.append(body[pos:])
    return blocks, "".join(outside)


def xml_items(body: str, tag: str) -> list[tuple[str, str, str]]:
    """(NAME, inner text, the item's text) of each ``<tag=NAME>...</tag>`` in ``body``, with only blanks around
    and between them; ParseError quoting the rest where something else stands. NAME has no blank, ``<`` or ``>``;
    an item ends at the first closing tag after it. A scan with ``str`` methods: linear time."""
    items: list[tuple[str, str, str]] = []
    opening, closing = _XML_TAGS.get(tag) or (f"<{tag}=", f"</{tag}>")
    pos = 0
    while True:
        start = _BLANKS.match(body, pos).end()  # type: ignore[union-attr]
        if start == len(body):
            return items
        name_end = body.find(">", start) if body.startswith(opening, start) else -1
        name = body[start + len(opening):name_end] if name_end >= 0 else ""
        end = body.find(closing, name_end + 1) if name and _XML_NAME.fullmatch(name) else -1
        if end < 0:
            raise ParseError(f"expected <{tag}=NAME>...</{tag}>", body[start:].strip()[:80])
        pos = end + len(closing)
        items.append((name, body[name_end + 1:end], body[start:pos]))


# ---------------------------------------------------------------- the grammar

@dataclass(frozen=True, eq=False)
class UiTarsGrammar:
    """One UI-TARS grammar. ``style`` says how formatting writes points: "box" = ``start_box='<|box_start|>(x,y)
    <|box_end|>'`` (1.x), "point" = ``point='<point>x y</point>'``, "xml" = the UI-TARS-2 tool-call form."""

    name: str
    functions: dict[str, _Fn] = field(repr=False)
    supported: frozenset[type] = field(repr=False)
    style: str = "box"

    # ------------------------------------------------------------ parse
    def parse(self, text: str) -> Step:
        check_length(text)
        body = strip_fence(strip_end_tokens(text) if text.endswith(_ENDS) else text)
        thought = None
        extra: dict[str, str] = {}
        wrapped = unwrap(body) if body.startswith(_ENDS) else None
        if wrapped is not None:
            body, thought = wrapped.body, wrapped.thinking
            if wrapped.answer is not None:  # omni <answer>: the task is finished with this content
                return Step((t.Finished(wrapped.answer or None),), text, thought=thought)
        if self.functions is _V2:
            thinks, without = split_gui_think(body)
            if thinks:
                thought = "\n".join(s.strip() for s in thinks).strip() or None
                body = without
            if "<seed:tool_call>" in body or body.lstrip().startswith("<function="):
                return self._parse_xml(text, body, thought)
        sections, actions_text, preamble = split_sections(body)
        if actions_text is None:
            try:
                calls = parse_calls(body, lenient_quotes=True)
            except ParseError:
                if _LOOKS_LIKE_CALL.match(body):  # a bare grounding answer with a mistake: report the mistake
                    raise
                calls = []
            if not calls:
                raise ParseError(f"no 'Action:' section found in this {self.name} response", text[-120:])
        else:
            if not actions_text.strip():
                raise ParseError("the 'Action:' section is empty", text[-120:])
            try:
                calls = parse_calls(actions_text, lenient_quotes=True, prefix=_ACTION_LABEL)
            except ParseError:
                if _HEADER.search(actions_text):
                    raise ParseError("several Thought/Action blocks run together; which one to run is ambiguous, "
                                     "so none is", actions_text.strip()[:80]) from None
                raise
            if preamble.strip():
                extra["preamble"] = preamble.strip()
        actions: list[Action] = []
        for call in calls:
            actions += build_actions(self.functions, call.name, None, call, self.name, call.text)
        if not actions:
            raise ParseError("no action found", text[-120:])
        if self.functions is _V2:
            actions = merge(actions)
        check_terminal_last(actions, text)
        summary = sections.get("Action_Summary") or None
        if thought and sections.get("Thought"):  # <think> before a Thought section: the section is the thought
            extra["thinking"] = thought
        # positional: a step is made per answer, and keyword arguments cost more (thought, reflection, summary)
        return Step(tuple(actions), text, sections.get("Thought") or thought or summary,
                    sections.get("Reflection") or None, summary, extra)

    def _parse_xml(self, raw: str, body: str, thought: str | None) -> Step:
        actions: list[Action] = []
        if _TOOL_OPEN in body:
            blocks, outside = tool_call_blocks(body)
            outside = outside.strip()
        else:  # bare <function=...> blocks (what format_action writes)
            blocks, outside = [body], ""
        for block in blocks:
            for name, inner, frag in xml_items(block, "function"):
                params = {}
                for key, value, _ in xml_items(inner, "parameter"):
                    if key in params:
                        raise ParseError(f"parameter {key!r} given twice", frag)
                    params[key] = value if key in _TEXT_PARAMS else value.strip()
                actions += build_actions(self.functions, name, params, None, self.name, frag)
        actions = merge(actions)
        if "<function=" in outside or "<parameter=" in outside:
            raise ParseError("a <function=...> block outside <seed:tool_call>", outside[:80])
        if not actions:
            raise ParseError("the <seed:tool_call> block holds no function", raw[-120:])
        check_terminal_last(actions, raw)
        if len(actions) > 1 and any(isinstance(a, t.TERMINAL_ACTIONS) for a in actions):
            raise ParseError("finished/call_user must stand alone in their step", raw[-120:])
        return Step(tuple(actions), raw, thought=thought, extra={"text": outside} if outside else {})

    # ------------------------------------------------------------ format
    def _call(self, action: Action) -> tuple[str, list[tuple[str, str, Any]]]:
        """(function name, [(parameter, kind, value)]) for one action; kind is "point", "str" or "num"."""
        a = action
        if type(a) not in self.supported:
            raise UnsupportedAction(f"{self.name} cannot express {type(a).__name__}")
        v2 = self.functions is _V2
        pt, start, end = ("point", "start_point", "end_point") if v2 else ("start_box", "start_box", "end_box")
        if isinstance(a, t.Click):
            simple = {("left", 1): "click", ("left", 2): "left_double", ("right", 1): "right_single"}
            if (a.button, a.clicks) in simple:
                return simple[(a.button, a.clicks)], [(pt, "point", a.point)]
            if not v2 or a.button not in t.DRAG_BUTTONS:
                raise UnsupportedAction(f"{self.name} cannot express a {a.button} click x{a.clicks}")
            return "click", [(pt, "point", a.point), ("button", "str", a.button), ("clicks", "num", a.clicks)]
        if isinstance(a, t.Drag):
            return "drag", [(start, "point", a.start), (end, "point", a.end)]
        if isinstance(a, t.Scroll):
            if a.amount is not None:
                raise UnsupportedAction(f"{self.name} scrolls have no amount; use Scroll(..., amount=None)")
            params = [(pt, "point", a.point)] if a.point is not None else []
            return "scroll", params + [("direction", "str", a.direction)]
        if isinstance(a, t.Type):
            return "type", [("content", "str", a.text + ("\n" if a.submit else ""))]
        if isinstance(a, (t.Hotkey, t.Press)):
            keys = a.keys if isinstance(a, t.Hotkey) else (a.key,)
            return "hotkey", [("key", "str", " ".join(keys))]
        if isinstance(a, (t.KeyDown, t.KeyUp)):
            return ("press" if isinstance(a, t.KeyDown) else "release"), [("key", "str", a.key)]
        if isinstance(a, t.MoveTo):
            return "move_to", [(pt, "point", a.point)]
        if isinstance(a, (t.MouseDown, t.MouseUp)):
            params = [(pt, "point", a.point)] if a.point is not None else []
            if a.button != "left":
                params.append(("button", "str", a.button))
            return ("mouse_down" if isinstance(a, t.MouseDown) else "mouse_up"), params
        if isinstance(a, t.Wait):
            if a.seconds is None:
                return "wait", []
            if not v2:
                raise UnsupportedAction(f"{self.name}'s wait() has no duration; use Wait(None)")
            return "wait", [("time", "num", a.seconds)]
        if isinstance(a, (t.Finished, t.CallUser)):
            name = "finished" if isinstance(a, t.Finished) else "call_user"
            if a.content is None or a.content == "":
                return name, []
            return name, [("content", "str", a.content)]
        if isinstance(a, t.LongPress):
            params = [(pt, "point", a.point)]
            if a.seconds is not None:
                params.append(("time", "num", a.seconds))
            return "long_press", params
        if isinstance(a, t.OpenApp):
            return "open_app", [("app_name", "str", a.name)]
        if isinstance(a, t.Navigate):
            return "navigate", [("content", "str", a.url)]
        for cls, name in ((t.PressHome, "press_home"), (t.PressBack, "press_back"),
                          (t.NavigateBack, "navigate_back")):
            if isinstance(a, cls):
                return name, []
        raise UnsupportedAction(f"{self.name} cannot express {a!r}")

    def _point_text(self, p: Point) -> str:
        p = model_point(p)
        x, y = fmt_int(p.x), fmt_int(p.y)
        return f"<point>{x} {y}</point>" if self.style in ("point", "xml") else f"<|box_start|>({x},{y})<|box_end|>"

    def _plain(self, action: Action) -> list[Action]:
        """``action`` as the plain actions this family writes it with (see ``compound``)."""
        a = action
        compound = (isinstance(a, (t.Click, t.Scroll)) and a.modifiers) or (
            isinstance(a, t.Drag) and (a.via or a.button != "left"))
        if not compound:
            return [a]
        if self.functions is not _V2:
            raise UnsupportedAction(f"{self.name} cannot hold keys during a click or scroll, or drag with another "
                                    "button or through several points (it has no press/release, mouse_down/up)")
        if isinstance(a, t.Drag):
            return [t.MouseDown(a.start, a.button), *(t.MoveTo(p) for p in (*a.via, a.end)), t.MouseUp(None, a.button)]
        return split(a)

    def format_action(self, action: Action) -> str:
        parts = self._plain(action)
        if len(parts) > 1:
            return ("\n" if self.style == "xml" else "\n\n").join(self.format_action(p) for p in parts)
        name, params = self._call(action)
        if self.style == "xml":
            lines = [f"<function={name}>"]
            for key, kind, value in params:
                text = self._point_text(value) if kind == "point" else (
                    fmt_int(value) if kind == "num" and float(value).is_integer() else str(value))
                if any(s in text for s in _XML_STOPPERS):
                    raise UnsupportedAction(f"{key} contains an XML closing tag and cannot be written in this form")
                lines.append(f"<parameter={key}>{text}</parameter>")
            return "\n".join(lines + ["</function>"])
        args = []
        for key, kind, value in params:
            if kind == "point":
                args.append(f"{key}={py_str(self._point_text(value))}")
            elif kind == "num":
                args.append(f"{key}={fmt_int(value) if float(value).is_integer() else repr(float(value))}")
            else:
                args.append(f"{key}={py_str(value)}")
        return f"{name}({', '.join(args)})"

    def format_step(self, actions: Iterable[Action], thought: str | None = None,
                    reflection: str | None = None) -> str:
        """A whole response. In the XML form a reflection has no place and is left out."""
        actions = list(actions)
        check_step(actions)
        if self.style == "xml":
            head = f"<gui_think>{thought}</gui_think>\n" if thought else ""
            body = "\n".join(self.format_action(a) for a in actions)
            return f"{head}<seed:tool_call>\n{body}\n</seed:tool_call>"
        lines = []
        if reflection:
            lines.append(f"Reflection: {reflection}")
            if thought:
                lines.append(f"Action_Summary: {thought}")
        elif thought:
            lines.append(f"Thought: {thought}")
        lines.append("Action: " + "\n\n".join(self.format_action(a) for a in actions))
        return "\n".join(lines)


UI_TARS_10 = UiTarsGrammar("ui-tars-1.0", _V1, _V1_SUPPORTED, "box")
UI_TARS_15 = UiTarsGrammar("ui-tars-1.5", _V1, _V1_SUPPORTED, "box")
UI_TARS_2 = UiTarsGrammar("ui-tars-2", _V2, _V2_SUPPORTED, "xml")
#: UI-TARS-2 / Doubao-1.5-UI-TARS written in the point syntax (parses the same; formats ``point='<point>x y</point>'``).
UI_TARS_2_POINT = UiTarsGrammar("ui-tars-2", _V2, _V2_SUPPORTED, "point")
