"""Literal-only reading of model text: call syntax, Python-style literals, boxes, numbers, and their formatting;
plus the step rules every grammar applies (a terminal action comes last, formatted points are in MODEL space).

Model output is data. Every family writes its actions as function calls such as ``click(start_box='(1,2)')`` or
``pyautogui.click(x=0.2, y=0.1)``; this module reads them with a small hand-written scanner that knows exactly
one thing: ``dotted.name(positional, ..., keyword=value, ...)`` where every value is a literal (string, number,
optionally signed, True/False/None, or a list/tuple of those). Anything else — a name, an operator, a nested call,
an attribute — is a ``ParseError`` quoting the fragment. Nothing is evaluated, compiled or imported.

The scanner is more forgiving than Python where real models are sloppy, without becoming ambiguous:
- real newlines inside a quoted string are kept as newlines (models do not always escape them);
- with ``lenient_quotes`` a quote closes a string only when the next non-blank character is ``,`` ``)`` or ``]``,
  so ``type(content='I'm here')`` reads as ``I'm here`` (UI-TARS models often forget to escape apostrophes);
- unknown backslash escapes keep their backslash, as Python does (``'C:\\path'`` -> ``C:\\path``).
"""

from __future__ import annotations

import math
import re
from contextlib import contextmanager
from typing import Any, Callable, Iterator, NamedTuple

from guiagent.actions.types import TERMINAL_ACTIONS, Action, Point, Space, Type, make_point
from guiagent.errors import ActionError, ParseError, UnsupportedAction

_new_object = object.__new__
_new_tuple = tuple.__new__
_MODEL = Space.MODEL

#: Longest response the scanners accept; longer text is rejected instead of being scanned slowly.
MAX_TEXT = 200_000
#: Deepest list/tuple nesting accepted inside an argument.
MAX_DEPTH = 8
#: Longest number literal accepted (real outputs never come close; a float holds no more than ~17 significant
#: digits, and an integer of 309+ digits does not fit in a float at all).
MAX_NUMBER = 100

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SPACE = " \t\r\n\f\v"
_BLANK = re.compile(r"[ \t\f\v\r\n]*")
_BLANK_LINE = re.compile(r"[ \t\f\v]*")
_STOPS = {"'": re.compile(r"[\\']"), '"': re.compile(r'[\\"]')}
# Fast path for the common shape of a call: simple values only (one-line strings whose only quotes are escaped
# ones; plain numbers). Whatever it does not match goes through the full scanner, which gives the same result on
# these inputs (tests/test_grammar_literals.py and tests/test_grammar_fastpaths.py check that on the corpus and on
# fuzzed text).
_NAME = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
_VALUE = (r"'[^'\\\r\n]*(?:\\[^\r\n][^'\\\r\n]*)*'|\"[^\"\\\r\n]*(?:\\[^\r\n][^\"\\\r\n]*)*\""
          r"|-?[0-9]{1,15}(?:\.[0-9]{1,15})?")
_ARG = rf"[ \t]*(?:([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*)?({_VALUE})[ \t]*"
_FAST_HEAD = re.compile(rf"({_NAME})\(")
_FAST_ARG = re.compile(rf"{_ARG}(?:,|(?=\)))")  # one argument, then a comma or the closing parenthesis
_CONSTANTS = {"True": True, "False": False, "None": None}
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0",
                   "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


class Call(NamedTuple):
    """One call read from model text: ``name(*args, **kwargs)`` with literal values. (An immutable record; a
    NamedTuple rather than a frozen dataclass because every parsed action makes one and it is cheaper to build.)"""

    name: str
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...]
    #: the source text of the call, for error messages
    text: str


def check_length(text: str) -> None:
    if not isinstance(text, str):
        raise ParseError(f"model output must be a string, got {type(text).__name__}")
    if len(text) > MAX_TEXT:
        raise ParseError(f"model output is {len(text)} characters long (limit {MAX_TEXT})", text[:80])


def _context(text: str, pos: int, before: int = 30, after: int = 50) -> str:
    return text[max(0, pos - before): pos + after]


