"""The agent loop on the real desktop env (Xvfb + a Tk app): model text -> coordinates -> real X input; then the
recorded run replayed with `guiagent replay --env desktop` on a fresh app does the same again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from agent_helpers import ScriptModel
from desktop_apps.fixtures import start_xvfb, tk_app_factory, xauthority  # noqa: F401 (fixtures)
from desktop_apps.xserver import Xvfb, wait_for

from guiagent.actions.types import Point, Space
from guiagent.agent.config import AgentConfig
from guiagent.agent.loop import Agent
from guiagent.agent.trajectory import load_run
from guiagent.cli import main
from guiagent.envs.desktop import DesktopEnv
from guiagent.models.profiles import get_profile

pytestmark = pytest.mark.timeout(120)
PROFILE = get_profile("ui-tars-1.5")


@pytest.fixture(scope="module")
def xvfb(xauthority: str) -> Iterator[Xvfb]:  # noqa: F811
    server = start_xvfb(1280, 800)
    yield server
    server.stop()


def model_point(env: DesktopEnv, x: float, y: float) -> str:
    """Screen position -> the '(x,y)' UI-TARS-1.5 would write for it (pixels of its smart_resized image)."""
    shot = env.display.to_screenshot(Point(x, y, Space.SCREEN))
    p = PROFILE.frame(env.display.size_px).to_model(shot)
    return f"({round(p.x)},{round(p.y)})"


def test_agent_drives_a_real_app_and_the_run_replays(xvfb: Xvfb, tk_app_factory, tmp_path: Path,  # noqa: F811
                                                     monkeypatch) -> None:
    app = tk_app_factory(xvfb)
    env = DesktopEnv(x_display=xvfb.display)
    try:
        answers = [f"Thought: click the text field\nAction: click(start_box='{model_point(env, *app.center('entry'))}')",
                   "Thought: type\nAction: type(content='hello agent')",
                   f"Thought: press it\nAction: click(start_box='{model_point(env, *app.center('button'))}')",
                   "Thought: done\nAction: finished(content='typed and pressed')"]
        result = Agent(env, ScriptModel(answers), PROFILE, AgentConfig(settle_s=0.2)).run(
            "type hello agent and press the button", out_dir=tmp_path / "runs", meta={"env_options": {}})
    finally:
        env.close()
    assert result.success and result.answer == "typed and pressed"
    wait_for(lambda: app.find("button"), what="the button press")
    assert app.find("entry")[-1]["value"] == "hello agent"
    run = load_run(result.run_dir)
    assert run.meta["env"]["name"] == "desktop" and run.meta["env"]["size"] == [1280, 800]
    assert [s.status for s in run.steps] == [["executed"], ["executed"], ["executed"], ["terminal"]]
    app.close()

    # the same actions again, from the recording, on a fresh app
    fresh = tk_app_factory(xvfb)
    monkeypatch.setenv("DISPLAY", xvfb.display)
    assert main(["replay", str(result.run_dir), "--env", "desktop", "--yes"]) == 0
    wait_for(lambda: fresh.find("button"), what="the replayed button press")
    assert fresh.find("entry")[-1]["value"] == "hello agent"
