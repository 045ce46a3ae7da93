"""The regex fast paths of the literal reader give exactly what the general readers give.

``parse_calls`` and ``parse_box`` try a cheap regex first for the shapes real model outputs use most, and fall
back to the full scanner / general box reader for everything else. These tests compare the two on text built
from the characters that matter (quotes, backslashes, escapes, separators, line breaks), outcome for outcome:
the same calls or points, or the same ParseError message.
"""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from guiagent.actions.families.literals import parse_box, parse_calls
from guiagent.errors import ParseError

_LABEL = re.compile(r"Action[ \t]*[:：]")  # what the UI-TARS grammar allows in front of each call


def _calls(text: str, lenient: bool, fast: bool, prefix: re.Pattern[str] | None = None):
    try:
        return parse_calls(text, lenient_quotes=lenient, fast=fast, prefix=prefix)
    except ParseError as e:
        return ("error", str(e))


def _box(text: str, fast: bool):
    try:
        return parse_box(text, fast=fast)
    except ParseError as e:
        return ("error", str(e))


# String bodies made of the characters a string reader can get wrong.
_STRING_BODIES = st.lists(st.sampled_from(list("ab '\"\\nxu0,()\t") + ["\\n", "\\'", '\\"', "\\\\", "\\x41", "\\x4",
                                                                       "\\u00e9", "\\ud800", "\n", "中"]),
                          max_size=12).map("".join)
_STRINGS = st.builds(lambda q, body, close: f"{q}{body}{close}", st.sampled_from(["'", '"']), _STRING_BODIES,
                     st.sampled_from(["'", '"', ""]))
_NUMBERS = st.sampled_from(["1", "-2.5", "0.125", "9" * 16, "1.", "12ab", "- 3"])
_ARGS = st.builds(lambda key, value, space: f"{space}{key}{value}{space}",
                  st.sampled_from(["", "content=", "k = ", "start_box="]), st.one_of(_STRINGS, _NUMBERS),
                  st.sampled_from(["", " ", "\t"]))
_CALLS = st.builds(lambda name, args, comma, close: f"{name}({', '.join(args)}{comma}{close}",
                   st.sampled_from(["type", "pyautogui.write", "f"]), st.lists(_ARGS, max_size=3),
                   st.sampled_from(["", ","]), st.sampled_from([")", ")", "", "]"]))
_LABELED = st.builds(lambda label, call: label + call, st.sampled_from(["", "", " ", "Action: ", "Action:", "\n"]),
                     _CALLS)
_TEXTS = st.builds(lambda calls, sep, end: sep.join(calls) + end, st.lists(_LABELED, min_size=1, max_size=3),
                   st.sampled_from(["\n", "\n\n", "; ", " "]), st.sampled_from(["", "", "\n", " ;", "\u3000", " x"]))


@settings(max_examples=1000, deadline=None)
@given(_TEXTS, st.booleans(), st.sampled_from([None, _LABEL]))
def test_call_fast_path_agrees_on_strings_with_escapes(text, lenient, prefix):
    assert _calls(text, lenient, True, prefix) == _calls(text, lenient, False, prefix)


def _import_line(line: str) -> bool:
    """Import lines, and (to show that the fast path asks) calls of ``f``, which the fast path could read."""
    return line.startswith(("import ", "f("))


def _calls_skipping(text: str, fast: bool):
    try:
        return parse_calls(text, allow_comments=True, skip_line=_import_line, fast=fast)
    except ParseError as e:
        return ("error", str(e))


# Code as the pyautogui families write it: calls, import lines the grammar skips, and lines that only look alike.
_CODE_LINES = st.one_of(_LABELED, st.sampled_from(["import pyautogui", "import time", "  import pyautogui  ",
                                                    "imports(1)", "import(1)", "# import x", "import pyautogui; f()"]))


@settings(max_examples=1000, deadline=None)
@given(st.lists(_CODE_LINES, min_size=1, max_size=4), st.sampled_from(["\n", "\n\n", " "]))
def test_call_fast_path_agrees_when_lines_are_skipped(lines, sep):
    """With ``skip_line`` (what the pyautogui grammars pass) the fast path must leave every skipped line to the
    scanner, and give the scanner's answer on everything else."""
    text = sep.join(lines)
    assert _calls_skipping(text, True) == _calls_skipping(text, False)


def test_call_fast_path_is_taken_with_skip_line_and_no_skipped_line():
    from guiagent.actions.families import literals

    text = "pyautogui.click(x=0.5, y=0.25)\npyautogui.write('hi')"
    assert literals._fast_calls(text, None, _import_line) == parse_calls(text, skip_line=_import_line, fast=False)
    assert literals._fast_calls("import pyautogui\n" + text, None, _import_line) is None


