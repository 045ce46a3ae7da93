"""DesktopEnv on a real X server (Xvfb 1920x1080): real xterm and Tk windows driven only through the env.

Xvfb, xdotool, xterm, xclip, xwininfo and ImageMagick are required (CI installs them); missing ones fail loudly.
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from desktop_apps.fixtures import module_xvfb
from desktop_apps.xserver import TkApp, Xvfb, require, wait_for
from PIL import Image

from guiagent.actions.keys import CANONICAL_KEYS
from guiagent.actions.types import (
    Click,
    Drag,
    Hotkey,
    KeyDown,
    KeyUp,
    MouseDown,
    MouseUp,
    MoveTo,
    Point,
    Press,
    Scroll,
    Space,
    Type,
)
from guiagent.envs.base import Env
from guiagent.envs.desktop import DeniedAction, DesktopEnv
from guiagent.envs.desktop.keymap import pyautogui_key
from guiagent.errors import EnvError, UnsupportedAction

pytestmark = pytest.mark.timeout(120)

CJK = "你好，世界。日本語テキスト"
MIXED = "abc 你好 déjà vu ü 123"
# more distinct characters than Xvfb has spare keycodes (19): typed in batches, reusing keycodes
LONG = "床前明月光，疑是地上霜。举头望明月，低头思故乡。Ελληνικά русский 한국어 ★"


xvfb = module_xvfb(1920, 1080)


@pytest.fixture
def env(xvfb: Xvfb) -> Iterator[DesktopEnv]:
    e = DesktopEnv(x_display=xvfb.display)
    yield e
    e.close()


def shot_point(env: DesktopEnv, x: float, y: float) -> Point:
    """A root-window (screen) position as a point in the env's screenshot."""
    return env.display.to_screenshot(Point(x, y, Space.SCREEN))


# ---------------------------------------------------------------- screen capture


def test_env_conforms_and_screenshot_matches_x_server(xvfb: Xvfb, env: DesktopEnv, tk_app_factory) -> None:
    assert isinstance(env, Env) and env.name == "desktop"
    app: TkApp = tk_app_factory(xvfb)
    obs = env.observe()
    dims = next(line for line in xvfb.run(["xdpyinfo"]).splitlines() if "dimensions:" in line)
    assert "1920x1080 pixels" in dims
    assert obs.screenshot.size == (1920, 1080) and obs.screenshot.mode == "RGB"
    assert env.display.size_px == (1920, 1080) and env.display.scale == 1.0 and env.display.offset == (0, 0)

    # ImageMagick's capture of the root window is pixel-identical to ours.
    png = subprocess.run([require("import"), "-window", "root", "png:-"], env=xvfb.env, capture_output=True,
                         timeout=30, check=True).stdout
    theirs = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert theirs.shape == (1080, 1920, 3)
    assert np.array_equal(np.asarray(obs.screenshot), theirs)

    # A known place: the canvas is #3366cc; read one pixel straight from the server with Xlib too.
    cx, cy = app.canvas_point(100, 100)
    assert obs.screenshot.getpixel((int(cx), int(cy))) == (0x33, 0x66, 0xCC)
    from Xlib import X
    from Xlib import display as xdisplay
    conn = xdisplay.Display(xvfb.display)
    try:
        raw = conn.screen().root.get_image(int(cx), int(cy), 1, 1, X.ZPixmap, 0xFFFFFFFF).data
    finally:
        conn.close()
    assert (raw[2], raw[1], raw[0]) == (0x33, 0x66, 0xCC)  # BGRX
    # and the button is not canvas blue
    bx, by = app.center("button")
    assert obs.screenshot.getpixel((int(bx), int(by))) != (0x33, 0x66, 0xCC)


# ---------------------------------------------------------------- the Tk test app


