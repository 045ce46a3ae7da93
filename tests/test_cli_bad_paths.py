"""Bad output paths and quiet modes, as a new user meets them: one line naming the path, a non-zero exit, no
traceback; --quiet hides progress but never the error."""

from __future__ import annotations

from pathlib import Path

import pytest

from guiagent.agent.trajectory import TrajectoryWriter
from guiagent.cli import main
from guiagent.errors import TrajectoryError


@pytest.mark.parametrize("where", ["file", "under-file"])
def test_run_folder_under_a_file_is_a_trajectory_error(tmp_path: Path, where: str) -> None:
    blocker = tmp_path / "runs"
    blocker.write_text("not a folder")
    parent = blocker if where == "file" else blocker / "sub"
    with pytest.raises(TrajectoryError, match="runs"):
        TrajectoryWriter.create(parent, {"task": "t"})


@pytest.mark.parametrize("argv", [["run", "--env", "mock", "--task", "rename-file", "--model", "scripted"],
                                  ["demo"]])
def test_out_that_is_a_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    out = tmp_path / "runs"
    out.write_text("not a folder")
    assert main([*argv, "--out", str(out), "--quiet"]) == 2  # checked before the run starts
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and str(out) in err and "Traceback" not in err
    assert out.read_text() == "not a folder"


def test_demo_quiet_still_shows_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--quiet", "--task", "no-such-task"]) == 2
    assert "no-such-task" in capsys.readouterr().err


def test_task_file_that_is_not_utf8_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "latin1.json").write_bytes(b'{"id": "caf\xe9"}')
    assert main(["tasks", "--tasks-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "latin1.json" in err and "UTF-8" in err and "Traceback" not in err


def test_view_output_under_a_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path / "runs"), "--quiet"]) == 0
    (run,) = (tmp_path / "runs").iterdir()
    capsys.readouterr()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["view", str(run), "-o", str(blocker / "report.html")]) == 2
    err = capsys.readouterr().err
    assert "cannot write" in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [["run", "caf\udce9", "--env", "mock", "--task", "rename-file", "--model", "scripted"],
                                  ["eval", "--tasks", "calc-add", "--model", "scripted", "--quiet", "-o"]])
def test_arguments_that_are_not_utf8_are_refused_up_front(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          argv: list[str]) -> None:
    # what Python makes of a non-UTF-8 byte in argv (surrogateescape); it used to fail mid-run writing JSON
    out = tmp_path / "out\udcff"
    argv = [*argv, str(out)] if argv[0] == "eval" else [*argv, "--out", str(out)]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "not valid UTF-8" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_prompt_file_that_is_not_utf8_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "prompt.txt").write_bytes(b"Tu es un agent \xe9 {instruction}")
    (tmp_path / "model.toml").write_text('[prompts]\ncomputer_file = "prompt.txt"\n', encoding="utf-8")
    assert main(["run", "--env", "mock", "--task", "rename-file", "--model", "scripted", "--no-record", "--quiet",
                 "--config", str(tmp_path / "model.toml")]) == 2
    err = capsys.readouterr().err
    assert "prompt.txt" in err and "UTF-8" in err and "Traceback" not in err


@pytest.mark.parametrize("name", ["../secret.txt", "ABSOLUTE"])
def test_prompt_file_outside_the_config_folder_is_not_read(tmp_path: Path, capsys, name: str) -> None:
    """A config (maybe one shipped with a downloaded model) cannot make the agent send another file to the server."""
    secret = tmp_path / "secret.txt"
    secret.write_text("PRIVATE KEY {instruction}", encoding="utf-8")
    folder = tmp_path / "model"
    folder.mkdir()
    value = str(secret) if name == "ABSOLUTE" else name
    (folder / "model.toml").write_text(f'[prompts]\ncomputer_file = "{value}"\n', encoding="utf-8")
    assert main(["run", "--env", "mock", "--task", "rename-file", "--model", "scripted", "--no-record", "--quiet",
                 "--config", str(folder / "model.toml")]) == 2
    err = capsys.readouterr().err
    assert "outside" in err and "PRIVATE" not in err and "Traceback" not in err


@pytest.mark.parametrize("line,message", [("temperature = inf", "temperature must be a number >= 0 and finite"),
                                          ("temperature = nan", "temperature must be a number >= 0 and finite"),
                                          ('seed = "x"', "seed must be a whole number"),
                                          ("seed = 1.5", "seed must be a whole number")])
def test_sampling_values_a_server_would_refuse_are_config_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                 line: str, message: str) -> None:
    (tmp_path / "model.toml").write_text(line + "\n", encoding="utf-8")
    assert main(["run", "--env", "mock", "--task", "rename-file", "--model", "scripted", "--no-record", "--quiet",
                 "--config", str(tmp_path / "model.toml")]) == 2
    assert message in capsys.readouterr().err
