"""Kimi-VL (MoonViT + projector + Moonlight MoE) run natively on transformers 5, from the official files.

One folder for the family: ``configuration`` (config.json), ``moonvit`` (the vision tower, packed varlen
attention), ``modeling`` (projector, language model, ``from_pretrained``), ``weights`` (the shards),
``image_processing``, ``tokenization`` (tiktoken vocabulary, chat format), ``backend`` (the ``hf:`` backend),
``testing`` (a tiny checkpoint writer). Importing this package is cheap: torch loads with the first class used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from guiagent._jsonio import read_object

__all__ = ["KimiVLConfig", "KimiVLForConditionalGeneration", "KimiVLImageProcessor", "KimiVLTokenizer",
           "MoonViT", "is_kimi_vl_checkpoint"]

_LAZY = {
    "KimiVLConfig": "configuration",
    "KimiVLForConditionalGeneration": "modeling",
    "KimiVLImageProcessor": "image_processing",
    "KimiVLTokenizer": "tokenization",
    "MoonViT": "moonvit",
}


def is_kimi_vl_checkpoint(folder: str | Path) -> bool:
    """True when ``folder/config.json`` says model_type ``kimi_vl`` (no torch import)."""
    try:
        return read_object(Path(folder) / "config.json").get("model_type") == "kimi_vl"
    except (OSError, ValueError):
        return False


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
