"""In-process backend for Qwen2-VL / Qwen2.5-VL-architecture checkpoints (UI-TARS-1.5-7B, UI-TARS-7B-SFT/DPO,
Qwen2.5-VL-*-Instruct) with transformers.

What matters for correct clicks is that the model sees exactly the image the coordinate map assumes. The
messages' images are already resized by the profile's budget (``build_messages``); the checkpoint's own image
processor is given the same ``min_pixels``/``max_pixels`` so its resize is the identity, and every call checks
that the patch grid covers each image exactly (a resize there raises ModelError instead of silently mis-clicking).

Defaults: bfloat16 on GPU, float32 on CPU; flash-attention 2 when the ``flash_attn`` package is importable and
the device is CUDA, else PyTorch SDPA; greedy decoding at temperature 0, sampling otherwise. The prompt is built
by the checkpoint's own chat template.
"""

from __future__ import annotations

import importlib.util
import logging
import time
from pathlib import Path
from typing import Any, Sequence

from guiagent._jsonio import read_object
from guiagent.errors import ConfigError, ModelError
from guiagent.models.base import ImagePart, Message, ModelResponse, Sampling, TextPart
from guiagent.models.profiles import Profile

log = logging.getLogger("guiagent.models")

_ARCHITECTURES = {
    "qwen2_5_vl": ("Qwen2_5_VLForConditionalGeneration", "Qwen2_5_VLProcessor"),
    "qwen2_vl": ("Qwen2VLForConditionalGeneration", "Qwen2VLProcessor"),
}


def pick_attention(device: str) -> str:
    """flash_attention_2 when flash-attn is installed and the device is CUDA, else sdpa."""
    if device.startswith("cuda") and importlib.util.find_spec("flash_attn") is not None:
        return "flash_attention_2"
    return "sdpa"


