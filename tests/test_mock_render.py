"""Rendering: determinism, incremental repaint equals a full repaint, screenshot recycling, HiDPI, a11y bounds."""

from __future__ import annotations

import numpy as np
import pytest

from guiagent.actions import types as T
from guiagent.actions.types import Click, Point, Space
from guiagent.envs.mock import MockDesktop
from guiagent.envs.mock import text as textmod
from guiagent.envs.mock.text import TextStyle

INIT = {
    "files": {"/home/user/Documents/notes.txt": "first line\nsecond line", "/home/user/Desktop/todo.txt": "x"},
    "mail": {"inbox": [{"from": "alice@example.com", "subject": "Lunch", "body": "Friday?"}]},
    "open": ["calculator", "mail", {"app": "editor", "path": "/home/user/Documents/notes.txt"}],
}


def script(d: MockDesktop) -> list[bytes]:
    """A fixed action sequence touching several apps; returns the screenshot bytes after each step."""
    shots = []

    def at(role, name):
        x, y = d.find(role=role, name=name).center
        return Point(x, y, Space.SCREEN)

    steps = [
        lambda: Click(at("text_area", "Document")), lambda: T.Type("Grüße 你好 "), lambda: T.Hotkey(("shift", "home")),
        lambda: T.Drag(Point(300, 55, Space.SCREEN), Point(420, 90, Space.SCREEN)),
        lambda: Click(at("button", "Compose")), lambda: T.Type("bob@example.com"),
        lambda: Click(at("menu_item", "File")), lambda: T.Press("esc"), lambda: T.Scroll("down", Point(600, 400)),
        lambda: Click(Point(700, 700, Space.SCREEN), button="right"), lambda: T.Press("esc"),
    ]
    for make in steps:
        d.execute(make())
        shots.append(d.observe().screenshot.tobytes())
    return shots


def test_same_actions_give_byte_identical_screenshots():
    a = script(MockDesktop(seed=1, initial_state=INIT))
    b = script(MockDesktop(seed=1, initial_state=INIT))
    assert a == b
    assert len(set(a)) > 5  # the steps really change the screen


@pytest.mark.parametrize("scale", [1.0, 1.5])
def test_incremental_repaint_matches_a_full_repaint(scale):
    d = MockDesktop(scale=scale, initial_state=INIT)
    script(d)
    d.execute(T.OpenApp("settings"))
    d.execute(Click(Point(*d.find(role="tab", name="System").center, Space.SCREEN)))
    for _ in range(7):
        d.execute(T.Press("tab"))  # focus rings on dropdowns, radio group, checkbox
        d.observe()
    incremental = np.asarray(d.observe().screenshot)
    d.compositor.invalidate_all()
    full = np.asarray(d.observe().screenshot)
    assert d.compositor.partial_repaints > 5
    assert np.array_equal(incremental, full), f"{int((incremental != full).any(axis=2).sum())} stale pixels"


def test_recycled_screenshots_are_fresh_and_never_touch_held_images():
    d = MockDesktop(initial_state={"open": ["editor"]})
    held = d.observe().screenshot
    kept = held.tobytes()
    for i in range(6):
        d.execute(T.Type(f"line {i}\n"))
        shot = d.observe().screenshot   # earlier `shot`s are dropped and may be recycled
        assert shot.tobytes() == d.compositor.canvas.tobytes()
        assert shot is not held
    assert d.compositor.recycled > 0
    assert held.tobytes() == kept


def test_hidpi_screenshot_is_the_scaled_rendering():
    lo = MockDesktop(800, 600, scale=1.0, initial_state={"open": ["calculator"]})
    hi = MockDesktop(800, 600, scale=2.0, initial_state={"open": ["calculator"]})
    a, b = lo.observe().screenshot, hi.observe().screenshot
    assert b.size == (1600, 1200)
    # the same logical layout: the 2x image downsampled is close to the 1x image
    diff = np.abs(np.asarray(b.resize(a.size), dtype=int) - np.asarray(a, dtype=int)).mean()
    assert diff < 12
    assert lo.find(role="button", name="7").bounds == hi.find(role="button", name="7").bounds


