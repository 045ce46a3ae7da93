"""Kimi-VL configuration: the official ``config.json`` (model_type ``kimi_vl``) read without remote code.

The file nests two configs: ``vision_config`` (model_type ``moonvit``, the MoonViT encoder) and ``text_config``
(model_type ``deepseek_v3``, the Moonlight MoE language model, run by transformers' own DeepSeek-V3 classes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from huggingface_hub.dataclasses import strict
from huggingface_hub.errors import StrictDataclassFieldValidationError
from transformers import DeepseekV3Config, PreTrainedConfig

from guiagent._jsonio import read_object
from guiagent.errors import ModelError

#: the id of ``<|media_pad|>`` in the official vocabulary
MEDIA_PAD_ID = 163605


@strict
class MoonViTConfig(PreTrainedConfig):
    """MoonViT, Kimi-VL's native-resolution vision encoder (defaults: the released ~0.4B tower)."""

    model_type = "moonvit"

    patch_size: int = 14
    init_pos_emb_height: int = 64
    init_pos_emb_width: int = 64
    num_attention_heads: int = 16
    num_hidden_layers: int = 27
    hidden_size: int = 1152
    intermediate_size: int = 4304
    merge_kernel_size: tuple[int, int] | list[int] = (2, 2)
    rope_theta: float = 10000.0

    def __post_init__(self, **kwargs):
        super().__post_init__(**kwargs)
        self.merge_kernel_size = tuple(int(k) for k in self.merge_kernel_size)
        if self.hidden_size % self.num_attention_heads:
            raise ModelError(f"vision hidden_size {self.hidden_size} is not a multiple of num_attention_heads "
                             f"{self.num_attention_heads}")
        if (self.hidden_size // self.num_attention_heads) % 4:
            raise ModelError("MoonViT's 2D RoPE needs a head dim that is a multiple of 4 "
                             f"(got {self.hidden_size // self.num_attention_heads})")

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads


@strict
class KimiVLConfig(PreTrainedConfig):
    """The whole model: ``vision_config`` (MoonViT), ``text_config`` (DeepSeek-V3), the placeholder token id."""

    model_type = "kimi_vl"
    sub_configs = {"vision_config": MoonViTConfig, "text_config": DeepseekV3Config}

    vision_config: dict | PreTrainedConfig | None = None
    text_config: dict | PreTrainedConfig | None = None
    media_placeholder_token_id: int = MEDIA_PAD_ID
    ignore_index: int = -100
    pad_token_id: int | None = 0
    tie_word_embeddings: bool = False

    def __post_init__(self, **kwargs):
        if self.vision_config is None or isinstance(self.vision_config, dict):
            self.vision_config = MoonViTConfig(**_without_model_type(self.vision_config or {}))
        if self.text_config is None or isinstance(self.text_config, dict):
            self.text_config = DeepseekV3Config(**_without_model_type(self.text_config or {}))
        super().__post_init__(**kwargs)
        _check_text_config(self.text_config)

    @classmethod
    def from_checkpoint(cls, path: str | Path) -> "KimiVLConfig":
        """Read ``path/config.json`` (the official file).

        Raises:
            ModelError: no readable config.json, not valid JSON, or not a Kimi-VL config.
        """
        data = read_config_json(path)
        if data.get("model_type") != "kimi_vl":
            raise ModelError(f"{Path(path) / 'config.json'} has model_type {data.get('model_type')!r}, "
                             f"not 'kimi_vl'")
        fields = {k: v for k, v in data.items() if k not in ("model_type", "auto_map", "architectures")}
        for name in ("vision_config", "text_config"):
            if not isinstance(fields.get(name, {}), dict):
                raise ModelError(f"{Path(path) / 'config.json'}: {name} must be an object, got "
                                 f"{type(fields[name]).__name__}")
        try:
            config = cls(**fields)
        except (TypeError, ValueError, ZeroDivisionError, StrictDataclassFieldValidationError) as exc:
            reason = " ".join(str(exc).split())  # the strict-dataclass message spans lines
            raise ModelError(f"{Path(path) / 'config.json'} is not a valid Kimi-VL config: {reason}") from None
        config._name_or_path = str(path)
        return config


def read_config_json(path: str | Path) -> dict[str, Any]:
    """The parsed ``config.json`` of a checkpoint folder.

    Raises:
        ModelError: the file is missing, unreadable or not a JSON object.
    """
    return read_json_object(path, "config.json", "is it a checkpoint folder?")


def read_json_object(folder: str | Path, name: str, hint: str = "") -> dict[str, Any]:
    """The JSON object in the file ``name`` of a checkpoint folder (config.json, preprocessor_config.json).

    Args:
        folder: the checkpoint folder.
        name: the file's name in it.
        hint: added to the error when the file is missing (what the user may have got wrong).

    Raises:
        ModelError: the file is missing, unreadable, not JSON, nested too deeply or not a JSON object.
    """
    file = Path(folder) / name
    try:
        return read_object(file)
    except OSError as exc:
        raise ModelError(f"{Path(folder)} has no readable {name}" + (f"; {hint}" if hint else "")) from exc
    except ValueError as exc:
        raise ModelError(f"{file}: {exc}") from None


def _without_model_type(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k not in ("model_type", "auto_map", "architectures")}


def _check_text_config(text: DeepseekV3Config) -> None:
    """Refuse Moonlight variants transformers' DeepSeek-V3 classes would run differently from the original."""
    freq = getattr(text, "moe_layer_freq", 1)
    if freq != 1:
        raise ModelError(f"text_config.moe_layer_freq {freq} is not supported (transformers' DeepSeek-V3 puts a "
                         f"MoE block in every layer after first_k_dense_replace)")
    scoring = getattr(text, "scoring_func", "sigmoid")
    if scoring != "sigmoid":
        raise ModelError(f"text_config.scoring_func {scoring!r} is not supported (DeepSeek-V3 routing is sigmoid)")
    method = getattr(text, "topk_method", "noaux_tc")
    if method != "noaux_tc":
        raise ModelError(f"text_config.topk_method {method!r} is not supported (DeepSeek-V3 routing is noaux_tc)")