def test_click_lands_on_intended_widget(xvfb: Xvfb, env: DesktopEnv, tk_app_factory) -> None:
    app: TkApp = tk_app_factory(xvfb)
    env.observe()
    env.execute(Click(shot_point(env, *app.center("button"))))
    wait_for(lambda: app.find("button"), what="the button's command")
    mark = app.mark()
    # a click on the canvas is a canvas press at the exact canvas coordinate, not a button activation
    env.execute(Click(shot_point(env, *app.canvas_point(123, 45))))
    press = wait_for(lambda: app.since(mark, "press"), what="a canvas press")[0]
    assert (press["num"], press["x"], press["y"]) == (1, 123, 45)
    assert len(app.find("button")) == 1


def test_single_double_and_right_clicks_are_distinguished(xvfb: Xvfb, env: DesktopEnv, tk_app_factory) -> None:
    app: TkApp = tk_app_factory(xvfb)
    env.observe()
    p = shot_point(env, *app.canvas_point(200, 150))

    mark = app.mark()
    env.execute(Click(p))
    wait_for(lambda: app.since(mark, "release"), what="single click release")
    single = app.since(mark)
    assert [e["ev"] for e in single] == ["press", "release"] and single[0]["num"] == 1

    mark = app.mark()
    env.execute(Click(Point(p.x + 100, p.y), clicks=2))  # away from the first click so Tk does not chain them
    wait_for(lambda: len(app.since(mark, "release")) == 2, what="a double click")
    # Tk runs the more specific <Double-Button-1> binding instead of <ButtonPress> for the second press
    assert [e["ev"] for e in app.since(mark)] == ["press", "release", "double", "release"]

    mark = app.mark()
    env.execute(Click(Point(p.x, p.y + 100), button="right"))
    wait_for(lambda: app.since(mark, "release"), what="right click release")
    presses = app.since(mark, "press")
    assert [e["num"] for e in presses] == [3] and not app.since(mark, "double")
    assert (presses[0]["x"], presses[0]["y"]) == (200, 250)


def test_drag_arrives_with_start_and_end_points(xvfb: Xvfb, env: DesktopEnv, tk_app_factory) -> None:
    app: TkApp = tk_app_factory(xvfb)
    env.observe()
    start, end = app.canvas_point(50, 60), app.canvas_point(410, 300)
    env.execute(Drag(shot_point(env, *start), shot_point(env, *end)))
    drag = wait_for(lambda: app.find("drag"), what="a drag")[0]
    assert drag["start"] == [50, 60] and drag["end"] == [410, 300]
    assert drag["motions"] >= 2  # a smooth move, not a jump

    # the same drag spelled as mouse down / move / up
    mark = app.mark()
    env.execute(MouseDown(shot_point(env, *app.canvas_point(300, 40))))
    env.execute(MoveTo(shot_point(env, *app.canvas_point(320, 80))))
    env.execute(MouseUp(shot_point(env, *app.canvas_point(340, 90))))
    drag = wait_for(lambda: app.since(mark, "drag"), what="a mouse-down/up drag")[0]
    assert drag["start"] == [300, 40] and drag["end"] == [340, 90]


def test_scroll_directions_and_amount(xvfb: Xvfb, tk_app_factory) -> None:
    app: TkApp = tk_app_factory(xvfb)
    with DesktopEnv(x_display=xvfb.display, scroll_amount=2) as env:
        env.observe()
        p = shot_point(env, *app.canvas_point(320, 200))
        for direction in ("up", "down", "left", "right"):
            mark = app.mark()
            env.execute(Scroll(direction, p))
            wheels = wait_for(lambda m=mark: len(app.since(m, "wheel")) >= 2 and app.since(m, "wheel"),
                              what=f"scroll {direction}")
            assert [w["dir"] for w in wheels] == [direction, direction]
            assert (wheels[0]["x"], wheels[0]["y"]) == (320, 200)
        mark = app.mark()
        env.execute(Scroll("down", p, amount=4))
        wait_for(lambda: len(app.since(mark, "wheel")) >= 4, what="4 notches")
        assert [w["dir"] for w in app.since(mark, "wheel")] == ["down"] * 4