class _Scanner:
    def __init__(self, text: str, lenient_quotes: bool, allow_comments: bool, fast: bool = True):
        self.fast = fast
        self.text = text
        self.pos = 0
        self.lenient = lenient_quotes
        self.comments = allow_comments

    # ------------------------------------------------------------ basics
    def fail(self, message: str, pos: int | None = None) -> ParseError:
        return ParseError(message, _context(self.text, self.pos if pos is None else pos))

    def skip_space(self, newlines: bool = True) -> None:
        t, n = self.text, len(self.text)
        blank = _BLANK if newlines else _BLANK_LINE
        while True:
            self.pos = blank.match(t, self.pos).end()  # type: ignore[union-attr]
            if self.pos >= n:
                return
            c = t[self.pos]
            if c == "\\" and t.startswith("\n", self.pos + 1):  # explicit line continuation
                self.pos += 2
            elif self.comments and c == "#":
                end = t.find("\n", self.pos)
                self.pos = n if end < 0 else end
            else:
                return

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def ident(self) -> str | None:
        m = _IDENT.match(self.text, self.pos)
        if not m:
            return None
        self.pos = m.end()
        return m.group()

    # ------------------------------------------------------------ calls
    def call(self) -> Call:
        start = self.pos
        if self.fast and (found := _fast_call(self.text, start)) is not None:
            call, self.pos = found
            return call
        name = self.ident()
        if name is None:
            raise self.fail("expected a function call")
        while self.peek() == "." and _IDENT.match(self.text, self.pos + 1):
            self.pos += 1
            name += "." + self.ident()  # type: ignore[operator]
        self.skip_space()
        if self.peek() != "(":
            raise self.fail(f"expected '(' after {name!r}", start)
        self.pos += 1
        args: list[Any] = []
        kwargs: list[tuple[str, Any]] = []
        seen: set[str] = set()  # a set, not a scan of kwargs: many keywords must not take quadratic time
        while True:
            self.skip_space()
            if self.peek() == ")":
                self.pos += 1
                break
            arg_start = self.pos
            key = self.ident()
            if key is not None:
                self.skip_space()
                if self.peek() == "=" and not self.text.startswith("==", self.pos):
                    self.pos += 1
                    if key in seen:
                        raise self.fail(f"argument {key!r} given twice", arg_start)
                    seen.add(key)
                    kwargs.append((key, self.value(0)))
                else:
                    self.pos = arg_start
                    key = None
            if key is None:
                if kwargs:
                    raise self.fail("positional argument after a keyword argument", arg_start)
                args.append(self.value(0))
            self.skip_space()
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != ")":
                found = repr(self.peek()) if self.peek() else "the end of the text"
                raise self.fail(f"expected ',' or ')' in the arguments of {name}() but found {found}")
        return Call(name, tuple(args), tuple(kwargs), self.text[start:self.pos])

    # ------------------------------------------------------------ literals
    def value(self, depth: int) -> Any:
        self.skip_space()
        c = self.peek()
        start = self.pos
        if not c:
            raise self.fail("expected a literal value but the text ended")
        if c in "'\"":
            return self.string()
        if c in "-+":
            self.pos += 1
            self.skip_space()
            if not (self.peek().isdigit() or self.peek() == "."):
                raise self.fail("a sign must be followed by a number", start)
            number = self.number()
            return -number if c == "-" else number
        if c.isdigit() or c == ".":
            return self.number()
        if c in "[(":
            if depth >= MAX_DEPTH:
                raise self.fail("lists nested too deeply")
            close = "]" if c == "[" else ")"
            self.pos += 1
            items: list[Any] = []
            while True:
                self.skip_space()
                if self.peek() == close:
                    self.pos += 1
                    break
                items.append(self.value(depth + 1))
                self.skip_space()
                if self.peek() == ",":
                    self.pos += 1
                elif self.peek() != close:
                    raise self.fail(f"expected ',' or {close!r} in a list")
            return items if c == "[" else tuple(items)
        name = self.ident()
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        if name is not None:
            raise self.fail(f"{name!r} is not a literal; only strings, numbers, True/False/None and lists are "
                            "accepted", start)
        found = repr(c) if c else "the end of the text"
        raise self.fail(f"expected a literal value but found {found}", start)

    def number(self) -> int | float:
        m = _NUMBER.match(self.text, self.pos)
        if not m:
            raise self.fail("malformed number")
        self.pos = m.end()
        if _IDENT.match(self.text, self.pos):
            raise self.fail("malformed number", m.start())
        token = m.group()
        if len(token) > MAX_NUMBER:
            raise self.fail(f"number out of range (more than {MAX_NUMBER} characters)", m.start())
        try:
            value: int | float = float(token) if any(ch in token for ch in ".eE") else int(token)
        except ValueError:  # e.g. an integer with thousands of digits
            raise self.fail("number out of range", m.start()) from None
        if not math.isfinite(value):
            raise self.fail("number out of range", m.start())
        return value

    def string(self) -> str:
        t, start = self.text, self.pos
        q = t[start]
        if t.startswith(q * 3, start):
            end = start + 3
            while True:
                end = t.find(q * 3, end)
                if end < 0:
                    raise self.fail("unterminated string", start)
                if _escaped(t, end):
                    end += 1
                    continue
                self.pos = end + 3
                return unescape(t[start + 3:end])
        stop = _STOPS[q]
        i = start + 1
        while True:
            m = stop.search(t, i)
            if m is None:
                raise self.fail("unterminated string", start)
            i = m.start()
            if t[i] == "\\":
                i += 2
            elif not self.lenient or _closes(t, i + 1):
                self.pos = i + 1
                return unescape(t[start + 1:i])
            else:
                i += 1


