"""Supervised fine-tuning of a local Qwen2.5-VL-architecture checkpoint on recorded runs.

One optimizer step consumes ``grad_accum`` examples on each of the ``world_size`` processes. The examples of an
epoch are a seeded permutation; micro-step ``k`` of step ``s`` on rank ``r`` takes example
``perm[(s * grad_accum + k) * world_size + r]``, so one process with accumulation 2 and two processes with
accumulation 1 see the same examples in every step, and a resumed run picks up exactly where it stopped. Each
example's loss is the mean over its answer tokens, and each example weighs the same in a step (gradients are
averaged over micro-steps and, by DDP, over processes). Dropout randomness is seeded per micro-step from
(seed, step, micro-step, rank), so nothing else has to be saved for an exact resume.

Launched as a plain process it trains on one device; under ``torchrun`` (``WORLD_SIZE`` > 1) it joins the process
group (NCCL on GPUs, gloo on CPU) and wraps the model in ``DistributedDataParallel``; rank 0 alone writes files.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from guiagent.agent.train.config import StepLog, TrainConfig, TrainResult
from guiagent.agent.train.checkpoint import checkpoint_dirs, load_checkpoint, read_state, save_checkpoint
from guiagent.agent.train.data import load_examples
from guiagent.agent.train.encode import ExampleEncoder
from guiagent.agent.train.model import (enable_checkpointing, load_dtype, prepare_model, trainable_to_float32,
                                        write_model)
from guiagent.agent.train.optim import make_optimizer, make_scheduler
from guiagent.agent.train.plot import plot_loss_log
from guiagent.errors import ConfigError
from guiagent.models.profiles import Profile

log = logging.getLogger("guiagent.train")

#: settings a resumed run must share with the run it continues
_RESUME_KEYS = ("method", "lora_rank", "lora_alpha", "lora_dropout", "train_projector", "train_vision", "epochs",
                "max_steps", "grad_accum", "lr", "weight_decay", "warmup_ratio", "min_lr_ratio", "seed", "precision")


@dataclass(frozen=True)
class Dist:
    """This process's place in a distributed (torchrun) launch: its rank, the world size and its local rank."""
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """True on rank 0, the process that writes files and prints progress."""
        return self.rank == 0


def dist_from_env() -> Dist:
    """The process's place in a ``torchrun`` launch (RANK, WORLD_SIZE, LOCAL_RANK); a single process otherwise."""
    try:
        return Dist(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
                    int(os.environ.get("LOCAL_RANK", 0)))
    except ValueError as exc:
        raise ConfigError(f"bad torchrun environment (RANK/WORLD_SIZE/LOCAL_RANK): {exc}") from exc


def resolve_precision(precision: str, device: str) -> str:
    """fp32, bf16 or fp16 for ``precision`` on ``device`` (ConfigError for fp16 off a GPU)."""
    import torch

    if precision == "auto":
        if not device.startswith("cuda"):
            return "fp32"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if precision == "fp16" and not device.startswith("cuda"):
        raise ConfigError("--precision fp16 (with loss scaling) needs a CUDA GPU; on CPU use fp32 or bf16")
    return precision


