"""The input vocabulary beyond plain clicks and keys: side mouse buttons (back/forward), keypad keys, clicks and
scrolls with modifier keys held, right/middle-button drags and drags through several points.

Each one: the typed action and its checks, the JSON form, the text form of every family that can express it
(UnsupportedAction where one cannot), the real desktop executor's calls (pyautogui and XTest stand-ins), and the
mock desktop's behaviour. tests/test_desktop_x11_vocab.py checks what a real X client receives.
"""

from __future__ import annotations

from typing import Any

import pytest

from guiagent.actions import types as t
from guiagent.actions.families import UI_TARS_2_POINT, get_grammar
from guiagent.actions.jsonform import action_from_json, action_to_json
from guiagent.actions.keys import KEYPAD_KEYS, canonical_key
from guiagent.actions.types import Point, Space, points_of
from guiagent.envs.desktop.executor import PyAutoGuiExecutor
from guiagent.envs.desktop.keymap import pyautogui_key
from guiagent.envs.mock import MockDesktop
from guiagent.errors import ActionError, ParseError, UnsupportedAction

M = Space.MODEL


def mp(x: float, y: float) -> Point:
    return Point(x, y, M)


# ---------------------------------------------------------------- the typed actions


def test_modifiers_are_canonical_modifier_keys_without_repeats():
    assert t.Click(Point(1, 2), modifiers=["Control", "SHIFT"]).modifiers == ("ctrl", "shift")
    assert t.Scroll("up", modifiers=("cmd",)).modifiers == ("cmd",)
    for bad in (("a",), ("ctrl", "control"), "ctrl", (1,), ("enter",)):
        with pytest.raises(ActionError):
            t.Click(Point(1, 2), modifiers=bad)  # type: ignore[arg-type]


def test_side_buttons_click_but_do_not_drag():
    assert t.Click(Point(1, 2), "back").button == "back"
    assert t.MouseDown(None, "forward").button == "forward"
    with pytest.raises(ActionError, match="drag button"):
        t.Drag(Point(1, 2), Point(3, 4), "back")  # type: ignore[arg-type]


def test_drag_via_points_are_points_and_mapped_with_the_others():
    d = t.Drag(Point(0, 0), Point(9, 9), "right", [Point(1, 1), Point(5, 5)])
    assert d.via == (Point(1, 1), Point(5, 5)) and points_of(d) == [Point(0, 0), Point(9, 9), Point(1, 1), Point(5, 5)]
    doubled = t.map_points(d, lambda p: Point(p.x * 2, p.y * 2, Space.SCREEN))
    assert doubled.via == (Point(2, 2, Space.SCREEN), Point(10, 10, Space.SCREEN)) and doubled.button == "right"
    with pytest.raises(ActionError):
        t.Drag(Point(0, 0), Point(1, 1), via=("nope",))  # type: ignore[arg-type]
    with pytest.raises(ActionError, match="at most"):
        t.Drag(Point(0, 0), Point(1, 1), via=tuple(Point(i, i) for i in range(t.MAX_VIA + 1)))


def test_keypad_keys_have_one_spelling():
    assert {canonical_key(k) for k in ("KP_Enter", "numpadenter", "kp_return")} == {"kp_enter"}
    assert [canonical_key(k) for k in ("num7", "Numpad7", "KP_7", "add", "NumpadAdd", "decimal")] == \
        ["kp_7", "kp_7", "kp_7", "kp_add", "kp_add", "kp_decimal"]
    assert canonical_key("7") == "7" and canonical_key("+") == "+"  # the main keys stay what they are
    assert len(KEYPAD_KEYS) == 17
    assert pyautogui_key("kp_7", "linux") == "num7" and pyautogui_key("kp_add", "windows") == "add"
    assert pyautogui_key("kp_enter", "linux") == "xkeysym:KP_Enter"
    for os_name, key in (("windows", "kp_enter"), ("macos", "kp_5")):
        with pytest.raises(UnsupportedAction):
            pyautogui_key(key, os_name)  # type: ignore[arg-type]


# ---------------------------------------------------------------- JSON form

NEW_ACTIONS = [
    t.Click(Point(1, 2), "back"), t.Click(Point(1, 2), "forward", 2), t.Click(Point(1, 2), modifiers=("shift",)),
    t.Click(Point(1, 2), "right", 1, ("ctrl", "alt")), t.Scroll("down", Point(3, 4), 2, ("ctrl",)),
    t.Scroll("left", None, None, ("shift",)), t.Drag(Point(1, 2), Point(3, 4), "right"),
    t.Drag(Point(1, 2), Point(3, 4), "middle", (Point(5, 6), Point(7.5, 8))), t.Press("kp_enter"),
    t.Hotkey(("ctrl", "kp_add")), t.MouseDown(Point(1, 2), "back"), t.MouseUp(None, "forward"),
]


