"""Token ids and the loss mask of one training example, built by the inference backend itself.

The prompt part is ``LocalQwenModel.encode(messages)``: the call the ``hf:`` backend makes before generating, with
the checkpoint's chat template, the generation prompt and the processor's image expansion (and its check that
each image reaches the model unresized). The answer is what the chat template renders after that prompt for the
assistant turn, tokenized on its own as the model would generate it; the loss covers those tokens up to and
including the first stop token (``<|im_end|>``, where generation stops). Whatever the template adds after the stop
token (a newline) is dropped: the model never generates it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from guiagent.agent.train.data import TrainExample
from guiagent.errors import ConfigError
from guiagent.models.base import Message, TextPart

IGNORE_INDEX = -100


@dataclass
class EncodedExample:
    """Model inputs (``input_ids``, ``attention_mask``, ``pixel_values``, ``image_grid_thw``) and ``labels``."""

    inputs: dict[str, Any]
    prompt_tokens: int
    answer_tokens: int

    @property
    def tokens(self) -> int:
        """Prompt and answer tokens together: the example's length."""
        return self.prompt_tokens + self.answer_tokens


class ExampleEncoder:
    """Encodes examples with a loaded ``LocalQwenModel`` (its processor, chat template and stop tokens).

    Args:
        backend: the ``guiagent.models.local_backend.LocalQwenModel`` being trained.
    """

    def __init__(self, backend: Any):
        self.backend = backend
        self.tokenizer = backend.processor.tokenizer
        self.stop_ids = set(backend._stop_ids)

    def answer_text(self, example: TrainExample) -> str:
        """What the chat template writes after the generation prompt for the assistant's answer."""
        processor = self.backend.processor
        messages = list(example.messages)
        prompt = processor.apply_chat_template(self.backend.chat_template_messages(messages), tokenize=False,
                                               add_generation_prompt=True)
        full = processor.apply_chat_template(
            self.backend.chat_template_messages([*messages, Message("assistant", (TextPart(example.target),))]),
            tokenize=False, add_generation_prompt=False)
        if not full.startswith(prompt):
            raise ConfigError("the checkpoint's chat template does not render an assistant turn as a continuation "
                              "of its generation prompt; it cannot be trained this way")
        return full[len(prompt):]

    def encode(self, example: TrainExample) -> EncodedExample:
        """Input ids = the inference prompt + the answer's tokens; labels = -100 except on the answer."""
        import torch

        inputs = dict(self.backend.encode(list(example.messages)))
        answer_ids = self.tokenizer(self.answer_text(example), add_special_tokens=False)["input_ids"]
        stop = next((i for i, token in enumerate(answer_ids) if token in self.stop_ids), None)
        if stop is None:
            raise ConfigError(f"{example.source}: the chat template ends the answer without a stop token "
                              f"({sorted(self.stop_ids)}); the model would never learn to stop")
        answer = torch.tensor([answer_ids[: stop + 1]], dtype=inputs["input_ids"].dtype)
        prompt_ids = inputs["input_ids"]
        for name, value in list(inputs.items()):
            # per-token side inputs (e.g. mm_token_type_ids: 0 marks text) get zeros for the answer's tokens
            if name != "input_ids" and hasattr(value, "shape") and tuple(value.shape) == tuple(prompt_ids.shape):
                inputs[name] = torch.cat([value, torch.zeros_like(answer, dtype=value.dtype)], dim=1)
        inputs["input_ids"] = torch.cat([prompt_ids, answer], dim=1)
        inputs["attention_mask"] = torch.ones_like(inputs["input_ids"])
        labels = torch.full_like(inputs["input_ids"], IGNORE_INDEX)
        labels[:, prompt_ids.shape[1]:] = answer
        inputs["labels"] = labels
        return EncodedExample(inputs, int(prompt_ids.shape[1]), int(answer.shape[1]))
