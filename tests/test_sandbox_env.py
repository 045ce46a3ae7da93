"""--env sandbox: a disposable Xvfb + openbox + apps, driven through the real desktop env.

Real xterm and Tk windows inside sandboxes, driven only through the env: text (CJK included) arrives exactly,
pointer actions land where meant, the screenshot is the X server's own; processes and files end with the sandbox.
Xvfb, openbox, xterm, xdotool and ImageMagick are required (CI installs them); missing ones fail loudly.
"""

from __future__ import annotations

import io
import os
import shlex
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from desktop_apps.conformance import check_env_conformance
from desktop_apps.remote import DISPLAYS, VNC_PORTS, attach, sandbox_pids, xterm_cat_argv
from desktop_apps.xserver import TkApp, require, wait_for
from PIL import Image

from guiagent.actions.types import Click, Drag, Hotkey, Point, Press, Scroll, Space, Type
from guiagent.envs.desktop import DeniedAction
from guiagent.envs.sandbox import Sandbox, SandboxConfig, SandboxEnv
from guiagent.envs.sandbox.typing import BatchedKeysymTyper
from guiagent.errors import ConfigError, EnvError

pytestmark = pytest.mark.timeout(120)

CJK = "你好，世界。日本語テキスト"
MIXED = "abc 你好 déjà vu ü 123"
LONG = "床前明月光，疑是地上霜。举头望明月，低头思故乡。Ελληνικά русский 한국어 ★"


@pytest.fixture(autouse=True)
def _ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUIAGENT_SANDBOX_DISPLAYS", DISPLAYS)
    monkeypatch.setenv("GUIAGENT_SANDBOX_VNC_PORTS", VNC_PORTS)


