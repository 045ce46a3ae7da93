"""MiniWoB++ in Debian's headless Chromium: coordinate spaces, action mapping, the oracle, and `--suite miniwob`.

These start real browsers (about 3 s each): one per module for the env tests, one per worker for the eval run.
"""

from __future__ import annotations

import json
import shutil

import pytest

pytest.importorskip("miniwob", reason="the miniwob extra is not installed (pip install 'guiagent[miniwob]')")
if not (shutil.which("chromium") or shutil.which("/usr/bin/chromium")):
    pytest.skip("Debian's chromium is not installed (apt-get install chromium chromium-driver)",
                allow_module_level=True)

from guiagent.actions import types as T  # noqa: E402
from guiagent.cli import main  # noqa: E402
from guiagent.envs.miniwob import EpisodeOver, MiniWoBBrowser, MiniWoBEnv  # noqa: E402
from guiagent.errors import ConfigError, EnvError, UnsupportedAction  # noqa: E402
from guiagent.models.profiles import get_profile  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    b = MiniWoBBrowser("click-button", device_scale=2)
    yield b
    b.close()


def _button(env: MiniWoBEnv, text: str):
    return next(e for e in env.dom() if e.tag == "button" and (e.text or "").strip() == text)


def test_screenshot_is_the_task_area_at_the_device_pixel_ratio(browser):
    env = MiniWoBEnv("click-button", browser=browser)
    obs = env.reset(seed=1)
    assert env.display.scale == 2.0
    assert obs.screenshot.size == (320, 420) == env.display.size_px  # 160 x 210 CSS px at ratio 2
    assert env.utterance == obs.info["utterance"] and env.utterance.startswith("Click on the")
    # the instruction area (yellow in MiniWoB's stylesheet) fills the top of the screenshot
    r, g, b = obs.screenshot.getpixel((300, 10))
    assert r > 200 and g > 200 and b < 80


def test_screenshot_points_become_css_pixels(browser):
    env = MiniWoBEnv("click-button", browser=browser)
    env.reset(seed=2)
    target = dict(env.fields)["target"]
    button = _button(env, target)
    centre_px = T.Point((button.left + button.width / 2) * 2, (button.top + button.height / 2) * 2)
    assert env.plan(T.Click(centre_px)) == [("CLICK_COORDS", {"coords": (button.left + button.width / 2,
                                                                          button.top + button.height / 2)})]
    env.execute(T.Click(centre_px))
    result = env.result()
    assert result.done and result.success and result.raw_reward == 1.0 and 0 < result.reward <= 1
    with pytest.raises(EpisodeOver):  # the episode is over: the run must end
        env.execute(T.Click(centre_px))


def test_a_click_off_the_button_fails_by_miniwobs_reward(browser):
    env = MiniWoBEnv("click-button", browser=browser)
    env.reset(seed=3)
    wrong = next(e for e in env.dom() if e.tag == "button" and (e.text or "").strip() != dict(env.fields)["target"])
    env.execute(T.Click(T.Point(wrong.left + wrong.width / 2, wrong.top + wrong.height / 2, T.Space.SCREEN)))
    result = env.result()
    assert result.done and not result.success and result.reward == -1.0


def test_action_mapping_and_refusals(browser):
    env = MiniWoBEnv("enter-text", browser=browser)
    env.reset(seed=0)
    with pytest.raises(EnvError, match="outside MiniWoB's 160x210 task area"):
        env.plan(T.Click(T.Point(330, 10)))  # screenshot px 330 = CSS 165: off the task area
    with pytest.raises(UnsupportedAction):
        env.plan(T.Click(T.Point(10, 10), button="right"))
    with pytest.raises(UnsupportedAction, match="no key"):
        env.plan(T.Hotkey(("ctrl", "alt", "delete")))
    assert env.plan(T.Click(T.Point(10, 10), clicks=2))[0][0] == "DBLCLICK_COORDS"
    keys = env.browser.gym.action_space_config.allowed_keys
    assert keys[env.plan(T.Hotkey(("ctrl", "a")))[0][1]["key"]] == "C-a"
    typed = env.plan(T.Type("x" * 70 + "\nyz", submit=True))
    assert [k for k, _ in typed] == ["TYPE_TEXT", "TYPE_TEXT", "PRESS_KEY", "TYPE_TEXT", "PRESS_KEY"]
    assert typed[0][1]["text"] == "x" * 64 and typed[3][1]["text"] == "yz"
    drag = env.plan(T.Drag(T.Point(20, 40), T.Point(60, 80)))
    assert [k for k, _ in drag] == ["MOUSEDOWN_COORDS", "MOVE_COORDS", "MOUSEUP_COORDS"]
    assert drag[0][1]["coords"] == (10.0, 20.0) and drag[2][1]["coords"] == (30.0, 40.0)


