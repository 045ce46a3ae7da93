"""Relative coordinates off the image are refused on the one path from model text to actions (Profile.read)."""

import pytest

from guiagent.actions.types import Space
from guiagent.errors import ParseError
from guiagent.models.profiles import get_profile

SIZE = (1920, 1080)


@pytest.mark.parametrize("family", ["kimi-vl", "kimi-vl-thinking", "opencua"])
@pytest.mark.parametrize("code, value", [
    ("pyautogui.click(x=5, y=0.2)", "x=5"),
    ("pyautogui.click(x=-0.5, y=0.2)", "x=-0.5"),
    ("pyautogui.click(x=0.5, y=1.0005)", "y=1.0005"),
    ("pyautogui.moveTo(x=0.1, y=0.1)\npyautogui.dragTo(x=0.5, y=-0.01)", "y=-0.01"),
    ("pyautogui.scroll(-3, x=1.5, y=0.5)", "x=1.5"),
])
def test_out_of_range_relative_point_is_a_parse_error(family, code, value):
    with pytest.raises(ParseError) as e:
        get_profile(family).read(f"## Code:\n```python\n{code}\n```", SIZE)
    assert value in str(e.value) and "0..1" in str(e.value)


@pytest.mark.parametrize("family", ["kimi-vl", "opencua"])
def test_the_edges_0_and_1_are_allowed(family):
    step = get_profile(family).read("## Code:\n```python\npyautogui.moveTo(x=0, y=1)\npyautogui.dragTo(x=1, y=0)\n```",
                                    SIZE)
    (drag,) = step.actions
    assert (drag.start.x, drag.start.y, drag.end.x, drag.end.y) == (0, 1080, 1920, 0)
    assert drag.start.space is Space.SCREENSHOT


def test_relative_1000_is_checked_too_but_absolute_pixels_are_not():
    with pytest.raises(ParseError, match="x=1200"):
        get_profile("ui-tars-2").read("Thought: t\nAction: click(point='<point>1200 500</point>')", SIZE)
    # UI-TARS-1.5 answers in pixels of the resized image: values well above 1 are normal there
    step = get_profile("ui-tars-1.5").read("Thought: t\nAction: click(start_box='(1200,500)')", SIZE)
    assert step.actions[0].point.x > 1