class LocalQwenModel:
    """``Model`` running a local Qwen2(.5)-VL checkpoint folder.

    Args:
        path: the checkpoint folder (config.json, weights, tokenizer, preprocessor_config.json).
        profile: the family profile; its budget must be ``smart_resize`` (the Qwen image rule).
        device: "cuda", "cuda:1", "cpu", ... (default: cuda if available).
        dtype: "bfloat16" | "float16" | "float32" (default: bfloat16 on GPU, float32 on CPU).
        attn_implementation: override the attention choice (e.g. "eager").
    """

    def __init__(self, path: str | Path, profile: Profile, *, device: str | None = None, dtype: str | None = None,
                 attn_implementation: str | None = None):
        try:
            import torch
            import transformers
        except ImportError as exc:
            raise ConfigError("the hf: backend needs torch and transformers: pip install 'guiagent[local]'") from exc
        self.path = Path(path)
        self.profile = profile
        if profile.budget.kind != "smart_resize":
            raise ConfigError(f"hf: runs Qwen2-VL/Qwen2.5-VL checkpoints; family {profile.name!r} uses a "
                              f"{profile.budget.kind!r} image budget. Serve that model with vLLM and use openai:URL")
        from guiagent.models.adapters import apply_adapter, find_adapter, has_processor

        adapter = find_adapter(self.path)  # a LoRA adapter folder: load its base checkpoint, then merge it
        weights = adapter.base if adapter else self.path
        model_type = _model_type(weights)
        if model_type not in _ARCHITECTURES:
            raise ModelError(f"{self.path} is a {model_type!r} checkpoint; hf: supports "
                             f"{', '.join(_ARCHITECTURES)} and kimi_vl (serve other models with vLLM and use "
                             f"openai:URL)")
        model_cls_name, processor_cls_name = _ARCHITECTURES[model_type]

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        torch_dtype = getattr(torch, dtype) if dtype else (torch.bfloat16 if self.device.startswith("cuda")
                                                           else torch.float32)
        self.attn_implementation = attn_implementation or pick_attention(self.device)
        self.processor = _load_processor(self.path if not adapter or has_processor(self.path) else weights,
                                         processor_cls_name, profile)
        merge = int(getattr(self.processor.image_processor, "merge_size", 2))
        patch = int(getattr(self.processor.image_processor, "patch_size", 14))
        if patch * merge != profile.budget.factor:
            raise ModelError(f"{self.path}: the processor's patch grid is {patch}x{merge} = {patch * merge} px, but "
                             f"profile {profile.name!r} resizes to multiples of {profile.budget.factor}")
        self._merge, self._patch = merge, patch
        model_cls = getattr(transformers, model_cls_name)
        start = time.perf_counter()
        try:
            self.model = model_cls.from_pretrained(weights, dtype=torch_dtype,
                                                   attn_implementation=self.attn_implementation)
        except Exception as exc:  # noqa: BLE001 - torch/safetensors raise many kinds; all mean a bad checkpoint
            raise ModelError(f"cannot load the checkpoint in {weights}: {_one_line(exc)}") from exc
        if adapter:
            self.model = apply_adapter(self.model, adapter)
        self.model.to(self.device).eval()
        log.info("loaded %s (%s, %s, %s) in %.1fs", self.path, torch_dtype, self.device, self.attn_implementation,
                 time.perf_counter() - start)
        self.name = self.path.name
        tok = self.processor.tokenizer
        self._stop_ids = [i for i in {tok.convert_tokens_to_ids("<|im_end|>"), tok.eos_token_id}
                          if isinstance(i, int) and i >= 0]
        #: the processor outputs of the last call (tests and debugging read image_grid_thw from here)
        self.last_inputs: dict[str, Any] | None = None

    # ------------------------------------------------------------------ Model protocol

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> ModelResponse:
        import torch

        inputs = self.encode(messages)
        prompt_len = int(inputs["input_ids"].shape[1])
        generate_kwargs: dict[str, Any] = {"max_new_tokens": sampling.max_tokens, "eos_token_id": self._stop_ids,
                                           "pad_token_id": self._stop_ids[0] if self._stop_ids else None}
        if sampling.temperature > 0:
            generate_kwargs.update(do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p)
        else:
            generate_kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if sampling.seed is not None:
            torch.manual_seed(sampling.seed)
        start = time.perf_counter()
        with torch.inference_mode():
            output = self.model.generate(**inputs.to(self.device), **generate_kwargs)
        latency = time.perf_counter() - start
        new_tokens = output[0, prompt_len:]
        text = self.processor.tokenizer.decode(new_tokens, skip_special_tokens=True)
        text = cut_at_stop(text, sampling.stop)
        return ModelResponse(text=text, prompt_tokens=prompt_len, completion_tokens=int(new_tokens.shape[0]),
                             latency_s=latency)

    # ------------------------------------------------------------------ prompt building

    def chat_template_messages(self, messages: Sequence[Message]) -> list[dict[str, Any]]:
        out = []
        for message in messages:
            content = [{"type": "text", "text": p.text} if isinstance(p, TextPart) else {"type": "image"}
                       for p in message.content]
            out.append({"role": message.role, "content": content})
        return out

    def encode(self, messages: Sequence[Message]):
        """Processor outputs (input_ids, pixel_values, image_grid_thw, ...) for the messages, grid-checked."""
        images = [p.image for m in messages for p in m.content if isinstance(p, ImagePart)]
        prompt = self.processor.apply_chat_template(self.chat_template_messages(messages), tokenize=False,
                                                    add_generation_prompt=True)
        inputs = self.processor(text=[prompt], images=images or None, return_tensors="pt")
        if images:
            self._check_grid(images, inputs["image_grid_thw"].tolist())
        self.last_inputs = inputs
        return inputs

    def _check_grid(self, images: list, grids: list[list[int]]) -> None:
        """Images arrive already resized to the budget (``build_messages``), so the processor must leave them as
        they are; if it resized one, the model would see another image than the coordinate map assumes."""
        for image, (_, gh, gw) in zip(images, grids):
            w, h = image.size
            if (gw * self._patch, gh * self._patch) != (w, h):
                raise ModelError(
                    f"the checkpoint's image processor turned a {w}x{h} image into {gw * self._patch}x"
                    f"{gh * self._patch}, but the coordinate map assumes {w}x{h}: the images were budgeted with other "
                    f"min/max pixels than this model's profile {self.profile.name!r} "
                    f"({self.profile.budget.min_pixels}..{self.profile.budget.max_pixels}); build the messages "
                    f"with the same profile the model was loaded with")