@pytest.mark.parametrize("action", NEW_ACTIONS, ids=repr)
def test_json_form_round_trips(action):
    data = action_to_json(action)
    assert action_from_json(data) == action


def test_json_forms_are_readable_and_plain_clicks_unchanged():
    assert action_to_json(t.Click(Point(1, 2), modifiers=("shift",))) == \
        {"type": "click", "x": 1.0, "y": 2.0, "button": "left", "clicks": 1, "modifiers": ["shift"]}
    assert action_to_json(t.Drag(Point(1, 2), Point(3, 4), "right", (Point(5, 6),))) == \
        {"type": "drag", "x": 1.0, "y": 2.0, "to_x": 3.0, "to_y": 4.0, "button": "right", "via": [[5.0, 6.0]]}
    assert action_to_json(t.Click(Point(1, 2))) == {"type": "click", "x": 1.0, "y": 2.0}
    assert action_to_json(t.Drag(Point(1, 2), Point(3, 4))) == {"type": "drag", "x": 1.0, "y": 2.0, "to_x": 3.0,
                                                                "to_y": 4.0}
    for bad in ({"type": "click", "x": 1, "y": 2, "modifiers": "ctrl"},
                {"type": "drag", "x": 1, "y": 2, "to_x": 3, "to_y": 4, "via": [[1]]},
                {"type": "click", "x": 1, "y": 2, "button": "thumb"}):
        with pytest.raises(ActionError):
            action_from_json(bad)


# ---------------------------------------------------------------- text forms


def test_ui_tars_2_and_pyautogui_write_modifier_clicks_as_key_runs_and_read_them_back():
    shift_click = t.Click(mp(10, 20), modifiers=("shift",))
    assert UI_TARS_2_POINT.format_action(shift_click) == (
        "press(key='shift')\n\nclick(point='<point>10 20</point>')\n\nrelease(key='shift')")
    assert get_grammar("opencua").format_action(t.Click(mp(0.1, 0.2), modifiers=("ctrl",))) == (
        "pyautogui.keyDown('ctrl')\npyautogui.click(x=0.1, y=0.2)\npyautogui.keyUp('ctrl')")
    for g in (get_grammar("ui-tars-2"), UI_TARS_2_POINT, get_grammar("kimi-vl"), get_grammar("opencua")):
        scale = 1 if g.name.startswith("ui-tars") else 0.0625  # exact in binary: equal after formatting
        for a in (t.Click(mp(10 * scale, 20 * scale), "right", 1, ("ctrl", "shift")),
                  t.Scroll("down", mp(5 * scale, 6 * scale), 3 if "ui" not in g.name else None, ("ctrl",)),
                  t.Drag(mp(1 * scale, 2 * scale), mp(30 * scale, 40 * scale), "right"),
                  t.Drag(mp(1 * scale, 2 * scale), mp(30 * scale, 40 * scale), "middle",
                         (mp(5 * scale, 5 * scale), mp(9 * scale, 9 * scale))),
                  t.Press("kp_enter"), t.Hotkey(("ctrl", "kp_add"))):
            assert g.parse(g.format_action(a)).actions == (a,), (g.name, a)


def test_families_that_cannot_express_an_input_say_so():
    p = mp(10, 20)
    v1 = get_grammar("ui-tars-1.5")
    for a in (t.Click(p, modifiers=("shift",)), t.Scroll("up", p, modifiers=("ctrl",)), t.Drag(p, p, "right"),
              t.Drag(p, p, via=(p,)), t.Click(p, "back")):
        with pytest.raises(UnsupportedAction):
            v1.format_action(a)
    for g in (get_grammar("ui-tars-2"), get_grammar("opencua")):  # neither has a side-button spelling
        for a in (t.Click(mp(0.1, 0.2), "back"), t.Click(mp(0.1, 0.2), "forward", 2)):
            with pytest.raises(UnsupportedAction):
                g.format_action(a)
    # and reading a side button where the family has none is a ParseError, not a guess
    with pytest.raises(ParseError, match="button"):
        get_grammar("opencua").parse("pyautogui.click(x=0.1, y=0.2, button='back')")
    with pytest.raises(ParseError, match="button"):
        get_grammar("ui-tars-2").parse("Action: click(point='<point>1 2</point>', button='back')")