def test_unknown_task_names_close_matches():
    with pytest.raises(ConfigError, match="did you mean click-button"):
        MiniWoBEnv("click-buton")


@pytest.mark.parametrize("family", ["ui-tars-1.5", "ui-tars-2", "kimi-vl"])
def test_oracle_text_goes_through_parse_map_execute(browser, family):
    """The oracle's answers are the family's text; parsing and mapping them reaches MiniWoB's success."""
    from guiagent.agent.config import AgentConfig
    from guiagent.agent.loop import Agent

    env = MiniWoBEnv("enter-text", browser=browser)
    env.reset(seed=4)
    oracle = env.scripted_model(get_profile(family))
    profile = get_profile(family)
    click = profile.parser().parse(oracle.complete([], None).text).actions[0]
    assert isinstance(click, T.Click) and click.point.space is T.Space.MODEL
    screen = env.display.to_screen(profile.frame(env.display.size_px).to_screenshot(click.point))
    box = next(e for e in env.dom() if e.tag.startswith("input_text"))
    assert box.left <= screen.x <= box.left + box.width and box.top <= screen.y <= box.top + box.height
    run = Agent(env, oracle, get_profile(family), AgentConfig(max_steps=8, wait_s=0)).run(env.utterance)
    assert run.outcome == "success" and env.result().success
    assert [s.actions[0]["type"] for s in run.steps][:3] == ["click", "type", "click"]


def test_eval_suite_miniwob_reaches_miniwobs_success_reward(tmp_path):
    out = tmp_path / "res"
    assert main(["eval", "--suite", "miniwob", "--model", "scripted", "--workers", "1", "-o", str(out),
                 "--quiet"]) == 0
    lines = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(r["task"] for r in lines) == sorted(
        ["click-button", "click-link", "enter-text", "focus-text", "click-checkboxes"])
    for r in lines:
        assert r["success"] and r["suite"] == "miniwob", r
        assert 0 < r["check"]["score"] <= 1 and "MiniWoB reward" in r["check"]["reasons"][0]
        assert (out / r["trajectory"] / "trajectory.jsonl").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["success_rate"] == 1.0 and summary["episodes"] == 5 and summary["complete"]


def test_eval_suite_miniwob_refuses_mock_filters_and_unknown_tasks(tmp_path, capsys):
    assert main(["eval", "--suite", "miniwob", "--model", "scripted", "--app", "mail", "-o", str(tmp_path / "r"),
                 "--quiet"]) == 2
    assert main(["eval", "--suite", "miniwob", "--model", "scripted", "--tasks", "click-buton", "-o",
                 str(tmp_path / "r"), "--quiet"]) == 2
    assert "did you mean click-button" in capsys.readouterr().err


def test_env_interface_and_close_twice(browser):
    from guiagent.envs.base import Env, SupportsCheck

    env = MiniWoBEnv("focus-text", browser=browser)
    assert isinstance(env, Env) and isinstance(env, SupportsCheck) and env.name == "miniwob"
    env.reset(seed=0)
    env.close()
    env.close()
    with pytest.raises(EnvError, match="closed"):
        env.observe()
    assert not browser.closed  # a shared browser outlives the env


_KILLED_WORKER = """
import os, pathlib, sys
sys.path.insert(0, sys.argv[1])
from guiagent.envs.miniwob import MiniWoBBrowser
b = MiniWoBBrowser("click-button")
driver = b.instance.driver.service.process.pid
children = [c for t in pathlib.Path(f"/proc/{driver}/task").iterdir() for c in (t / "children").read_text().split()]
print(driver, *children, flush=True)
os.kill(os.getpid(), 9)
"""


@pytest.mark.skipif(not shutil.which("setpriv"), reason="needs util-linux setpriv (Debian has it)")
def test_a_killed_worker_leaves_no_browser_behind():
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[1])
    out = subprocess.run([sys.executable, "-c", _KILLED_WORKER, root], capture_output=True, text=True, timeout=60)
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) >= 2, out.stderr[-500:]  # chromedriver and chromium
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") for p in pids):
        time.sleep(0.1)
    alive = [p for p in pids if os.path.exists(f"/proc/{p}")
             and "zombie" not in Path(f"/proc/{p}/status").read_text().lower()]
    assert not alive, f"still running after the worker was killed: {alive}"
