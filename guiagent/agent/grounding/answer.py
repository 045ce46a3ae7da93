"""Reading a grounding answer: the family's grammar gives the click point; a box, where the model wrote one.

The grammar parses the answer (UI-TARS ``click(start_box='(x1,y1,x2,y2)')`` means a click at the box's centre);
the point is mapped from the model's coordinate space to image pixels by the profile's frame, exactly as the agent
maps clicks. When the model wrote a box (four numbers) whose centre is the point the grammar read, that box is the
prediction for AP; otherwise the prediction is a point only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from guiagent.actions import types as T
from guiagent.errors import ActionError, ParseError

Box = tuple[float, float, float, float]

_NUM = r"(\d+(?:\.\d+)?)"
_SEP = r"\s*[,\s]\s*"
# four numbers in (...), [...] or <bbox>...</bbox>: digits and separators never overlap, so matching is linear
_BOX_RE = re.compile(r"(?:\(|\[|<bbox>)\s*" + _SEP.join([_NUM] * 4) + r"\s*(?:\)|\]|</bbox>)")
#: answers longer than this are cut before the box search (the grammar has its own limits)
MAX_ANSWER_CHARS = 20000


@dataclass(frozen=True)
class Prediction:
    """What a grounding answer says, in image pixels. ``error`` says why there is no point."""

    point: tuple[float, float] | None = None
    box: Box | None = None
    error: str | None = None


def read_answer(text: str, profile, image_size: tuple[int, int]) -> Prediction:
    """Parse ``text`` with the profile's grammar and map its first point (and box) to image pixels.

    Args:
        text: the model's answer.
        profile: the family profile (grammar and coordinate frame).
        image_size: the original image's (w, h): the frame maps model space to it.

    Returns:
        The prediction (``error`` set when the answer is unparseable or has no point).
    """
    try:
        step = profile.parser().parse(text)
    except (ParseError, ActionError) as e:
        return Prediction(error=f"unparseable answer: {e}")
    point = next((p for a in step.actions for p in T.points_of(a)), None)
    if point is None:
        kinds = ", ".join(type(a).__name__ for a in step.actions) or "none"
        return Prediction(error=f"the answer has no point (actions: {kinds})")
    frame = profile.frame(image_size)

    def to_image(x: float, y: float) -> tuple[float, float]:
        p = frame.to_screenshot(T.Point(x, y, T.Space.MODEL))
        return p.x, p.y

    box = None
    for m in _BOX_RE.finditer(text[:MAX_ANSWER_CHARS]):
        x1, y1, x2, y2 = (float(v) for v in m.groups())
        if abs((x1 + x2) / 2 - point.x) < 1e-6 and abs((y1 + y2) / 2 - point.y) < 1e-6 and x1 <= x2 and y1 <= y2:
            box = (*to_image(x1, y1), *to_image(x2, y2))
            break
    return Prediction(to_image(point.x, point.y), box)
