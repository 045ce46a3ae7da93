"""A scripted grounding model: answers from the mock dataset's element trees, in a real family's text.

    model = TreeGroundingModel(get_profile("ui-tars-1.5"))
    model.complete(messages, Sampling()).text
    # "Action: click(start_box='<|box_start|>(402,146,446,175)<|box_end|>')"

It tests the grounding pipeline without a model: it finds the image it was shown (the message's image ``ref``,
which ``eval-grounding`` sets to the image path), reads that screen's tree (``trees/<image stem>.json`` next to
the image folder, written by ``make-grounding``), finds the one element whose description
(``mock_data.describe``) the prompt contains, and answers its box (UI-TARS 1.x grammars, which write boxes) or its
centre (other families), mapped to the family's model space. It never reads the annotations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from guiagent._jsonio import loads, read_text
from guiagent.actions import types as T
from guiagent.actions.coords import Convention
from guiagent.agent.grounding.mock_data import describe
from guiagent.errors import ModelError
from guiagent.models.base import ImagePart, Message, ModelResponse, Sampling, TextPart

#: Largest element tree read (a mock screen's tree is a few KB)
MAX_TREE_BYTES = 16 << 20

#: grammars whose click can carry a box (x1,y1,x2,y2)
BOX_GRAMMARS = ("ui-tars-1.0", "ui-tars-1.5")


@dataclass(frozen=True)
class ScoredResponse(ModelResponse):
    """A response with the model's confidence in it (used to rank box predictions for AP)."""

    confidence: float | None = None


class TreeGroundingModel:
    """See the module docstring.

    Args:
        profile: the family whose grammar and coordinate convention the answers use.
        answer: "box" (where the grammar writes boxes) or "point".
    """

    name = "scripted-grounding"

    def __init__(self, profile, answer: str = "box"):
        self.profile = profile
        self.answer = answer if profile.grammar in BOX_GRAMMARS else "point"

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> ModelResponse:
        """Answer a grounding request from the screen's saved element tree (never from the annotations).

        Args:
            messages: the request; its image reference names the tree file and its text holds the instruction.
            sampling: ignored (the answer is deterministic).

        Returns:
            The family's text for the element whose description is the longest found in the prompt (confidence 1),
            or ``call_user()`` with confidence 0 when no element's description is in the prompt.
        """
        ref, prompt = _image_ref(messages), "\n".join(_texts(messages))
        tree = _read_tree(ref)
        matches = [(len(d[1]), n) for n in tree["nodes"] if (d := describe(n)) is not None and d[1] in prompt]
        if not matches:
            return ScoredResponse("Action: call_user()", confidence=0.0)
        longest = max(m[0] for m in matches)
        node = next(n for length, n in matches if length == longest)
        return ScoredResponse(self.render(node["box"], tuple(tree["size"])), confidence=1.0)

    def render(self, box: Sequence[float], size: tuple[int, int]) -> str:
        """The family's answer for a target box (screenshot pixels, corners) on a screenshot of ``size``.

        Returns:
            A UI-TARS box-token click when this model answers boxes, else the family's click at the box's centre,
            in the family's model coordinates.
        """
        frame = self.profile.frame(size)

        def model(x: float, y: float) -> T.Point:
            return frame.to_model(T.Point(float(x), float(y), T.Space.SCREENSHOT))

        x1, y1, x2, y2 = box
        if self.answer == "box":
            a, b = model(x1, y1), model(x2, y2)
            digits = 4 if self.profile.convention is Convention.RELATIVE_1 else 0
            nums = ",".join(_fmt(v, digits) for v in (a.x, a.y, b.x, b.y))
            return f"Action: click(start_box='<|box_start|>({nums})<|box_end|>')"
        centre = model((x1 + x2) / 2, (y1 + y2) / 2)
        return self.profile.parser().format_step([T.Click(centre)])


def _fmt(value: float, digits: int) -> str:
    return str(int(round(value))) if digits == 0 else f"{value:.{digits}f}"


def _image_ref(messages: Sequence[Message]) -> str:
    for message in reversed(messages):
        for part in message.content:
            if isinstance(part, ImagePart) and part.ref:
                return part.ref
    raise ModelError("the scripted grounding model needs the image's path as its ref")


def _texts(messages: Sequence[Message]) -> list[str]:
    return [p.text for m in messages if m.role == "user" for p in m.content if isinstance(p, TextPart)]


def _read_tree(ref: str) -> dict:
    image = Path(ref)
    for folder in (image.parent.parent / "trees", image.parent / "trees"):
        path = folder / f"{image.stem}.json"
        if path.is_file() or path.is_symlink():
            try:  # a dataset is not ours: its trees stay in their folder, and are JSON objects of a sane size
                return loads(read_text(path, limit=MAX_TREE_BYTES, inside=folder))
            except (OSError, ValueError) as e:
                raise ModelError(f"cannot read the element tree {path}: {e}") from None
    raise ModelError(f"no element tree for {image.name}: the scripted grounding model answers on datasets made by "
                     f"`guiagent make-grounding` only")