def test_runs_that_do_not_spell_one_action_stay_separate():
    g = get_grammar("opencua")
    # the key is released before the click: not a shift+click
    text = "pyautogui.keyDown('shift')\npyautogui.keyUp('shift')\npyautogui.click(x=0.1, y=0.2)"
    assert [type(a) for a in g.parse(text).actions] == [t.KeyDown, t.KeyUp, t.Click]
    # ctrl stays held after the click: only shift belongs to it
    text = ("pyautogui.keyDown('ctrl')\npyautogui.keyDown('shift')\npyautogui.click(x=0.1, y=0.2)\n"
            "pyautogui.keyUp('shift')")
    assert g.parse(text).actions == (t.KeyDown("ctrl"), t.Click(mp(0.1, 0.2), modifiers=("shift",)))
    # a non-modifier key held is not a modifier click
    text = "pyautogui.keyDown('a')\npyautogui.click(x=0.1, y=0.2)\npyautogui.keyUp('a')"
    assert len(g.parse(text).actions) == 3
    # a drag released elsewhere than its last point is separate actions
    text = "pyautogui.mouseDown(x=0.1, y=0.1)\npyautogui.moveTo(x=0.2, y=0.2)\npyautogui.mouseUp(x=0.3, y=0.3)"
    assert [type(a) for a in g.parse(text).actions] == [t.MouseDown, t.MoveTo, t.MouseUp]


# ---------------------------------------------------------------- the desktop executor (stand-ins)


class Gui:
    """Records pyautogui calls (key and button names as pyautogui gets them)."""

    FailSafeException = RuntimeError
    PAUSE, FAILSAFE = 0.1, True

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    @staticmethod
    def linear(n: float) -> float:
        return n

    def isValidKey(self, name: str) -> bool:
        return name in {"ctrl", "shift", "alt", "winleft", "num5", "add", "enter", "a"}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.calls.append((name, *args, *sorted(kwargs.items())))


class XTest:
    def __init__(self, calls: list[tuple[Any, ...]]):
        self.calls = calls

    def button(self, name: str, down: bool) -> None:
        self.calls.append(("xtest.button", name, down))

    def keycode(self, keysym: str) -> int:
        if keysym != "KP_Enter":
            raise UnsupportedAction(keysym)
        return 104

    def key(self, keysym: str, down: bool) -> None:
        self.calls.append(("xtest.key", keysym, down))


def executor(xtest: bool = True, **kwargs: Any) -> tuple[PyAutoGuiExecutor, Gui]:
    gui = Gui()
    ex = PyAutoGuiExecutor(gui, "linux", xtest=XTest(gui.calls) if xtest else None, **kwargs)
    ex.xtest = XTest(gui.calls) if xtest else None
    return ex, gui


S = Space.SCREEN


def test_modifier_click_holds_keys_around_the_click_and_releases_them():
    ex, gui = executor()
    ex.run(t.Click(Point(10, 20, S), "right", 2, ("ctrl", "shift")))
    assert gui.calls == [("keyDown", "ctrl"), ("keyDown", "shift"),
                         ("click", ("button", "right"), ("clicks", 2), ("interval", 0.05), ("x", 10), ("y", 20)),
                         ("keyUp", "shift"), ("keyUp", "ctrl")]
    ex, gui = executor()
    ex.run(t.Scroll("up", Point(1, 2, S), 3, ("cmd",)))
    assert gui.calls == [("keyDown", "winleft"), ("moveTo", 1, 2), ("scroll", 3, ("x", 1), ("y", 2)),
                         ("keyUp", "winleft")]


def test_a_key_that_cannot_be_sent_refuses_the_click_before_any_input():
    ex, gui = executor()
    with pytest.raises(UnsupportedAction):
        ex.run(t.Click(Point(1, 2, S), modifiers=("fn",)))
    assert gui.calls == []


def test_side_buttons_go_through_xtest_at_the_point_and_need_it():
    ex, gui = executor()
    ex.run(t.Click(Point(5, 6, S), "back", 2))
    assert gui.calls == [("moveTo", 5, 6), ("xtest.button", "back", True), ("xtest.button", "back", False),
                         ("xtest.button", "back", True), ("xtest.button", "back", False)]
    ex, gui = executor()
    ex.run(t.MouseDown(Point(5, 6, S), "forward"))
    ex.release_all()
    assert gui.calls == [("moveTo", 5, 6), ("xtest.button", "forward", True), ("xtest.button", "forward", False)]
    ex, gui = executor(xtest=False)
    with pytest.raises(UnsupportedAction, match="X11"):
        ex.run(t.Click(Point(5, 6, S), "back"))
    assert gui.calls == []


def test_keypad_keys_by_pyautogui_name_or_xtest_keysym():
    ex, gui = executor()
    ex.run(t.Press("kp_5"))
    ex.run(t.Press("kp_enter"))
    ex.run(t.Hotkey(("ctrl", "kp_enter")))
    assert gui.calls == [("press", "num5"), ("xtest.key", "KP_Enter", True), ("xtest.key", "KP_Enter", False),
                         ("keyDown", "ctrl"), ("xtest.key", "KP_Enter", True), ("xtest.key", "KP_Enter", False),
                         ("keyUp", "ctrl")]
    ex, gui = executor(xtest=False)
    with pytest.raises(UnsupportedAction, match="XTest"):
        ex.run(t.Press("kp_enter"))