def train(data: Sequence[str | os.PathLike], model_path: str | os.PathLike, profile: Profile,
          output: str | os.PathLike, config: TrainConfig = TrainConfig(), *, resume: bool = False,
          device: str | None = None, progress: bool = True,
          on_step: Callable[[StepLog], None] | None = None) -> TrainResult:
    """Fine-tune the checkpoint at ``model_path`` on ``data`` and write the result to ``output``.

    Args:
        data: run folders, folders of runs, ``guiagent export`` files.
        model_path: a Qwen2-VL / Qwen2.5-VL-architecture checkpoint folder (what ``hf:PATH`` loads).
        profile: the profile the trained model will run with; the examples are built with it.
        output: the folder to write (checkpoints while training, then the model, ``loss.jsonl``, ``loss.png``,
            ``training.json`` and ``guiagent.json``, a profile file for ``--config``).
        config: the training settings.
        resume: continue from the newest checkpoint in ``output``.
        device: torch device (default: cuda:LOCAL_RANK if CUDA is available, else cpu).
        progress: show a rich progress bar (rank 0).
        on_step: called after every optimizer step with its log line (all ranks).

    Returns:
        TrainResult (steps done, this call's losses, what the data loader took and left out).

    Raises:
        KeyboardInterrupt: after saving a checkpoint of the steps completed so far (continue with ``resume``).
        ConfigError: bad data, settings, output folder or checkpoint.
        ModelError: a checkpoint that cannot be loaded.
    """
    import torch

    from guiagent.models.local_backend import LocalQwenModel

    dist = dist_from_env()
    out = Path(output)
    model_path = Path(model_path)
    _check_output(out, resume, dist)
    if device is None:
        device = f"cuda:{dist.local_rank}" if torch.cuda.is_available() else "cpu"
    precision = resolve_precision(config.precision, device)
    group = _init_process_group(dist, device)
    try:
        examples, stats = load_examples(data, profile, success_only=not config.include_failed, raw=config.raw)
        per_step = dist.world * config.grad_accum
        if len(examples) < per_step:
            raise ConfigError(f"{len(examples)} training examples, but one optimizer step takes {per_step} "
                              f"({dist.world} process(es) x --grad-accum {config.grad_accum})"
                              + (f"; left out: {'; '.join(stats.skipped[:3])}" if stats.skipped else ""))
        steps_per_epoch = len(examples) // per_step
        total = config.max_steps or steps_per_epoch * config.epochs

        torch.manual_seed(config.seed)
        backend = LocalQwenModel(model_path, profile, device=device, dtype=load_dtype(model_path, precision))
        encoder = ExampleEncoder(backend)
        model = prepare_model(backend.model, config)
        trainable_to_float32(model)
        if config.gradient_checkpointing:
            enable_checkpointing(model)
            if hasattr(model, "enable_input_require_grads"):
                model.enable_input_require_grads()
        model.train()
        optimizer = make_optimizer(model, lr=config.peak_lr, weight_decay=config.weight_decay, betas=config.betas)
        warmup = int(round(config.warmup_ratio * total))
        scheduler = make_scheduler(optimizer, total_steps=total, warmup_steps=warmup, min_ratio=config.min_lr_ratio)
        scaler = torch.amp.GradScaler("cuda") if precision == "fp16" else None
        state = {"config": _config_json(config), "world_size": dist.world, "examples": len(examples),
                 "precision": precision}

        start = 0
        if resume:
            found = checkpoint_dirs(out)
            if not found:
                raise ConfigError(f"--resume: {out} holds no checkpoint to continue from")
            _check_resume(read_state(found[-1][1]), state, found[-1][1])
            saved = load_checkpoint(found[-1][1], model=model, optimizer=optimizer, scheduler=scheduler,
                                    scaler=scaler, device=device)
            start = int(saved["step"])
            log.info("resuming from %s (step %d of %d)", found[-1][1], start, total)
        if dist.main:
            _truncate_log(out / "loss.jsonl", start)

        wrapped = model
        if dist.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            wrapped = DistributedDataParallel(model, device_ids=[dist.local_rank] if device.startswith("cuda")
                                              else None)
        loop = _Loop(config, dist, device, precision, examples, encoder, wrapped, model, optimizer, scheduler,
                     scaler, steps_per_epoch, total, out, state, progress, on_step)
        result = loop.run(start)
        result.data = stats
        if dist.main:
            write_model(model, config, model_path, out, profile, stats, state, result, examples)
        if group:
            torch.distributed.barrier()
        return result
    finally:
        if group:
            torch.distributed.destroy_process_group()


