"""Formats real deployments emit beyond the families' own prompts (tests/corpus/real-formats.jsonl, each row
naming its source): Action: on the thought's line, special tokens left by servers, UI-TARS-desktop's omni and O1
wrappers, type(text=...), AgentNet / AGUVIS keyword forms. Genuinely ambiguous inputs stay a ParseError that says
why (tests/corpus/real-formats-refused.jsonl). Expected actions are in pixels of a 1000x1000 screen, worked out by
hand from the family's convention (0..1000 relative, 0..1 normalized, or ui-tars-1.5's 1008x1008 resize)."""

import json
from pathlib import Path

import pytest

from guiagent.actions.jsonform import action_to_json
from guiagent.actions.types import map_points
from guiagent.errors import ParseError
from guiagent.models.profiles import get_profile

CORPUS = Path(__file__).parent / "corpus"


def _rows(name):
    with open(CORPUS / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


GOOD = _rows("real-formats.jsonl")
REFUSED = _rows("real-formats-refused.jsonl")


def test_every_row_names_its_source():
    assert all(row["source"].strip() for row in GOOD + REFUSED)
    assert len(GOOD) >= 15 and len(REFUSED) >= 6


@pytest.mark.parametrize("row", GOOD, ids=[r["id"] for r in GOOD])
def test_real_format_parses_to_expected_screen_actions(row):
    profile = get_profile(row["family"])
    step = profile.parser().parse(row["text"])
    frame = profile.frame(tuple(row["screen"]))
    assert [action_to_json(map_points(a, frame.to_screenshot)) for a in step.actions] == row["actions"]
    assert step.raw == row["text"]
    for key in ("thought", "reflection"):
        if key in row:
            assert getattr(step, key) == row[key]


@pytest.mark.parametrize("row", REFUSED, ids=[r["id"] for r in REFUSED])
def test_ambiguous_input_is_refused_saying_why(row):
    with pytest.raises(ParseError) as info:
        get_profile(row["family"]).parser().parse(row["text"])
    message = str(info.value)
    assert row["why"] in message, message
    assert row["fragment"] in message or repr(row["fragment"])[1:-1] in message, message


@pytest.mark.parametrize("token", ["<|im_end|>", "<|endoftext|>", "</s>", "<|end|>", "<|eot_id|>"])
@pytest.mark.parametrize("family,text", [
    ("ui-tars-1.5", "Thought: go\nAction: click(start_box='(10,20)')"),
    ("ui-tars-2", "<gui_think>go</gui_think>\n<seed:tool_call>\n<function=wait>\n</function>\n</seed:tool_call>"),
    ("kimi-vl", "◁think▷go◁/think▷## Code:\n```python\npyautogui.click(x=0.1, y=0.2)\n```"),
    ("opencua", "pyautogui.click(x=0.1, y=0.2)"),
])
def test_special_tokens_after_the_last_action_are_ignored(family, text, token):
    grammar = get_profile(family).parser()
    want = grammar.parse(text).actions
    for tail in (token, "\n" + token, token + "\n" + token + "\n", " " + token + token):
        assert grammar.parse(text + tail).actions == want


def test_special_tokens_inside_typed_text_are_kept():
    step = get_profile("ui-tars-1.5").parser().parse("Action: type(content='a<|im_end|>b')<|im_end|>")
    assert step.actions[0].text == "a<|im_end|>b"


def test_inline_action_label_needs_a_call_after_it():
    grammar = get_profile("ui-tars-1.0").parser()
    # prose mentioning "Action:" is not a label; the call after the real one is
    step = grammar.parse("Thought: The Action: menu holds it. Action: click(start_box='(1,2)')")
    assert step.thought == "The Action: menu holds it." and len(step.actions) == 1
    with pytest.raises(ParseError, match="no 'Action:' section"):
        grammar.parse("Thought: I will pick an Action: later")
