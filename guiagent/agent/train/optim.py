"""AdamW with decoupled weight decay on the matrices only, and a linear-warmup + cosine learning-rate schedule."""

from __future__ import annotations

import math
from typing import Any

#: module class-name fragments whose parameters never decay (normalisation layers and token embeddings)
_NO_DECAY_MODULES = ("Norm", "Embedding")


def param_groups(model: Any, weight_decay: float) -> list[dict[str, Any]]:
    """Two AdamW groups over the trainable parameters: ``decay`` (weight matrices of linear / conv layers, LoRA
    matrices) with ``weight_decay``, and ``no_decay`` (biases, norm weights, embeddings) with 0. Decaying a norm
    gain pulls it towards zero and shrinks the activations; decaying embeddings penalises rare tokens most.

    Each group carries ``names`` (parameter names, for tests and logs); torch's AdamW ignores extra keys.
    """
    no_decay_ids: set[int] = set()
    for module in model.modules():
        if any(fragment in type(module).__name__ for fragment in _NO_DECAY_MODULES):
            no_decay_ids.update(id(p) for p in module.parameters(recurse=False))
    decay, no_decay = {"params": [], "names": []}, {"params": [], "names": []}
    seen: set[int] = set()
    for name, param in model.named_parameters():
        if not param.requires_grad or id(param) in seen:
            continue
        seen.add(id(param))
        group = no_decay if (id(param) in no_decay_ids or param.ndim < 2 or name.endswith(".bias")) else decay
        group["params"].append(param)
        group["names"].append(name)
    return [{**decay, "weight_decay": weight_decay, "group": "decay"},
            {**no_decay, "weight_decay": 0.0, "group": "no_decay"}]


def make_optimizer(model: Any, *, lr: float, weight_decay: float, betas: tuple[float, float] = (0.9, 0.999),
                   eps: float = 1e-8):
    """``torch.optim.AdamW`` (decoupled weight decay) over ``param_groups``; empty groups are left out."""
    import torch

    groups = [g for g in param_groups(model, weight_decay) if g["params"]]
    if not groups:
        raise ValueError("no trainable parameters")
    return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps)


def lr_factor(step: int, total_steps: int, warmup_steps: int, min_ratio: float = 0.0) -> float:
    """Multiplier of the peak learning rate before optimizer step ``step`` (0-based): linear warmup from
    1/(warmup+1) to 1 over ``warmup_steps`` steps, then a half cosine down to ``min_ratio`` at the last step."""
    if step < warmup_steps:
        return (step + 1) / (warmup_steps + 1)
    decay_steps = max(1, total_steps - warmup_steps - 1)
    progress = min(1.0, (step - warmup_steps) / decay_steps)
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def make_scheduler(optimizer: Any, *, total_steps: int, warmup_steps: int, min_ratio: float = 0.0):
    """``LambdaLR`` following ``lr_factor`` (its state_dict holds the step, so a resumed run continues it)."""
    import torch

    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_factor(step, total_steps, warmup_steps, min_ratio))