class _Loop:
    """The optimizer-step loop (kept apart from setup so each part reads on its own)."""

    def __init__(self, config, dist, device, precision, examples, encoder, wrapped, model, optimizer, scheduler,
                 scaler, steps_per_epoch, total, out, state, progress, on_step):
        self.c, self.dist, self.device, self.precision = config, dist, device, precision
        self.examples, self.encoder, self.wrapped, self.model = examples, encoder, wrapped, model
        self.optimizer, self.scheduler, self.scaler = optimizer, scheduler, scaler
        self.steps_per_epoch, self.total, self.out, self.state = steps_per_epoch, total, out, state
        self.progress, self.on_step = progress, on_step
        self._order: tuple[int, list[int]] | None = None

    def order(self, epoch: int) -> list[int]:
        import torch

        if self._order is None or self._order[0] != epoch:
            generator = torch.Generator().manual_seed(self.c.seed * 100_003 + epoch)
            self._order = (epoch, torch.randperm(len(self.examples), generator=generator).tolist())
        return self._order[1]

    def autocast(self):
        import torch

        if self.precision == "fp32":
            return nullcontext()
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
        return torch.autocast(device_type=self.device.split(":")[0], dtype=dtype)

    def run(self, start: int) -> TrainResult:
        result = TrainResult(self.out, start)
        bar = _Progress(self.total, start, enabled=self.progress and self.dist.main)
        began = time.perf_counter()
        step = start
        try:
            with bar:
                for step in range(start, self.total):
                    record = self.one_step(step, began)
                    result.losses.append(record.loss)
                    result.steps = step + 1
                    if self.dist.main:
                        with open(self.out / "loss.jsonl", "a", encoding="utf-8") as f:
                            f.write(json.dumps(asdict(record)) + "\n")
                    bar.update(record)
                    if self.on_step is not None:
                        self.on_step(record)
                    if self.c.save_every and (step + 1) % self.c.save_every == 0 and step + 1 < self.total:
                        self.save(step + 1)
        except KeyboardInterrupt:
            if result.steps > start and self.dist.main:
                self.save(result.steps, barrier=False)
                log.warning("interrupted after step %d; checkpoint saved: continue with --resume", result.steps)
            raise
        # No checkpoint at the end: the model written next is the result (a crash while writing it resumes from
        # the last periodic checkpoint).
        return result

    def one_step(self, step: int, began: float) -> StepLog:
        import torch

        epoch, position = divmod(step, self.steps_per_epoch)
        order = self.order(epoch)
        c, dist = self.c, self.dist
        tick = time.perf_counter()
        loss_sum = torch.zeros((), dtype=torch.float64)
        tokens = 0
        for k in range(c.grad_accum):
            index = order[(position * c.grad_accum + k) * dist.world + dist.rank]
            encoded = self.encoder.encode(self.examples[index])
            inputs = {name: value.to(self.device) for name, value in encoded.inputs.items()}
            tokens += encoded.tokens
            torch.manual_seed(((c.seed * 1_000_003 + step) * c.grad_accum + k) * dist.world + dist.rank)
            sync = k == c.grad_accum - 1 or dist.world == 1
            with (nullcontext() if sync else self.wrapped.no_sync()):
                with self.autocast():
                    loss = self.wrapped(**inputs, use_cache=False).loss
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"the loss became {loss.item()} at step {step + 1} "
                                             f"({self.examples[index].source}); lower --lr or use --precision fp32")
                scaled = loss.float() / c.grad_accum
                (self.scaler.scale(scaled) if self.scaler is not None else scaled).backward()
            loss_sum += loss.detach().double().cpu()
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        norm = torch.nn.utils.clip_grad_norm_(params, c.max_grad_norm if c.max_grad_norm > 0 else math.inf)
        lr = self.optimizer.param_groups[0]["lr"]
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        totals = torch.tensor([float(loss_sum), float(tokens)], dtype=torch.float64)
        if dist.world > 1:
            totals = totals.to(self.device)
            torch.distributed.all_reduce(totals)
            totals = totals.cpu()
        seconds = max(time.perf_counter() - tick, 1e-9)
        samples = c.grad_accum * dist.world
        return StepLog(step=step + 1, epoch=epoch, loss=float(totals[0]) / samples, lr=lr, grad_norm=float(norm),
                       samples_per_s=samples / seconds, tokens_per_s=float(totals[1]) / seconds,
                       elapsed_s=time.perf_counter() - began)

    def save(self, step: int, *, barrier: bool = True) -> Path | None:
        import torch

        path = None
        if self.dist.main:
            trainable = {n: p for n, p in self.model.named_parameters() if p.requires_grad}
            path = save_checkpoint(self.out, step, trainable=trainable, optimizer=self.optimizer,
                                   scheduler=self.scheduler, scaler=self.scaler, state=self.state,
                                   keep=self.c.keep_checkpoints)
            plot_loss_log(self.out)
        if barrier and self.dist.world > 1:
            torch.distributed.barrier()
        return path