def _fast_call(text: str, start: int) -> tuple[Call, int] | None:
    """The call at ``start`` and the position after it, if it has the simple shape ``name(arg, key=arg, ...)``
    (arguments as in ``_ARG``, on one line); None when the full scanner must decide (other shapes, a repeated
    key, a positional argument after a keyword)."""
    head = _FAST_HEAD.match(text, start)
    if head is None:
        return None
    args: list[Any] = []
    kwargs: list[tuple[str, Any]] = []
    pos = head.end()
    while not text.startswith(")", pos):
        a = _FAST_ARG.match(text, pos)
        if a is None:
            return None
        key, raw = a.group(1, 2)
        if raw[0] not in "'\"":
            value: Any = float(raw) if "." in raw else int(raw)
        elif "\\" not in raw:
            value = raw[1:-1]
        else:
            try:
                value = unescape(raw[1:-1])
            except ParseError:  # a bad escape: let the full scanner report it where it stands
                return None
        if key is None:
            if kwargs:
                return None
            args.append(value)
        else:
            kwargs.append((key, value))
        pos = a.end()
    # a repeated key: the full scanner reports it (checked once, with a set: linear in the number of keywords)
    n = len(kwargs)
    if n == 2 and kwargs[0][0] == kwargs[1][0] or n > 2 and len({k for k, _ in kwargs}) != n:
        return None
    # tuple.__new__ directly: what Call(...) does, without the Python-level __new__ a NamedTuple adds
    return _new_tuple(Call, (head.group(1), tuple(args), tuple(kwargs), text[start:pos + 1])), pos + 1


def _fast_calls(text: str, prefix: re.Pattern[str] | None,
                skip_line: Callable[[str], bool] | None = None) -> list[Call] | None:
    """The calls of ``text`` when it is nothing but ``_fast_call`` shapes separated by blank space (the usual
    answer; the scanner accepts the same); None when the full scanner must decide (anything else, e.g. ``;``
    separators, comments, a ``prefix`` to drop, or a line that ``skip_line`` accepts)."""
    calls: list[Call] = []
    pos = _BLANK.match(text).end()  # type: ignore[union-attr]
    while pos < len(text):
        if prefix is not None and prefix.match(text, pos):
            return None
        if skip_line is not None:  # the scanner asks skip_line about the rest of the line first
            end = text.find("\n", pos)
            if skip_line(text[pos:end if end >= 0 else len(text)].strip()):
                return None
        found = _fast_call(text, pos)
        if found is None:
            return None
        call, pos = found
        calls.append(call)
        pos = _BLANK.match(text, pos).end()  # type: ignore[union-attr]
    return calls


