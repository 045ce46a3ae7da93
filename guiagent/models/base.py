"""The model interface: messages in, response text out.

A ``Model`` is anything with ``complete(messages, sampling) -> ModelResponse``. Backends (OpenAI-compatible HTTP,
local transformers, scripted, replay) implement it; the agent loop knows nothing else about them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, Sequence, Union, runtime_checkable

from PIL import Image

from guiagent._imaging.prepared import PreparedScreenshot


@dataclass(frozen=True)
class TextPart:
    """A piece of text in a message."""
    text: str


@dataclass(frozen=True)
class ImagePart:
    """An image as the model should see it (already resized to the profile's budget by whoever built it)."""

    image: Image.Image = field(compare=False)
    #: a stable name for the image (trajectory screenshot file) so messages can be compared and exported
    ref: str | None = None
    #: the step's prepared screenshot this image comes from (its ``image``): backends keep encodings on it
    prepared: PreparedScreenshot | None = field(default=None, compare=False, repr=False)


Part = Union[TextPart, ImagePart]
Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    """One turn of the conversation sent to a model: its role and its text and image parts, in order."""
    role: Role
    content: tuple[Part, ...]

    @classmethod
    def text(cls, role: Role, text: str) -> "Message":
        """A message holding one text part."""
        return cls(role, (TextPart(text),))


@dataclass(frozen=True)
class Sampling:
    """How a backend samples the answer; the profile gives the defaults, retries raise the temperature."""
    temperature: float = 0.0
    top_p: float = 0.9
    max_tokens: int = 1000
    stop: tuple[str, ...] = ()
    seed: int | None = None


@dataclass(frozen=True)
class ModelResponse:
    """A model's answer: the text, and token counts and latency (seconds) where the backend knows them."""
    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float | None = None


@runtime_checkable
class Model(Protocol):
    """What the agent loop needs from a model backend: a name and ``complete``."""
    #: what trajectories record as the model's name
    name: str

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> ModelResponse:
        """Answer one request.

        Args:
            messages: the conversation (``guiagent.models.history.build_messages``), images already prepared.
            sampling: temperature, top_p, max_tokens, stop, seed.

        Returns:
            The response text (and token counts and latency where the backend knows them).

        Raises:
            ModelError: the backend failed (with advice the user can act on).
        """
        ...
