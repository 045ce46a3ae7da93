"""Kimi-VL: MoonViT + MLP projector + Moonlight (DeepSeek-V3 MoE) language model, on transformers 5, no remote code.

    model = KimiVLForConditionalGeneration.from_pretrained("/models/Kimi-VL-A3B-Instruct")  # float32 on CPU
    features = model.get_image_features(pixel_values, image_grid_hws)   # (tokens of all images, 2048)
    output = model.generate(input_ids=..., pixel_values=..., image_grid_hws=..., max_new_tokens=...)

Weight names are the official checkpoint's: ``vision_tower.*``, ``multi_modal_projector.*``,
``language_model.model.*``, ``language_model.lm_head.weight``. The language model is transformers'
``DeepseekV3ForCausalLM``; image features replace the embeddings of the ``<|media_pad|>`` tokens, in order.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from transformers import DeepseekV3ForCausalLM, GenerationMixin, PreTrainedModel
from transformers import initialization as init
from transformers.models.deepseek_v3.modeling_deepseek_v3 import DeepseekV3RotaryEmbedding

from guiagent.errors import ModelError
from guiagent.models.kimi_vl.configuration import KimiVLConfig
from guiagent.models.kimi_vl.moonvit import AttentionKind, Float32LayerNorm, MoonViT, MoonViTPositionEmbedding
from guiagent.models.kimi_vl.weights import load_state_dict

log = logging.getLogger("guiagent.models")

_DTYPES = {"bfloat16": torch.bfloat16, "bf16": torch.bfloat16, "float16": torch.float16, "fp16": torch.float16,
           "float32": torch.float32, "fp32": torch.float32}


class KimiVLMultiModalProjector(nn.Module):
    """LayerNorm on each patch vector, the merge window flattened, Linear, exact GELU, Linear to the LM width."""

    def __init__(self, config: KimiVLConfig):
        super().__init__()
        vision = config.vision_config
        kh, kw = vision.merge_kernel_size
        self.merged_size = vision.hidden_size * kh * kw
        self.pre_norm = Float32LayerNorm(vision.hidden_size, eps=1e-5)
        self.linear_1 = nn.Linear(self.merged_size, self.merged_size)
        self.linear_2 = nn.Linear(self.merged_size, config.text_config.hidden_size)

    def forward(self, groups: torch.Tensor) -> torch.Tensor:
        """groups: (N, kh*kw, D) merged patches -> (N, text hidden size)."""
        x = self.pre_norm(groups).reshape(groups.shape[0], self.merged_size)
        return self.linear_2(F.gelu(self.linear_1(x)))


class KimiVLPreTrainedModel(PreTrainedModel):
    config: KimiVLConfig
    config_class = KimiVLConfig
    base_model_prefix = "language_model"
    main_input_name = "input_ids"
    _no_split_modules = ["MoonViTBlock", "DeepseekV3DecoderLayer"]
    _supports_sdpa = True
    _supports_flash_attn = True

    def _init_weights(self, module: nn.Module) -> None:
        """Fresh random weights (a model built from a config rather than loaded): the position table too."""
        super()._init_weights(module)
        if isinstance(module, MoonViTPositionEmbedding):
            init.normal_(module.weight, mean=0.0, std=0.02)


class KimiVLForConditionalGeneration(KimiVLPreTrainedModel, GenerationMixin):
    """The whole Kimi-VL model. Build it with ``from_pretrained`` (the official checkpoint folder)."""

    def __init__(self, config: KimiVLConfig, vision_attention: AttentionKind = "auto"):
        super().__init__(config)
        self.vision_tower = MoonViT(config.vision_config, attention=vision_attention)
        self.multi_modal_projector = KimiVLMultiModalProjector(config)
        self.language_model = DeepseekV3ForCausalLM(config.text_config)
        self.post_init()

    # ------------------------------------------------------------------ loading

    @classmethod
    def from_pretrained(cls, path: str | Path, *, dtype: torch.dtype | str | None = None,
                        device: str | torch.device | None = None, attn_implementation: str | None = None,
                        vision_attention: AttentionKind = "auto") -> "KimiVLForConditionalGeneration":
        """Load the official checkpoint folder (config.json + safetensors shards and index).

        Args:
            path: the checkpoint folder.
            dtype: torch dtype or its name; default bfloat16 on CUDA, float32 elsewhere.
            device: where to put the model (default "cpu").
            attn_implementation: the language model's attention ("sdpa" default, "eager", "flash_attention_2").
            vision_attention: MoonViT's kernel: "auto" (flash-attn varlen on CUDA bf16/fp16 when installed, else
                SDPA per block of same-size images), "flash", "sdpa", or "dense" (reference only).

        Raises:
            ModelError: a bad folder, config or weights (missing/unexpected keys are named).
        """
        folder = Path(path)
        device = torch.device(device or "cpu")
        dtype = _resolve_dtype(dtype, device)
        start = time.perf_counter()
        config = KimiVLConfig.from_checkpoint(folder)
        config.text_config._attn_implementation = attn_implementation or "sdpa"
        config._attn_implementation = attn_implementation or "sdpa"
        try:
            with torch.device("meta"):
                model = cls(config, vision_attention=vision_attention)
        except (RuntimeError, ValueError, TypeError, ZeroDivisionError) as exc:  # e.g. a negative size
            reason = " ".join(str(exc).split())
            raise ModelError(f"{folder / 'config.json'} describes a model that cannot be built: {reason}") from None
        expected = model.state_dict()
        state = load_state_dict(folder, expected, dtype, device)
        model.load_state_dict(state, strict=True, assign=True)
        model._rebuild_buffers(device)
        model.eval()
        log.info("loaded Kimi-VL %s (%s, %s) in %.1fs", folder, dtype, device, time.perf_counter() - start)
        return model

    def _rebuild_buffers(self, device: torch.device) -> None:
        """Non-persistent buffers (rotary frequencies) are not in the checkpoint: compute them on ``device``."""
        text = self.language_model.model
        text.rotary_emb = DeepseekV3RotaryEmbedding(self.config.text_config).to(device)
        left = [name for name, t in [*self.named_parameters(), *self.named_buffers()] if t.is_meta]
        if left:
            raise ModelError(f"Kimi-VL tensors left without values after loading: {', '.join(left[:8])}")

    # ------------------------------------------------------------------ embeddings

    def get_input_embeddings(self) -> nn.Module:
        return self.language_model.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.language_model.set_input_embeddings(value)

    def get_output_embeddings(self) -> nn.Module:
        return self.language_model.get_output_embeddings()

    def get_image_features(self, pixel_values: torch.Tensor, image_grid_hws: torch.Tensor) -> torch.Tensor:
        """Projector outputs of all images, concatenated in image order: (sum of h*w/4, text hidden size).

        Args:
            pixel_values: (L, 3, 14, 14) patches of all images (``KimiVLImageProcessor``).
            image_grid_hws: (num_images, 2) patch grid (h, w) per image.
        """
        groups = self.vision_tower(pixel_values, image_grid_hws)
        return self.multi_modal_projector(groups)

    def embed(self, input_ids: torch.Tensor, pixel_values: torch.Tensor | None = None,
              image_grid_hws: torch.Tensor | None = None, image_features: torch.Tensor | None = None
              ) -> torch.Tensor:
        """Token embeddings with the image features in place of the ``<|media_pad|>`` tokens.

        Args:
            input_ids: (batch, length) token ids.
            pixel_values, image_grid_hws: the images, encoded here; or
            image_features: their ``get_image_features`` output, already computed (e.g. kept from an earlier
                step: packed encoding equals per-image encoding, so features of each image can be reused).
        """
        embeds = self.get_input_embeddings()(input_ids)
        if pixel_values is None and image_features is None:
            return embeds  # a <|media_pad|> here is a generated token, embedded as any other
        placeholders = input_ids == self.config.media_placeholder_token_id
        if image_features is None:
            image_features = self.get_image_features(pixel_values, image_grid_hws)
        features = image_features.to(embeds.dtype)
        if int(placeholders.sum()) != features.shape[0]:
            raise ModelError(f"the prompt holds {int(placeholders.sum())} <|media_pad|> tokens but the images give "
                             f"{features.shape[0]} features (each image needs grid_h*grid_w/4 placeholders)")
        return embeds.masked_scatter(placeholders.unsqueeze(-1), features)

    # ------------------------------------------------------------------ forward / generate

    def forward(self, input_ids: torch.LongTensor | None = None, pixel_values: torch.Tensor | None = None,
                image_grid_hws: torch.Tensor | None = None, attention_mask: torch.Tensor | None = None,
                position_ids: torch.LongTensor | None = None, cache=None,
                inputs_embeds: torch.Tensor | None = None, labels: torch.LongTensor | None = None,
                use_cache: bool | None = None, logits_to_keep: int | torch.Tensor = 0, **kwargs):
        """Language-model forward over the embeddings with the images spliced in (DeepSeek-V3 outputs)."""
        if inputs_embeds is None:
            if input_ids is None:
                raise ValueError("give input_ids or inputs_embeds")
            inputs_embeds = self.embed(input_ids, pixel_values, image_grid_hws)
        return self.language_model(inputs_embeds=inputs_embeds, attention_mask=attention_mask,
                                   position_ids=position_ids, cache=cache, labels=labels, use_cache=use_cache,
                                   logits_to_keep=logits_to_keep, **kwargs)


def _resolve_dtype(dtype: torch.dtype | str | None, device: torch.device) -> torch.dtype:
    if dtype is None or dtype == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    try:
        return _DTYPES[str(dtype).lower()]
    except KeyError:
        raise ModelError(f"unknown dtype {dtype!r}; use bfloat16, float16 or float32") from None
