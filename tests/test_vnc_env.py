"""--env vnc:HOST:PORT against a real VNC desktop: Xvfb + openbox + x11vnc, started with docs/start-vnc-desktop.sh
(the script the docs tell users to run). Real xterm and Tk windows driven only through the env; the screenshot
over VNC is compared with the X server's own capture; a server that drops the connection or stops answering ends
a run cleanly. Xvfb, openbox, x11vnc, xterm, xdotool and ImageMagick are required (CI installs them)."""

from __future__ import annotations

import io
import os
import pickle
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from agent_helpers import ScriptModel
from desktop_apps.conformance import check_env_conformance
from desktop_apps.remote import DISPLAYS, VNC_PORTS, VncDesktop, free_pair, xterm_cat_argv
from desktop_apps.xserver import TkApp, require, wait_for
from PIL import Image

from guiagent.actions.types import Click, Drag, Hotkey, Point, Press, Scroll, Type
from guiagent.agent.config import AgentConfig
from guiagent.agent.loop import Agent
from guiagent.agent.trajectory import load_run
from guiagent.cli import main
from guiagent.envs.desktop import DeniedAction
from guiagent.envs.sandbox.workers import WorkerEnvs, make_remote_env, parse_endpoints
from guiagent.envs.vnc import VncConnectionError, VncEnv, parse_server
from guiagent.errors import ConfigError, EnvError, UnsupportedAction
from guiagent.models.profiles import get_profile

pytestmark = pytest.mark.timeout(120)

CJK = "你好，世界。日本語テキスト"
MIXED = "abc 你好 déjà vu ü 123"
PROFILE = get_profile("ui-tars-1.5")


@pytest.fixture(autouse=True)
def _ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUIAGENT_SANDBOX_DISPLAYS", DISPLAYS)
    monkeypatch.setenv("GUIAGENT_SANDBOX_VNC_PORTS", VNC_PORTS)
    monkeypatch.delenv("GUIAGENT_VNC_PASSWORD", raising=False)


@pytest.fixture(scope="module")
def desk(xauthority: str) -> Iterator[VncDesktop]:
    d = VncDesktop(1280, 800)
    yield d
    d.stop()


@pytest.fixture
def env(desk: VncDesktop) -> Iterator[VncEnv]:
    e = VncEnv(f"localhost:{desk.port}", timeout=10)
    yield e
    e.close()


@pytest.fixture
def tk(desk: VncDesktop, tmp_path: Path) -> Iterator[TkApp]:
    app = TkApp(desk.x, tmp_path / "tk.jsonl")
    yield app
    app.close()


def at(env: VncEnv, x: float, y: float) -> Point:
    return Point(x, y)  # the VNC framebuffer is the X screen: screenshot pixel = root coordinate


def focus(env: VncEnv, desk: VncDesktop, x: float, y: float, title: str) -> None:
    """Click to focus a window; wait until openbox has moved the focus (it does so asynchronously)."""
    env.execute(Click(at(env, x, y)))
    wait_for(lambda: desk.x.run(["xdotool", "getwindowfocus", "getwindowname"], check=False).strip() == title,
             timeout=10, what=f"the focus to reach {title!r}")


def x_capture(desk: VncDesktop) -> np.ndarray:
    png = subprocess.run([require("import"), "-window", "root", "png:-"], env=desk.x.env, capture_output=True,
                         timeout=30, check=True).stdout
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


# ---------------------------------------------------------------- the env on a live server


def test_vnc_env_conforms(desk: VncDesktop, tk: TkApp) -> None:
    env = VncEnv(f"localhost:{desk.port}")
    assert env.name == "vnc" and env.display.size_px == (1280, 800) and env.display.scale == 1.0
    check_env_conformance(env, sent=lambda: len(tk.events()))


