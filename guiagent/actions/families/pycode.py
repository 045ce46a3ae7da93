"""The pyautogui-code grammar shared by Kimi-VL and OpenCUA.

Both families answer with pyautogui calls whose coordinates are normalized (0..1), usually under sections::

    ## Thought:            (OpenCUA; Kimi-VL Thinking writes ◁think▷ ... ◁/think▷ instead, Instruct nothing)
    ...
    ## Action:
    Click the "Files" icon in the dock.
    ## Code:
    ```python
    pyautogui.click(x=0.204, y=0.149)
    ```

Sections may lack the ``##`` (``Thought:`` / ``Action:`` / ``Code:``), the fence may be missing or say ``code``
instead of ``python``, and the code may be bare. Control calls are ``computer.wait(...)`` and
``computer.terminate(status=..., answer=...)``; OSWorld's bare ``DONE`` / ``WAIT`` / ``FAIL`` are accepted too.

The code is never run: every line must be one of the known calls with literal arguments (see ``literals``).
Comments and ``import pyautogui`` / ``import time`` lines are ignored; anything else is a ParseError.

Decisions worth knowing:
- ``computer.terminate(status='success')`` is ``Finished``; ``status='failure'`` (or ``'fail'``) is ``CallUser``:
  the model gives up and hands the task back (the UI-TARS meaning of call_user: infeasible or needs the user).
  ``answer=`` becomes the action's content either way.
- ``moveTo(a)`` immediately followed by ``dragTo(b)`` is one ``Drag(a, b)``; a lone ``dragTo(b)`` drags from
  wherever the pointer is: ``MouseDown``, ``MoveTo(b)``, ``MouseUp``.
- ``scroll(n)`` is ``Scroll('up' if n > 0 else 'down', amount=|n|)``; ``hscroll(n)`` is right/left.
- ``write('text\\n')``: a trailing newline is ``submit=True``, as in the UI-TARS grammars.
- Relative moves (``moveRel``, ``drag``, ``dragRel``) and image-locating calls are rejected: their targets cannot
  be mapped from the model's image to the screen.
- AgentNet / AGUVIS ground-truth keyword forms are read: ``hotkey(keys=['ctrl', 'c'])``, ``press(keys='enter')``
  or ``press(keys=['down', 'down'])`` (each key pressed in turn), ``write(message='...')``, keys as one list
  positional (``hotkey(['ctrl', 'c'])``), ``dragTo(from_coord=[x, y], to_coord=[x, y])`` (a ``Drag``).
- ``keyDown(m)``, a click or scroll, ``keyUp(m)`` is the click/scroll with modifier ``m`` held, and
  ``mouseDown(x, y)``, ``moveTo``..., ``mouseUp()`` a drag through those points (``compound``); ``dragTo(...,
  button='right')`` after ``moveTo`` is a right-button drag. pyautogui has no side buttons: back/forward clicks
  are UnsupportedAction here.
- Special tokens a server left after the code (``<|im_end|>``, ``<|endoftext|>``, ``</s>``, ``<|end|>``) are
  ignored.
- Refused with a ParseError saying why: ``scroll(page=...)`` (a fraction of a page has no wheel-click count),
  clicks without a point (``doubleClick()``: where the pointer happens to be is not something the model saw),
  fractional scroll amounts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from guiagent.actions import types as t
from guiagent.actions.families.literals import (
    Call, as_int, as_number, as_text, bind, check_length, check_step, check_terminal_last, fmt_number,
    model_point, parse_calls, py_str, split_keys, typed,
)
from guiagent.actions.families.compound import merge, split
from guiagent.actions.families.wrappers import strip_end_tokens
from guiagent.actions.types import Action, Point, Space, Step, canonical, make_point
from guiagent.errors import ActionError, ParseError, UnsupportedAction

THINK_OPEN, THINK_CLOSE = "◁think▷", "◁/think▷"

_SECTION = re.compile(
    r"^[ \t]*(?:#{1,4}[ \t]*(Thought|Action|Code)\b[ \t]*[:：]?|(Thought|Action|Code)[ \t]*[:：])[ \t]*", re.M)
_FENCE = re.compile(r"```[ \t]*(?:[A-Za-z][\w+-]*[ \t]*(?=\n))?\n?(.*?)(?:```|\Z)", re.S)  # ```lang\n...```
_CODE_START = re.compile(r"^[ \t]*(?:pyautogui\.|computer\.|time\.sleep\b|(?:DONE|WAIT|FAIL)[ \t]*$)", re.M)
_IMPORT = re.compile(r"import\s+(?:pyautogui|time)(?:\s*,\s*(?:pyautogui|time))*")
_NL = "\n"
_SPECIAL = {"DONE": t.Finished(), "FAIL": t.CallUser(), "WAIT": t.Wait()}


def split_thinking(text: str) -> tuple[str | None, str]:
    """(thinking, answer). A missing opening marker means the chat template opened the block."""
    close = text.find(THINK_CLOSE)
    open_ = text.find(THINK_OPEN)
    if close < 0:
        if open_ >= 0:
            raise ParseError("the ◁think▷ block is never closed (was the response cut off?)", text[-80:])
        return None, text
    start = open_ + len(THINK_OPEN) if 0 <= open_ < close else 0
    answer = text[close + len(THINK_CLOSE):]
    if THINK_OPEN in answer or THINK_CLOSE in answer:
        raise ParseError("more than one ◁think▷ block", answer[:80])
    return text[start:close].strip() or None, answer


def strip_thinking(text: str) -> str:
    """Drop the Kimi-VL thinking block (history keeps only the answer). Text without one is returned unchanged."""
    close = text.find(THINK_CLOSE)
    if close < 0:
        open_ = text.find(THINK_OPEN)
        return text if open_ < 0 else text[:open_].rstrip()
    return text[close + len(THINK_CLOSE):].lstrip()


# ---------------------------------------------------------------- argument readers

def _num(value: Any, what: str, frag: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParseError(f"{what} must be a number, got {value!r}", frag)
    return float(value)


def _xy(b: dict[str, Any], frag: str, required: bool = True) -> Point | None:
    x, y = b.get("x"), b.get("y")
    if isinstance(x, (list, tuple)) and y is None:
        if len(x) != 2:
            raise ParseError("a point needs exactly two numbers", frag)
        x, y = x
    if x is None and y is None:
        if required:
            raise ParseError("this call needs x and y coordinates", frag)
        return None
    if x is None or y is None:
        raise ParseError("give both x and y", frag)
    return make_point(_num(x, "x", frag), _num(y, "y", frag), Space.MODEL)


def _button(value: Any, frag: str) -> str:
    if value is None:
        return "left"
    b = as_text(value, "button", frag).strip().lower()
    b = {"primary": "left", "secondary": "right"}.get(b, b)
    if b not in t.DRAG_BUTTONS:  # what pyautogui accepts
        raise ParseError(f"button must be left, right or middle, got {value!r}", frag)
    return b


def _keys(value: Any, frag: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    return split_keys(value, frag)


_IGNORED = ("interval", "duration", "_pause", "logScreenshot")
Handler = Callable[[dict[str, Any], str], list[Action]]


@dataclass(frozen=True)
class _Fn:
    params: tuple[str, ...]
    build: Handler
    required: tuple[str, ...] = ()
    varargs: bool = False
    #: ``params`` plus the pyautogui arguments every call may carry and that change nothing here (``_IGNORED``)
    accepted: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "accepted", self.params + tuple(p for p in _IGNORED if p not in self.params))


def _clicker(button: str | None, clicks: int | None) -> Handler:
    def build(b: dict[str, Any], f: str) -> list[Action]:
        n = clicks if clicks is not None else (as_int(b.get("clicks"), "clicks", f) or 1)
        btn = button or _button(b.get("button"), f)
        return [t.Click(_xy(b, f), btn, n)]  # type: ignore[arg-type,arg-type]
    return build


def _scroll(horizontal: bool) -> Handler:
    def build(b: dict[str, Any], f: str) -> list[Action]:
        if b.get("page") is not None:
            raise ParseError("scroll(page=...) scrolls by a fraction of the page, which has no number of wheel "
                             "clicks; give clicks", f)
        if b.get("clicks") is None:
            raise ParseError("scroll() is missing argument 'clicks'", f)
        n = as_int(_num(b.get("clicks"), "clicks", f), "clicks", f)
        if not n:
            raise ParseError("scroll by 0 clicks does nothing", f)
        direction = ("right" if n > 0 else "left") if horizontal else ("up" if n > 0 else "down")
        return [t.Scroll(direction, _xy(b, f, required=False), abs(n))]  # type: ignore[arg-type]
    return build


def _write(b: dict[str, Any], f: str) -> list[Action]:
    message = b.get("message")
    if isinstance(message, (list, tuple)):  # typewrite(['a', 'enter']) presses keys one by one
        return [t.Press(k) for k in _keys(message, f)]
    return [typed(as_text(message, "message", f))]


def _press(b: dict[str, Any], f: str) -> list[Action]:
    presses = as_int(b.get("presses"), "presses", f) or 1
    if not 1 <= presses <= 50:
        raise ParseError("presses must be between 1 and 50", f)
    return [t.Press(k) for k in _keys(b.get("keys"), f)] * presses


def _hotkey(b: dict[str, Any], f: str) -> list[Action]:
    keys = b["*"]
    if b.get("keys") is not None:  # AgentNet / OpenCUA data: hotkey(keys=['ctrl', 'c'])
        if keys:
            raise ParseError("hotkey() got keys both as arguments and as keys=", f)
        keys = _keys(b["keys"], f)
    if len(keys) == 1 and isinstance(keys[0], (list, tuple)):
        keys = keys[0]
    if not keys or not all(isinstance(k, str) for k in keys):
        raise ParseError("hotkey() needs key names", f)
    return [canonical(t.Hotkey(tuple(keys)))]


def _coord(value: Any, what: str, frag: str) -> Point:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ParseError(f"{what} must be a list [x, y]", frag)
    return make_point(_num(value[0], what, frag), _num(value[1], what, frag), Space.MODEL)


def _drag_to(b: dict[str, Any], f: str) -> list[Action]:
    button = _button(b.get("button"), f)
    if b.get("from_coord") is not None or b.get("to_coord") is not None:  # AGUVIS-style dragTo(from_coord, to_coord)
        if b.get("x") is not None or b.get("y") is not None:
            raise ParseError("dragTo() got both x/y and from_coord/to_coord", f)
        end = _coord(b.get("to_coord"), "to_coord", f)
        if b.get("from_coord") is None:
            return [t.MouseDown(None, button), t.MoveTo(end), t.MouseUp(None, button)]  # type: ignore[arg-type]
        return [t.Drag(_coord(b["from_coord"], "from_coord", f), end, button)]  # type: ignore[arg-type]
    return [t.MouseDown(None, button), t.MoveTo(_xy(b, f)), t.MouseUp(None, button)]  # type: ignore[arg-type]


def _terminate(b: dict[str, Any], f: str) -> list[Action]:
    status = as_text(b.get("status"), "status", f).strip().lower()
    answer = b.get("answer")
    content = None if answer is None else (as_text(answer, "answer", f) or None)
    if status == "success":
        return [t.Finished(content)]
    if status in ("failure", "fail"):
        return [t.CallUser(content)]
    raise ParseError(f"terminate status must be 'success' or 'failure', got {status!r}", f)


_XY = ("x", "y")
FUNCTIONS: dict[str, _Fn] = {
    "pyautogui.click": _Fn(_XY + ("clicks", "interval", "button", "duration"), _clicker(None, None)),
    "pyautogui.leftClick": _Fn(_XY + ("interval", "duration"), _clicker("left", 1)),
    "pyautogui.rightClick": _Fn(_XY + ("interval", "duration"), _clicker("right", 1)),
    "pyautogui.middleClick": _Fn(_XY + ("interval", "duration"), _clicker("middle", 1)),
    "pyautogui.doubleClick": _Fn(_XY + ("interval", "button", "duration"), _clicker(None, 2)),
    "pyautogui.tripleClick": _Fn(_XY + ("interval", "button", "duration"), _clicker(None, 3)),
    "pyautogui.moveTo": _Fn(_XY + ("duration",), lambda b, f: [t.MoveTo(_xy(b, f))]),  # type: ignore[arg-type]
    "pyautogui.dragTo": _Fn(_XY + ("duration", "button", "mouseDownUp", "from_coord", "to_coord"), _drag_to),
    "pyautogui.mouseDown": _Fn(_XY + ("button", "duration"),
                               lambda b, f: [t.MouseDown(_xy(b, f, False), _button(b.get("button"), f))]),
    "pyautogui.mouseUp": _Fn(_XY + ("button", "duration"),
                             lambda b, f: [t.MouseUp(_xy(b, f, False), _button(b.get("button"), f))]),
    "pyautogui.scroll": _Fn(("clicks",) + _XY + ("page",), _scroll(False)),
    "pyautogui.vscroll": _Fn(("clicks",) + _XY + ("page",), _scroll(False)),
    "pyautogui.hscroll": _Fn(("clicks",) + _XY + ("page",), _scroll(True)),
    "pyautogui.write": _Fn(("message", "interval"), _write, ("message",)),
    "pyautogui.typewrite": _Fn(("message", "interval"), _write, ("message",)),
    "pyautogui.press": _Fn(("keys", "presses", "interval"), _press, ("keys",)),
    "pyautogui.hotkey": _Fn(("keys", "interval"), _hotkey, varargs=True),
    "pyautogui.keyDown": _Fn(("key",), lambda b, f: [t.KeyDown(as_text(b["key"], "key", f))], ("key",)),
    "pyautogui.keyUp": _Fn(("key",), lambda b, f: [t.KeyUp(as_text(b["key"], "key", f))], ("key",)),
    "time.sleep": _Fn(("secs",), lambda b, f: [t.Wait(as_number(b["secs"], "seconds", f))], ("secs",)),
    "computer.wait": _Fn(("seconds",), lambda b, f: [t.Wait(as_number(b.get("seconds"), "seconds", f))]),
    "computer.terminate": _Fn(("status", "answer"), _terminate, ("status",)),
}
_ALIASES = {"pyautogui.keydown": "pyautogui.keyDown", "pyautogui.keyup": "pyautogui.keyUp",
            "pyautogui.doubleclick": "pyautogui.doubleClick", "pyautogui.rightclick": "pyautogui.rightClick"}

SUPPORTED = frozenset({t.Click, t.Drag, t.Scroll, t.Type, t.Hotkey, t.Press, t.KeyDown, t.KeyUp, t.MoveTo,
                       t.MouseDown, t.MouseUp, t.Wait, t.Finished, t.CallUser})


def build(call: Call) -> list[Action]:
    name = _ALIASES.get(call.name, call.name)
    fn = FUNCTIONS.get(name)
    if fn is None:
        known = ", ".join(sorted(FUNCTIONS))
        raise ParseError(f"unknown or disallowed call {call.name}(); known calls: {known}", call.text)
    bound = bind(call, fn.accepted, fn.required, name=call.name, varargs=fn.varargs)
    try:  # what action_errors does, without a context manager's cost on every call
        return fn.build(bound, call.text)
    except ActionError as e:
        raise ParseError(str(e), call.text) from None


# ---------------------------------------------------------------- the grammar

@dataclass(frozen=True, eq=False)
class PyCodeGrammar:
    """Kimi-VL Instruct (``style="kimi"``), Kimi-VL Thinking (``style="kimi-thinking"``) or OpenCUA
    (``style="opencua"``). All three read the same text; they differ in what ``format_step`` writes.

    ``format_step`` writes what the family's prompt asks for (``guiagent/models/prompts/``):

    - kimi (the kimi-vl computer prompt): ``## Action:`` + one sentence, then ``## Code:`` and a python fence. The
      Instruct model has no thinking block: the sentence is the summary, else the thought (as UI-TARS-1.0's
      ``Action_Summary``), and ``parse`` gives that sentence back as the thought when there is no other.
    - kimi-thinking: the same, after ``◁think▷thought◁/think▷`` (the sentence is the summary, else the thought).
    - opencua: ``## Thought:``, ``## Action:`` (only with a summary), ``## Code:``.

    A step with neither thought nor summary has no sentence to write: only its ``## Code:`` section is written
    (no sentence is made up). These responses have no reflection section; ``format_step`` leaves a reflection out.
    """

    name: str
    style: str
    supported: frozenset[type] = field(default=SUPPORTED, repr=False)

    # ------------------------------------------------------------ parse
    def parse(self, text: str) -> Step:
        check_length(text)
        thinking, answer = split_thinking(strip_end_tokens(text))
        code, rest = _extract_code(answer)
        if code is None:
            raise ParseError(f"no pyautogui code found in this {self.name} response", answer.strip()[-120:] or text[-120:])
        sections = _sections(rest)
        if code.strip() in _SPECIAL:
            actions: list[Action] = [_SPECIAL[code.strip()]]
        else:
            actions = []
            for call in parse_calls(code, allow_comments=True, skip_line=lambda line: bool(_IMPORT.fullmatch(line))):
                new = build(call)
                if call.name == "pyautogui.dragTo" and len(new) == 3 and actions and isinstance(actions[-1], t.MoveTo):
                    start = actions.pop()
                    new = [t.Drag(start.point, new[1].point, new[0].button)]  # type: ignore[attr-defined]
                actions += new
            actions = merge(actions)
        if not actions:
            raise ParseError("the code holds no action", code[:120])
        check_terminal_last(actions, code)
        extra = {"thinking": thinking} if thinking else {}
        thought = sections.get("Thought") or thinking
        if thought is None and self.style != "opencua":  # Kimi-VL Instruct: the action sentence is all it says
            thought = sections.get("Action")
        return Step(tuple(actions), text, thought=thought, summary=sections.get("Action"), extra=extra)

    # ------------------------------------------------------------ format
    def format_action(self, action: Action) -> str:
        a = action
        if type(a) not in self.supported:
            raise UnsupportedAction(f"{self.name} cannot express {type(a).__name__}")
        parts = split(a)
        if len(parts) > 1:  # modifiers held, or a drag through several points: a run of plain calls
            return "\n".join(self.format_action(p) for p in parts)
        if isinstance(a, t.Click):
            if a.button not in t.DRAG_BUTTONS:
                raise UnsupportedAction(f"pyautogui has no {a.button!r} button")
            names = {("left", 1): "click", ("left", 2): "doubleClick", ("left", 3): "tripleClick",
                     ("right", 1): "rightClick", ("middle", 1): "middleClick"}
            name = names.get((a.button, a.clicks))
            if name:
                return f"pyautogui.{name}({_xy_args(a.point)})"
            return f"pyautogui.click({_xy_args(a.point)}, clicks={a.clicks}, button={py_str(a.button)})"
        if isinstance(a, t.Drag):
            button = f", button={py_str(a.button)}" if a.button != "left" else ""
            return f"pyautogui.moveTo({_xy_args(a.start)})\npyautogui.dragTo({_xy_args(a.end)}{button})"
        if isinstance(a, t.Scroll):
            if a.amount is None:
                raise UnsupportedAction(f"{self.name} scrolls need an amount (clicks); use Scroll(..., amount=N)")
            sign = 1 if a.direction in ("up", "right") else -1
            fn = "hscroll" if a.direction in ("left", "right") else "scroll"
            where = f", {_xy_args(a.point)}" if a.point is not None else ""
            return f"pyautogui.{fn}({sign * a.amount}{where})"
        if isinstance(a, t.Type):
            return f"pyautogui.write({py_str(a.text + _NL if a.submit else a.text)})"
        if isinstance(a, t.Hotkey):
            return f"pyautogui.hotkey({', '.join(py_str(k) for k in a.keys)})"
        if isinstance(a, t.Press):
            return f"pyautogui.press({py_str(a.key)})"
        if isinstance(a, (t.KeyDown, t.KeyUp)):
            return f"pyautogui.{'keyDown' if isinstance(a, t.KeyDown) else 'keyUp'}({py_str(a.key)})"
        if isinstance(a, t.MoveTo):
            return f"pyautogui.moveTo({_xy_args(a.point)})"
        if isinstance(a, (t.MouseDown, t.MouseUp)):
            args = [_xy_args(a.point)] if a.point is not None else []
            if a.button != "left":
                args.append(f"button={py_str(a.button)}")
            return f"pyautogui.{'mouseDown' if isinstance(a, t.MouseDown) else 'mouseUp'}({', '.join(args)})"
        if isinstance(a, t.Wait):
            return "computer.wait()" if a.seconds is None else f"computer.wait(seconds={fmt_number(a.seconds)})"
        if isinstance(a, (t.Finished, t.CallUser)):
            status = "success" if isinstance(a, t.Finished) else "failure"
            answer = f", answer={py_str(a.content)}" if a.content else ""
            return f"computer.terminate(status={py_str(status)}{answer})"
        raise UnsupportedAction(f"{self.name} cannot express {a!r}")

    def format_step(self, actions: Iterable[Action], thought: str | None = None,
                    reflection: str | None = None, *, summary: str | None = None) -> str:
        """The response the family's prompt asks for (see the class docstring for each style's layout).

        Args:
            actions: the step's actions, points in MODEL space.
            thought: the reasoning (Kimi-VL Thinking's ◁think▷ block, OpenCUA's ``## Thought:``).
            reflection: not part of these formats; left out.
            summary: the one-sentence ``## Action:`` line; Kimi-VL uses the thought when it is not given.

        Returns:
            The response text.

        Raises:
            ActionError: an empty step, or a terminal action that is not last.
            UnsupportedAction: an action the family cannot write.
        """
        actions = list(actions)
        check_step(actions)
        code = "\n".join(self.format_action(a) for a in actions)
        code = f"## Code:\n```python\n{code}\n```"
        if self.style == "opencua":
            head = f"## Thought:\n{thought}\n\n" if thought else ""
            return head + (f"## Action:\n{summary}\n\n" if summary else "") + code
        sentence = summary or thought
        head = f"{THINK_OPEN}{thought}{THINK_CLOSE}" if thought and self.style == "kimi-thinking" else ""
        return head + (f"## Action:\n{sentence}\n" if sentence else "") + code


def _xy_args(p: Point) -> str:
    p = model_point(p)
    return f"x={fmt_number(p.x)}, y={fmt_number(p.y)}"


def _extract_code(answer: str) -> tuple[str | None, str]:
    """(code, the answer without the code): the last fenced block, else a Code section, else bare calls."""
    fences = list(_FENCE.finditer(answer))
    if fences:
        m = fences[-1]
        return m.group(1), answer[:m.start()] + answer[m.end():]
    sections = list(_SECTION.finditer(answer))
    for i, m in enumerate(sections):
        if (m.group(1) or m.group(2)) == "Code":
            end = sections[i + 1].start() if i + 1 < len(sections) else len(answer)
            return answer[m.end():end], answer[:m.start()] + answer[end:]
    m = _CODE_START.search(answer)
    if m:
        return answer[m.start():], answer[:m.start()]
    return None, answer


def _sections(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    headers = list(_SECTION.finditer(text))
    for i, m in enumerate(headers):
        end = headers[i + 1].start() if i + 1 < len(headers) else len(text)
        body = text[m.end():end].strip()
        label = m.group(1) or m.group(2)
        if body and label not in out:
            out[label] = body
    return out


KIMI_VL = PyCodeGrammar("kimi-vl", "kimi")
KIMI_VL_THINKING = PyCodeGrammar("kimi-vl-thinking", "kimi-thinking")
OPENCUA = PyCodeGrammar("opencua", "opencua")