def _escaped(text: str, pos: int) -> bool:
    """Whether the character at ``pos`` is preceded by an odd number of backslashes."""
    count = 0
    while pos - count - 1 >= 0 and text[pos - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _closes(text: str, pos: int) -> bool:
    n = len(text)
    while pos < n and text[pos] in _SPACE:
        pos += 1
    return pos >= n or text[pos] in ",)]"


def unescape(body: str) -> str:
    """Decode Python string escapes in ``body``; unknown escapes keep their backslash (as Python does)."""
    if "\\" not in body:
        return body
    out: list[str] = []
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c != "\\" or i + 1 >= n:
            out.append(c)
            i += 1
            continue
        e = body[i + 1]
        if e in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[e])
            i += 2
        elif e == "\n":
            i += 2
        elif e in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[e]
            digits = body[i + 2:i + 2 + width]
            if len(digits) != width or not all(ch in "0123456789abcdefABCDEF" for ch in digits):
                frag = body[i:i + 2 + width]
                raise ParseError(f"bad \\{e} escape in a string", frag)
            code = int(digits, 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise ParseError("escape is not a valid character", body[i:i + 2 + width])
            out.append(chr(code))
            i += 2 + width
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_calls(text: str, *, lenient_quotes: bool = False, allow_comments: bool = False,
                skip_line: Callable[[str], bool] | None = None, prefix: re.Pattern[str] | None = None,
                fast: bool = True) -> list[Call]:
    """Read a sequence of calls separated by blank space, newlines or ``;``.

    ``skip_line(line)`` may accept whole lines that are not calls (e.g. ``import pyautogui``); they are ignored.
    ``prefix`` is a pattern allowed (and dropped) in front of each call, e.g. a repeated ``Action:`` label.
    ``fast=False`` turns off the regex fast path (for tests that compare the two).
    """
    check_length(text)
    if fast and (calls := _fast_calls(text, prefix, skip_line)) is not None:
        return calls
    s = _Scanner(text, lenient_quotes, allow_comments, fast)
    calls: list[Call] = []
    while True:
        s.skip_space()
        while s.peek() == ";":
            s.pos += 1
            s.skip_space()
        if s.pos >= len(text):
            return calls
        if prefix is not None and (m := prefix.match(text, s.pos)) and m.end() > s.pos:
            s.pos = m.end()
            continue
        if skip_line is not None:
            end = text.find("\n", s.pos)
            end = len(text) if end < 0 else end
            if skip_line(text[s.pos:end].strip()):
                s.pos = end
                continue
        calls.append(s.call())
        s.skip_space(newlines=False)
        if s.pos < len(text) and s.peek() not in "\r\n;" and not (allow_comments and s.peek() == "#"):
            # Two calls on one line need a separator; anything else after a call is not part of the grammar.
            if not _IDENT.match(text, s.pos):
                raise s.fail("unexpected text after a call")


def parse_call(text: str, *, lenient_quotes: bool = False) -> Call:
    """Exactly one call and nothing else."""
    calls = parse_calls(text, lenient_quotes=lenient_quotes)
    if len(calls) != 1:
        raise ParseError(f"expected exactly one call, found {len(calls)}", text)
    return calls[0]


# ---------------------------------------------------------------- boxes and points

_NUM = r"[0-9]+(?:\.[0-9]+)?"
_NUM_FULL = re.compile(_NUM)
# Fast path for the two shapes real outputs use most, ``(x,y)`` and ``<point>x y</point>`` (optionally inside the
# box tokens, no blanks), with numbers short enough to be always finite. It gives the same point as the general
# reading below, which handles everything else (tests/test_grammar_fastpaths.py checks that they agree).
_PLAIN = r"([0-9]{1,15}(?:\.[0-9]{1,15})?)"
_FAST_BOX = re.compile(
    rf"(?:<\|box_start\|>)?(?:\({_PLAIN},{_PLAIN}\)|<point>{_PLAIN} {_PLAIN}</point>)(?:<\|box_end\|>)?")


def parse_box(text: str, *, fast: bool = True) -> Point:
    """A UI-TARS box or point string -> its (centre) point in MODEL space.

    Accepts ``(x,y)``, ``(x1,y1,x2,y2)``, ``[x,y]``, ``[x1, y1, x2, y2]``, ``<point>x y</point>``,
    ``<bbox>x1 y1 x2 y2</bbox>``, a bare ``x y``, each optionally inside ``<|box_start|>...<|box_end|>``.
    ``fast=False`` turns off the regex fast path (for tests that compare the two).
    """
    if not isinstance(text, str):
        raise ParseError(f"a box must be a string such as '(x,y)', got {text!r}")
    if fast and (m := _FAST_BOX.fullmatch(text)):
        x, y = m.group(1, 2) if m.group(1) is not None else m.group(3, 4)
        # at most 15 + 15 digits: always finite, so the point is stored as ``Point`` would store it, unchecked
        p = _new_object(Point)
        fields = p.__dict__
        fields["x"] = float(x)
        fields["y"] = float(y)
        fields["space"] = _MODEL
        return p
    inner = _box_inner(text)
    if inner is None:
        raise ParseError("not a box or point (expected '(x,y)', '[x1,y1,x2,y2]', '<point>x y</point>', ...)", text)
    parts = _box_parts(inner)
    if len(parts) not in (2, 4) or not all(_NUM_FULL.fullmatch(p) for p in parts):
        raise ParseError(_bad_box_numbers(parts), text)
    nums = [float(p) for p in parts]
    if not all(math.isfinite(v) for v in nums):
        raise ParseError("box coordinates must be finite", text)
    return box_point(nums)


def _bad_box_numbers(parts: list[str]) -> str:
    """What is wrong with box numbers that are not 2 or 4 plain decimals (the error path only)."""
    if len(parts) in (2, 4):
        exponent = next((p for p in parts if not _NUM_FULL.fullmatch(p) and _EXPONENT.fullmatch(p)), None)
        if exponent is not None:
            return (f"box numbers must be plain decimals such as 512 or 0.25, without exponents "
                    f"(got {exponent[:40]!r})")
    return "a box needs 2 or 4 non-negative numbers"


#: a number in exponent form; each digit run can be matched one way only, so a failed match takes linear time
_EXPONENT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][+-]?[0-9]+")

