"""LoRA adapter folders (what ``guiagent train --save-adapter`` and peft's ``save_pretrained`` write).

An adapter folder holds ``adapter_config.json`` and ``adapter_model.safetensors`` but no ``config.json``; its
``base_model_name_or_path`` names the checkpoint folder the adapters apply to (absolute, or relative to the adapter
folder). ``hf:ADAPTER`` loads that base checkpoint and merges the adapters into it, so it runs as fast as a merged
model. The tokenizer and processor are read from the adapter folder when it has them, else from the base.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guiagent._jsonio import read_object
from guiagent.errors import ConfigError, ModelError

ADAPTER_CONFIG = "adapter_config.json"


@dataclass(frozen=True)
class Adapter:
    """A LoRA adapter folder (``folder``) and the base checkpoint it was trained on (``base``)."""
    folder: Path
    base: Path


def find_adapter(folder: Path) -> Adapter | None:
    """The adapter in ``folder``, or None when it is a full checkpoint (has config.json) or holds no adapter.

    Raises:
        ConfigError: an adapter whose config is unreadable or whose base checkpoint is not a local folder.
    """
    folder = Path(folder)
    config_file = folder / ADAPTER_CONFIG
    if (folder / "config.json").is_file() or not config_file.is_file():
        return None
    try:
        data = read_object(config_file)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the LoRA adapter config {config_file}: {exc}") from None
    base_name = data.get("base_model_name_or_path")
    if not isinstance(base_name, str) or not base_name:
        raise ConfigError(f"{config_file} names no base model (base_model_name_or_path)")
    base = Path(base_name).expanduser()
    if not base.is_absolute():
        base = folder / base
    if not (base / "config.json").is_file():
        raise ConfigError(f"the LoRA adapter in {folder} applies to {base_name!r}, which is not a local checkpoint "
                          f"folder (no config.json); edit base_model_name_or_path in {config_file}")
    return Adapter(folder, base)


def has_processor(folder: Path) -> bool:
    """Whether ``folder`` carries its own tokenizer (and so its own processor files)."""
    return (Path(folder) / "tokenizer_config.json").is_file()


def apply_adapter(model: Any, adapter: Adapter) -> Any:
    """The model with the adapter's LoRA weights merged in (peft)."""
    try:
        from peft import PeftModel
    except ImportError as exc:
        raise ConfigError(f"{adapter.folder} holds LoRA adapters; loading them needs peft: "
                          f"pip install 'guiagent[train]'") from exc
    try:
        with warnings.catch_warnings():  # peft asks transformers 5 for a renamed attribute: not the user's concern
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
            return PeftModel.from_pretrained(model, str(adapter.folder)).merge_and_unload()
    except Exception as exc:  # noqa: BLE001 - peft raises many kinds; all mean adapters that do not fit
        raise ModelError(f"cannot apply the LoRA adapters in {adapter.folder} to {adapter.base}: "
                         f"{type(exc).__name__}: {exc}") from exc
