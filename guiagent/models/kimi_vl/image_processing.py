"""Kimi-VL's image processor, step for step the official one (``preprocessor_config.json``).

1. Token limit, checked on floored raw patch counts: if (w // 14) * (h // 14) > in_token_limit, both sides are
   scaled by sqrt(limit / count) and truncated with int(), resampled with PIL BICUBIC.
2. ``pad_input`` (the released config): zero padding right and bottom up to a multiple of 28 (patch * merge), so
   the padded grid may exceed the limit (35 raw patches -> 48); otherwise a centre crop to a multiple of 14.
3. Pixels / 255, then (x - mean) / std with the file's mean/std (0.5 in the release: padding becomes -1.0).
4. Patches in raster order, each laid out (3, 14, 14); ``image_grid_hws`` holds (h, w) in patches per image.
   A side of 512 patches or more is refused.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image
from transformers import BatchFeature

from guiagent.errors import ModelError
from guiagent.models.kimi_vl.configuration import read_json_object

PREPROCESSOR_FILE = "preprocessor_config.json"
_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
MAX_GRID_SIDE = 512


class KimiVLImageProcessor:
    """Turns PIL images into MoonViT's packed patches.

    Args:
        in_token_limit: most raw 14-px patches an image may have before it is scaled down.
        patch_size: MoonViT's patch side (14).
        merge_kernel_size: the merger's window (2, 2); padding goes to patch_size * kernel.
        pad_input: pad right/bottom (True, as released) or centre-crop to a multiple of patch_size.
        image_mean, image_std: normalisation (the class defaults are CLIP's; the released file says 0.5).
    """

    def __init__(self, in_token_limit: int = 4096, patch_size: int = 14,
                 merge_kernel_size: Sequence[int] = (2, 2), pad_input: bool = False,
                 image_mean: Sequence[float] = _CLIP_MEAN, image_std: Sequence[float] = _CLIP_STD, **_ignored):
        self.in_token_limit = int(in_token_limit)
        self.patch_size = int(patch_size)
        self.merge_kernel_size = tuple(int(k) for k in merge_kernel_size)
        self.pad_input = bool(pad_input)
        self.image_mean = tuple(float(m) for m in image_mean)
        self.image_std = tuple(float(s) for s in image_std)
        if self.in_token_limit < 1 or self.patch_size < 1 or len(self.merge_kernel_size) != 2:
            raise ModelError("preprocessor_config.json: in_token_limit and patch_size must be positive and "
                             "merge_kernel_size a pair")

    @classmethod
    def from_pretrained(cls, path: str | Path) -> "KimiVLImageProcessor":
        """Read ``preprocessor_config.json`` from a checkpoint folder.

        Raises:
            ModelError: the file is missing or not a JSON object.
        """
        data = read_json_object(path, PREPROCESSOR_FILE)
        file = Path(path) / PREPROCESSOR_FILE
        try:
            return cls(**data)
        except (TypeError, ValueError) as exc:
            raise ModelError(f"{file}: {exc}") from exc

    # ------------------------------------------------------------------ steps

    def resized_size(self, width: int, height: int) -> tuple[int, int]:
        """The size step 1 gives (unchanged when within the token limit)."""
        patches = (width // self.patch_size) * (height // self.patch_size)
        if patches <= self.in_token_limit:
            return width, height
        scale = math.sqrt(self.in_token_limit / patches)
        return int(width * scale), int(height * scale)

    def resize(self, image: Image.Image) -> Image.Image:
        size = self.resized_size(*image.size)
        return image if size == image.size else image.resize(size, Image.Resampling.BICUBIC)

    def pad_or_crop(self, pixels: torch.Tensor) -> torch.Tensor:
        """(3, H, W) 0..255 pixels padded with zeros right/bottom to the merge unit, or centre-cropped."""
        _, h, w = pixels.shape
        if self.pad_input:
            unit_h = self.patch_size * self.merge_kernel_size[0]
            unit_w = self.patch_size * self.merge_kernel_size[1]
            return torch.nn.functional.pad(pixels, (0, -w % unit_w, 0, -h % unit_h))
        new_h, new_w = h - h % self.patch_size, w - w % self.patch_size
        top, left = (h - new_h) // 2, (w - new_w) // 2
        return pixels[:, top:top + new_h, left:left + new_w]

    def patches(self, image: Image.Image, *, resize: bool = True) -> tuple[torch.Tensor, tuple[int, int]]:
        """One image -> ((h*w, 3, p, p) normalised patches, (h, w)).

        Args:
            resize: apply the token-limit resize (the agent passes False: its images are already budgeted).

        Raises:
            ModelError: the image is smaller than a patch or reaches 512 patches on a side.
        """
        image = image.convert("RGB") if image.mode != "RGB" else image
        if resize:
            image = self.resize(image)
        pixels = torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1)
        pixels = self.pad_or_crop(pixels).contiguous()
        _, height, width = pixels.shape
        p = self.patch_size
        grid = (height // p, width // p)
        if min(grid) < 1:
            raise ModelError(f"image {image.width}x{image.height} is smaller than one {p}x{p} patch")
        if max(grid) >= MAX_GRID_SIDE:
            raise ModelError(f"image {width}x{height} is {grid[1]}x{grid[0]} patches; MoonViT takes under "
                             f"{MAX_GRID_SIDE} per side (lower in_token_limit)")
        x = pixels.float().div(255)
        x = x.sub(torch.tensor(self.image_mean)[:, None, None]).div(torch.tensor(self.image_std)[:, None, None])
        x = x.view(3, grid[0], p, grid[1], p).permute(1, 3, 0, 2, 4).reshape(grid[0] * grid[1], 3, p, p)
        return x, grid

    def __call__(self, images: Image.Image | Sequence[Image.Image], return_tensors: str | None = "pt", *,
                 resize: bool = True) -> BatchFeature:
        """``pixel_values`` (all patches, images in order) and ``image_grid_hws`` ((h, w) per image).

        Args:
            images: one PIL image or a list.
            return_tensors: "pt" (the only kind).
            resize: see ``patches``.
        """
        if return_tensors not in ("pt", None):
            raise ModelError(f"return_tensors={return_tensors!r}: only 'pt' is supported")
        if isinstance(images, Image.Image):
            images = [images]
        if not images:
            raise ModelError("no images to process")
        done = [self.patches(image, resize=resize) for image in images]
        return BatchFeature({"pixel_values": torch.cat([d[0] for d in done]),
                             "image_grid_hws": torch.tensor([d[1] for d in done], dtype=torch.long)})
