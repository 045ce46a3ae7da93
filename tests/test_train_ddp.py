"""`torchrun` runs the unchanged `guiagent train` data-parallel: two CPU processes (gloo) with accumulation 1 take
the same examples per step as one process with accumulation 2, so losses and weights match."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from train_helpers import losses, record_runs, tiny_checkpoint, write_profile_config

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from guiagent.cli import main as cli  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def test_two_process_gloo_ddp_matches_one_process_with_twice_the_accumulation(tmp_path, torch_one_thread):
    runs = record_runs(tmp_path)
    base = tiny_checkpoint(tmp_path)
    config = write_profile_config(tmp_path)
    common = ["train", str(runs), "--model", f"hf:{base}", "--config", str(config), "--method", "lora",
              "--lora-rank", "4", "--lora-dropout", "0", "--lr", "5e-3", "--max-steps", "3", "--save-every", "0",
              "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)
    launched = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         "-m", "guiagent", *common, "-o", str(tmp_path / "ddp"), "--grad-accum", "1"],
        env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert launched.returncode == 0, f"torchrun exit {launched.returncode}\nstdout: {launched.stdout[-2000:]}\n" \
                                     f"stderr: {launched.stderr[-4000:]}"
    assert cli([*common, "-o", str(tmp_path / "single"), "--grad-accum", "2"]) == 0

    ddp, single = losses(tmp_path / "ddp"), losses(tmp_path / "single")
    assert len(ddp) == len(single) == 3
    assert ddp == pytest.approx(single, rel=1e-4)
    assert ddp[0] != ddp[1]  # the steps differ: the comparison is not trivially equal
    from safetensors.torch import load_file

    a, b = (load_file(str(tmp_path / d / "model.safetensors")) for d in ("ddp", "single"))
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)
    import json

    assert json.loads((tmp_path / "ddp" / "training.json").read_text())["world_size"] == 2
