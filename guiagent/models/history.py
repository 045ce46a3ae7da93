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
put back. Every image is ``profile.budget.prepare``d, i.e. exactly what the coordinate map assumes (the agent
loop prepares each screenshot once: ``guiagent._imaging.prepared.PreparedScreenshot``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Sequence, Union

from PIL import Image

from guiagent._imaging.prepared import PreparedScreenshot
from guiagent.errors import ConfigError, ParseError
from guiagent.models.base import ImagePart, Message, Part, TextPart
from guiagent.models.profiles import Profile

#: a screenshot as history takes it: prepared once by the agent loop (resize and encodings reused by every request
#: that replays it), or a bare PIL image (prepared again for each request)
Screenshot = Union[PreparedScreenshot, Image.Image]


@dataclass(frozen=True)
class Turn:
    """One past step: the screenshot the model saw and the raw text it answered.

    ``screenshot`` (a PreparedScreenshot, or a bare image) may be None when the caller no longer holds it; such a
    step is replayed as text only.
    """

    screenshot: Screenshot | None = field(compare=False)
    response: str
    screenshot_ref: str | None = None


def build_messages(profile: Profile, instruction: str, past: Sequence[Turn], screenshot: Screenshot, *,
                   screenshot_ref: str | None = None, mode: str = "computer",
                   language: str | None = None) -> list[Message]:
    """The messages for the next step (see the module docstring for the layouts).

    Args:
        profile: the family profile (prompt, history policy, image budget).
        instruction: the task; past: the earlier steps, oldest first; screenshot: the current one (pass
            PreparedScreenshots, as the agent loop does, so each screenshot is resized and encoded once).
        screenshot_ref: the current screenshot's name in the run folder; mode: the prompt mode; language: the
            ``{language}`` of the prompt (default: the profile's).

    Returns:
        The messages, every image prepared to the profile's budget.

    Raises:
        ConfigError: no current screenshot, or an unknown prompt mode.
    """
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


def _image(profile: Profile, screenshot: Screenshot | None, ref: str | None) -> Part | None:
    if screenshot is None:
        return None
    if not isinstance(screenshot, PreparedScreenshot):  # a bare image: prepared for this request only
        screenshot = PreparedScreenshot.build(screenshot, profile.budget.prepare)
    return ImagePart(screenshot.image, ref=ref, prepared=screenshot)


def count_images(messages: Sequence[Message]) -> int:
    """The number of image parts in ``messages`` (servers limit images per prompt)."""
    return sum(isinstance(p, ImagePart) for m in messages for p in m.content)
