"""`guiagent eval --tasks-dir DIR` evaluates a user's own task files (the folder replaces the built-in suite), as
`guiagent run / tasks / screenshot --tasks-dir` do; success is each task's own check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guiagent.cli import main

REPO = Path(__file__).resolve().parent.parent
USER_TASKS = REPO / "examples" / "user_project" / "tasks"


def test_eval_runs_the_tasks_of_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ids = sorted(json.loads(p.read_text(encoding="utf-8"))["id"] for p in USER_TASKS.glob("*.json"))
    out = tmp_path / "results"
    assert main(["eval", "--tasks-dir", str(USER_TASKS), "--model", "scripted", "--workers", "1", "--quiet",
                 "--json", "-o", str(out)]) == 0
    records = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(r["task"] for r in records) == ids
    assert all(r["success"] and r["check"]["success"] for r in records)
    assert json.loads((out / "eval.json").read_text(encoding="utf-8"))["suite"]["options"]["tasks_dir"]


def test_tasks_dir_is_refused_for_a_suite_that_has_no_task_files(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--suite", "miniwob", "--tasks-dir", str(USER_TASKS), "--model", "scripted", "--quiet",
                 "-o", str(tmp_path / "r")]) == 2
    assert "--tasks-dir" in capsys.readouterr().err