def test_keys_in_tk_entry(xvfb: Xvfb, env: DesktopEnv, tk_app_factory) -> None:
    app: TkApp = tk_app_factory(xvfb)
    env.observe()

    def value() -> str:
        found = app.find("entry")
        return found[-1]["value"] if found else ""

    env.execute(Click(shot_point(env, *app.center("entry"))))
    env.execute(Type("Hello, World!"))
    wait_for(lambda: value() == "Hello, World!", what="typed ASCII")
    env.execute(Press("backspace"))
    wait_for(lambda: value() == "Hello, World", what="backspace")
    env.execute(Press("home"))
    env.execute(Hotkey(("shift", "1")))
    wait_for(lambda: value() == "!Hello, World", what="home then shift+1")
    env.execute(KeyDown("shift"))
    env.execute(Type("x"))
    env.execute(KeyUp("shift"))
    env.execute(Type("y"))
    wait_for(lambda: value() == "!XyHello, World", what="shift held while typing")


def test_cjk_into_tk_entry_with_keysyms(xvfb: Xvfb, env: DesktopEnv, tk_app_factory) -> None:
    app: TkApp = tk_app_factory(xvfb)
    env.observe()
    env.execute(Click(shot_point(env, *app.center("entry"))))
    env.execute(Type(MIXED))
    env.execute(Type(CJK))
    env.execute(Type(LONG))
    want = MIXED + CJK + LONG
    wait_for(lambda: app.find("entry") and app.find("entry")[-1]["value"] == want, timeout=20,
             what=f"entry to hold {want!r}")


