"""The ``hf:`` backend for Kimi-VL checkpoints: the agent's messages in, the model's text out, in-process.

What the model sees is exactly what the coordinate map assumes. The messages' images were already prepared by
the profile's ``kimi`` budget (token-limit resize, black padding right/bottom to a multiple of 28:
``ImageBudget.prepare``), so the processor here runs WITHOUT its own resize: the official processor would
re-check the limit on the padded size (1920x1080 -> 1204x672 = 4128 patches > 4096) and shrink the image a
second time, smearing the padding into the content. Every call checks that each image's patch grid covers it
exactly, so an image prepared with another budget raises ModelError instead of silently mis-clicking.

Coordinates: the kimi profiles answer relative to the UNPADDED content (``ImageBudget.coords_on_padded``
False), as Kimi-VL's grounding outputs are fractions of the original screenshot; the padding is invisible to
the map.

Each step sends up to 5 screenshots, 4 of which the model already saw. Packed encoding equals one-image-at-a-time
encoding exactly, so the projector output of each image is kept (keyed by a hash of its pixels, so an image
changed in place is never mistaken for the one seen before; a few are kept, oldest out) and only new images go
through MoonViT, packed together. The result is the same as encoding all of them again.

Defaults: CUDA when available, bfloat16 there and float32 on CPU; MoonViT uses flash-attn's varlen kernel on
CUDA in bf16/fp16 when flash-attn is installed, else SDPA per block of same-size screenshots.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Mapping, Sequence

from guiagent.errors import ConfigError, ModelError
from guiagent.models.base import ImagePart, Message, ModelResponse, Sampling, TextPart
from guiagent.models.local_backend import cut_at_stop
from guiagent.models.profiles import Profile

log = logging.getLogger("guiagent.models")

DEFAULT_FAMILY = "kimi-vl"
#: image features kept between steps (5 images per request, plus slack for retries)
KEEP_FEATURES = 8


def load_kimi_vl(folder: Path, family: str | None, config: Any, overrides: Mapping[str, Any] | None,
                 options: Mapping[str, Any]) -> tuple["KimiVLLocalModel", Profile, bool]:
    """(model, profile, family_guessed) for a Kimi-VL checkpoint folder named by ``hf:PATH``.

    The family is the one given, else the config file's, else guessed from the path or the checkpoint's own
    name (``Kimi-VL-A3B-Thinking-2506`` -> kimi-vl-thinking), else kimi-vl.

    Raises:
        ConfigError: the chosen family is not a Kimi-VL one.
        ModelError: the checkpoint cannot be loaded.
    """
    from guiagent.models.config import resolve_profile
    from guiagent.models.profiles import guess_family

    hint = str(folder.resolve())
    if guess_family(hint) is None:
        hint = _checkpoint_name(folder) or hint
    profile, guessed = resolve_profile(family, name_hint=hint, config=config, overrides=overrides,
                                       default=DEFAULT_FAMILY)
    if profile.budget.kind != "kimi":
        raise ConfigError(f"{folder} is a Kimi-VL checkpoint; family {profile.name!r} does not fit it "
                          f"(use --family kimi-vl or kimi-vl-thinking)")
    return KimiVLLocalModel(folder, profile, **dict(options)), profile, guessed


def _checkpoint_name(folder: Path) -> str | None:
    from guiagent.models.kimi_vl.configuration import read_config_json

    try:
        name = read_config_json(folder).get("_name_or_path")
    except ModelError:
        return None
    return name if isinstance(name, str) and name else None


class KimiVLLocalModel:
    """``Model`` running a local Kimi-VL checkpoint folder natively (no remote code).

    Args:
        path: the checkpoint folder (config.json, safetensors shards + index, tiktoken.model,
            tokenizer_config.json, preprocessor_config.json).
        profile: a Kimi-VL profile (``kimi`` image budget).
        device: "cuda", "cuda:1", "cpu", ... (default: cuda if available).
        dtype: "bfloat16" | "float16" | "float32" (default: bfloat16 on GPU, float32 on CPU).
        attn_implementation: the language model's attention ("sdpa" default, "eager", "flash_attention_2").
    """

    def __init__(self, path: str | Path, profile: Profile, *, device: str | None = None, dtype: str | None = None,
                 attn_implementation: str | None = None):
        try:
            import torch

            from guiagent.models.kimi_vl.image_processing import KimiVLImageProcessor
            from guiagent.models.kimi_vl.modeling import KimiVLForConditionalGeneration
            from guiagent.models.kimi_vl.tokenization import KimiVLTokenizer
        except ImportError as exc:
            raise ConfigError("the hf: backend needs torch, transformers and tiktoken: "
                              "pip install 'guiagent[local]'") from exc
        if profile.budget.kind != "kimi":
            raise ConfigError(f"family {profile.name!r} has a {profile.budget.kind!r} image budget; Kimi-VL "
                              f"checkpoints need kimi-vl or kimi-vl-thinking")
        self.path = Path(path)
        self.profile = profile
        self.tokenizer = KimiVLTokenizer.from_pretrained(self.path)
        self.image_processor = KimiVLImageProcessor.from_pretrained(self.path)
        self._check_processor()
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = KimiVLForConditionalGeneration.from_pretrained(self.path, dtype=dtype, device=self.device,
                                                                    attn_implementation=attn_implementation)
        pad = self.tokenizer.token_id("<|media_pad|>")
        if pad != self.model.config.media_placeholder_token_id:
            raise ModelError(f"{self.path}: config.json's media_placeholder_token_id "
                             f"{self.model.config.media_placeholder_token_id} is not the tokenizer's "
                             f"<|media_pad|> ({pad})")
        self._stop_ids = [self.tokenizer.token_id("<|im_end|>")]
        if "[EOS]" in self.tokenizer.special_tokens:
            self._stop_ids.append(self.tokenizer.token_id("[EOS]"))
        self.name = self.path.name
        #: the model inputs of the last call (tests and debugging read image_grid_hws from here; pixel_values
        #: holds only the images that were encoded, not those whose features were kept)
        self.last_inputs: dict[str, Any] | None = None
        self._features: OrderedDict[tuple, Any] = OrderedDict()

    def _check_processor(self) -> None:
        proc, budget = self.image_processor, self.profile.budget
        if proc.patch_size != 14 or proc.merge_kernel_size != (2, 2) or not proc.pad_input:
            raise ModelError(f"{self.path}: the image processor uses patch {proc.patch_size}, merge "
                             f"{proc.merge_kernel_size}, pad_input {proc.pad_input}; the kimi budget assumes 14, "
                             f"(2, 2) and padding")
        if proc.in_token_limit != budget.token_limit:
            log.warning("%s: the checkpoint's processor allows %d patches per image, profile %r sends %d "
                        "(set token_limit in --config to match the checkpoint)", self.path,
                        proc.in_token_limit, self.profile.name, budget.token_limit)

    # ------------------------------------------------------------------ Model protocol

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> ModelResponse:
        import torch

        inputs = self.encode(messages)
        prompt_len = int(inputs["input_ids"].shape[1])
        kwargs: dict[str, Any] = {"max_new_tokens": sampling.max_tokens, "eos_token_id": self._stop_ids,
                                  "pad_token_id": self._stop_ids[0]}
        if sampling.temperature > 0:
            kwargs.update(do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p, top_k=None)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if sampling.seed is not None:
            torch.manual_seed(sampling.seed)
        start = time.perf_counter()
        with torch.inference_mode():
            ids = inputs["input_ids"].to(self.device)
            embeds = self.model.embed(ids, image_features=self._image_features(inputs))
            output = self.model.generate(input_ids=ids, inputs_embeds=embeds,
                                         attention_mask=inputs["attention_mask"].to(self.device), **kwargs)
        latency = time.perf_counter() - start
        new_tokens = output[0, prompt_len:].tolist()
        text = cut_at_stop(self.tokenizer.decode(new_tokens), sampling.stop)
        return ModelResponse(text=text, prompt_tokens=prompt_len, completion_tokens=len(new_tokens),
                             latency_s=latency)

    # ------------------------------------------------------------------ prompt building

    def encode(self, messages: Sequence[Message]) -> dict[str, Any]:
        """Model inputs: input_ids, attention_mask, image_grid_hws (every image), and pixel_values of the
        images whose features are not kept from an earlier call (``images`` lists all of them, in order)."""
        import torch

        from guiagent.models.kimi_vl.tokenization import ChatImage, chat_ids

        images = [p.image for m in messages for p in m.content if isinstance(p, ImagePart)]
        grids = [self._grid(image) for image in images]
        keys = [_pixels_key(image) for image in images]
        inputs: dict[str, Any] = {"images": images, "image_keys": keys,
                                  "image_grid_hws": torch.tensor(grids, dtype=torch.long)}
        new = {key: image for key, image in zip(keys, images) if key not in self._features}
        if new:
            batch = self.image_processor(list(new.values()), resize=False)
            inputs.update(pixel_values=batch["pixel_values"], new_images=list(new.values()), new_keys=list(new))
        slots = iter(ChatImage(h * w // 4) for h, w in grids)
        turns = [(m.role, [p.text if isinstance(p, TextPart) else next(slots) for p in m.content])
                 for m in messages]
        ids = torch.tensor([chat_ids(self.tokenizer, turns)], dtype=torch.long)
        inputs.update(input_ids=ids, attention_mask=torch.ones_like(ids))
        self.last_inputs = inputs
        return inputs

    def _grid(self, image) -> tuple[int, int]:
        """The image's patch grid; it must be what the budget prepared (a multiple of 28 on each side)."""
        w, h = image.size
        if w % 28 or h % 28:
            raise ModelError(
                f"a {w}x{h} image reached the Kimi-VL model unprepared (not padded to a multiple of 28): build the "
                f"messages with the profile the model was loaded with ({self.profile.name!r})")
        return h // 14, w // 14

    def _image_features(self, inputs: dict[str, Any]):
        """Projector outputs of every image in order: kept ones reused, new ones encoded in one pack."""
        import torch

        if not inputs["images"]:
            return None
        fresh: dict[tuple, Any] = {}
        if "new_images" in inputs:
            grids = [self._grid(image) for image in inputs["new_images"]]
            features = self.model.get_image_features(inputs["pixel_values"].to(self.device), grids)
            fresh = dict(zip(inputs["new_keys"], features.split([h * w // 4 for h, w in grids])))
        parts = []
        for key in inputs["image_keys"]:
            parts.append(fresh[key] if key in fresh else self._features[key])
            self._features[key] = parts[-1]
            self._features.move_to_end(key)
        while len(self._features) > KEEP_FEATURES:
            self._features.popitem(last=False)
        return torch.cat(parts)


def _pixels_key(image) -> tuple:
    """Identifies an image by its pixels (a 1204x672 screenshot hashes in a few milliseconds)."""
    digest = hashlib.blake2b(image.tobytes(), digest_size=16).hexdigest()
    return image.size, image.mode, digest