def test_call_fast_path_reads_escapes_like_python():
    text = "type(content='He said \\\"hi\\\" and it\\'s fine\\n')"
    assert parse_calls(text, lenient_quotes=True)[0].kwargs == (("content", "He said \"hi\" and it's fine\n"),)
    assert _calls(text, True, True) == _calls(text, True, False)


_NUMS = st.sampled_from(["0", "7", "500", "1000", "0.5", "12.25", "1" * 15, "1" * 16, "1" * 400, "1.", ".5", "-1",
                         "1e3", ""])
_BRACKETS = st.sampled_from([("(", ")"), ("<point>", "</point>"), ("(", ")"), ("<point>", "</point>"), ("[", "]"),
                             ("<bbox>", "</bbox>"), ("", ""), (" (", ") "), ("(", "</point>"), ("<point>", ")")])
_BOXES = st.builds(
    lambda brackets, x, sep, y, tokens: (f"<|box_start|>{brackets[0]}{x}{sep}{y}{brackets[1]}<|box_end|>"
                                         if tokens else f"{brackets[0]}{x}{sep}{y}{brackets[1]}"),
    _BRACKETS, _NUMS, st.sampled_from([",", " ", ",", " ", ", ", " , ", ",,", ""]), _NUMS, st.booleans())


@settings(max_examples=1000, deadline=None)
@given(_BOXES)
def test_box_fast_path_agrees_with_the_general_reader(text):
    assert _box(text, True) == _box(text, False)


# The UI-TARS-2 XML form is read with str.find scans; these regexes say what they must find (their lazy ".*?" is
# what the scans replaced: slower, and the obvious statement of the rule).
_TOOL_RE = re.compile(r"<seed:tool_call>(.*?)(?:</seed:tool_call>|\Z)", re.S)
_ITEM_RE = {tag: re.compile(rf"\s*<{tag}=([^<>\s]+)>(.*?)</{tag}>", re.S) for tag in ("function", "parameter")}


def _items_by_regex(body: str, tag: str):
    items, pos = [], 0
    while (m := _ITEM_RE[tag].match(body, pos)) is not None:
        items.append((m.group(1), m.group(2), m.group(0).strip()))
        pos = m.end()
    if body[pos:].strip():
        return ("error", str(ParseError(f"expected <{tag}=NAME>...</{tag}>", body[pos:].strip()[:80])))
    return items


def _items_by_scan(body: str, tag: str):
    from guiagent.actions.families.uitars import xml_items

    try:
        return xml_items(body, tag)
    except ParseError as e:
        return ("error", str(e))


_XML_PIECES = st.lists(st.sampled_from(["<seed:tool_call>", "</seed:tool_call>", "<function=", "</function>",
                                        "<parameter=", "</parameter>", ">", "<", "click", "a b", "=", " ", "\n",
                                        "\u3000", "<point>1 2</point>"]), max_size=14).map("".join)


@settings(max_examples=2000, deadline=None)
@given(_XML_PIECES, st.sampled_from(["function", "parameter"]))
def test_xml_scans_find_what_the_regexes_describe(text, tag):
    from guiagent.actions.families.uitars import tool_call_blocks

    assert tool_call_blocks(text) == ([m.group(1) for m in _TOOL_RE.finditer(text)], _TOOL_RE.sub("", text))
    assert _items_by_scan(text, tag) == _items_by_regex(text, tag)


_SECTION_TEXT = st.lists(st.sampled_from(["Thought", "Action", "Reflection", "Action_Summary", ":", "：", " ", "\t",
                                          "\n", "\r", "x", "click(", "\n\n", "Thought: ", "\nAction: "]),
                         max_size=12).map("".join)


@settings(max_examples=2000, deadline=None)
@given(_SECTION_TEXT, st.integers(1, 40))
def test_next_header_search_finds_what_the_multiline_search_finds(text, pos):
    """split_sections looks for the header after a header with _NEXT_HEADER (a literal "\\n" first): from a
    position past the start that does not follow a line break (as a header's end never does) it must find the
    same header."""
    from guiagent.actions.families.uitars import _HEADER, _NEXT_HEADER

    pos = min(pos, len(text))
    if pos == 0 or text[pos - 1] == "\n":
        return
    by_line_start, after_break = _HEADER.search(text, pos), _NEXT_HEADER.search(text, pos)
    assert (by_line_start is None) == (after_break is None)
    if by_line_start is not None:
        assert by_line_start.span(1) == after_break.span(1)
        assert (by_line_start.group(2), by_line_start.end()) == (after_break.group(2), after_break.end())