def _xclip(xvfb: Xvfb, selection: str, text: str | None = None) -> str:
    tool = require("xclip")
    if text is None:
        return xvfb.run([tool, "-selection", selection, "-o"], check=False)
    subprocess.run([tool, "-selection", selection, "-i"], input=text.encode(), env=xvfb.env, timeout=10,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return text


def test_cjk_into_tk_entry_through_clipboard_restores_it(xvfb: Xvfb, tk_app_factory) -> None:
    app: TkApp = tk_app_factory(xvfb)
    _xclip(xvfb, "clipboard", "what the user had copied")
    with DesktopEnv(x_display=xvfb.display, unicode_method="clipboard") as env:
        env.observe()
        env.execute(Click(shot_point(env, *app.center("entry"))))
        env.execute(Type(MIXED))
    wait_for(lambda: app.find("entry") and app.find("entry")[-1]["value"] == MIXED, timeout=20,
             what=f"entry to hold {MIXED!r}")
    assert _xclip(xvfb, "clipboard") == "what the user had copied"


# ---------------------------------------------------------------- xterm running cat > FILE


def _xterm_cat(xvfb: Xvfb, out: Path, title: str) -> tuple[object, tuple[int, int, int, int]]:
    proc = xvfb.spawn([require("xterm"), "-u8", "-T", title, "-geometry", "80x12+300+600", "-e", "sh", "-c",
                       'exec cat > "$0"', str(out)])
    wid = xvfb.wait_window(name=title)
    return proc, xvfb.window_geometry(wid)


@pytest.mark.parametrize("method", ["keysym", "clipboard"])
def test_xterm_cat_receives_text_enter_and_ctrl_d(xvfb: Xvfb, tmp_path: Path, method: str) -> None:
    out = tmp_path / "typed.txt"
    title = f"cat-{method}"
    proc, (x, y, w, h) = _xterm_cat(xvfb, out, title)
    _xclip(xvfb, "primary", "old primary")
    with DesktopEnv(x_display=xvfb.display, unicode_method=method) as env:
        env.observe()
        env.execute(Click(shot_point(env, x + w / 2, y + h / 2)))  # focus follows the pointer (no WM)
        env.execute(Type("plain ASCII 123"))
        env.execute(Press("enter"))
        env.execute(Type(CJK, submit=True))
        env.execute(Type(MIXED + "\n"))
        env.execute(Type(LONG + "\n"))
        env.execute(Hotkey(("ctrl", "d")))
        proc.wait(timeout=20)  # cat saw end-of-file, so xterm exits
    assert out.read_text(encoding="utf-8") == f"plain ASCII 123\n{CJK}\n{MIXED}\n{LONG}\n"
    if method == "clipboard":
        assert _xclip(xvfb, "primary") == "old primary"  # xterm pastes PRIMARY; it was put back


# ---------------------------------------------------------------- safety and errors


def test_out_of_monitor_and_denied_actions_send_nothing(xvfb: Xvfb, env: DesktopEnv, tk_app_factory) -> None:
    app: TkApp = tk_app_factory(xvfb)
    env.observe()
    mark = app.mark()
    for bad in (Point(1920, 10), Point(-1, 10), Point(10, 1080)):
        with pytest.raises(EnvError, match="outside monitor"):
            env.execute(Click(bad))
    with pytest.raises(EnvError, match="outside monitor"):
        env.execute(Drag(shot_point(env, *app.canvas_point(10, 10)), Point(5000, 10)))
    with pytest.raises(DeniedAction, match="ctrl\\+alt\\+backspace"):
        env.execute(Hotkey(("ctrl", "alt", "backspace")))
    env.execute(KeyDown("ctrl"))
    env.execute(KeyDown("alt"))
    with pytest.raises(DeniedAction, match="ctrl\\+alt\\+f1"):
        env.execute(Press("f1"))
    env.execute(KeyUp("alt"))
    env.execute(KeyUp("ctrl"))
    assert app.since(mark) == []  # not even the drag's press
    assert xvfb.proc is not None and xvfb.proc.poll() is None  # the X server is still alive
    # the env still works afterwards
    env.execute(Click(shot_point(env, *app.center("button"))))
    wait_for(lambda: app.find("button"), what="a click after refusals")


def test_every_linux_key_name_has_a_keycode(env: DesktopEnv) -> None:
    sent_nothing = []
    for key in sorted(CANONICAL_KEYS):
        try:
            env.executor.key_name(key)
        except UnsupportedAction:
            sent_nothing.append(key)
    # "fn" has no X11 key event; the other refusals are keys Xvfb's default keymap lacks.
    assert "fn" in sent_nothing
    assert not {"ctrl", "shift", "alt", "cmd", "enter", "esc", "tab", "a", "1", "f12", "pagedown"} & set(sent_nothing)
    assert pyautogui_key("cmd", "linux") == "winleft"


def test_unreachable_display_is_a_clear_error(xauthority: str, tmp_path: Path) -> None:
    with pytest.raises(EnvError, match="cannot open X display ':4242'"):
        DesktopEnv(x_display=":4242")
    missing = tmp_path / "nope" / "Xauthority"
    with pytest.raises(EnvError, match="touch .*nope/Xauthority"):
        DesktopEnv(environ={"DISPLAY": ":0", "XAUTHORITY": str(missing)})


def test_ascii_is_exact_on_a_german_layout(xvfb: Xvfb, env: DesktopEnv, tk_app_factory) -> None:
    # pyautogui alone types '/' as '7' and '@' as 'q' here (it shifts only what a US keyboard shifts)
    setxkbmap = require("setxkbmap")
    app: TkApp = tk_app_factory(xvfb)
    xvfb.run([setxkbmap, "de"])
    try:
        env.observe()
        env.execute(Click(shot_point(env, *app.center("entry"))))
        text = "yz YZ a/b@c {[]} ~|\\ 1!2\"3# ö"
        env.execute(Type(text))
        wait_for(lambda: app.find("entry") and app.find("entry")[-1]["value"] == text, timeout=20,
                 what=f"entry to hold {text!r} (last: {app.find('entry')[-1:]})")
    finally:
        xvfb.run([setxkbmap, "us"])