def _model_type(path: Path) -> str | None:
    try:
        data = read_object(path / "config.json")
    except OSError as exc:
        raise ConfigError(f"{path} has no readable config.json; is it a checkpoint folder?") from exc
    except ValueError as exc:
        raise ModelError(f"{path / 'config.json'}: {exc}") from None
    model_type = data.get("model_type")
    if not isinstance(model_type, str):
        raise ModelError(f"{path / 'config.json'} names no model_type; is it a transformers checkpoint?")
    return model_type


def _one_line(exc: BaseException, limit: int = 300) -> str:
    """``Type: message`` of a library's exception on one line (transformers' validation errors span several), cut
    to ``limit`` characters: the user gets one line and the traceback chain keeps the whole text."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _load_processor(path: Path, processor_cls_name: str, profile: Profile):
    """The checkpoint's processor with the profile's pixel budget (see ``_read_processor``).

    Raises:
        ModelError: the processor files are missing or malformed, or there is no chat template.
    """
    try:
        processor = _read_processor(path, processor_cls_name, profile)
    except Exception as exc:  # noqa: BLE001 - transformers raises many kinds (OSError, ValueError, TypeError,
        # KeyError...) for files that are missing or malformed; all mean a bad checkpoint folder
        raise ModelError(f"cannot load the processor of {path}: {_one_line(exc)}") from exc
    if not getattr(processor, "chat_template", None):
        raise ModelError(f"{path} has no chat template (tokenizer_config.json or chat_template.json)")
    return processor


def _read_processor(path: Path, processor_cls_name: str, profile: Profile):
    """AutoProcessor first; without torchvision (which transformers needs only for the video processor) the same
    processor class is assembled from the checkpoint's image processor and tokenizer, images only."""
    import transformers

    budget = {"min_pixels": profile.budget.min_pixels, "max_pixels": profile.budget.max_pixels}
    try:
        return transformers.AutoProcessor.from_pretrained(path, **budget)
    except ImportError as exc:
        if "torchvision" not in str(exc).lower():
            raise
    log.info("torchvision is not installed: loading %s's processor without its video part", path)
    base = getattr(transformers, processor_cls_name)

    class ImageOnlyProcessor(base):  # type: ignore[misc, valid-type]
        def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
            super().__init__(image_processor=image_processor, tokenizer=tokenizer, video_processor=None,
                             chat_template=chat_template, **kwargs)

    image_processor = transformers.AutoImageProcessor.from_pretrained(path, **budget)
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    template = tokenizer.chat_template or _chat_template_file(path)
    return ImageOnlyProcessor(image_processor=image_processor, tokenizer=tokenizer, chat_template=template)


def _chat_template_file(path: Path) -> str | None:
    for name in ("chat_template.json", "chat_template.jinja"):
        file = path / name
        if file.is_file():
            if name.endswith(".json"):
                template = read_object(file).get("chat_template")  # ValueError: the caller names the file
                if not isinstance(template, str):
                    raise ValueError(f"{file} has no 'chat_template' string")
                return template
            return file.read_text(encoding="utf-8")
    return None


def cut_at_stop(text: str, stops: Sequence[str]) -> str:
    """``text`` up to the first of the ``stops`` it contains (the whole text when it contains none)."""
    cut = len(text)
    for stop in stops:
        index = text.find(stop)
        if index != -1:
            cut = min(cut, index)
    return text[:cut]