def test_right_button_drag_through_points_moves_smoothly_through_each():
    ex, gui = executor(drag_duration=0.3)
    ex.run(t.Drag(Point(0, 0, S), Point(30, 30, S), "right", (Point(10, 0, S), Point(10, 10, S))))
    assert gui.calls == [("moveTo", 0, 0), ("mouseDown", ("button", "right"), ("x", 0), ("y", 0)),
                         ("moveTo", 10, 0, ("duration", 0.12), ("tween", Gui.linear)),
                         ("moveTo", 10, 10, ("duration", 0.12), ("tween", Gui.linear)),
                         ("moveTo", 30, 30, ("duration", 0.12), ("tween", Gui.linear)),
                         ("mouseUp", ("button", "right"), ("x", 30), ("y", 30))]


# ---------------------------------------------------------------- the mock desktop


def _center(d: MockDesktop, role: str, name: str | None = None) -> Point:
    x, y = d.find(role=role, name=name).center
    return Point(x, y, S)


def test_mock_shift_click_extends_the_selection_and_releases_shift():
    d = MockDesktop(initial_state={"open": ["editor"]})
    area = _center(d, "text_area", "Document")
    d.execute(t.Type("hello world"))
    d.execute(t.Press("home"))
    node = d.find(role="text_area", name="Document")
    end_of_text = Point(node.bounds[0] + 400, node.bounds[1] + 12, S) if hasattr(node, "bounds") else area
    d.execute(t.Click(end_of_text, modifiers=("shift",)))
    doc = d.state()["apps"]["editor"]["documents"][0]
    assert doc["selection"] is not None and doc["selection"][0] == 0 and doc["selection"][1] > 0
    assert not d.input.keys  # shift is not left held
    d.execute(t.Click(end_of_text))
    assert d.state()["apps"]["editor"]["documents"][0]["selection"] is None


def test_mock_ctrl_scroll_reaches_widgets_with_ctrl_held():
    d = MockDesktop(initial_state={"open": ["editor"]})
    area = _center(d, "text_area", "Document")
    seen: list[frozenset[str]] = []
    target = d.input.widget_at(area.x, area.y)
    original = type(target).on_wheel

    def spy(self: Any, ev: Any) -> bool:
        seen.append(ev.mods)
        return original(self, ev)

    type(target).on_wheel = spy  # type: ignore[method-assign]
    try:
        d.execute(t.Scroll("down", area, 1, ("ctrl",)))
        d.execute(t.Scroll("down", area, 1))
    finally:
        type(target).on_wheel = original  # type: ignore[method-assign]
    assert seen[0] == frozenset({"ctrl"}) and seen[-1] == frozenset()


def test_mock_keypad_types_like_num_lock_on():
    d = MockDesktop(initial_state={"open": ["editor"]})
    for key in ("kp_1", "kp_add", "kp_2", "kp_decimal", "kp_5", "kp_enter", "kp_multiply"):
        d.execute(t.Press(key))
    assert d.state()["apps"]["editor"]["documents"][0]["text"] == "1+2.5\n*"


def test_mock_back_button_goes_back_in_the_browser_and_nowhere_else():
    d = MockDesktop()
    d.execute(t.Navigate("forms.example.com"))
    page = _center(d, "link", "Contact Us")
    d.execute(t.Click(page))
    assert d.state()["apps"]["webform"]["url"].endswith("/contact")
    d.execute(t.Click(page, "forward"))  # no forward history: nothing happens
    assert d.state()["apps"]["webform"]["url"].endswith("/contact")
    d.execute(t.Click(page, "back"))
    assert d.state()["apps"]["webform"]["url"] == "https://forms.example.com/"
    def without_clock(state: dict) -> dict:
        return {k: v for k, v in state.items() if k != "time"}

    before = without_clock(d.state())
    d.execute(t.Click(Point(5, 5, S), "back"))  # nothing to go back to
    assert without_clock(d.state()) == before


def test_mock_drag_through_points_passes_each_of_them():
    d = MockDesktop()
    path: list[tuple[float, float]] = []
    move = d.input.move
    d.input.move = lambda x, y: (path.append((x, y)), move(x, y))[1]  # type: ignore[method-assign]
    d.execute(t.Drag(Point(10, 10, S), Point(200, 10, S), "right", (Point(10, 200, S), Point(200, 200, S))))
    assert path[0] == (10, 10) and path[-1] == (200, 10)
    for via in ((10, 200), (200, 200)):
        assert via in path
    assert not d.input.buttons

