"""What a training run is asked to do (``TrainConfig``) and what it gives back (``TrainResult``, ``StepLog``):
plain data shared by the trainer and the model preparation, kept apart so neither imports the other."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from guiagent.agent.train.data import DataStats
from guiagent.errors import ConfigError

METHODS = ("full", "lora")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
@dataclass(frozen=True)
class TrainConfig:
    """How to train. ``lr`` None: 2e-4 for LoRA, 1e-5 for full fine-tuning (usual values for 7B models)."""

    method: str = "lora"
    lora_rank: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    #: also train the vision-to-language projector (the patch merger); the vision tower itself stays frozen
    train_projector: bool = False
    #: also train the vision tower (and the projector)
    train_vision: bool = False
    epochs: int = 3
    #: stop after this many optimizer steps (None: ``epochs`` full passes)
    max_steps: int | None = None
    grad_accum: int = 1
    lr: float | None = None
    weight_decay: float = 0.01
    warmup_ratio: float = 0.03
    min_lr_ratio: float = 0.1
    max_grad_norm: float = 1.0
    betas: tuple[float, float] = (0.9, 0.999)
    #: auto: bf16 autocast on GPUs that have it (else fp16 with loss scaling), float32 on CPU
    precision: str = "auto"
    gradient_checkpointing: bool = False
    #: write a resumable checkpoint every N optimizer steps (0: only when interrupted)
    save_every: int = 50
    keep_checkpoints: int = 1
    seed: int = 0
    #: LoRA: write the merged model (True) or the adapters alone, applied by ``hf:`` at load time (False)
    merge_lora: bool = True
    #: train on all finished runs, not only the successful ones
    include_failed: bool = False
    #: train on the answers exactly as the model wrote them (default: canonical format of the parsed actions)
    raw: bool = False

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        for name, low in (("lora_rank", 1), ("epochs", 1), ("grad_accum", 1), ("keep_checkpoints", 1),
                          ("save_every", 0), ("lora_alpha", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"{name} must be a whole number >= {low}, got {value!r}")
        if self.max_steps is not None and (not isinstance(self.max_steps, int) or self.max_steps < 1):
            raise ConfigError(f"max_steps must be a whole number >= 1, got {self.max_steps!r}")
        for name, low, high in (("lora_dropout", 0, 0.99), ("warmup_ratio", 0, 1), ("min_lr_ratio", 0, 1),
                                ("weight_decay", 0, 10), ("max_grad_norm", 0, math.inf)):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not low <= value <= high:
                raise ConfigError(f"{name} must be between {low} and {high}, got {value!r}")
        if self.lr is not None and not (isinstance(self.lr, (int, float)) and 0 < self.lr < 1):
            raise ConfigError(f"lr must be between 0 and 1, got {self.lr!r}")

    @property
    def peak_lr(self) -> float:
        """The learning rate after warmup: ``lr`` when given, else 2e-4 for LoRA and 1e-5 for full fine-tuning."""
        if self.lr is not None:
            return float(self.lr)
        return 2e-4 if self.method == "lora" else 1e-5


@dataclass
class StepLog:
    """One line of ``loss.jsonl``."""

    step: int
    epoch: int
    loss: float
    lr: float
    grad_norm: float
    samples_per_s: float
    tokens_per_s: float
    elapsed_s: float


@dataclass
class TrainResult:
    """What a finished (or interrupted) run gives back: the output folder, the steps taken, each step's loss and
    the data statistics.
    """
    output: Path
    steps: int
    losses: list[float] = field(default_factory=list)
    data: DataStats | None = None
