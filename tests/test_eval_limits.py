"""`guiagent eval` / `compare` with absurd numbers or an impossible results folder: a one-line usage error (exit 2)
at once, before any work, instead of a hang, a MemoryError or an OSError traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guiagent.agent.evaluation.stats import paired_bootstrap
from guiagent.cli import main
from guiagent.errors import ConfigError


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_huge_repeats_is_refused_before_building_episodes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "results"
    assert main(["eval", "--tasks", "calc-add", "--model", "scripted", "--repeats", "99999999999999",
                 "--quiet", "-o", str(out)]) == 2
    assert "repeats" in one_error_line(capsys)
    assert not out.exists()


def test_huge_bootstrap_samples_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="bootstrap samples"):
        paired_bootstrap([0.0, 1.0], samples=10**12)
    low, high = paired_bootstrap([0.0, 1.0], samples=1000)   # ordinary values still work
    assert 0.0 <= low <= high <= 1.0


def test_compare_huge_samples_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        record = {"suite": "mock", "task": "calc-add", "repeat": 0, "seed": 0, "outcome": "success",
                  "success": name == "a", "groups": {}}
        (folder / "results.jsonl").write_text(json.dumps(record) + "\n")
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--samples", "999999999999"]) == 2
    assert "bootstrap samples" in one_error_line(capsys)


def test_results_folder_under_a_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["eval", "--tasks", "calc-add", "--model", "scripted", "--quiet", "-o", str(blocker / "r")]) == 2
    assert "results folder" in one_error_line(capsys)


@pytest.mark.parametrize("n", range(1, 40))
def test_wilson_bounds_at_0_and_100_percent_are_exact(n: int) -> None:
    from guiagent.agent.evaluation.stats import wilson_interval

    assert wilson_interval(0, n)[0] == 0.0        # not 5.6e-17 in summary.json
    assert wilson_interval(n, n)[1] == 1.0        # not 0.9999999999999999
    low, high = wilson_interval(0, n)
    assert 0.0 < high < 1.0 and low < high


def test_a_usage_error_is_exactly_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--app", "nope", "--model", "scripted", "-o", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown app 'nope'") and err.count("\n") == 1, repr(err)
