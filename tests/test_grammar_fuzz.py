"""Fuzzing: whatever text a model produces, a grammar either returns a valid Step or raises ParseError.

Inputs are arbitrary text, and grammar-shaped text: real corpus outputs with characters inserted, deleted or
replaced, sections cut, fragments of other families spliced in.
"""

import json
import math
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guiagent.actions.families import GRAMMARS, UI_TARS_2_POINT, get_grammar
from guiagent.actions.types import ACTION_CLASSES, Space, Step, points_of
from guiagent.errors import ParseError

GRAMMAR_OBJECTS = [get_grammar(n) for n in GRAMMARS] + [UI_TARS_2_POINT]
CORPUS = Path(__file__).parent / "corpus"
SEEDS = [json.loads(line)["text"] for f in sorted(CORPUS.glob("*.jsonl")) for line in f.open(encoding="utf-8")
         if line.strip()]
# Pieces of every grammar, so mutations produce near-misses rather than only noise.
TOKENS = ["Thought:", "Action:", "Action：", "Reflection:", "Action_Summary:", "\n\n", "click(", "start_box=",
          "point=", "'(", ")'", "<|box_start|>", "<|box_end|>", "<point>", "</point>", "<bbox>", "[", "]", ",", "'",
          '"', "\\", "\\n", "\\'", "(", ")", "=", "-", "1e999", "nan", "0.5", "999", "type(content='", "hotkey(key='",
          "ctrl c", "◁think▷", "◁/think▷", "## Code:", "```python\n", "```", "pyautogui.click(x=", "pyautogui.",
          "computer.terminate(status='success')", "<gui_think>", "</gui_think>", "<seed:tool_call>",
          "</seed:tool_call>", "<function=click>", "</function>", "<parameter=point>", "</parameter>", "#", ";",
          "__import__('os')", "lambda: 0", "**{}", "*[]", "finished()", "\x00", "\ud7ff", "中文", " "]


def _check_result(step):
    assert isinstance(step, Step)
    assert step.actions
    for a in step.actions:
        assert isinstance(a, ACTION_CLASSES)
        for p in points_of(a):
            assert p.space is Space.MODEL and math.isfinite(p.x) and math.isfinite(p.y)


def _parse_all(text):
    for g in GRAMMAR_OBJECTS:
        try:
            step = g.parse(text)
        except ParseError as e:
            assert str(e)  # a message, always
            continue
        _check_result(step)


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace", "truncate", "splice"]))
        if op == "insert":
            piece = draw(st.one_of(st.sampled_from(TOKENS), st.text(max_size=5)))
            text = text[:pos] + piece + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 8)):]
        elif op == "replace":
            text = text[:pos] + draw(st.sampled_from(TOKENS)) + text[pos + 1:]
        elif op == "truncate":
            text = text[:pos]
        else:
            other = draw(st.sampled_from(SEEDS))
            text = text[:pos] + other[draw(st.integers(0, len(other))):]
    return text


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_arbitrary_text_gives_a_step_or_parse_error(text):
    _parse_all(text)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=25).map("".join))
def test_grammar_token_soup_gives_a_step_or_parse_error(text):
    _parse_all(text)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_real_outputs_give_a_step_or_parse_error(text):
    _parse_all(text)


def test_pathological_inputs_are_rejected_cleanly():
    cases = ["(" * 5000, "[" * 5000, "click(start_box=" + "[" * 500 + "]" * 500 + ")", "-" * 10000 + "1",
             "Action: " + "click(start_box='(1,2)')\n" * 2000, "x" * 300_000, "'" * 10000,
             "pyautogui.click(x=" + "9" * 5000 + ", y=1)", "◁think▷" * 100, "<seed:tool_call>" * 1000]
    for text in cases:
        _parse_all(text)
