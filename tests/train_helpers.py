"""Shared set-up of the training tests: scripted mock-desktop runs recorded with a small profile, and a tiny random
Qwen2.5-VL checkpoint. The profile keeps the family's grammar, history and coordinate convention but uses a short
prompt template and a tiny image budget, so a 2-layer model memorises the runs in a few seconds of CPU time."""

from __future__ import annotations

import json
from pathlib import Path

from tiny_qwen import build_tiny_qwen

from guiagent.cli import main as cli

#: two short tasks (2 and 4 steps) whose checks the untrained model cannot pass
TASKS = ("files-open-folder", "files-empty-trash")
PROFILE_CONFIG = {"family": "ui-tars-1.5", "min_pixels": 4 * 28 * 28, "max_pixels": 8 * 28 * 28,
                  "max_images": 3, "prompts": {"computer": "GUI task: {instruction}"}}


def write_profile_config(folder: Path) -> Path:
    path = folder / "profile.json"
    path.write_text(json.dumps(PROFILE_CONFIG), encoding="utf-8")
    return path


def record_runs(folder: Path, tasks=TASKS) -> Path:
    """Record one scripted run per task with ``guiagent run`` (the command line, in-process) under folder/runs."""
    config = write_profile_config(folder)
    runs = folder / "runs"
    for task in tasks:
        code = cli(["run", "--env", "mock", "--task", task, "--model", "scripted", "--config", str(config),
                    "--out", str(runs), "--quiet"])
        assert code == 0, f"the scripted model failed {task}"
    return runs


def tiny_checkpoint(folder: Path) -> Path:
    # named like a UI-TARS-1.5 download, so the family is guessed from the folder name as for a real one
    return build_tiny_qwen(folder / "UI-TARS-1.5-tiny-random")


def losses(out: Path) -> list[float]:
    return [json.loads(line)["loss"] for line in (out / "loss.jsonl").read_text(encoding="utf-8").splitlines()]
