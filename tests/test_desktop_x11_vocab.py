"""The new inputs on a real X server (Xvfb), as a real X client (the Tk test app) receives them: side buttons
(X buttons 8/9), keypad keys, clicks and scrolls with modifiers held, right/middle-button drags, a drag through
several points, and double/triple clicks as the toolkit counts them (its own <Double-/Triple-Button-1> bindings
and the Entry's word / line selection), spaced like a person's clicks in X server time.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from desktop_apps.fixtures import module_xvfb
from desktop_apps.xserver import TkApp, Xvfb, wait_for

from guiagent.actions.types import Click, Drag, Hotkey, MouseDown, MouseUp, Point, Press, Scroll, Space, Type
from guiagent.envs.desktop import DesktopEnv

pytestmark = pytest.mark.timeout(120)

xvfb = module_xvfb(1280, 800)


@pytest.fixture
def env(xvfb: Xvfb) -> Iterator[DesktopEnv]:
    e = DesktopEnv(x_display=xvfb.display)
    yield e
    e.close()


@pytest.fixture
def app(xvfb: Xvfb, tk_app_factory) -> TkApp:
    return tk_app_factory(xvfb, log_keys=True)


def at(env: DesktopEnv, x: float, y: float) -> Point:
    return env.display.to_screenshot(Point(x, y, Space.SCREEN))


def canvas(env: DesktopEnv, app: TkApp, cx: float, cy: float) -> Point:
    env.observe()
    return at(env, *app.canvas_point(cx, cy))


def test_side_buttons_arrive_as_buttons_8_and_9(env: DesktopEnv, app: TkApp) -> None:
    for button, number, (cx, cy) in (("back", 8, (100, 50)), ("forward", 9, (140, 70))):
        mark = app.mark()
        env.execute(Click(canvas(env, app, cx, cy), button))  # type: ignore[arg-type]
        events = wait_for(lambda m=mark: len(app.since(m)) >= 2 and app.since(m), what=f"{button} click")
        assert [(e["ev"], e["num"], e["x"], e["y"]) for e in events] == [("press", number, cx, cy),
                                                                          ("release", number, cx, cy)]
    mark = app.mark()
    env.execute(MouseDown(canvas(env, app, 30, 40), "back"))
    env.execute(MouseUp(None, "back"))
    wait_for(lambda: len(app.since(mark)) >= 2, what="back down/up")
    assert [(e["ev"], e["num"]) for e in app.since(mark)] == [("press", 8), ("release", 8)]


def test_keypad_keys_arrive_as_keypad_keysyms(env: DesktopEnv, app: TkApp) -> None:
    env.observe()
    env.execute(Click(at(env, *app.center("entry"))))
    mark = app.mark()
    for key in ("kp_enter", "kp_add", "kp_subtract", "kp_multiply", "kp_divide", "kp_5"):
        env.execute(Press(key))
    env.execute(Hotkey(("ctrl", "kp_add")))
    keys = wait_for(lambda: len(app.since(mark, "key")) >= 8 and app.since(mark, "key"), what="keypad keys")
    syms = [e["keysym"] for e in keys]
    # Xvfb starts with Num Lock off: the keypad's 5 key then means KP_Begin, as on a real keyboard
    assert syms[:5] == ["KP_Enter", "KP_Add", "KP_Subtract", "KP_Multiply", "KP_Divide"]
    assert syms[5] in ("KP_5", "KP_Begin")
    assert syms[6:] == ["Control_L", "KP_Add"] and keys[7]["mods"] == ["ctrl"]


def test_modifier_clicks_and_scrolls_hold_the_keys_only_for_that_action(env: DesktopEnv, app: TkApp) -> None:
    p = canvas(env, app, 200, 150)
    mark = app.mark()
    env.execute(Click(p, modifiers=("ctrl", "shift")))
    env.execute(Click(p, "right", modifiers=("alt",)))
    env.execute(Click(p))
    presses = wait_for(lambda: len(app.since(mark, "release")) >= 3 and app.since(mark, "press"), what="3 clicks")
    assert [(e["num"], sorted(e["mods"])) for e in presses] == [(1, ["ctrl", "shift"]), (3, ["alt"]), (1, [])]
    assert (presses[0]["x"], presses[0]["y"]) == (200, 150)

    mark = app.mark()
    env.execute(Scroll("up", p, 1, modifiers=("ctrl",)))
    env.execute(Scroll("down", p, 1))
    wheels = wait_for(lambda: len(app.since(mark, "wheel")) >= 2 and app.since(mark, "wheel"), what="2 scrolls")
    assert [(w["dir"], w["mods"]) for w in wheels] == [("up", ["ctrl"]), ("down", [])]


@pytest.mark.parametrize("button,number", [("right", 3), ("middle", 2)])
def test_right_and_middle_button_drags(env: DesktopEnv, app: TkApp, button: str, number: int) -> None:
    mark = app.mark()
    env.execute(Drag(canvas(env, app, 40, 60), canvas(env, app, 380, 300), button))  # type: ignore[arg-type]
    drag = wait_for(lambda: app.since(mark, "drag"), what=f"a {button} drag")[0]
    assert (drag["num"], drag["start"], drag["end"]) == (number, [40, 60], [380, 300])
    assert drag["motions"] >= 2
    assert [e["num"] for e in app.since(mark, "press")] == [number]


def test_drag_through_several_points_passes_each(env: DesktopEnv, app: TkApp) -> None:
    corners = [(60, 60), (400, 60), (400, 300), (60, 300)]
    mark = app.mark()
    env.execute(Drag(canvas(env, app, *corners[0]), canvas(env, app, *corners[-1]), "left",
                     tuple(canvas(env, app, *c) for c in corners[1:-1])))
    drag = wait_for(lambda: app.since(mark, "drag"), what="a drag through points")[0]
    assert drag["start"] == [60, 60] and drag["end"] == [60, 300]
    path = drag["path"]
    for via in corners[1:-1]:
        assert list(via) in path, (via, path)
    # the pointer moved along each leg, not in jumps from corner to corner: positions between the corners
    for (ax, ay), (bx, by) in zip(corners, corners[1:]):
        between = [p for p in path if p not in (list(corners[0]), [ax, ay], [bx, by])
                   and min(ax, bx) <= p[0] <= max(ax, bx) and min(ay, by) <= p[1] <= max(ay, by)]
        assert between, ((ax, ay), (bx, by), path)
    assert all(p[0] in range(55, 406) and p[1] in range(55, 306) for p in path)


def test_double_and_triple_clicks_are_counted_by_the_toolkit(env: DesktopEnv, app: TkApp) -> None:
    mark = app.mark()
    env.execute(Click(canvas(env, app, 300, 200), clicks=3))
    wait_for(lambda: len(app.since(mark, "release")) == 3, what="a triple click")
    assert [e["ev"] for e in app.since(mark)] == ["press", "release", "double", "release", "triple", "release"]
    # spaced like a person in X server time: tens of milliseconds, far under Tk's 500 ms double-click time
    times = [e["time"] for e in app.since(mark, "press")]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(gaps) == 1 or all(40 <= g <= 250 for g in gaps), gaps

    # what a user wants from them: the Entry's own bindings select a word, then the whole line
    env.execute(Click(at(env, *app.center("entry"))))
    env.execute(Type("alpha beta gamma"))
    x, y, w, h = app.widgets["entry"]
    word = at(env, x + 8 + 60, y + h / 2)  # inside "beta" (DejaVu Sans 14: ~10 px a character)
    for clicks, want in ((2, "beta"), (3, "alpha beta gamma")):
        env.execute(Click(at(env, x + 5, y + h + 200)))  # away, so the clicks do not chain with earlier ones
        mark = app.mark()
        env.execute(Click(word, clicks=clicks))
        selection = wait_for(lambda m=mark, n=clicks: len(app.since(m, "selection")) >= n
                             and app.since(m, "selection")[-1]["text"], what=f"selection after {clicks} clicks")
        assert selection == want