_BOX_WRAPPERS = (("(", ")", "()"), ("[", "]", "[]"), ("<point>", "</point>", "<>"), ("<bbox>", "</bbox>", "<>"))
_BARE = re.compile(r"[0-9.][0-9., \t]*")  # one character class repeated: no backtracking


def _box_inner(text: str) -> str | None:
    """The numbers part of a box string, without its brackets and box tokens; None when it is not a box.

    A plain scan with ``str`` methods rather than one regex: a regex with adjacent blank runs takes cubic time
    on a long run of blanks (a 2 KB box took 13 s), this takes linear time.
    """
    s = text.strip()
    if s.startswith("<|box_start|>"):
        s = s[len("<|box_start|>"):].lstrip()
    if s.endswith("<|box_end|>"):
        s = s[:-len("<|box_end|>")].rstrip()
    for open_, close, forbidden in _BOX_WRAPPERS:
        if s.startswith(open_) and s.endswith(close) and len(s) >= len(open_) + len(close):
            inner = s[len(open_):len(s) - len(close)]
            return None if any(c in inner for c in forbidden) else inner.strip()
    return s if _BARE.fullmatch(s) else None


def _box_parts(inner: str) -> list[str]:
    """Split box numbers at commas (blanks around them allowed) or blank runs; an empty part stays empty."""
    parts: list[str] = []
    for piece in inner.split(","):
        words = piece.split()
        parts += words or [""]
    return parts


def box_point(nums: list[float]) -> Point:
    """The MODEL-space point of a box given as 2 numbers (a point) or 4 (x1, y1, x2, y2: its centre)."""
    if len(nums) == 4:
        return make_point((nums[0] + nums[2]) / 2, (nums[1] + nums[3]) / 2, Space.MODEL)
    return make_point(nums[0], nums[1], Space.MODEL)


# ---------------------------------------------------------------- formatting

def fmt_number(value: float, decimals: int = 4) -> str:
    """Compact decimal form: integers without a point, others with at most ``decimals`` decimals."""
    value = round(float(value), decimals)
    if value == int(value):
        return str(int(value))
    return f"{value:.{decimals}f}".rstrip("0").rstrip(".")


def fmt_int(value: float) -> str:
    """Integer form (UI-TARS coordinates are integers)."""
    return str(int(round(float(value))))


def py_str(text: str) -> str:
    """A single-quoted Python string literal for ``text`` that ``unescape`` reads back exactly."""
    out = ["'"]
    for c in text:
        if c == "\\":
            out.append("\\\\")
        elif c == "'":
            out.append("\\'")
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\x{ord(c):02x}")
        elif 0x80 <= ord(c) < 0xA0 or c in "\u2028\u2029\ufeff\u25c1\u25b7":  # ◁ ▷ mark Kimi's thinking
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    out.append("'")
    return "".join(out)


def split_keys(spec: Any, fragment: str) -> list[str]:
    """A UI-TARS key string (``'ctrl c'``, ``'ctrl+c'``, ``'enter'``) or a list of key names -> key names."""
    if isinstance(spec, (list, tuple)):
        if not spec or not all(isinstance(k, str) and k for k in spec):
            raise ParseError("keys must be a non-empty list of key names", fragment)
        return list(spec)
    if not isinstance(spec, str):
        raise ParseError(f"keys must be a string such as 'ctrl c', got {spec!r}", fragment)
    if spec in (" ", "+"):
        return [spec]
    parts = spec.split()
    if len(parts) == 1 and len(parts[0]) > 1 and "+" in parts[0]:  # "ctrl+c", "ctrl+shift+t", "ctrl++"
        token = parts[0]
        parts = token[:-2].split("+") + ["+"] if token.endswith("++") else token.split("+")
        if not all(parts):
            raise ParseError("malformed key combination", spec)
    if not parts:
        raise ParseError("empty key string", fragment)
    return parts


