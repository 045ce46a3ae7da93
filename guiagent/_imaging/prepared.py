"""One step's screenshot, prepared once for every consumer: the frame as captured, the image the model is sent
(the profile's image budget applied), and that image's encodings (data URLs, by format).

The agent loop builds one per step and hands the same object to the history (``Turn``) and, through
``ImagePart.prepared``, to the backends, so a screenshot is resized once and encoded once per format however many
requests replay it. Nothing is cached by object identity: the object itself carries what was computed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from PIL import Image

__all__ = ["PreparedScreenshot"]

T = TypeVar("T")


@dataclass(eq=False)
class PreparedScreenshot:
    """A screenshot with the image a model is sent and its encodings.

    Attributes:
        screenshot: the frame as the env captured it (physical pixels).
        image: ``prepare(screenshot)``: resized / padded to the model's image budget, RGB, read-only.
        encodings: what ``encoded`` computed, by key (e.g. ("data-url", "png", 90)).
    """

    screenshot: Image.Image
    image: Image.Image
    encodings: dict[Hashable, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, screenshot: Image.Image, prepare: Callable[[Image.Image], Image.Image],
              previous: PreparedScreenshot | None = None) -> PreparedScreenshot:
        """Prepare ``screenshot`` once.

        Args:
            screenshot: the captured frame.
            prepare: the image budget's ``prepare`` (``guiagent.models.budget.ImageBudget.prepare``).
            previous: the last step's prepared screenshot. When the resize gave back the very same image (an
                unchanged screen: the incremental resize returns its previous output), its encodings are shared.

        Returns:
            The PreparedScreenshot.
        """
        image = prepare(screenshot)
        shared = previous.encodings if previous is not None and previous.image is image else {}
        return cls(screenshot, image, shared)

    def encoded(self, key: Hashable, encode: Callable[[Image.Image], T]) -> T:
        """``encode(self.image)``, computed once per ``key`` (the key names the format and its settings)."""
        value = self.encodings.get(key)
        if value is None:
            value = self.encodings[key] = encode(self.image)
        return value