def test_vnc_screenshot_matches_the_x_servers_capture(desk: VncDesktop, env: VncEnv, tk: TkApp) -> None:
    def same() -> bool:
        return np.array_equal(np.asarray(env.observe().screenshot), x_capture(desk))

    # x11vnc polls the screen, so a frame can lag the X server by a poll interval; once still, they are identical
    wait_for(same, timeout=10, interval=0.2, what="the VNC screenshot to equal the X server's capture")
    shot = np.asarray(env.observe().screenshot)
    x, y, w, h = tk.widgets["canvas"]
    assert tuple(shot[y + h // 2, x + w // 2]) == (0x33, 0x66, 0xCC)  # the Tk canvas, where Tk says it is


def test_typed_ascii_and_cjk_arrive_exactly(desk: VncDesktop, env: VncEnv, tk: TkApp, tmp_path: Path) -> None:
    out = tmp_path / "typed.txt"
    proc = desk.x.spawn(xterm_cat_argv(str(out), "cat-vnc"))
    try:
        x, y, w, h = desk.x.window_geometry(desk.x.wait_window(name="cat-vnc"))
        focus(env, desk, x + w / 2, y + h / 2, "cat-vnc")
        env.execute(Type("plain ASCII 123 ~!@#$%^&*()_+{}|:\"<>? AbC"))
        env.execute(Press("enter"))
        env.execute(Type(CJK, submit=True))
        env.execute(Type(MIXED + "\n"))
        env.execute(Hotkey(("ctrl", "d")))
        proc.wait(timeout=20)  # cat saw end-of-file
    finally:
        if proc.poll() is None:
            proc.kill()
    assert out.read_text(encoding="utf-8") == f"plain ASCII 123 ~!@#$%^&*()_+{{}}|:\"<>? AbC\n{CJK}\n{MIXED}\n"

    focus(env, desk, *tk.center("entry"), "guiagent-tk-test")
    env.execute(Type("Tk: " + MIXED))
    wait_for(lambda: tk.find("entry") and tk.find("entry")[-1]["value"] == "Tk: " + MIXED, timeout=10,
             what="the Tk entry to hold the text")


def test_clicks_drags_and_scrolls_land_where_meant(env: VncEnv, tk: TkApp) -> None:
    env.observe()
    env.execute(Click(at(env, *tk.center("button"))))
    wait_for(lambda: tk.find("button"), what="the button press")
    mark = tk.mark()
    env.execute(Click(at(env, *tk.canvas_point(100, 50)), button="right"))
    env.execute(Click(at(env, *tk.canvas_point(300, 200)), clicks=2))
    env.execute(Drag(at(env, *tk.canvas_point(50, 300)), at(env, *tk.canvas_point(400, 120))))
    for direction in ("up", "down", "left", "right"):
        env.execute(Scroll(direction, at(env, *tk.canvas_point(200, 200)), amount=2))
    wait_for(lambda: len(tk.since(mark, "wheel")) == 8, what="eight wheel notches")
    presses = tk.since(mark, "press")
    assert (presses[0]["num"], presses[0]["x"], presses[0]["y"]) == (3, 100, 50)
    assert (presses[1]["num"], presses[1]["x"], presses[1]["y"]) == (1, 300, 200)
    assert [(d["x"], d["y"]) for d in tk.since(mark, "double")] == [(300, 200)]
    drag = tk.since(mark, "drag")
    assert len(drag) == 1 and drag[0]["start"] == [50, 300] and drag[0]["end"] == [400, 120] and drag[0]["motions"] > 3
    assert [e["dir"] for e in tk.since(mark, "wheel")] == ["up"] * 2 + ["down"] * 2 + ["left"] * 2 + ["right"] * 2


def test_refusals_send_nothing(desk: VncDesktop, tk: TkApp) -> None:
    env = VncEnv(f"localhost:{desk.port}", unicode="off")
    try:
        env.observe()
        mark = tk.mark()
        with pytest.raises(DeniedAction):
            env.execute(Hotkey(("ctrl", "alt", "backspace")))
        with pytest.raises(EnvError, match="outside monitor"):
            env.execute(Click(Point(1280, 10)))
        with pytest.raises(UnsupportedAction, match="non-ASCII"):
            env.execute(Type("abc 你好"))  # refused whole: not even "abc" is sent
        with pytest.raises(UnsupportedAction, match="control"):
            env.execute(Type("bell\x07"))
        assert tk.since(mark) == []
    finally:
        env.close()


# ---------------------------------------------------------------- connection trouble


def test_password_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    desk = VncDesktop(640, 480, password="s3cret", home=tmp_path)
    try:
        with pytest.raises(VncConnectionError, match="asks for a password.*GUIAGENT_VNC_PASSWORD"):
            VncEnv(f"localhost:{desk.port}")
        monkeypatch.setenv("MY_VNC_PW", "wrong")
        with pytest.raises(VncConnectionError, match="refused the password"):
            VncEnv(f"localhost:{desk.port}", password_env="MY_VNC_PW")
        monkeypatch.setenv("GUIAGENT_VNC_PASSWORD", "s3cret")
        with VncEnv(f"localhost:{desk.port}") as env:
            assert env.observe().screenshot.size == (640, 480)
    finally:
        desk.stop()


def test_refused_connection_is_a_clear_error() -> None:
    _, port = free_pair()
    started = time.monotonic()
    with pytest.raises(VncConnectionError, match="connection refused"):
        VncEnv(f"localhost:{port}")
    assert time.monotonic() - started < 10


def test_reconnects_after_the_server_comes_back(tmp_path: Path) -> None:
    desk = VncDesktop(640, 480)
    try:
        env = VncEnv(f"localhost:{desk.port}", reconnect_s=20)
        before = np.asarray(env.observe().screenshot)
        argv = desk.signal_vnc(signal.SIGTERM)
        wait_for(lambda: env.client._factory.lost.is_set(), timeout=10, what="the client to see the drop")
        desk.restart_vnc(argv)
        obs = env.observe()  # reconnects (with backoff) and carries on
        assert obs.info["reconnects"] == 1 and np.array_equal(np.asarray(obs.screenshot), before)
        env.close()
    finally:
        desk.stop()


@pytest.mark.parametrize("trouble", ["drop", "stall"])
def test_server_that_drops_or_stalls_ends_the_run_cleanly(tmp_path: Path, trouble: str) -> None:
    desk = VncDesktop(640, 480)
    stopped: list[int] = []
    try:
        env = VncEnv(f"localhost:{desk.port}", timeout=2, reconnect_s=1.5)

        def model(n: int, messages: object) -> str:
            if n == 1:  # the server goes away while the model thinks about step 2
                if trouble == "drop":
                    desk.signal_vnc(signal.SIGKILL)
                else:
                    stopped.append(desk.x11vnc()[0])
                    os.kill(stopped[0], signal.SIGSTOP)
            return "Thought: click\nAction: click(start_box='(500,500)')"

        started = time.monotonic()
        result = Agent(env, ScriptModel(model), PROFILE, AgentConfig(settle_s=0, max_steps=10)).run(
            "click the middle", out_dir=tmp_path / "runs", meta={"env_options": {"server": env.server}})
        env.close()
        assert time.monotonic() - started < 30
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
        desk.stop()
    assert result.outcome == "env_error"
    want = "dropped the connection" if trouble == "drop" else "stopped answering"
    assert want in result.reason and f"localhost:{desk.port}" in result.reason
    run = load_run(result.run_dir)
    assert run.outcome == "env_error" and want in run.meta["reason"] and run.problems == []
    assert run.meta["env"]["name"] == "vnc" and len(run.steps) >= 1


# ---------------------------------------------------------------- specs, CLI and per-worker envs


@pytest.mark.parametrize("text, expected", [("localhost:5901", ("localhost", 5901)),
                                            ("10.0.0.5:5900", ("10.0.0.5", 5900)),
                                            ("[::1]:5902", ("::1", 5902))])
def test_parse_server(text: str, expected: tuple[str, int]) -> None:
    assert parse_server(text) == expected


@pytest.mark.parametrize("bad", ["", "localhost", "localhost:", ":5900", "host:0", "host:70000", "host:59a",
                                 "::1:5900"])
def test_bad_servers_are_config_errors(bad: str) -> None:
    with pytest.raises(ConfigError, match="HOST:PORT"):
        parse_server(bad)


def test_cli_rejects_bad_env_specs_and_misplaced_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["run", "x", "--env", "vnc:nohost", "--model", "scripted"])
    assert e.value.code == 2 and "HOST:PORT" in capsys.readouterr().err
    assert main(["run", "x", "--env", "vnc:localhost:5999", "--sandbox-app", "xterm", "--model", "scripted"]) == 2
    assert "--sandbox-app applies to --env sandbox only" in capsys.readouterr().err
    assert main(["run", "x", "--env", "mock", "--vnc-timeout", "3", "--model", "scripted"]) == 2
    assert main(["run", "x", "--env", "sandbox", "--monitor", "2", "--model", "scripted"]) == 2


def test_cli_run_over_vnc_records_and_reports_a_dead_server(desk: VncDesktop, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from stub_openai import StubOpenAI

    with StubOpenAI() as stub:
        stub.reply("Thought: done\nAction: finished(content='seen')")
        code = main(["run", "look", "--env", f"vnc:localhost:{desk.port}", "--model", f"openai:{stub.url}",
                     "--model-name", "stub-model", "--family", "ui-tars-1.5", "--out", str(tmp_path / "runs"),
                     "--quiet"])
    assert code == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    run = load_run(run_dir)
    assert run.meta["env"]["name"] == "vnc" and run.meta["env_options"]["server"] == f"localhost:{desk.port}"
    _, dead = free_pair()
    assert main(["run", "look", "--env", f"vnc:localhost:{dead}", "--model", "scripted"]) == 1
    assert "connection refused" in capsys.readouterr().err


def test_worker_envs_give_each_worker_its_own_screen(desk: VncDesktop) -> None:
    vnc = WorkerEnvs.parse("vnc", {"timeout": 5}, endpoints=f"localhost:{desk.port}")
    assert pickle.loads(pickle.dumps(vnc)) == vnc and vnc.max_workers == 1
    with vnc(0) as env:
        assert env.name == "vnc" and env.observe().screenshot.size == (1280, 800)
    with pytest.raises(ConfigError, match="worker 1 has no VNC endpoint"):
        vnc(1)
    with pytest.raises(ConfigError, match="twice"):
        parse_endpoints("a:1,a:1")
    boxes = WorkerEnvs("sandbox", {"width": 640, "height": 480, "window_manager": None})
    a, b = boxes(0), boxes(1)
    try:
        assert a.sandbox.display != b.sandbox.display and a.home != b.home
    finally:
        a.close()
        b.close()
    with pytest.raises(ConfigError):
        make_remote_env("vnc")
    with pytest.raises(ConfigError, match="unknown sandbox option"):
        make_remote_env("sandbox", monitors=2)