# ---------------------------------------------------------------- argument binding and coercion

def bind(call: Call, params: tuple[str, ...], required: tuple[str, ...] = (), *, name: str | None = None,
         aliases: dict[str, str] | None = None, varargs: bool = False,
         accepted: Callable[[], str] | None = None) -> dict[str, Any]:
    """Match a call's arguments to parameter names, like Python would, without running anything.

    ``params`` lists the accepted names in positional order; ``aliases`` maps other spellings to them;
    with ``varargs`` extra positional arguments are returned as a list under ``"*"``.
    """
    fn = name or call.name
    aliases = aliases or {}
    out: dict[str, Any] = {}
    args = call.args
    if varargs:
        out["*"] = list(args)
    elif args:
        if len(args) > len(params):
            raise ParseError(f"{fn}() takes at most {len(params)} positional arguments, got {len(args)}", call.text)
        out.update(zip(params, args))
    for key, value in call.kwargs:
        key = aliases.get(key, key)
        if key not in params:
            names = accepted() if accepted else ", ".join(params) or "none"
            raise ParseError(f"{fn}() has no argument {key!r} (accepted: {names})", call.text)
        if key in out:
            raise ParseError(f"{fn}() got argument {key!r} twice", call.text)
        out[key] = value
    for req in required:
        if out.get(req) is None:
            raise ParseError(f"{fn}() is missing argument {req!r}", call.text)
    return out


def as_text(value: Any, what: str, fragment: str) -> str:
    if not isinstance(value, str):
        raise ParseError(f"{what} must be a string, got {value!r}", fragment)
    return value


def as_number(value: Any, what: str, fragment: str, *, allow_none: bool = True) -> float | None:
    """A number given as a literal or as a numeric string ('' and None mean 'not given')."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if allow_none:
            return None
        raise ParseError(f"{what} is required", fragment)
    if isinstance(value, str):
        token = value.strip()
        if not re.fullmatch(r"[+-]?" + _NUMBER.pattern, token):
            raise ParseError(f"{what} must be a number, got {value!r}", fragment)
        value = float(token)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParseError(f"{what} must be a finite number, got {value!r}", fragment)
    return float(value)


def as_int(value: Any, what: str, fragment: str) -> int | None:
    number = as_number(value, what, fragment)
    if number is None:
        return None
    if number != int(number):
        raise ParseError(f"{what} must be a whole number, got {value!r}", fragment)
    return int(number)


@contextmanager
def action_errors(fragment: str) -> Iterator[None]:
    """Turn an ActionError raised while building actions from model text into a ParseError quoting the text."""
    try:
        yield
    except ActionError as e:
        raise ParseError(str(e), fragment) from None


# ---------------------------------------------------------------- step rules shared by the grammars

def check_terminal_last(actions: list[Action], text: str) -> None:
    """A parsed step: nothing may follow finished/call_user (ParseError quoting the end of ``text``, the answer
    or the part of it that holds the actions)."""
    if len(actions) > 1:  # the usual step has one action; the quote is cut only when there is an error
        for a in actions[:-1]:
            if isinstance(a, TERMINAL_ACTIONS):
                raise ParseError(f"actions after {type(a).__name__} would never run", text[-120:])


def check_step(actions: list[Action]) -> None:
    """A step to format: at least one action, and finished/call_user only last (ActionError)."""
    if not actions:
        raise ActionError("a step needs at least one action")
    if any(isinstance(a, TERMINAL_ACTIONS) for a in actions[:-1]):
        raise ActionError("finished/call_user must be the last action of a step")


def typed(text: str) -> Type:
    """Typed text as both families write it: a trailing newline means "then press Enter" (``submit``)."""
    submit = text.endswith("\n")
    return Type(text[:-1] if submit else text, submit)


def model_point(p: Point) -> Point:
    """``p`` itself if it is in MODEL space (what formatters write); UnsupportedAction otherwise."""
    if p.space is not Space.MODEL:
        raise UnsupportedAction(f"format model-space points; got a point in {p.space.value} space "
                                "(map it with the profile's ModelFrame first)")
    return p
