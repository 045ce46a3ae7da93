"""Training checkpoints (resumable state) and the final model folder.

    OUT/checkpoints/step-000040/
        trainable.safetensors   every trainable parameter (full: the language model; LoRA: the adapters), float32
        optimizer.pt            AdamW moments and step counts
        scheduler.pt            the learning-rate schedule's position
        scaler.pt               the fp16 loss scaler (only with --precision fp16)
        state.json              step, epoch, the settings that must not change on resume

A checkpoint is written under a temporary name and renamed into place when complete, so a crash while saving
leaves the previous one usable. The final model is written the same way into OUT itself, ``config.json`` last.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from guiagent._jsonio import loads
from guiagent.errors import ConfigError

CHECKPOINTS = "checkpoints"
_STEP_DIR = re.compile(r"^step-(\d+)$")
#: files of a checkpoint folder that are model weights or model config (not copied as processor files)
_MODEL_FILES = re.compile(r"^(config\.json|generation_config\.json|.*\.safetensors|.*\.bin|.*\.index\.json|"
                          r"adapter_config\.json|training\.json|guiagent\.json|loss\.jsonl)$")
_PROCESSOR_SUFFIXES = (".json", ".txt", ".jinja", ".model", ".tiktoken")


def checkpoint_dirs(out: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints under ``out``, oldest first, as (step, folder)."""
    root = Path(out) / CHECKPOINTS
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        match = _STEP_DIR.match(child.name)
        if match and (child / "state.json").is_file():
            found.append((int(match.group(1)), child))
    return sorted(found)


def save_checkpoint(out: Path, step: int, *, trainable: dict[str, Any], optimizer: Any, scheduler: Any,
                    scaler: Any, state: dict[str, Any], keep: int) -> Path:
    """Write checkpoint ``step`` (see the module docstring) and drop all but the newest ``keep``."""
    import torch
    from safetensors.torch import save_file

    root = Path(out) / CHECKPOINTS
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step-{step:06d}"
    tmp = root / f".step-{step:06d}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    save_file({k: v.detach().to("cpu", copy=True).contiguous() for k, v in trainable.items()},
              str(tmp / "trainable.safetensors"))
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
    if scaler is not None:
        torch.save(scaler.state_dict(), tmp / "scaler.pt")
    (tmp / "state.json").write_text(json.dumps({**state, "step": step}, indent=2), encoding="utf-8")
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    for _, old in checkpoint_dirs(out)[:-max(1, keep)]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load_checkpoint(folder: Path, *, model: Any, optimizer: Any, scheduler: Any, scaler: Any,
                    device: Any) -> dict[str, Any]:
    """Restore a checkpoint into the (unwrapped) model, optimizer, scheduler and scaler; returns its state."""
    import torch
    from safetensors.torch import load_file

    tensors = load_file(str(folder / "trainable.safetensors"))
    params = dict(model.named_parameters())
    missing = sorted(set(tensors) - set(params))
    trainable = sorted(n for n, p in params.items() if p.requires_grad)
    if missing or sorted(tensors) != trainable:
        raise ConfigError(f"{folder} does not match the model being trained (different --method, LoRA settings or "
                          f"trainable parts?); start a new output folder or resume with the original settings")
    with torch.no_grad():
        for name, value in tensors.items():
            params[name].copy_(value.to(params[name].device))
    optimizer.load_state_dict(torch.load(folder / "optimizer.pt", map_location=device, weights_only=True))
    scheduler.load_state_dict(torch.load(folder / "scheduler.pt", map_location="cpu", weights_only=True))
    if scaler is not None and (folder / "scaler.pt").is_file():
        scaler.load_state_dict(torch.load(folder / "scaler.pt", map_location="cpu", weights_only=True))
    return read_state(folder)


def read_state(folder: Path) -> dict[str, Any]:
    """A checkpoint's ``state.json``: its step and the settings it was trained with.

    Raises:
        ConfigError: the file is unreadable or damaged (naming it), so ``--resume`` stops with one line.
    """
    path = Path(folder) / "state.json"
    try:
        state = loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot resume from {path}: it is unreadable ({type(exc).__name__}); remove that "
                          f"checkpoint folder to resume from an earlier one") from None
    if not (isinstance(state, dict) and isinstance(state.get("step"), int) and not isinstance(state["step"], bool)
            and isinstance(state.get("config", {}), dict)):
        raise ConfigError(f"cannot resume from {path}: it does not hold a step number and the training settings; "
                          f"remove that checkpoint folder to resume from an earlier one")
    return state


def copy_processor_files(source: Path, out: Path) -> list[str]:
    """Copy the tokenizer, chat template and image-processor files of a checkpoint folder (not its weights)."""
    copied = []
    for file in sorted(Path(source).iterdir()):
        if file.is_file() and file.suffix in _PROCESSOR_SUFFIXES and not _MODEL_FILES.match(file.name):
            shutil.copy2(file, Path(out) / file.name)
            copied.append(file.name)
    return copied


def publish_model(staging: Path, out: Path) -> None:
    """Move the files saved in ``staging`` into ``out``, the model config last (the folder loads only once
    every weight file is in place)."""
    files = sorted(staging.iterdir(), key=lambda f: f.name in ("config.json", "adapter_config.json"))
    for file in files:
        os.replace(file, Path(out) / file.name)
    staging.rmdir()
