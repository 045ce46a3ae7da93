"""Build the message list a family expects for one step: prompt, past steps, current screenshot.

The reference loops differ in small ways that matter to a model trained on them, so the layout is driven by the
profile's ``HistoryPolicy``:

prompt-first (UI-TARS, Kimi-VL, Qwen2.5-VL)::

    system      profile.system_prompt
    user        the prompt with the instruction
    user        screenshot of step k        } for each past step; the screenshot only for the last
    assistant   response of step k          } ``max_images - 1`` steps, every response as text
    user        current screenshot

prompt-last (OpenCUA)::

    system      profile.system_prompt
    assistant   "# Step 1:\\n..." + ... (older steps without screenshots, joined into one message)
    user        screenshot of step k        } the last ``max_images - 1`` steps
    assistant   "# Step k:\\n" + response   }
    user        current screenshot, then the instruction prompt

Past responses are replayed as the model wrote them, with three family-specific edits (in this order): the
Kimi-VL thinking block is dropped, the thought is dropped if ``keep_thoughts`` is off, and UI-TARS box tokens are
put back. Every image is ``profile.budget.prepare``d, i.e. exactly what the coordinate map assumes.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field, replace
from typing import Sequence

from PIL import Image

from guiagent.errors import ConfigError, ParseError
from guiagent.models.base import ImagePart, Message, Part, TextPart
from guiagent.models.budget import ImageBudget
from guiagent.models.profiles import Profile


@dataclass(frozen=True)
class Turn:
    """One past step: the screenshot the model saw and the raw text it answered.

    ``screenshot`` may be None when the caller no longer holds it; such a step is replayed as text only.
    """

    screenshot: Image.Image | None = field(compare=False)
    response: str
    screenshot_ref: str | None = None


def build_messages(profile: Profile, instruction: str, past: Sequence[Turn], screenshot: Image.Image, *,
                   screenshot_ref: str | None = None, mode: str = "computer",
                   language: str | None = None) -> list[Message]:
    """The messages for the next step (see the module docstring for the layouts)."""
    policy = profile.history
    prompt = profile.render_prompt(instruction, mode, language)
    with_image = _steps_with_images(len(past), policy.max_images)

    messages: list[Message] = []
    if profile.system_prompt:
        messages.append(Message.text("system", profile.system_prompt))
    if policy.layout == "prompt-first":
        messages.append(Message.text("user", prompt))

    pending_text: list[str] = []  # prompt-last: text-only steps waiting to be joined into one message
    for index, turn in enumerate(past):
        text = policy.step_header.replace("{n}", str(index + 1)) + history_response(profile, turn.response)
        image = _image(profile, turn.screenshot, turn.screenshot_ref) if index in with_image else None
        if policy.layout == "prompt-last" and image is None:
            pending_text.append(text)
            continue
        if pending_text:
            messages.append(Message.text("assistant", "\n".join(pending_text)))
            pending_text = []
        if image is not None:
            messages.append(Message("user", (image,)))
        messages.append(Message.text("assistant", text))
    if pending_text:
        messages.append(Message.text("assistant", "\n".join(pending_text)))

    current = _image(profile, screenshot, screenshot_ref)
    if current is None:
        raise ConfigError("build_messages needs the current screenshot")
    if policy.layout == "prompt-first":
        messages.append(Message("user", (current,)))
    else:
        messages.append(Message("user", (current, TextPart(prompt))))
    return messages


def forget_unsent_screenshot(turns: list[Turn], max_images: int) -> None:
    """Call after appending a turn: drop the screenshot of the step that just left the window ``build_messages``
    sends (its text stays), so a long run holds only the ``max_images - 1`` past screenshots it sends, not one
    per step."""
    old = len(turns) - max_images
    if old >= 0 and turns[old].screenshot is not None:
        turns[old] = replace(turns[old], screenshot=None)


def history_response(profile: Profile, response: str) -> str:
    """A past response as it is replayed to the model (thinking dropped, thought dropped, box tokens restored)."""
    policy = profile.history
    text = response
    if policy.drop_thinking:
        from guiagent.actions.families import strip_thinking
        text = strip_thinking(text)
    if not policy.keep_thoughts:
        text = _without_thought(profile, text)
    if policy.restore_box_tokens:
        from guiagent.actions.families import restore_box_tokens
        text = restore_box_tokens(text)
    return text


def _without_thought(profile: Profile, text: str) -> str:
    """The response re-formatted from its parsed actions alone; unparseable text is kept as it is (the model
    should still see what it said)."""
    grammar = profile.parser()
    try:
        step = grammar.parse(text)
    except ParseError:
        return text
    return grammar.format_step(step.actions)


def _steps_with_images(n_past: int, max_images: int) -> set[int]:
    """Indices of the past steps whose screenshot is sent: the most recent ``max_images - 1``."""
    keep = max(0, max_images - 1)
    return set(range(max(0, n_past - keep), n_past))


def _image(profile: Profile, screenshot: Image.Image | None, ref: str | None) -> Part | None:
    if screenshot is None:
        return None
    return ImagePart(prepare_cached(profile.budget, screenshot), ref=ref)


# Every step replays the last few screenshots: resizing them again each time would waste ~10 ms per image, and
# returning the same prepared object lets backends reuse its encoding. Keyed by the screenshot's identity and
# checked through a weak reference, so a recycled id can never return another screenshot's image.
_PREPARED: dict[tuple[int, ImageBudget], tuple[weakref.ref, Image.Image]] = {}
_PREPARED_LOCK = threading.Lock()
_PREPARED_MAX = 16


def prepare_cached(budget: ImageBudget, screenshot: Image.Image) -> Image.Image:
    """``budget.prepare(screenshot)``, computed once per screenshot object (screenshots are never modified).
    An entry lives as long as its screenshot (and at most ``_PREPARED_MAX`` entries are kept)."""
    key = (id(screenshot), budget)
    with _PREPARED_LOCK:
        hit = _PREPARED.get(key)
        if hit is not None and hit[0]() is screenshot:
            return hit[1]
    prepared = budget.prepare(screenshot)
    with _PREPARED_LOCK:
        while len(_PREPARED) >= _PREPARED_MAX:
            del _PREPARED[next(iter(_PREPARED))]
        ref = weakref.ref(screenshot)
        _PREPARED[key] = (ref, prepared)
    weakref.finalize(screenshot, _forget, key, ref)
    return prepared


def _forget(key: tuple[int, ImageBudget], ref: weakref.ref) -> None:
    with _PREPARED_LOCK:
        entry = _PREPARED.get(key)
        if entry is not None and entry[0] is ref:
            del _PREPARED[key]


def count_images(messages: Sequence[Message]) -> int:
    return sum(isinstance(p, ImagePart) for m in messages for p in m.content)
