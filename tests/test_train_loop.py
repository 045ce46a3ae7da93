"""The closed loop on the mock desktop, through the command line: record scripted runs -> `guiagent train` a tiny
random Qwen2.5-VL checkpoint on them -> `guiagent run --model hf:OUT` passes the same tasks' checks, which the
untrained checkpoint fails. Memorising is the point: it proves the data path, the loss mask, that training and
inference build the same messages, and the coordinate map, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from train_helpers import TASKS, losses, record_runs, tiny_checkpoint, write_profile_config

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from guiagent.agent.trajectory import load_run  # noqa: E402
from guiagent.cli import main as cli  # noqa: E402


def run_task(task: str, model: Path, config: Path, out: Path) -> dict:
    """Run ``task`` with the checkpoint at ``model`` (greedy, as the family samples); returns the run's meta."""
    cli(["run", "--env", "mock", "--task", task, "--model", f"hf:{model}", "--config", str(config),
         "--max-steps", "6", "--max-tokens", "160", "--out", str(out), "--quiet"])
    (run,) = [p for p in out.iterdir() if json.loads((p / "meta.json").read_text())["task"] == task]
    return load_run(run).meta


def test_record_train_run_closes_the_loop(tmp_path, capsys, torch_one_thread):
    runs = record_runs(tmp_path)
    base = tiny_checkpoint(tmp_path)
    config = write_profile_config(tmp_path)
    out = tmp_path / "trained"
    code = cli(["train", str(runs), "--model", f"hf:{base}", "-o", str(out), "--config", str(config),
                "--method", "full", "--lr", "1e-2", "--max-steps", "240", "--warmup-ratio", "0.05",
                "--weight-decay", "0", "--save-every", "0", "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert "run it with: guiagent run --model hf:" in capsys.readouterr().err
    curve = losses(out)
    assert len(curve) == 240 and curve[-1] < 0.05 < curve[0]

    for task in TASKS:
        trained = run_task(task, out, out / "guiagent.json", tmp_path / "eval-trained")
        assert trained["evaluation"]["success"], (task, trained["evaluation"])
        untrained = run_task(task, base, config, tmp_path / "eval-untrained")
        assert not untrained["evaluation"]["success"], task
