"""Bad flags are refused before anything starts: exit 2, one line, no traceback, no run or results folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from guiagent.cli import main


def _usage_error(capsys: pytest.CaptureFixture[str], argv: list[str], *words: str) -> str:
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err
    for word in words:
        assert word in err, err
    return err


# ---------------------------------------------------------------- --mode against the family's prompts


@pytest.mark.parametrize("command", [["run", "--task", "rename-file"], ["eval", "--tasks", "rename-file"]])
def test_mode_the_family_has_no_prompt_for_is_refused_up_front(tmp_path: Path, capsys, monkeypatch,
                                                              command: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    out = ["-o", str(tmp_path / "results")] if command[0] == "eval" else ["--out", str(tmp_path / "runs")]
    _usage_error(capsys, [*command, "--model", "scripted", "--mode", "mobile", "--family", "kimi-vl", *out],
                 "family 'kimi-vl' has no 'mobile' prompt")
    assert list(tmp_path.iterdir()) == []


def test_mode_check_reads_the_family_from_config(tmp_path: Path, capsys) -> None:
    config = tmp_path / "kimi.toml"
    config.write_text('family = "kimi-vl"\n')
    _usage_error(capsys, ["run", "--task", "rename-file", "--model", "scripted", "--mode", "mobile", "--config",
                          str(config), "--out", str(tmp_path / "runs")], "has no 'mobile' prompt")
    assert not (tmp_path / "runs").exists()


def test_a_mode_the_family_has_still_runs(tmp_path: Path) -> None:
    assert main(["run", "--task", "rename-file", "--model", "scripted", "--mode", "grounding", "--family",
                 "kimi-vl", "--quiet", "--out", str(tmp_path / "runs")]) in (0, 1)
    assert len(list((tmp_path / "runs").iterdir())) == 1


# ---------------------------------------------------------------- numeric eval flags


@pytest.mark.parametrize("flag,value,want", [("--ray-gpus", "-1", "expected a number >= 0"),
                                             ("--ray-gpus", "nan", "expected a number >= 0"),
                                             ("--ray-gpus", "inf", "expected a number >= 0"),
                                             ("--ray-cpus", "0", "expected a number > 0"),
                                             ("--ray-cpus", "-2", "expected a number > 0"),
                                             ("--ray-cpus", "many", "expected a number > 0")])
def test_ray_resources_are_checked_by_argparse(tmp_path: Path, capsys, flag: str, value: str, want: str) -> None:
    with pytest.raises(SystemExit) as e:
        main(["eval", "--model", "scripted", "--ray", "auto", flag, value, "-o", str(tmp_path / "X")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and f"argument {flag}: {want}, got {value!r}" in err and "Traceback" not in err
    assert not (tmp_path / "X").exists()


def test_ray_resource_types_accept_shares() -> None:
    from guiagent.cli.argtypes import non_negative_number, positive_number

    assert non_negative_number("0") == 0.0 and non_negative_number("0.5") == 0.5
    assert positive_number("0.25") == 0.25


# ---------------------------------------------------------------- bad paths: exit 2 before the run


def test_replay_of_a_missing_run_is_a_usage_error(tmp_path: Path, capsys) -> None:
    _usage_error(capsys, ["run", "--task", "rename-file", "--model", f"replay:{tmp_path / 'nope'}", "--out",
                          str(tmp_path / "runs")], "is not a run folder")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("command", [["run", "--task", "rename-file", "--model", "scripted"], ["demo"]])
@pytest.mark.parametrize("under", [False, True])
def test_out_in_the_way_of_a_file_is_refused_before_the_run(tmp_path: Path, capsys, command: list[str],
                                                            under: bool) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    out = blocker / "sub" if under else blocker
    err = _usage_error(capsys, [*command, "--out", str(out)], f"--out {out}", "not a folder")
    assert "step 1" not in err  # nothing ran
    assert blocker.read_text() == "x" and sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_no_record_ignores_out(tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    assert main(["run", "--task", "rename-file", "--model", "scripted", "--quiet", "--no-record",
                 "--out", str(blocker)]) == 0


def test_tasks_dir_that_is_a_file_says_so(tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    err = _usage_error(capsys, ["run", "--task", "t", "--model", "scripted", "--tasks-dir", str(blocker)],
                       "is not a folder")
    assert "does not exist" not in err
    _usage_error(capsys, ["run", "--task", "t", "--model", "scripted", "--tasks-dir", str(tmp_path / "none")],
                 "does not exist")


# ---------------------------------------------------------------- messages


@pytest.mark.parametrize("argv,want", [
    (["--env", "mock", "--monitor", "2"], "--monitor applies to --env desktop only"),
    (["--env", "mock", "--monitor", "2", "--no-failsafe"], "--monitor, --no-failsafe apply to --env desktop only"),
    (["--env", "mock", "--sandbox-app", "xterm"], "--sandbox-app applies to --env sandbox / vnc:HOST:PORT only"),
])
def test_flags_for_another_env_agree_in_number(capsys, argv: list[str], want: str) -> None:
    _usage_error(capsys, ["run", "x", "--model", "scripted", "--no-record", *argv], want)


@pytest.mark.parametrize("argv,words", [
    (["run", "   ", "--task", "rename-file", "--model", "scripted"], ["INSTRUCTION is blank"]),
    (["run", "--task", "rename-file", "--model", "scripted", "--no-record", "--report"], ["--report", "--no-record"]),
])
def test_run_flags_that_cannot_mean_anything_are_refused(tmp_path: Path, capsys, monkeypatch, argv, words) -> None:
    monkeypatch.chdir(tmp_path)
    _usage_error(capsys, argv + ["--quiet"], *words)
    assert not (tmp_path / "runs").exists()
