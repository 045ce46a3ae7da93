"""`guiagent replay` onto the real desktop asks first, refuses without a terminal unless --yes, offers --dry-run and
warns about a different env or screen size; a replay that executed nothing is not a success; a run recorded
without its task says so instead of a misleading pixel diff."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from agent_helpers import BoardEnv, ScriptModel, finished

import guiagent.cli.replay as replay_cli
from guiagent.agent.config import AgentConfig
from guiagent.agent.loop import Agent
from guiagent.cli import main
from guiagent.envs.mock import MockDesktop
from guiagent.envs.mock.tasks import get_task
from guiagent.models.profiles import get_profile

PROFILE = get_profile("ui-tars-1.5")
MOCK = {"width": 800, "height": 600, "scale": 1.0, "seed": 0}
ANSWERS = ["Thought: a\nAction: click(start_box='(400,300)')", "Thought: b\nAction: type(content='hello')",
           finished("ok")]


@pytest.fixture
def mock_run(tmp_path: Path) -> Path:
    return Agent(MockDesktop(**MOCK), ScriptModel(ANSWERS), PROFILE, AgentConfig(wait_s=0)).run(
        "poke", out_dir=tmp_path / "rec", meta={"env_options": MOCK}).run_dir


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def fake_desktop(monkeypatch):
    """Stands in for the real desktop: a board of another size that records what it is told to do."""
    built: list[BoardEnv] = []

    def env_from_meta(meta, kind=None, *, given=None, warn=None):
        assert kind == "desktop" and not any(v is not None for v in (given or {}).values())
        built.append(BoardEnv(1024, 768, dead_width=1))
        return built[-1], {}

    monkeypatch.setattr(replay_cli, "env_from_meta", env_from_meta)
    return built


def test_desktop_replay_without_a_terminal_is_refused_before_anything_starts(mock_run, fake_desktop, capsys,
                                                                               monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["replay", str(mock_run), "--env", "desktop", "--no-wait"]) == 2
    assert "--yes" in capsys.readouterr().err
    assert fake_desktop == []  # not even built


def test_desktop_replay_asks_and_a_no_executes_nothing(mock_run, fake_desktop, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", _Tty("n\n"))
    assert main(["replay", str(mock_run), "--env", "desktop", "--no-wait"]) == 1
    err = capsys.readouterr().err
    assert "Replay 2 recorded actions onto this desktop" in err and "not replayed" in err
    assert fake_desktop[0].executed == []


def test_desktop_replay_with_yes_warns_about_env_and_size_then_runs(mock_run, fake_desktop, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["replay", str(mock_run), "--env", "desktop", "--yes", "--no-wait"]) == 0
    err = capsys.readouterr().err
    assert "recorded on the mock env and is replayed on desktop" in err
    assert "800x600 pixels, this one is 1024x768" in err
    assert len(fake_desktop[0].executed) == 2


def test_dry_run_lists_the_actions_and_executes_nothing(mock_run, fake_desktop, capsys):
    assert main(["replay", str(mock_run), "--env", "desktop", "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert "step 1: click (394, 306)" in out and "step 2: type \"hello\"" in out
    assert "nothing was executed" in err and fake_desktop == []


def test_a_replay_that_executed_nothing_is_not_a_success(tmp_path: Path, capsys):
    run = Agent(MockDesktop(**MOCK), ScriptModel([finished("nothing to do")]), PROFILE, AgentConfig()).run(
        "x", out_dir=tmp_path / "rec", meta={"env_options": MOCK}).run_dir
    assert main(["replay", str(run), "--no-wait"]) == 1
    assert "nothing was replayed" in capsys.readouterr().out


def test_check_on_a_run_recorded_without_its_task_says_the_task_is_missing(tmp_path: Path, capsys):
    task = get_task("files-new-folder")
    env = MockDesktop(task=task)
    run = Agent(env, ScriptModel(ANSWERS), PROFILE, AgentConfig(wait_s=0)).run(
        task.instruction, out_dir=tmp_path / "rec").run_dir  # no task_id: meta.json's task is empty
    assert main(["replay", str(run), "--check", "--no-wait"]) == 1
    out = capsys.readouterr().out
    assert "step 1 differs" in out and "the run names no task" in out and "task_id" in out
