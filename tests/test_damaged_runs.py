"""Damaged run folders: replay, view and export each end with a clear one-line error and a non-zero exit (or
succeed, leaving out what is damaged), never a traceback, a *.tmp file, or a read outside the run folder."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from agent_helpers import ScriptModel

from guiagent.agent.config import AgentConfig
from guiagent.agent.loop import Agent
from guiagent.agent.trajectory import TrajectoryError, load_run
from guiagent.cli import main
from guiagent.envs.mock import MockDesktop
from guiagent.models.profiles import get_profile

MOCK = {"width": 640, "height": 480, "scale": 1.0, "seed": 0}
ANSWERS = ["Thought: a\nAction: click(start_box='(300,200)')", "Thought: b\nAction: type(content='hi')",
           "Thought: c\nAction: finished(content='ok')"]
SECRET = b"\x89PNG not really; a private file outside the run folder"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pristine")
    return Agent(MockDesktop(**MOCK), ScriptModel(ANSWERS), get_profile("ui-tars-1.5"), AgentConfig(wait_s=0)).run(
        "poke", out_dir=root, meta={"env_options": MOCK}).run_dir


def _meta(**changes):
    def damage(run: Path) -> None:
        meta = json.loads((run / "meta.json").read_text())
        for key, value in changes.items():
            target = meta
            *parents, last = key.split(".")
            for p in parents:
                target = target[p]
            target[last] = value
        (run / "meta.json").write_text(json.dumps(meta))
    return damage


def _step(n: int, **changes):
    def damage(run: Path) -> None:
        lines = (run / "trajectory.jsonl").read_text().splitlines()
        step = json.loads(lines[n])
        step.update(changes)
        lines[n] = json.dumps(step)
        (run / "trajectory.jsonl").write_text("\n".join(lines) + "\n")
    return damage


def _raw_step(n: int, text: str):
    def damage(run: Path) -> None:
        lines = (run / "trajectory.jsonl").read_text().splitlines()
        lines[n] = text
        (run / "trajectory.jsonl").write_text("\n".join(lines) + "\n")
    return damage


def _file(name: str, data: bytes | None):
    def damage(run: Path) -> None:
        path = run / name
        path.unlink()
        if data is None:
            path.mkdir()
        else:
            path.write_bytes(data)
    return damage


def _outside_screenshot(kind: str):
    def damage(run: Path) -> None:
        secret = run.parent / "secret.png"
        secret.write_bytes(SECRET)
        if kind == "link":
            (run / "step_000.png").unlink()
            os.symlink(secret, run / "step_000.png")
        else:
            _step(0, screenshot="../secret.png" if kind == "relative" else str(secret))(run)
    return damage


def _missing(name: str):
    return lambda run: (run / name).unlink()


DEEP = "[" * 200_000 + "]" * 200_000
DAMAGE = {
    "meta-not-json": lambda run: (run / "meta.json").write_text("{oops"),
    "meta-a-list": lambda run: (run / "meta.json").write_text("[1, 2]"),
    "meta-deeply-nested": lambda run: (run / "meta.json").write_text(DEEP),
    "meta-binary": lambda run: (run / "meta.json").write_bytes(b"\xff\xfe\x00garbage"),
    "meta-a-directory": _file("meta.json", None),
    "env-a-string": _meta(env="mock"),
    "env-size-text": _meta(**{"env.size": "big"}),
    "env-scale-zero": _meta(**{"env.scale": 0}),
    "finished-text": _meta(finished="yes"),
    "format-text": _meta(format="1"),
    "evaluation-a-list": _meta(evaluation=[1]),
    "config-a-number": _meta(config=5),
    "env-options-text": _meta(env_options="fast"),
    "env-options-huge-size": _meta(env_options={**MOCK, "width": 100_000, "height": 100_000}),
    "env-options-text-width": _meta(env_options={**MOCK, "width": "wide"}),
    "task-a-number": _meta(task=5),
    "trajectory-a-directory": _file("trajectory.jsonl", None),
    "step-actions-text": _step(0, actions="click"),
    "step-unknown-action": _step(0, actions=[{"type": "clik", "x": 1, "y": 2}]),
    "step-action-nan": _step(0, actions=[{"type": "click", "x": "NaN", "y": 2}]),
    "step-index-text": _step(1, index="1"),
    "step-size-negative": _step(0, screenshot_size=[0, -1]),
    "step-status-short": _step(0, status=[]),
    "step-status-unknown": _step(0, status=["exploded"]),
    "step-attempts-bad": _step(0, attempts=[{"x": 1}]),
    "step-latency-text": _step(0, latency={"model": "slow"}),
    "step-deeply-nested": _raw_step(1, DEEP),
    "step-not-json": _raw_step(1, "{not json"),
    "step-a-list": _raw_step(1, "[1]"),
    "screenshot-missing": _missing("step_001.png"),
    "screenshot-empty": _file("step_001.png", b""),
    "screenshot-corrupt": _file("step_001.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
    "screenshot-a-directory": _file("step_001.png", None),
    "screenshot-wrong-size": _file("step_001.png", b""),  # replaced below by a real PNG of another size
    "screenshot-relative-escape": _outside_screenshot("relative"),
    "screenshot-absolute": _outside_screenshot("absolute"),
    "screenshot-link-outside": _outside_screenshot("link"),
}


def _damaged(pristine: Path, tmp_path: Path, name: str) -> Path:
    import shutil

    run = tmp_path / "run"
    shutil.copytree(pristine, run, symlinks=True)
    DAMAGE[name](run)
    if name == "screenshot-wrong-size":
        from PIL import Image
        Image.new("RGB", (10, 10)).save(run / "step_001.png")
    return run


COMMANDS = {
    "replay": lambda run, out: ["replay", str(run), "--check", "--no-wait"],
    "view": lambda run, out: ["view", str(run), "-o", str(out / "report.html")],
    "export": lambda run, out: ["export", str(run), "-o", str(out / "data.jsonl")],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_folder(pristine: Path, tmp_path: Path, damage: str, command: str, capsys):
    run = _damaged(pristine, tmp_path, damage)
    out = tmp_path / "out"
    out.mkdir()
    code = main(COMMANDS[command](run, out))  # any exception escaping here is the bug this test is for
    stdout, stderr = capsys.readouterr()
    assert "Traceback" not in stderr
    assert not list(out.glob("*.tmp")) and not list(run.glob("*.tmp"))
    if code != 0:
        errors = [line for line in stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and len(errors[0]) < 400, stderr
        if command != "replay":
            assert not list(out.iterdir())  # nothing half-written
    if damage.startswith("screenshot-") and damage != "screenshot-wrong-size":
        if command == "view" and code == 0:  # the report never embeds a file from outside the run folder
            assert base64.b64encode(SECRET).decode() not in (out / "report.html").read_text()
        if command == "replay":
            assert code != 0  # a screenshot that cannot be compared is not a passed check
    replay_only = ("env-options-huge-size", "env-options-text-width")  # only replay builds the env
    if damage.startswith(("meta-", "env-", "step-")) and damage not in ("step-not-json", "step-deeply-nested"):
        if command == "replay" or damage not in replay_only:
            assert code != 0, (stdout, stderr)
    if damage in ("step-not-json", "step-deeply-nested") and command == "replay":
        assert code == 2 and "cannot be replayed" in stderr


def test_load_run_names_the_line_and_field(pristine: Path, tmp_path: Path):
    run = _damaged(pristine, tmp_path, "step-unknown-action")
    with pytest.raises(TrajectoryError, match=r"trajectory.jsonl line 1: actions\[0\]: unknown action type 'clik'"):
        load_run(run)
    run2 = tmp_path / "r2"
    run.rename(run2)
    DAMAGE["env-size-text"](run2)
    with pytest.raises(TrajectoryError, match=r"meta.json: env.size must be \[width, height\]"):
        load_run(run2)


def test_paths_leading_out_of_the_folder_are_refused(pristine: Path, tmp_path: Path):
    run = _damaged(pristine, tmp_path, "screenshot-relative-escape")
    with pytest.raises(TrajectoryError, match="not a file name inside the run folder"):
        load_run(run)
    linked = tmp_path / "linked"
    import shutil
    shutil.copytree(pristine, linked)
    DAMAGE["screenshot-link-outside"](linked)
    loaded = load_run(linked)
    assert 0 in loaded.bad_screenshots
    with pytest.raises(TrajectoryError):
        loaded.screenshot(loaded.steps[0])


def test_export_onto_a_folder_is_one_error_and_leaves_no_tmp(pristine: Path, tmp_path: Path, capsys):
    target = tmp_path / "a-folder"
    target.mkdir()
    assert main(["export", str(pristine), "-o", str(target)]) == 2
    assert "cannot write" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("tolerance", ["nan", "-1", "2", "lots"])
def test_replay_tolerance_is_a_fraction(pristine: Path, tolerance: str, capsys):
    with pytest.raises(SystemExit) as e:
        main(["replay", str(pristine), "--check", "--tolerance", tolerance])
    assert e.value.code == 2 and "fraction from 0 to 1" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["view", "export"])
def test_skipped_step_lines_are_said_on_stderr(pristine: Path, tmp_path: Path, command: str, capsys):
    """view and export go on past a step line that is not valid, and say so (the report lists it too)."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(pristine, run)
    _raw_step(1, "{not json")(run)
    argv = [command, str(run), "-o", str(tmp_path / ("out.html" if command == "view" else "out.jsonl"))]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "line 2" in err and "not a valid step" in err