@pytest.fixture(scope="module")
def box() -> Iterator[SandboxEnv]:
    """One 1280x800 sandbox with an xterm running `cat > typed.txt` (in the sandbox's HOME)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GUIAGENT_SANDBOX_DISPLAYS", DISPLAYS)
        env = SandboxEnv(1280, 800, apps=[shlex.join(xterm_cat_argv("typed.txt", "cat-box"))])
    yield env
    env.close()


@pytest.fixture
def tk(box: SandboxEnv, tmp_path: Path) -> Iterator[TkApp]:
    app = TkApp(attach(box.sandbox.display), tmp_path / "tk.jsonl")
    yield app
    app.close()


def at(env: SandboxEnv, x: float, y: float) -> Point:
    return env.display.to_screenshot(Point(x, y, Space.SCREEN))


def window(env: SandboxEnv, title: str) -> tuple[int, int, int, int]:
    x = attach(env.sandbox.display)
    return x.window_geometry(x.wait_window(name=title))


def focus(env: SandboxEnv, x: float, y: float, title: str) -> None:
    """Click to focus a window and wait until the window manager has moved the focus there.

    openbox moves the focus asynchronously; right after keysym typing (many keymap changes) that takes up to a few
    hundred ms, and keys sent before it lands still reach the old window. An agent run waits --settle (0.5 s on
    real desktops) after every action; a test waits for the focus itself."""
    env.execute(Click(at(env, x, y)))
    x11 = attach(env.sandbox.display)
    seen: list[str] = []

    def focused() -> bool:
        seen.append(x11.run(["xdotool", "getwindowfocus", "getwindowname"], check=False).strip())
        return seen[-1] == title

    try:
        wait_for(focused, timeout=10, what=f"the focus to reach {title!r}")
    except AssertionError as e:
        raise AssertionError(f"{e}; it stayed on {seen[-1]!r}") from None


def assert_gone(marker: str, home: Path, display: str) -> None:
    wait_for(lambda: not sandbox_pids(marker), timeout=15, what="every sandbox process to end")
    assert not home.exists(), f"the sandbox HOME {home} was left behind"
    n = display.lstrip(":")
    assert not os.path.exists(f"/tmp/.X{n}-lock") and not os.path.exists(f"/tmp/.X11-unix/X{n}")


# ---------------------------------------------------------------- the env


def test_sandbox_env_conforms_and_cleans_up() -> None:
    env = SandboxEnv(640, 480)
    box = env.sandbox
    marker, home, display = box.marker, Path(box.home), box.display
    assert env.name == "sandbox" and display.startswith(":") and 170 <= int(display[1:]) <= 199
    assert len(sandbox_pids(marker)) >= 2  # Xvfb and openbox (and the supervisor)
    assert env.observe().screenshot.size == (640, 480)
    check_env_conformance(env)
    assert_gone(marker, home, display)


def test_typed_ascii_and_cjk_arrive_exactly_in_xterm_and_tk(box: SandboxEnv, tk: TkApp) -> None:
    x, y, w, h = window(box, "cat-box")
    focus(box, x + w / 2, y + h / 2, "cat-box")  # openbox: click to focus
    box.execute(Type("plain ASCII 123 ~!@#$%^&*()_+{}|:\"<>?"))
    box.execute(Press("enter"))
    box.execute(Type(CJK, submit=True))
    box.execute(Type(MIXED + "\n" + LONG + "\n"))
    typed = Path(box.home) / "typed.txt"
    expected = f"plain ASCII 123 ~!@#$%^&*()_+{{}}|:\"<>?\n{CJK}\n{MIXED}\n{LONG}\n"
    wait_for(lambda: typed.read_text(encoding="utf-8") == expected, timeout=10, what="xterm's cat to get the text")

    focus(box, *tk.center("entry"), "guiagent-tk-test")
    box.execute(Type("Tk: " + MIXED))
    wait_for(lambda: tk.find("entry") and tk.find("entry")[-1]["value"] == "Tk: " + MIXED, timeout=10,
             what="the Tk entry to hold the text")


def test_clicks_drags_and_scrolls_land_where_meant(box: SandboxEnv, tk: TkApp) -> None:
    box.execute(Click(at(box, *tk.center("button"))))
    wait_for(lambda: tk.find("button"), what="the button press")
    mark = tk.mark()
    box.execute(Click(at(box, *tk.canvas_point(100, 50)), button="right"))
    box.execute(Click(at(box, *tk.canvas_point(300, 200)), clicks=2))
    box.execute(Drag(at(box, *tk.canvas_point(50, 300)), at(box, *tk.canvas_point(400, 120))))
    for direction in ("up", "down", "left", "right"):
        box.execute(Scroll(direction, at(box, *tk.canvas_point(200, 200)), amount=2))
    wait_for(lambda: len(tk.since(mark, "wheel")) == 8, what="eight wheel notches")
    presses = tk.since(mark, "press")
    assert (presses[0]["num"], presses[0]["x"], presses[0]["y"]) == (3, 100, 50)
    assert (presses[1]["num"], presses[1]["x"], presses[1]["y"]) == (1, 300, 200)  # the 2nd is the double's
    assert [(d["x"], d["y"]) for d in tk.since(mark, "double")] == [(300, 200)]
    drag = tk.since(mark, "drag")
    assert len(drag) == 1 and drag[0]["start"] == [50, 300] and drag[0]["end"] == [400, 120] and drag[0]["motions"] > 3
    assert [e["dir"] for e in tk.since(mark, "wheel")] == ["up"] * 2 + ["down"] * 2 + ["left"] * 2 + ["right"] * 2


def test_screenshot_is_the_x_servers_own_capture(box: SandboxEnv, tk: TkApp) -> None:
    ours = np.asarray(box.observe().screenshot)
    png = subprocess.run([require("import"), "-window", "root", "png:-"], env=attach(box.sandbox.display).env,
                         capture_output=True, timeout=30, check=True).stdout
    theirs = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert ours.shape == theirs.shape == (800, 1280, 3)
    assert np.array_equal(ours, theirs)
    assert (ours != ours[0, 0]).any()  # not a blank screen: the Tk window and the xterm are on it


def test_deny_list_and_off_screen_points_send_nothing(box: SandboxEnv, tk: TkApp) -> None:
    mark = tk.mark()
    with pytest.raises(DeniedAction):
        box.execute(Hotkey(("ctrl", "alt", "backspace")))
    with pytest.raises(EnvError, match="outside monitor"):
        box.execute(Click(Point(1280, 5)))
    assert tk.since(mark) == []
    assert box.sandbox.running


# ---------------------------------------------------------------- isolation and errors


def test_two_sandboxes_at_once_do_not_see_each_other() -> None:
    a = SandboxEnv(800, 600, apps=[shlex.join(xterm_cat_argv("a.txt", "cat-a", "40x5+50+50"))])
    try:
        b = SandboxEnv(800, 600, apps=[shlex.join(xterm_cat_argv("b.txt", "cat-b", "40x5+50+50"))])
        try:
            assert a.sandbox.display != b.sandbox.display and a.home != b.home
            with pytest.raises(subprocess.CalledProcessError):  # A's xterm is not on B's screen, nor B's on A's
                subprocess.run(["xdotool", "search", "--name", "cat-a"], env=attach(b.sandbox.display).env,
                               capture_output=True, timeout=10, check=True)
            for env, title in ((a, "cat-a"), (b, "cat-b")):
                x, y, w, h = window(env, title)
                focus(env, x + w / 2, y + h / 2, title)
            for i in range(3):  # interleaved: each env's input goes to its own screen
                a.execute(Type(f"to A {i} 甲\n"))
                b.execute(Type(f"to B {i} 乙\n"))
            want_a = "".join(f"to A {i} 甲\n" for i in range(3))
            want_b = "".join(f"to B {i} 乙\n" for i in range(3))
            wait_for(lambda: (Path(a.home) / "a.txt").read_text(encoding="utf-8") == want_a, what="A's text")
            wait_for(lambda: (Path(b.home) / "b.txt").read_text(encoding="utf-8") == want_b, what="B's text")
            assert not (Path(a.home) / "b.txt").exists() and not (Path(b.home) / "a.txt").exists()
        finally:
            b.close()
        assert a.sandbox.running and a.observe().screenshot.size == (800, 600)  # B's end left A alone
    finally:
        a.close()


def test_missing_programs_name_their_debian_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    xvfb, openbox = require("Xvfb"), require("openbox")
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    with pytest.raises(EnvError, match=r"apt install xvfb"):
        Sandbox(SandboxConfig()).start()
    (bin_dir / "Xvfb").symlink_to(xvfb)
    with pytest.raises(EnvError, match=r"apt install openbox"):
        Sandbox(SandboxConfig()).start()
    (bin_dir / "openbox").symlink_to(openbox)
    with pytest.raises(EnvError, match=r"apt install x11vnc"):
        Sandbox(SandboxConfig(vnc=True)).start()
    with pytest.raises(EnvError, match=r"'no-such-app' is not installed"):
        Sandbox(SandboxConfig(apps=("no-such-app --flag",))).start()
    assert [p.name for p in tmp_path.iterdir()] == ["bin"]  # no sandbox HOME was left behind


def test_an_app_that_exits_at_once_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    with pytest.raises(EnvError, match=r"exited while the sandbox was starting it"):
        SandboxEnv(640, 480, apps=["sh -c 'echo broken app >&2; exit 3'"])
    wait_for(lambda: not list(tmp_path.iterdir()), what="the failed sandbox's HOME to go")


@pytest.mark.parametrize("bad", [dict(width=10), dict(height="800"), dict(apps="xterm"), dict(apps=("",)),
                                 dict(apps=("xterm 'unclosed",))])
def test_bad_config_is_a_config_error(bad: dict) -> None:
    with pytest.raises(ConfigError):
        SandboxConfig(**bad)


def test_batched_keysym_typer_changes_the_keymap_once_per_batch() -> None:
    own = Sandbox(SandboxConfig(320, 240, window_manager=None)).start()  # a keymap no other typer has touched
    try:
        _check_batched(BatchedKeysymTyper(own.display))
    finally:
        own.stop()


def _check_batched(typer: BatchedKeysymTyper) -> None:
    conn = typer._conn
    lo, hi = conn.display.info.min_keycode, conn.display.info.max_keycode
    before = [list(s) for s in conn.get_keyboard_mapping(lo, hi - lo + 1)]
    calls: list[int] = []
    real = conn.change_keyboard_mapping
    conn.change_keyboard_mapping = lambda first, rows: (calls.append(len(rows)), real(first, rows))[1]
    try:
        typer._bind(set("床前明月光疑是地上霜"))   # 10 new characters: one request
        assert len(calls) == 1
        typer._bind(set("举头望明月低头思故乡Ελληνικά"))  # 16 more, 5 spare keycodes reused: one request
        assert len(calls) == 2
        after = [list(s) for s in conn.get_keyboard_mapping(lo, hi - lo + 1)]
        bound = set(typer._bound.values())
        for keycode in range(lo, hi + 1):
            syms = [s for s in after[keycode - lo] if s]
            if keycode in bound:
                ch = next(c for c, k in typer._bound.items() if k == keycode)
                assert syms[:1] == [typer_keysym(ch)]
            elif keycode not in typer._spare:
                # every other key types what it typed (group 1, unshifted and shifted; the server may normalise
                # how it reports the other groups when the range is rewritten)
                assert after[keycode - lo][:2] == before[keycode - lo][:2], keycode
    finally:
        conn.change_keyboard_mapping = real
        typer.close()


def typer_keysym(ch: str) -> int:
    from guiagent.envs.desktop.text import keysym_for

    return keysym_for(ch)
