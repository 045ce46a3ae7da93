"""Every family's grammar against a corpus of real-format outputs (tests/corpus/*.jsonl).

Each corpus row gives the model text, the screen size, and the exact expected actions in screen pixels (computed
from the reference formulas when the corpus was written, not by guiagent). Malformed rows must give a ParseError
whose message quotes the bad fragment.
"""

import json
from pathlib import Path

import pytest

from guiagent.actions.jsonform import action_to_json
from guiagent.actions.types import Space
from guiagent.errors import ParseError
from guiagent.models.profiles import get_profile

CORPUS = Path(__file__).parent / "corpus"
FAMILIES = ["ui-tars-1.0", "ui-tars-1.5", "ui-tars-2", "kimi-vl", "opencua"]


def _rows(name):
    with open(CORPUS / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


GOOD = [(family, row) for family in FAMILIES for row in _rows(f"{family}.jsonl")]
BAD = _rows("malformed.jsonl")


def test_corpus_covers_every_family_with_several_examples():
    counts = {f: sum(1 for fam, _ in GOOD if fam == f) for f in FAMILIES}
    assert all(n >= 8 for n in counts.values()), counts
    assert {row["family"] for row in BAD} == set(FAMILIES)


@pytest.mark.parametrize("family,row", GOOD, ids=[row["id"] for _, row in GOOD])
def test_corpus_output_parses_to_expected_screen_actions(family, row):
    profile = get_profile(family)
    step = profile.read(row["text"], tuple(row["screen"]))
    assert all(p.space is Space.MODEL for a in step.model_actions for p in _points(a))
    got = [action_to_json(a) for a in step.actions]
    assert got == row["actions"]
    assert step.raw == row["text"]
    for key in ("thought", "reflection"):
        if key in row:
            assert getattr(step, key) == row[key]


@pytest.mark.parametrize("row", BAD, ids=[f"{r['family']}:{r['why']}" for r in BAD])
def test_malformed_output_raises_parse_error_quoting_the_fragment(row):
    grammar = get_profile(row["family"]).parser()
    with pytest.raises(ParseError) as info:
        grammar.parse(row["text"])
    message = str(info.value)
    fragment = row["fragment"]
    assert fragment in message or repr(fragment)[1:-1] in message, message


def _points(action):
    from guiagent.actions.types import points_of
    return points_of(action)
