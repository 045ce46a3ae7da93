"""The mock desktop as an Env: protocol, every action class, errors that leave state untouched, initial state."""

from __future__ import annotations

import json

import pytest

from guiagent.actions import types as T
from guiagent.actions.types import Click, Point, Space
from guiagent.envs.base import Env, SupportsCheck
from guiagent.envs.mock import MockDesktop
from guiagent.errors import ActionError, EnvError


def center(d: MockDesktop, role: str, name: str | None = None, **kw) -> Point:
    x, y = d.find(role=role, name=name, **kw).center
    return Point(x, y, Space.SCREEN)


def test_implements_env_protocol_and_display():
    d = MockDesktop(1024, 640, scale=1.5)
    assert isinstance(d, Env) and d.name == "mock"
    assert d.display.size_px == (1536, 960) and d.display.scale == 1.5
    obs = d.reset(seed=3)
    assert obs.screenshot.size == (1536, 960) and obs.screenshot.mode == "RGB"
    d.close()
    d.close()  # safe twice
    with pytest.raises(EnvError, match="closed"):
        d.observe()


def test_every_action_class_is_accepted():
    d = MockDesktop(initial_state={"open": ["editor"]})
    p = center(d, "text_area", "Document")
    actions = [
        Click(p), T.Drag(p, Point(p.x + 20, p.y, Space.SCREEN)), T.Scroll("down", p), T.Scroll("up"),
        T.Type("hi"), T.Hotkey(("ctrl", "a")), T.Press("right"), T.KeyDown("shift"), T.KeyUp("shift"),
        T.MoveTo(p), T.MouseDown(p), T.MouseUp(p), T.Wait(0.5), T.Finished("done"), T.CallUser("help"),
        T.LongPress(p), T.OpenApp("calculator"), T.PressHome(), T.PressBack(), T.Navigate("forms.example.com"),
        T.NavigateBack(),
    ]
    assert {type(a) for a in actions} == set(T.ACTION_CLASSES)
    for a in actions:
        d.execute(a)
    s = d.state()
    assert s["apps"]["webform"]["url"] == "https://forms.example.com/"
    assert "calculator" in s["apps"]


def test_off_screen_point_raises_and_leaves_state_untouched():
    d = MockDesktop(initial_state={"open": ["editor"]})
    d.execute(T.Type("abc"))
    before = json.dumps(d.state(), sort_keys=True)
    shot = d.observe().screenshot.tobytes()
    for bad in (Click(Point(1280, 10)), Click(Point(-1, 10)), T.Drag(Point(10, 10), Point(10, 900)),
                T.MoveTo(Point(5000, 5000, Space.SCREEN))):
        with pytest.raises(EnvError, match="outside the screen"):
            d.execute(bad)
    # one SCREENSHOT -> SCREEN path for every env (Display.action_to_screen): a MODEL point is an ActionError
    with pytest.raises(ActionError, match="model space"):
        d.execute(Click(Point(500, 500, Space.MODEL)))
    with pytest.raises(EnvError, match="unknown app"):
        d.execute(T.OpenApp("photoshop"))
    assert json.dumps(d.state(), sort_keys=True) == before
    assert d.observe().screenshot.tobytes() == shot


def test_check_validates_like_execute_and_changes_nothing():
    d = MockDesktop(1024, 640, scale=2.0, initial_state={"open": ["editor"]})
    assert isinstance(d, SupportsCheck)
    before = json.dumps(d.state(), sort_keys=True)
    shot = d.observe().screenshot.tobytes()
    p = center(d, "text_area", "Document")
    # a screenshot pixel comes back in SCREEN points (scale 2); the widget under it is not clicked
    assert d.check(Click(Point(2 * p.x, 2 * p.y))) == Click(Point(p.x, p.y, Space.SCREEN))
    assert d.check(T.OpenApp("Calculator")) == T.OpenApp("Calculator")
    for bad, message in ((Click(Point(2048, 10)), "outside the screen"), (T.OpenApp("photoshop"), "unknown app"),
                         (T.NavigateBack(), "browser")):
        with pytest.raises(EnvError, match=message):
            d.check(bad)
    with pytest.raises(ActionError, match="model space"):  # the same type on every env (Display.action_to_screen)
        d.check(Click(Point(5, 5, Space.MODEL)))
    for action in (T.Type("abc"), T.Hotkey(("ctrl", "a")), T.Press("enter")):
        d.check(action)
    assert json.dumps(d.state(), sort_keys=True) == before
    assert d.observe().screenshot.tobytes() == shot
    d.close()
    with pytest.raises(EnvError, match="closed"):
        d.check(T.Type("x"))


