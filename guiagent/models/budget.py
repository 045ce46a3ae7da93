"""Image budgets: what a family does to a screenshot before the model sees it.

The budget decides both the image that is sent and the ``ModelFrame`` that maps the model's coordinates back, so
the two can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from PIL import Image

from guiagent._imaging.resize import resize
from guiagent.actions.coords import Convention, ModelFrame, Size, kimi_resize, smart_resize
from guiagent.errors import ConfigError


@dataclass(frozen=True)
class ImageBudget:
    """kind:
    "none"          the screenshot is sent as it is
    "smart_resize"  Qwen2-VL/2.5-VL: each side a multiple of ``factor``, area within [min_pixels, max_pixels]
    "kimi"          MoonViT: at most ``token_limit`` 14-px patches, then padded right/bottom to a multiple of 28;
                    ``coords_on_padded`` says whether relative coordinates refer to the padded image
    """

    kind: Literal["none", "smart_resize", "kimi"] = "none"
    factor: int = 28
    min_pixels: int = 100 * 28 * 28
    max_pixels: int = 16384 * 28 * 28
    token_limit: int = 4096
    coords_on_padded: bool = False

    def sizes(self, screenshot_size: Size) -> tuple[Size, Size]:
        """(image_size, content_size) of what the model sees for a screenshot of ``screenshot_size``."""
        w, h = screenshot_size
        if self.kind == "none":
            return (w, h), (w, h)
        if self.kind == "smart_resize":
            rh, rw = smart_resize(h, w, self.factor, self.min_pixels, self.max_pixels)
            return (rw, rh), (rw, rh)
        if self.kind == "kimi":
            content, padded = kimi_resize(w, h, self.token_limit)
            return padded, content
        raise ConfigError(f"unknown image budget kind {self.kind!r}")

    def frame(self, convention: Convention, screenshot_size: Size) -> ModelFrame:
        """The coordinate frame the model answers in for a screenshot of ``screenshot_size``.

        For Kimi-VL without ``coords_on_padded`` the padding is left out of the frame, so relative coordinates map
        to the resized content only.

        Args:
            convention: how the model writes coordinates (absolute pixels, relative 0-1000, ...).
            screenshot_size: the screenshot in physical pixels (W, H).

        Returns:
            The frame that maps the model's coordinates back to the screenshot.
        """
        image, content = self.sizes(screenshot_size)
        if self.kind == "kimi" and not self.coords_on_padded:
            # Coordinates are relative to the unpadded content: the padding is invisible to the mapping.
            image = content
        return ModelFrame(Convention(convention), screenshot_size, image, content)

    def prepare(self, screenshot: Image.Image) -> Image.Image:
        """The image the model should be sent (RGB): a pure function of the screenshot's pixels, whatever was
        prepared before it. A resized result may be the same object as an earlier one (same pixels) and is
        read-only (Pillow copies it before any change)."""
        image, content = self.sizes(screenshot.size)
        img = screenshot.convert("RGB") if screenshot.mode != "RGB" else screenshot
        if content != img.size:
            # bicubic, tile by tile on a fixed grid (a pure function of the screenshot; only the tiles that changed
            # since the last screenshot of this size are computed again): see guiagent._imaging.resize
            return resize(img, content, image)
        if image != content:
            canvas = Image.new("RGB", image, (0, 0, 0))
            canvas.paste(img, (0, 0))
            img = canvas
        return img
