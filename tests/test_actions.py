import math

import pytest

from guiagent.actions import (ACTION_CLASSES, CallUser, Click, Drag, Finished, Hotkey, KeyDown, KeyUp, LongPress,
                              MouseDown, MouseUp, MoveTo, Navigate, NavigateBack, OpenApp, Point, Press, PressBack,
                              PressHome, Scroll, Space, Type, Wait, action_from_json, action_to_json, canonical,
                              double_click, map_points, points_of, right_click)
from guiagent.actions.keys import canonical_key
from guiagent.errors import ActionError

P = Point(10, 20)


@pytest.mark.parametrize("alias,canon", [
    ("Control", "ctrl"), ("ctrl", "ctrl"), ("command", "cmd"), ("cmd", "cmd"), ("win", "cmd"), ("super", "cmd"),
    ("Escape", "esc"), ("return", "enter"), ("Enter", "enter"), ("ArrowUp", "up"), ("pgdn", "pagedown"),
    ("A", "a"), ("F5", "f5"), ("option", "alt"),
])
def test_key_aliases_fold_to_one_vocabulary(alias, canon):
    assert canonical_key(alias) == canon


@pytest.mark.parametrize("bad", ["", "ctrl+c", "hyper", "f99", "é", "  "])
def test_unknown_keys_are_refused(bad):
    with pytest.raises(ActionError):
        canonical_key(bad)


def test_hotkey_is_normalised_and_validated():
    assert Hotkey(("Control", "C")).keys == ("ctrl", "c")
    with pytest.raises(ActionError, match="at least one"):
        Hotkey(())
    with pytest.raises(ActionError, match="list"):
        Hotkey("ctrl c")  # type: ignore[arg-type]
    with pytest.raises(ActionError, match="repeats"):
        Hotkey(("ctrl", "control"))


@pytest.mark.parametrize("make", [
    lambda: Click(P, "middle-ish"), lambda: Click(P, clicks=0), lambda: Click(P, clicks=True),
    lambda: Scroll("sideways", P), lambda: Scroll("up", P, amount=0), lambda: Type(123),
    lambda: Wait(-1), lambda: Wait(math.nan), lambda: OpenApp("  "), lambda: Navigate(""),
    lambda: Click((1, 2)), lambda: Point("1", 2), lambda: Point(True, 2), lambda: Press("nokey"),
])
def test_invalid_actions_fail_at_construction(make):
    with pytest.raises(ActionError):
        make()


def test_actions_are_frozen():
    with pytest.raises(Exception):
        Click(P).button = "right"  # type: ignore[misc]


EXAMPLES = [
    Click(P), double_click(P), right_click(P), Click(P, "middle", 1), Click(P, "left", 3),
    Drag(P, Point(30, 40)), Scroll("down", P), Scroll("left"), Scroll("up", P, 3), Type("héllo\n世界", True),
    Hotkey(("ctrl", "c")), Press("enter"), KeyDown("shift"), KeyUp("shift"), MoveTo(P), MouseDown(P),
    MouseUp(None, "right"), Wait(), Wait(2.5), Finished(), Finished("42"), CallUser("need login"),
    LongPress(P, 1.0), OpenApp("Mail"), PressHome(), PressBack(), Navigate("https://example.com"), NavigateBack(),
]


def test_examples_cover_every_action_class():
    assert {type(a) for a in EXAMPLES} == set(ACTION_CLASSES)


@pytest.mark.parametrize("action", EXAMPLES + [Drag(P, Point(30, 40), "right", (Point(1, 2), Point(3, 4)))],
                         ids=lambda a: type(a).__name__)
def test_json_round_trip(action):
    data = action_to_json(action)
    assert action_from_json(data) == action


def test_json_form_matches_the_documented_shape():
    assert action_to_json(Click(Point(99.37888, 197.80219))) == {"type": "click", "x": 99.379, "y": 197.802}
    assert action_to_json(Drag(P, Point(1, 2))) == {"type": "drag", "x": 10.0, "y": 20.0, "to_x": 1.0, "to_y": 2.0}
    assert action_to_json(Scroll("up")) == {"type": "scroll", "x": None, "y": None, "direction": "up"}
    assert action_to_json(Type("a", True)) == {"type": "type", "text": "a", "submit": True}
    assert action_to_json(Hotkey(("ctrl", "v"))) == {"type": "hotkey", "keys": ["ctrl", "v"]}


@pytest.mark.parametrize("data", [{}, {"type": "teleport"}, {"type": "click", "x": 1},
                                  {"type": "type"}, {"type": "hotkey", "keys": []}, "click"])
def test_malformed_json_is_refused(data):
    with pytest.raises(ActionError):
        action_from_json(data)


def test_map_points_replaces_only_points():
    moved = map_points(Drag(P, Point(1, 1)), lambda p: Point(p.x * 2, p.y * 2, Space.SCREEN))
    assert moved == Drag(Point(20, 40, Space.SCREEN), Point(2, 2, Space.SCREEN))
    assert points_of(Type("x")) == []
    assert map_points(Type("x"), lambda p: p) == Type("x")


@pytest.mark.parametrize("action", EXAMPLES + [Drag(P, Point(30, 40), "right", (Point(1, 2), Point(3, 4)))],
                         ids=lambda a: type(a).__name__)
def test_map_points_moves_every_point_an_action_carries(action):
    """map_points reads only the fields annotated as holding points: each class must declare all of them."""
    moved = map_points(action, lambda p: Point(p.x + 1, p.y + 2, Space.SCREEN))
    assert points_of(moved) == [Point(p.x + 1, p.y + 2, Space.SCREEN) for p in points_of(action)]
    assert type(moved) is type(action)


def test_canonical_single_key_hotkey_is_press():
    assert canonical(Hotkey(("enter",))) == Press("enter")
    assert canonical(Hotkey(("ctrl", "a"))) == Hotkey(("ctrl", "a"))