def test_navigate_back_without_browser_is_an_error():
    d = MockDesktop()
    with pytest.raises(EnvError, match="browser"):
        d.execute(T.NavigateBack())


def test_screenshot_space_points_at_scale_two_hit_the_right_widget():
    d = MockDesktop(1280, 800, scale=2.0, initial_state={"open": ["calculator"]})
    x, y = d.find(role="button", name="7").center
    d.execute(Click(Point(x * 2, y * 2, Space.SCREENSHOT)))          # physical pixels
    x, y = d.find(role="button", name="+").center
    d.execute(Click(Point(x, y, Space.SCREEN)))                      # logical points
    d.execute(T.Type("5="))
    assert d.state()["apps"]["calculator"]["display"] == "12"


def test_initial_state_round_trip_and_json():
    init = {
        "files": {"/home/user/Documents/a.txt": "alpha", "Documents/b.txt": "beta"},
        "dirs": ["/home/user/Projects/empty"],
        "trash": [{"path": "/home/user/old.txt", "content": "old"}],
        "settings": {"volume": 10, "dark_mode": True},
        "mail": {"inbox": [{"from": "a@example.com", "subject": "Hi", "body": "Hello"}]},
        "clipboard": "clip",
        "open": ["files", {"app": "editor", "path": "/home/user/Documents/a.txt"}],
    }
    d = MockDesktop(initial_state=init)
    s = d.state()
    json.dumps(s)  # plain data
    assert s["files"]["/home/user/Documents/a.txt"] == "alpha"
    assert s["files"]["/home/user/Documents/b.txt"] == "beta"
    assert "/home/user/Projects/empty" in s["dirs"]
    assert s["trash"][0]["original_path"] == "/home/user/old.txt" and s["trash"][0]["content"] == "old"
    assert s["settings"]["volume"] == 10 and s["settings"]["dark_mode"] is True
    assert s["mail"]["inbox"][0]["subject"] == "Hi" and s["mail"]["inbox"][0]["read"] is False
    assert s["clipboard"] == "clip"
    assert [w["app"] for w in s["windows"]] == ["editor", "files"]  # front to back
    assert s["windows"][0]["active"] and s["apps"]["editor"]["documents"][0]["text"] == "alpha"


def test_bad_initial_state_is_rejected_with_the_known_keys():
    with pytest.raises(EnvError, match="known"):
        MockDesktop(initial_state={"filez": {}})
    with pytest.raises(EnvError, match="unknown setting"):
        MockDesktop(initial_state={"settings": {"colour": "red"}})


def test_reset_restores_initial_state_and_accepts_options():
    d = MockDesktop(initial_state={"files": {"/home/user/x.txt": "1"}})
    d.execute(T.OpenApp("editor"))
    d.reset()
    assert d.state()["windows"] == [] and d.state()["files"]["/home/user/x.txt"] == "1"
    d.reset(options={"initial_state": {"files": {"/home/user/y.txt": "2"}, "open": ["mail"]}})
    s = d.state()
    assert "/home/user/x.txt" not in s["files"] and s["windows"][0]["app"] == "mail"


def test_task_object_supplies_initial_state():
    class Task:
        initial_state = {"open": ["settings"]}

    d = MockDesktop(task=Task())
    assert d.task is not None and d.state()["windows"][0]["app"] == "settings"


def test_simulated_clock_and_double_click_timing():
    d = MockDesktop(initial_state={"files": {"/home/user/Desktop/note.txt": "n"}})
    icon = center(d, "icon", "note.txt")
    d.execute(Click(icon))
    d.execute(Click(icon))  # two separate clicks 1 s apart: not a double click
    assert d.state()["windows"] == []
    d.execute(Click(icon, clicks=2))
    assert d.state()["windows"][0]["app"] == "editor"
    fast = MockDesktop(step_seconds=0.1, initial_state={"files": {"/home/user/Desktop/note.txt": "n"}})
    fast.execute(Click(icon))
    fast.execute(Click(icon))  # 0.1 s apart: the second press counts as a double click
    assert fast.state()["windows"][0]["app"] == "editor"
    assert fast.observe().timestamp == pytest.approx(0.2 + 4 * 0.05, abs=1e-9)
