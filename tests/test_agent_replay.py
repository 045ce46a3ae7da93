"""Replay: recorded responses back into the live loop, and recorded actions back into a fresh env with --check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from agent_helpers import BoardEnv, ScriptModel, click, finished
from PIL import Image

from guiagent.agent.config import AgentConfig
from guiagent.agent.loop import Agent
from guiagent.agent.replay import ReplayModel, compare_screens, replay_actions
from guiagent.agent.trajectory import load_run
from guiagent.errors import ModelError
from guiagent.models.base import Sampling
from guiagent.models.profiles import get_profile
from guiagent.agent.spec import load_model

PROFILE = get_profile("ui-tars-1.5")
ANSWERS = [click(200, 100), "garbage", click(300, 150),
           "Action: type(content='hi')\n\nhotkey(key='ctrl s')",
           "Action: click(start_box='(700,10)')",  # off screen: the env refuses it
           "Action: drag(start_box='(150,300)', end_box='(400,320)')", finished("ok")]


def record(tmp_path: Path, answers=ANSWERS, env=None):
    result = Agent(env or BoardEnv(), ScriptModel(answers), PROFILE, AgentConfig()).run(
        "mark and type", out_dir=tmp_path / "runs", task_id="board")
    assert result.success
    return result


def test_replay_model_feeds_every_recorded_answer_back(tmp_path: Path):
    first = record(tmp_path)
    model = ReplayModel.from_run(first.run_dir)
    assert model.responses == ANSWERS  # failed parses included, so retries replay too
    again = Agent(BoardEnv(), model, PROFILE, AgentConfig()).run("mark and type")
    assert again.success and again.answer == "ok"
    strip = lambda steps: [(s.actions, s.actions_model, s.status, [a.error for a in s.attempts]) for s in steps]
    assert strip(again.steps) == strip(first.steps)
    with pytest.raises(ModelError, match="no more responses"):
        model.complete([], Sampling())


def test_replay_spec_builds_a_replay_model_with_the_recorded_family(tmp_path: Path):
    first = record(tmp_path)
    loaded = load_model(f"replay:{first.run_dir}")
    assert isinstance(loaded.model, ReplayModel) and loaded.profile.name == "ui-tars-1.5"
    assert loaded.model.responses == ANSWERS


def test_replay_exhausted_ends_the_run_with_model_error(tmp_path: Path):
    first = record(tmp_path, answers=[click(200, 100), finished()])
    model = ReplayModel.from_run(first.run_dir)
    model.responses.pop()  # as if the recorded run had stopped earlier
    result = Agent(BoardEnv(), model, PROFILE, AgentConfig()).run("x")
    assert result.outcome == "model_error" and "no more responses" in result.reason


def test_replay_actions_with_check_reproduces_every_screenshot(tmp_path: Path):
    first = record(tmp_path)
    env = BoardEnv()
    report = replay_actions(first.run_dir, env, check=True)
    assert report.ok and report.first_difference is None and report.steps_replayed == len(first.steps)
    assert "every screenshot matches" in report.summary()
    assert env.text == "hi" and len(env.marks) == 2


def test_replay_check_reports_the_first_differing_step(tmp_path: Path):
    first = record(tmp_path)
    # a different env: its dead strip is wider, so the first screenshot already differs
    report = replay_actions(first.run_dir, BoardEnv(dead_width=120), check=True)
    assert report.first_difference == 0 and not report.ok and "pixels differ" in report.difference

    # tamper with the recording of step 3 (index 2): steps 0 and 1 match, step 2 does not
    shot = first.run_dir / "step_002.png"
    img = Image.open(shot).convert("RGB")
    img.putpixel((600, 390), (255, 0, 255))
    img.save(shot)
    report = replay_actions(first.run_dir, BoardEnv(), check=True)
    assert report.first_difference == 2 and report.steps_replayed == 2
    assert "1 pixels differ" in report.difference and "(600, 390, 601, 391)" in report.difference
    assert report.summary().startswith("step 3 differs")
    # tolerance lets a one-pixel difference through
    assert replay_actions(first.run_dir, BoardEnv(), check=True, tolerance=0.001).ok


def test_replay_without_check_only_executes(tmp_path: Path):
    first = record(tmp_path)
    env = BoardEnv(dead_width=120)
    report = replay_actions(first.run_dir, env)
    assert report.ok and not report.checked and env.text == "hi"
    assert len(env.executed) == 5  # click, click, type, hotkey, drag (the refused click raises again, as recorded)


def test_replay_only_executes_what_ran(tmp_path: Path):
    first = record(tmp_path, answers=[click(200, 100), click(300, 100), finished()])
    lines = (first.run_dir / "trajectory.jsonl").read_text().splitlines()
    step = json.loads(lines[1])
    step["status"] = ["skipped"]
    lines[1] = json.dumps(step)
    (first.run_dir / "trajectory.jsonl").write_text("\n".join(lines) + "\n")
    env = BoardEnv()
    replay_actions(load_run(first.run_dir), env)
    assert len(env.executed) == 1


def test_compare_screens_sizes():
    a, b = Image.new("RGB", (10, 10)), Image.new("RGB", (10, 12))
    assert compare_screens(a, b).describe() == "screenshot size 10x12 instead of 10x10"
    assert compare_screens(a, a.copy()).differing_pixels == 0


def test_compare_screens_counts_a_change_in_one_channel():
    a = Image.new("RGB", (10, 10), (100, 100, 100))
    b = a.copy()
    b.putpixel((3, 3), (101, 100, 100))  # invisible in luminance: must still count
    b.putpixel((5, 5), (100, 100, 99))
    diff = compare_screens(a, b)
    assert diff.differing_pixels == 2 and diff.bbox == (3, 3, 6, 6)
    assert diff.fraction > 0
