"""A box whose numbers are in exponent form is refused with an error that says so (not "needs 2 or 4 numbers"),
by the fast and the general reader alike, and through a family grammar."""

import pytest

from guiagent.actions.families.literals import parse_box
from guiagent.errors import ParseError
from guiagent.models.profiles import get_profile


@pytest.mark.parametrize("box", ["(1e308,5)", "(1E3,5)", "[2.5e-3, 5, 1, 2]", "<point>5 1e+2</point>",
                                 "<|box_start|>(.5e1,5)<|box_end|>"])
@pytest.mark.parametrize("fast", [True, False])
def test_exponents_are_named_in_the_error(box: str, fast: bool) -> None:
    with pytest.raises(ParseError, match="plain decimals .* without exponents") as info:
        parse_box(box, fast=fast)
    assert "2 or 4" not in str(info.value)


@pytest.mark.parametrize("box", ["(-5,5)", "(5,5,6)", "(x,5)", "(1e5,5,6)", "(1.,5)"])
def test_other_bad_numbers_keep_the_count_message(box: str) -> None:
    with pytest.raises(ParseError, match="a box needs 2 or 4 non-negative numbers"):
        parse_box(box)


def test_through_the_ui_tars_grammar() -> None:
    with pytest.raises(ParseError, match="without exponents"):
        get_profile("ui-tars-1.5").parser().parse("Action: click(start_box='(1e308,5)')")