class _Progress:
    """A rich progress bar with loss, learning rate and throughput (nothing when disabled)."""

    def __init__(self, total: int, start: int, enabled: bool):
        self.enabled = enabled
        self.bar = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
                TimeRemainingColumn

            self.bar = Progress(TextColumn("train"), BarColumn(bar_width=24), MofNCompleteColumn(), TimeElapsedColumn(),
                                TimeRemainingColumn(), TextColumn("{task.fields[stats]}"),
                                console=Console(stderr=True), transient=False)
            self.task = self.bar.add_task("train", total=total, completed=start, stats="")

    def __enter__(self):
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def update(self, record: StepLog) -> None:
        if self.bar is not None:
            stats = (f"loss {record.loss:.4f}  lr {record.lr:.2e}  {record.samples_per_s:.2f} samples/s  "
                     f"{record.tokens_per_s:,.0f} tok/s")
            self.bar.update(self.task, completed=record.step, stats=stats)


# ---------------------------------------------------------------------- setup helpers

def _check_output(out: Path, resume: bool, dist: Dist) -> None:
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} exists and is not a folder")
    if resume:
        if not out.is_dir():
            raise ConfigError(f"--resume: {out} does not exist; start without --resume")
        return
    if not dist.main:
        return  # rank 0 checks and creates the folder (the others would race with its first writes)
    if out.is_dir() and any(out.iterdir()):
        raise ConfigError(f"{out} is not empty; pass --resume to continue the training there, or pick a new folder")
    out.mkdir(parents=True, exist_ok=True)


def _init_process_group(dist: Dist, device: str) -> bool:
    if dist.world <= 1:
        return False
    import torch

    if not torch.distributed.is_initialized():
        if device.startswith("cuda"):
            torch.cuda.set_device(torch.device(device))
        torch.distributed.init_process_group(backend="nccl" if device.startswith("cuda") else "gloo")
        return True
    return False


def _config_json(config: TrainConfig) -> dict[str, Any]:
    data = asdict(config)
    data["betas"] = list(config.betas)
    data["lr"] = config.peak_lr
    return data


def _check_resume(saved: dict[str, Any], state: dict[str, Any], folder: Path) -> None:
    changed = [k for k in _RESUME_KEYS if saved.get("config", {}).get(k) != state["config"].get(k)]
    if saved.get("world_size") != state["world_size"]:
        changed.append(f"processes ({saved.get('world_size')} -> {state['world_size']})")
    if saved.get("examples") != state["examples"]:
        changed.append(f"number of examples ({saved.get('examples')} -> {state['examples']})")
    if changed:
        raise ConfigError(f"cannot resume from {folder}: changed since it was saved: {', '.join(changed)}; "
                          f"resume with the same data and settings, or start a new output folder")


def _truncate_log(path: Path, step: int) -> None:
    """Keep the lines of ``loss.jsonl`` up to ``step`` (a run that stopped after its last checkpoint logged
    steps that the resumed run does again)."""
    if not path.is_file():
        return
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            if json.loads(line)["step"] <= step:
                kept.append(line)
        except (ValueError, KeyError, TypeError, RecursionError):
            continue
    path.write_text("".join(k + "\n" for k in kept), encoding="utf-8")


