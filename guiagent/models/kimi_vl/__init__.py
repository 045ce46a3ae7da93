"""Kimi-VL (MoonViT + projector + Moonlight MoE) run natively on transformers 5, from the official files.

One folder for the family: ``configuration`` (config.json), ``moonvit`` (the vision tower, packed varlen
attention), ``modeling`` (projector, language model, ``from_pretrained``), ``weights`` (the shards),
``image_processing``, ``tokenization`` (tiktoken vocabulary, chat format), ``backend`` (the ``hf:`` backend),
``testing`` (a tiny checkpoint writer). Importing this package is cheap: torch loads with the first class used.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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
        data = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("model_type") == "kimi_vl"


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
