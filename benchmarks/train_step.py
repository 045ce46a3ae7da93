"""Training step throughput and memory: `guiagent train` on a tiny and a mid-size random Qwen2.5-VL checkpoint,
LoRA against full fine-tuning.

    python benchmarks/train_step.py [--steps 6] [--threads 1] [--device cpu|cuda] [--precision auto|fp32|bf16]

Data: scripted mock-desktop runs of two tasks (6 steps) recorded with the UI-TARS-1.5 profile (its real prompt,
3 images of history) and an image budget of at most 64x28x28 pixels (60 image tokens per screenshot), so an
example is ~1,600-1,900 tokens with the byte-level test tokenizer. Checkpoints are built here (nothing is
downloaded):

    tiny   LM hidden 64, 2 layers  (vision: 2 blocks of width 32)         -- the tests' checkpoint
    mid    LM hidden 512, 8 layers, MLP 1,408 (vision: 4 blocks of 128)   -- ~30M parameters

Each configuration trains ``--steps`` optimizer steps of one example (the first step, which includes one-off
costs, is left out of the figures). Reported per step: samples/s and tokens/s (medians), and memory. On CPU the
memory is the process's peak resident set during the step above its resident set when the step began (Linux
VmHWM, reset through /proc/self/clear_refs before each step, after glibc's malloc_trim hands freed pages back), next to the process's peak resident set during the
steps (model, optimizer state and all); on CUDA both columns are torch.cuda.max_memory_allocated during the step. Figures only, no targets.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

SIZES = {
    "tiny": ({}, {}),
    "mid": ({"hidden_size": 512, "intermediate_size": 1408, "num_hidden_layers": 8, "num_attention_heads": 8,
             "num_key_value_heads": 2,
             "rope_parameters": {"rope_type": "default", "mrope_section": [8, 12, 12], "rope_theta": 1e6}},
            {"depth": 4, "hidden_size": 128, "intermediate_size": 256, "num_heads": 4, "out_hidden_size": 512,
             "fullatt_block_indexes": [3]}),
}
TASKS = ("files-open-folder", "files-empty-trash")


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Give freed heap pages back (glibc keeps them otherwise, and the next step's peak would hide in them), then
    restart the peak-RSS counter."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def record(folder: Path, profile_overrides: dict) -> Path:
    from guiagent.agent import Agent, AgentConfig
    from guiagent.agent.factory import make_env, task_evaluator
    from guiagent.agent.spec import load_model

    for task in TASKS:
        env = make_env("mock", task=task)
        loaded = load_model("scripted", env=env, overrides=profile_overrides)
        result = Agent(env, loaded.model, loaded.profile, AgentConfig(max_steps=10)).run(
            env.task.instruction, task_id=task, out_dir=folder / "runs", evaluate=task_evaluator(env))
        assert result.success, task
    return folder / "runs"


def bench(size: str, method: str, runs: Path, profile, work: Path, steps: int, device: str, precision: str) -> dict:
    import torch
    from tiny_qwen import build_tiny_qwen

    from guiagent.agent.train import TrainConfig, train

    text, vision = SIZES[size]
    checkpoint = work / f"ckpt-{size}"
    if not checkpoint.exists():
        build_tiny_qwen(checkpoint, text=text, vision=vision, max_pixels=64 * 28 * 28)
    cuda = device.startswith("cuda")
    per_step: list[dict] = []
    state = {"rss": _status_kib("VmRSS")}

    def on_step(record) -> None:
        if cuda:
            peak = torch.cuda.max_memory_allocated() / 2**20
            torch.cuda.reset_peak_memory_stats()
        else:
            hwm = _status_kib("VmHWM")
            peak = (hwm - state["rss"]) / 1024 if hwm and state["rss"] else float("nan")
        absolute = torch.cuda.max_memory_allocated() / 2**20 if cuda else (_status_kib("VmHWM") or 0) / 1024
        per_step.append({"samples_per_s": record.samples_per_s, "tokens_per_s": record.tokens_per_s,
                         "step_mib": peak, "abs_mib": absolute})
        _reset_peak()
        state["rss"] = _status_kib("VmRSS")

    out = work / f"out-{size}-{method}"
    shutil.rmtree(out, ignore_errors=True)
    config = TrainConfig(method=method, lr=1e-4, max_steps=steps, save_every=0, warmup_ratio=0.0,
                         precision=precision, lora_dropout=0.0)
    _reset_peak()
    start = time.perf_counter()
    train([runs], checkpoint, profile, out, config, device=device, progress=False, on_step=on_step)
    wall = time.perf_counter() - start
    from safetensors.torch import load_file

    params = sum(t.numel() for t in load_file(str(checkpoint / "model.safetensors")).values())
    trainable = json.loads((out / "training.json").read_text())
    measured = per_step[1:] or per_step
    return {"size": size, "method": method, "params_m": params / 1e6,
            "samples_per_s": statistics.median(m["samples_per_s"] for m in measured),
            "tokens_per_s": statistics.median(m["tokens_per_s"] for m in measured),
            "step_peak_mib": max(m["step_mib"] for m in measured),
            "process_peak_mib": max(m["abs_mib"] for m in measured),
            "wall_s": wall, "precision": trainable["precision"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--sizes", default="tiny,mid")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from guiagent.models.config import resolve_profile

    overrides = {"min_pixels": 4 * 28 * 28, "max_pixels": 64 * 28 * 28, "max_images": 3}
    profile = resolve_profile("ui-tars-1.5", overrides=overrides)[0]
    work = Path(tempfile.mkdtemp(prefix="guiagent-train-bench-"))
    try:
        runs = record(work, overrides)
        rows = [bench(size, method, runs, profile, work, args.steps, args.device, args.precision)
                for size in args.sizes.split(",") for method in ("lora", "full")]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"torch {torch.__version__}, device {args.device}, {args.threads} thread(s), {args.steps} steps "
          f"(first left out), 1 example per step")
    print(f"{'config':<6} {'method':<6} {'params':>8} {'precision':>9} {'samples/s':>10} {'tokens/s':>9} "
          f"{'step peak MiB':>14} {'process peak MiB':>17}")
    for r in rows:
        print(f"{r['size']:<6} {r['method']:<6} {r['params_m']:>7.1f}M {r['precision']:>9} "
              f"{r['samples_per_s']:>10.2f} {r['tokens_per_s']:>9.0f} {r['step_peak_mib']:>14.1f} "
              f"{r['process_peak_mib']:>17.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
