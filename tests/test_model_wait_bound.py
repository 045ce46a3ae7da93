"""A model's `wait(time=...)` is model text: the agent never sleeps longer than MAX_MODEL_WAIT_S for it (before,
`wait(time=1e12)` stalled a run without --timeout for ever), and replaying such a recorded wait is bounded too."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import guiagent.agent.loop as loop_module
import guiagent.agent.replay as replay_module
from guiagent.agent import Agent, AgentConfig
from guiagent.agent.config import MAX_MODEL_WAIT_S
from guiagent.agent.replay import replay_actions
from guiagent.envs.mock import MockDesktop
from guiagent.envs.mock.tasks import get_task
from guiagent.models.profiles import get_profile
from guiagent.testing import CannedModel


class SleepRecorder:
    """Stands in for the time module of one module: records sleeps instead of sleeping."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def test_a_huge_model_wait_is_bounded_live_and_on_replay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    live = SleepRecorder()
    monkeypatch.setattr(loop_module, "time", live)
    answers = ["Thought: wait for it\nAction: wait(time='1e12')", "Thought: done\nAction: finished(content='')"]
    env = MockDesktop(task=get_task("rename-file"))
    agent = Agent(env, CannedModel(answers), get_profile("ui-tars-2"), AgentConfig(wait_s=0.0))
    result = agent.run("wait, then stop", task_id="rename-file", out_dir=tmp_path)
    assert result.steps and live.slept and max(live.slept) == MAX_MODEL_WAIT_S

    replayed = SleepRecorder()
    monkeypatch.setattr(replay_module, "time", replayed)
    replay_actions(result.run_dir, MockDesktop(task=get_task("rename-file")))
    assert replayed.slept and max(replayed.slept) == MAX_MODEL_WAIT_S
