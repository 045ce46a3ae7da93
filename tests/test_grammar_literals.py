"""The shared literal reader (calls, strings, numbers, boxes, keys), the history helpers and the registry."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guiagent.actions import types as t
from guiagent.actions.families import GRAMMARS, get_grammar, restore_box_tokens, strip_thinking
from guiagent.actions.families.literals import (
    fmt_number, parse_box, parse_call, parse_calls, py_str, split_keys, unescape,
)
from guiagent.actions.types import Point, Space
from guiagent.errors import ConfigError, ParseError


@pytest.mark.parametrize("text,expected", [
    ("(235,512)", (235, 512)), ("( 235 , 512 )", (235, 512)), ("<|box_start|>(235,512)<|box_end|>", (235, 512)),
    ("[100, 200, 300, 400]", (200, 300)), ("[7,8]", (7, 8)), ("<bbox>10 20 30 40</bbox>", (20, 30)),
    ("<point>500 300</point>", (500, 300)), ("<|box_start|><point>1 2</point><|box_end|>", (1, 2)),
    ("500 300", (500, 300)), ("(1,2,4,8)", (2.5, 5)), ("(0.25,0.5)", (0.25, 0.5)),
])
def test_every_box_syntax_means_its_centre(text, expected):
    assert parse_box(text) == Point(*expected, Space.MODEL)


@pytest.mark.parametrize("text", ["", "(1)", "(1,2,3)", "(a,b)", "(-1,2)", "<point>1 2", "(1,2)(3,4)", "1e5 2",
                                  "(1,,2)"])
def test_bad_boxes_raise_parse_error_quoting_them(text):
    with pytest.raises(ParseError) as info:
        parse_box(text)
    assert repr(text) in str(info.value)


def test_call_reader_handles_python_literal_forms():
    c = parse_call("f(1, -2.5, +3, .5, 1e3, 'a', \"b\", True, None, [1, (2, 3)], k='v')")
    assert c.name == "f"
    assert c.args == (1, -2.5, 3, 0.5, 1000.0, "a", "b", True, None, [1, (2, 3)])
    assert c.kwargs == (("k", "v"),)
    assert parse_call("pyautogui.hotkey('ctrl', 'c',)").name == "pyautogui.hotkey"
    assert parse_call("f('''multi\nline''')").args == ("multi\nline",)


def test_strings_decode_escapes_and_keep_unknown_ones():
    assert parse_call(r"f('a\'b\"c\nd\te\\f\x41\u00e9\U0001F600')").args == ("a'b\"c\nd\te\\fAé😀",)
    assert parse_call(r"f('C:\path\dir')").args == ("C:\\path\\dir",)
    assert parse_call("f('real\nnewline')").args == ("real\nnewline",)
    with pytest.raises(ParseError, match="escape"):
        unescape(r"\ud800")
    with pytest.raises(ParseError, match="escape"):
        unescape(r"\x4")


def test_lenient_quotes_only_close_before_a_separator():
    assert parse_call("type(content='I'm here')", lenient_quotes=True).args == ()
    assert parse_call("type(content='I'm here')", lenient_quotes=True).kwargs == (("content", "I'm here"),)
    with pytest.raises(ParseError, match="found 'm'"):
        parse_call("type(content='I'm here')")


@pytest.mark.parametrize("text,why", [
    ("f(x)", "not a literal"), ("f(a.b)", "not a literal"), ("f(1+2)", "expected"), ("f(g(1))", "not a literal"),
    ("f(*[1])", "expected a literal"), ("f(**{})", "expected a literal"), ("f(lambda: 0)", "not a literal"),
    ("f(1, k=2, 3)", "positional argument after"), ("f(k=1, k=2)", "twice"), ("f(1", "expected"),
    ("f('abc)", "unterminated"), ("f(" + "[" * 20 + "]" * 20 + ")", "nested"), ("f(1e400)", "out of range"),
    ("f(12abc)", "malformed number"), ("f[1]", "expected '('"), ("f(1)(2)", "after a call"), ("1(2)", "expected"),
    ("f(" + "9" * 5000 + ")", "out of range"), ("f(-'a')", "sign"),
])
def test_call_reader_rejects_everything_else(text, why):
    with pytest.raises(ParseError, match=re.escape(why)):
        parse_call(text)


def test_calls_split_on_newlines_blank_lines_and_semicolons_with_optional_comments():
    calls = parse_calls("a(1)\n\nb(2); c(3)  # note\n# whole line\nd(4)", allow_comments=True)
    assert [c.name for c in calls] == ["a", "b", "c", "d"]
    with pytest.raises(ParseError):
        parse_calls("a(1)  # note")


@pytest.mark.parametrize("value", ["", "plain", "it's", 'say "hi"', "back\\slash", "tab\tnew\nline\r",
                                   "\x00\x1f\x7f\x85", "中文 ◁think▷ ◁/think▷", "\u2028\ufeff", "\\n literally"])
def test_py_str_is_read_back_exactly(value):
    assert parse_call(f"f({py_str(value)})").args == (value,)
    assert "\n" not in py_str(value)


@pytest.mark.parametrize("value,text", [(3.0, "3"), (0.1632, "0.1632"), (0.5, "0.5"), (0.12345, "0.1235"),
                                        (1e-5, "0"), (-2.0, "-2"), (1000.25, "1000.25")])
def test_numbers_are_written_compactly(value, text):
    assert fmt_number(value) == text


@pytest.mark.parametrize("spec,keys", [("ctrl c", ["ctrl", "c"]), ("ctrl+shift+t", ["ctrl", "shift", "t"]),
                                       ("ctrl++", ["ctrl", "+"]), ("+", ["+"]), (" ", [" "]), ("enter", ["enter"]),
                                       (["alt", "f4"], ["alt", "f4"])])
def test_key_strings_split(spec, keys):
    assert split_keys(spec, "frag") == keys


def test_hotkey_aliases_normalise_to_canonical_keys():
    step = get_grammar("ui-tars-1.5").parse("Action: hotkey(key='Control Return')")
    assert step.actions == (t.Hotkey(("ctrl", "enter")),)
    step = get_grammar("kimi-vl").parse("pyautogui.hotkey('command', 'space')")
    assert step.actions == (t.Hotkey(("cmd", "space")),)


def test_restore_box_tokens_wraps_bare_boxes_in_box_arguments_only():
    text = ("Thought: the button at (10,20) is red\nAction: click(start_box='(235, 512)')\n\n"
            "drag(start_box='<|box_start|>(1,2)<|box_end|>', end_box=\"(3,4,5,6)\")")
    out = restore_box_tokens(text)
    assert out == ("Thought: the button at (10,20) is red\nAction: click(start_box='<|box_start|>(235, 512)<|box_end|>')"
                   "\n\ndrag(start_box='<|box_start|>(1,2)<|box_end|>', end_box=\"<|box_start|>(3,4,5,6)<|box_end|>\")")
    assert restore_box_tokens(out) == out
    grammar = get_grammar("ui-tars-1.0")
    assert grammar.parse(out).actions == grammar.parse(text).actions


def test_strip_thinking_drops_the_block_and_keeps_the_answer():
    assert strip_thinking("◁think▷long reasoning◁/think▷## Action:\nclick") == "## Action:\nclick"
    assert strip_thinking("reasoning without opener◁/think▷  answer") == "answer"
    assert strip_thinking("plain answer") == "plain answer"
    assert strip_thinking("answer ◁think▷cut off") == "answer"


def test_kimi_thinking_is_kept_apart_from_the_answer():
    step = get_grammar("kimi-vl").parse("◁think▷I should click.◁/think▷pyautogui.click(x=0.5, y=0.5)")
    assert step.thought == "I should click." and step.extra["thinking"] == "I should click."
    with pytest.raises(ParseError, match="more than one"):
        get_grammar("kimi-vl").parse("◁think▷a◁/think▷◁think▷b◁/think▷pyautogui.click(x=0.5, y=0.5)")


def test_summary_and_preamble_sections():
    step = get_grammar("opencua").parse("## Thought:\nt\n## Action:\nClick OK.\n## Code:\n```python\n"
                                        "pyautogui.click(x=0.5, y=0.5)\n```")
    assert (step.thought, step.summary) == ("t", "Click OK.")
    step = get_grammar("ui-tars-1.5").parse("Some preamble\nThought: t\nAction: wait()")
    assert step.extra["preamble"] == "Some preamble"
    step = get_grammar("ui-tars-1.5").parse("Thought: t\nAction: click(start_box='(1,2)')\nAction: wait()")
    assert [type(a) for a in step.actions] == [t.Click, t.Wait]


def test_lone_drag_to_drags_from_the_pointer():
    step = get_grammar("kimi-vl").parse("pyautogui.dragTo(0.5, 0.6, button='right')")
    p = Point(0.5, 0.6, Space.MODEL)
    assert step.actions == (t.MouseDown(None, "right"), t.MoveTo(p), t.MouseUp(None, "right"))


def test_osworld_special_codes_and_time_sleep():
    g = get_grammar("opencua")
    assert g.parse("```\nDONE\n```").actions == (t.Finished(),)
    assert g.parse("```\nFAIL\n```").actions == (t.CallUser(),)
    assert g.parse("```\nWAIT\n```").actions == (t.Wait(),)
    assert g.parse("import pyautogui, time\ntime.sleep(1.5)").actions == (t.Wait(1.5),)
    assert g.parse("computer.wait(seconds=3)").actions == (t.Wait(3.0),)


@pytest.mark.parametrize("text", ["```python3\npyautogui.click(x=0.1, y=0.2)\n```", "```pyautogui.click(x=0.1, y=0.2)```",
                                  "```\npyautogui.click(x=0.1, y=0.2)\n```", "Code:\npyautogui.click(x=0.1, y=0.2)",
                                  "```python\npyautogui.click(x=0.1, y=0.2)"])
def test_code_fence_variants(text):
    assert get_grammar("kimi-vl").parse(text).actions == (t.Click(Point(0.1, 0.2, Space.MODEL)),)


def test_registry_names_and_errors():
    assert GRAMMARS == ("ui-tars-1.0", "ui-tars-1.5", "ui-tars-2", "kimi-vl", "opencua", "kimi-vl-thinking")
    for name in GRAMMARS:
        assert get_grammar(name).name == name
    with pytest.raises(ConfigError, match="ui-tars-1.5"):
        get_grammar("ui-tars-3")


def test_parse_rejects_non_strings_and_huge_text():
    with pytest.raises(ParseError, match="string"):
        get_grammar("ui-tars-1.5").parse(None)  # type: ignore[arg-type]
    with pytest.raises(ParseError, match="characters long"):
        get_grammar("kimi-vl").parse("pyautogui.click(x=0.5, y=0.5)" + " " * 300_000)


def _outcome(text, lenient, fast):
    try:
        return parse_calls(text, lenient_quotes=lenient, allow_comments=True, fast=fast)
    except ParseError as e:
        return ("error", str(e))


_VALUES = ["'ok'", '"ok"', "'I'm'", "'a, b'", "'x\\'y'", "''", "1", "-2.5", "0.1234", "9" * 16, "1.", "-", "'",
           "'中文'", "[1, 2]", "None", "x", "'line\nbreak'", "'tab\t'", "12ab", "- 3", "'(1,2)'"]
_ARGS = st.builds(lambda key, value, space: f"{space}{key}{value}{space}",
                  st.sampled_from(["", "", "k=", "x = ", "y=", "k="]), st.sampled_from(_VALUES),
                  st.sampled_from(["", " ", "\t"]))
_CALLS = st.builds(lambda name, args, comma, close: f"{name}({', '.join(args)}{comma}{close}",
                   st.sampled_from(["f", "pyautogui.click", "a.b.c", "click ", "1f"]), st.lists(_ARGS, max_size=4),
                   st.sampled_from(["", ","]), st.sampled_from([")", ")", "", "]"]))
_TEXTS = st.builds(lambda calls, sep: sep.join(calls), st.lists(_CALLS, min_size=1, max_size=3),
                   st.sampled_from(["\n", "\n\n", "; ", " ", " # c\n", ""]))


@settings(max_examples=600, deadline=None)
@given(_TEXTS, st.booleans())
def test_fast_path_agrees_with_the_full_scanner(text, lenient):
    assert _outcome(text, lenient, True) == _outcome(text, lenient, False)


def test_fast_path_agrees_on_the_corpus():
    import json
    from pathlib import Path
    for path in sorted((Path(__file__).parent / "corpus").glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            text = json.loads(line)["text"]
            for start in range(len(text)):
                if text[start].isalpha() and (start == 0 or not text[start - 1].isalnum()):
                    assert _outcome(text[start:], True, True) == _outcome(text[start:], True, False)