def test_a11y_bounds_match_drawn_pixels():
    d = MockDesktop(initial_state={"open": ["calculator"]})
    img = np.asarray(d.observe().screenshot).astype(int)
    pal = d.palette
    eq = d.find(role="button", name="=")
    x, y, w, h = eq.bounds
    # the primary "=" button is accent-filled inside its bounds and not outside them
    assert tuple(img[y + 4, x + 6]) == pal.accent
    assert tuple(img[y + h + 3, x + w // 2]) != pal.accent
    win = d.find(role="window", name="Calculator")
    wx, wy, ww, wh = win.bounds
    assert tuple(img[wy + 40, wx + 4]) == pal.window_bg
    assert tuple(img[wy + 5, wx - 3]) != pal.window_bg  # wallpaper just left of the window


def test_text_is_antialiased_truetype():
    d = MockDesktop(initial_state={"open": ["calculator"]})
    x, y, w, h = d.find(role="button", name="7").bounds
    img = np.asarray(d.observe().screenshot)[y + 5:y + h - 5, x + 5:x + w - 5].astype(int)
    levels = {tuple(p) for p in img.reshape(-1, 3)}
    assert len(levels) > 8  # intermediate grey levels: antialiased glyph edges


def test_cjk_text_uses_the_fallback_font():
    style = TextStyle("sans", 13)
    assert textmod.runs("ab你好c", "sans") == [("sans", "ab"), ("cjk", "你好"), ("sans", "c")]
    mask, _ = textmod.mask("你好", "sans", 13)
    assert mask.getbbox() is not None and textmod.measure("你好", style) > 20
    # different characters give different glyphs (not one missing-glyph box)
    assert textmod.mask("你", "sans", 13)[0].tobytes() != textmod.mask("好", "sans", 13)[0].tobytes()


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080), (640, 480)])
def test_any_screen_size(size):
    d = MockDesktop(*size, initial_state={"open": ["files"]})
    assert d.observe().screenshot.size == size
    taskbar = d.find(role="taskbar")
    assert taskbar.bounds[1] + taskbar.bounds[3] == size[1]


def test_drag_and_drop_feedback_leaves_no_trace():
    d = MockDesktop(initial_state={"files": {"/home/user/Documents/a.txt": "x", "/home/user/Documents/Work/b": ""},
                                   "open": [{"app": "files", "path": "/home/user/Documents"}]})
    a = Point(*d.find(role="list_item", name="a.txt").center, Space.SCREEN)
    w = Point(*d.find(role="list_item", name="Work").center, Space.SCREEN)
    before = np.asarray(d.observe().screenshot)
    d.execute(T.MouseDown(a))
    d.execute(T.MoveTo(Point(a.x + 40, a.y + 30, Space.SCREEN)))
    d.execute(T.MoveTo(w))
    during = np.asarray(d.observe().screenshot)
    ghost = during[int(w.y) + 12:int(w.y) + 30, int(w.x) + 16:int(w.x) + 60]
    assert (ghost != before[int(w.y) + 12:int(w.y) + 30, int(w.x) + 16:int(w.x) + 60]).any()  # label follows
    d.execute(T.MouseUp())
    assert "/home/user/Documents/Work/a.txt" in d.state()["files"]
    incremental = np.asarray(d.observe().screenshot)
    d.compositor.invalidate_all()
    assert np.array_equal(incremental, np.asarray(d.observe().screenshot))


def test_a_prepared_screenshot_is_never_changed_by_recycled_buffers():
    """The loop keeps each step's prepared screenshot (and its encodings) while the mock recycles screenshot
    buffers: a recycled buffer must never change a kept picture or hand a new step an old one's encodings."""
    from guiagent._imaging.prepared import PreparedScreenshot
    from guiagent.models.budget import ImageBudget

    budget = ImageBudget("smart_resize")
    desk = MockDesktop()
    first = PreparedScreenshot.build(desk.observe().screenshot, budget.prepare)
    kept = np.asarray(first.image).copy()
    first.encoded("png", lambda im: np.asarray(im).tobytes())
    icon = desk.find(role="icon")
    desk.execute(Click(Point(*icon.center, Space.SCREEN), clicks=2))  # opens an app window: the screen changes
    previous = first
    for _ in range(5):
        shot = desk.observe().screenshot
        prepared = PreparedScreenshot.build(shot, budget.prepare, previous)
        assert np.array_equal(np.asarray(prepared.image), np.asarray(budget.prepare(shot.copy())))
        assert prepared.encoded("png", lambda im: np.asarray(im).tobytes()) == np.asarray(prepared.image).tobytes()
        previous = prepared
    assert np.array_equal(np.asarray(first.image), kept)
