"""Supervised fine-tuning on recorded runs (``guiagent train``): data from run folders and SFT exports built with the
agent's own message builder, loss on the answer tokens only, full or LoRA fine-tuning, AdamW, mixed precision,
resumable checkpoints, torchrun (DDP). Needs torch, transformers and peft: ``pip install 'guiagent[train]'``.

    from guiagent.agent.train import TrainConfig, train
    train(["runs/"], "UI-TARS-1.5-7B", get_profile("ui-tars-1.5"), "out", TrainConfig(method="lora"))
"""

from guiagent.agent.train.data import DataStats, TrainExample, is_success, load_examples
from guiagent.agent.train.trainer import StepLog, TrainConfig, TrainResult, train

__all__ = ["DataStats", "StepLog", "TrainConfig", "TrainExample", "TrainResult", "is_success", "load_examples",
           "train"]
