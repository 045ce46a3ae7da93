"""The full loop on a real X server: `guiagent run --env desktop --model replay:RUN` completes a task in the Tk test
app. The run it replays is recorded first by the agent loop on the same app (model text -> UI-TARS-1.5 coordinates
-> real X input), so the CLI run goes through the real parse -> map -> execute path on a fresh window."""

from __future__ import annotations

from pathlib import Path

import pytest
from desktop_apps.fixtures import module_xvfb
from desktop_apps.xserver import TkApp, Xvfb, wait_for

from guiagent.actions.types import Point, Space
from guiagent.agent.config import AgentConfig
from guiagent.agent.loop import Agent
from guiagent.agent.replay import ReplayModel
from guiagent.cli import main
from guiagent.envs.desktop import DesktopEnv
from guiagent.models.profiles import get_profile

pytestmark = pytest.mark.timeout(120)
PROFILE = get_profile("ui-tars-1.5")
TASK = "Write 'hello 你好' in the text field, press the button, then drag across the canvas"


xvfb = module_xvfb(1600, 900)


def box(env: DesktopEnv, x: float, y: float) -> str:
    """A screen position as UI-TARS-1.5 writes it: pixels of its smart_resized copy of the screenshot."""
    p = PROFILE.frame(env.display.size_px).to_model(env.display.to_screenshot(Point(x, y, Space.SCREEN)))
    return f"<|box_start|>({round(p.x)},{round(p.y)})<|box_end|>"


def check_task_done(app: TkApp) -> None:
    wait_for(lambda: app.find("button"), what="the button press")
    assert app.find("entry")[-1]["value"] == "hello 你好"
    drag = wait_for(lambda: app.find("drag"), what="the drag")[0]
    assert abs(drag["start"][0] - 100) <= 2 and abs(drag["start"][1] - 100) <= 2, drag
    assert abs(drag["end"][0] - 500) <= 2 and abs(drag["end"][1] - 300) <= 2, drag


def test_guiagent_run_with_replayed_model_completes_the_task(xvfb: Xvfb, tk_app_factory, tmp_path: Path,
                                                              monkeypatch) -> None:
    app: TkApp = tk_app_factory(xvfb)
    with DesktopEnv(x_display=xvfb.display) as env:
        env.observe()
        answers = [
            f"Thought: The text field is at the top.\nAction: click(start_box='{box(env, *app.center('entry'))}')",
            "Thought: Type the words.\nAction: type(content='hello 你好')",
            f"Thought: Now the button.\nAction: click(start_box='{box(env, *app.center('button'))}')",
            (f"Thought: Drag across the canvas.\nAction: drag(start_box='{box(env, *app.canvas_point(100, 100))}', "
             f"end_box='{box(env, *app.canvas_point(500, 300))}')"),
            "Thought: All done.\nAction: finished(content='done')",
        ]
        recorded = Agent(env, ReplayModel(answers), PROFILE, AgentConfig(settle_s=0.2)).run(
            TASK, out_dir=tmp_path / "recorded", meta={"env_options": {}})
    assert recorded.success, recorded.reason
    check_task_done(app)
    app.close()

    fresh: TkApp = tk_app_factory(xvfb)
    monkeypatch.setenv("DISPLAY", xvfb.display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("XDG_SESSION_TYPE", raising=False)
    code = main(["run", TASK, "--env", "desktop", "--model", f"replay:{recorded.run_dir}", "--family",
                 "ui-tars-1.5", "--settle", "0.2", "--out", str(tmp_path / "cli"), "--quiet"])
    assert code == 0
    check_task_done(fresh)
    assert len(list((tmp_path / "cli").iterdir())) == 1  # the CLI run was recorded too
