"""make-grounding / eval-grounding with an output folder that cannot be made: one line, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from guiagent.cli import main


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("grounding") / "data"
    assert main(["make-grounding", "--suite", "mock", "--screens", "1", "--per-screen", "1", "--quiet",
                 "-o", str(folder)]) == 0
    return folder


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_make_grounding_under_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["make-grounding", "--suite", "mock", "--quiet", "-o", str(blocker / "data")]) == 2
    assert "cannot make the dataset folder" in _one_line(capsys)


def test_eval_grounding_results_under_a_file(dataset: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["eval-grounding", str(dataset), "--model", "scripted", "--quiet", "-o", str(blocker / "r")]) == 2
    assert "cannot make the results folder" in _one_line(capsys)


def test_make_grounding_huge_counts_are_refused_before_writing(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    for flag in ("--screens", "--per-screen"):
        out = tmp_path / flag.strip("-")
        assert main(["make-grounding", "--suite", "mock", flag, "99999999999", "--quiet", "-o", str(out)]) == 2
        assert "screens must be 1 to" in _one_line(capsys)
        assert not out.exists()


def test_eval_grounding_usage_error_is_exactly_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval-grounding", str(tmp_path / "none"), "--model", "scripted", "-o", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, repr(err)


def test_make_grounding_usage_error_is_exactly_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "something.txt").write_text("x")
    assert main(["make-grounding", "--suite", "mock", "-o", str(tmp_path / "taken")]) == 2   # progress bar on
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "not empty" in err and err.count("\n") == 1, repr(err)
