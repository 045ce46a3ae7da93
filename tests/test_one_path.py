"""The two data paths, each one function, tested as round trips: model text -> SCREENSHOT actions
(``Profile.read``) and SCREENSHOT actions -> SCREEN actions (``Display.action_to_screen``)."""

from __future__ import annotations

import pytest

from guiagent.actions import types as t
from guiagent.actions.coords import Display
from guiagent.actions.types import Point, Space, points_of
from guiagent.errors import ActionError, EnvError, ParseError
from guiagent.models.profiles import PROFILES, get_profile

SIZES = [(1920, 1080), (1280, 800), (2560, 1440), (1366, 768)]


@pytest.mark.parametrize("family", list(PROFILES))
@pytest.mark.parametrize("size", SIZES)
def test_read_maps_what_the_family_wrote_back_to_the_screenshot_point(family, size):
    profile = get_profile(family)
    frame = profile.frame(size)
    target = Point(size[0] * 0.37, size[1] * 0.61, Space.SCREENSHOT)
    # the model's text for a click on ``target``, as the family's formatter writes it
    text = profile.parser().format_step([t.Click(frame.to_model(target))], thought="go")
    step = profile.read(text, size)
    (click,) = step.actions
    assert click.point.space is Space.SCREENSHOT
    # formats round their numbers (integers in 0..1000, pixels of the resized image): within one model unit
    assert abs(click.point.x - target.x) <= size[0] / 1000 + 1e-9 and abs(click.point.y - target.y) <= size[1] / 1000 + 1e-9
    assert step.model_actions[0].point.space is Space.MODEL
    assert frame.to_screenshot(step.model_actions[0].point) == click.point
    assert step.raw == text


def test_read_raises_parse_errors_and_keeps_actions_without_points():
    profile = get_profile("ui-tars-1.5")
    with pytest.raises(ParseError):
        profile.read("Action: explode()", (1920, 1080))
    step = profile.read("Action: hotkey(key='ctrl c')\n\nAction: finished(content='ok')", (1920, 1080))
    assert step.actions == step.model_actions == (t.Hotkey(("ctrl", "c")), t.Finished("ok"))


def test_to_screenshot_maps_model_points_and_keeps_the_others():
    profile = get_profile("ui-tars-1.5")
    given = t.Step((t.Click(Point(500, 500, Space.MODEL)), t.Click(Point(7, 8, Space.SCREENSHOT))), "")
    step = profile.to_screenshot(given, (1000, 1000))
    assert [p.space for a in step.actions for p in points_of(a)] == [Space.SCREENSHOT, Space.SCREENSHOT]
    assert step.actions[1] == t.Click(Point(7, 8))
    assert step.model_actions == given.actions and given.model_actions is None  # the given step is unchanged


@pytest.mark.parametrize("scale, offset", [(1.0, (0.0, 0.0)), (2.0, (0.0, 0.0)), (1.5, (1920.0, -200.0))])
def test_action_to_screen_round_trips_and_refuses_the_same_way_everywhere(scale, offset):
    d = Display((1200, 900), scale, offset)
    drag = t.Drag(Point(10, 20), Point(1199, 899))
    screen = d.action_to_screen(drag)
    assert all(p.space is Space.SCREEN for p in points_of(screen))
    back = [d.to_screenshot(p) for p in points_of(screen)]
    assert all(abs(a.x - b.x) < 1e-9 and abs(a.y - b.y) < 1e-9 for a, b in zip(back, points_of(drag)))
    assert d.action_to_screen(screen) == screen  # SCREEN points pass through
    whole = d.action_to_screen(drag, whole_points=True)
    for p in points_of(whole):
        assert p.x == int(p.x) and p.y == int(p.y)
        assert d.contains_screen_point(p)  # rounding never leaves the display
    assert d.action_to_screen(t.Type("x")) == t.Type("x")
    with pytest.raises(ActionError, match="model space.*ModelFrame"):
        d.action_to_screen(t.Click(Point(1, 1, Space.MODEL)))
    with pytest.raises(EnvError, match=r"outside monitor 3 \(1200x900 screenshot pixels.*nothing was sent"):
        d.action_to_screen(t.Click(Point(1200, 5)), where="monitor 3")
    with pytest.raises(EnvError, match="outside the screen"):
        d.action_to_screen(t.MoveTo(Point(offset[0] - 1, offset[1], Space.SCREEN)))
