"""Test models: ``CannedModel`` answers from a list of texts or from a function, and records every call.

    model = CannedModel(["Thought: open it\\nAction: click(start_box='(402,146)')",
                         "Thought: done\\nAction: finished(content='')"])
    model = CannedModel(lambda call, messages: "Thought: done\\nAction: finished(content='')")

For a model that actually solves a mock task, use the scripted model (``load_model("scripted", env=desk)``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from guiagent.errors import ConfigError, ModelError
from guiagent.models.base import Message, ModelResponse, Sampling

#: a function of (call number from 0, the messages of this call) returning the model's text
AnswerFunction = Callable[[int, Sequence[Message]], str]


@dataclass(frozen=True)
class CannedCall:
    """One call a CannedModel answered: what it was sent and what it said."""

    messages: list[Message]
    sampling: Sampling
    answer: str

    @property
    def images(self) -> int:
        """How many images the call's messages held (the current screenshot and the history's)."""
        return sum(1 for m in self.messages for part in m.content if hasattr(part, "image"))

    @property
    def prompt(self) -> str:
        """All text parts of the call's messages, joined by newlines (to assert on the prompt)."""
        return "\n".join(part.text for m in self.messages for part in m.content if hasattr(part, "text"))


class CannedModel:
    """A ``Model`` that answers from ``answers``: a list (one text per call, in order) or a function of
    (call number, messages). Every call is kept in ``calls``.

    Args:
        answers: the texts, or a function returning the text for each call.
        name: the model name recorded in run folders.

    Raises:
        ConfigError: ``answers`` is neither a list of strings nor callable.
    """

    def __init__(self, answers: Sequence[str] | AnswerFunction, *, name: str = "canned"):
        if not callable(answers):
            if isinstance(answers, str) or not all(isinstance(a, str) for a in answers):
                raise ConfigError("CannedModel takes a list of answer strings or a function (call, messages) -> str")
            answers = list(answers)
        self.answers = answers
        self.name = name
        self.calls: list[CannedCall] = []

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> ModelResponse:
        """The next canned answer. Raises ModelError once a list runs out (the agent ends with model_error)."""
        n = len(self.calls)
        if callable(self.answers):
            text = self.answers(n, messages)
            if not isinstance(text, str):
                raise ModelError(f"the canned model's function returned {type(text).__name__} for call {n + 1}, "
                                 f"not a string")
        elif n < len(self.answers):
            text = self.answers[n]
        else:
            raise ModelError(f"the canned model has only {len(self.answers)} answer(s); call {n + 1} was made "
                             f"(add answers, or end the list with a finished() action)")
        self.calls.append(CannedCall(list(messages), sampling, text))
        return ModelResponse(text, latency_s=0.0)
