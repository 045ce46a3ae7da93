"""A recorded step's actions written in another model family's terms (``guiagent export --family F``).

Two things change between families, and both must change together:

- the coordinate frame: UI-TARS-1.5 writes absolute pixels of its resized image, OpenCUA fractions 0..1, UI-TARS-2
  thousandths. The recorded actions in screenshot pixels are mapped through the target family's ``ModelFrame``
  for the step's screenshot size (the same frame the loop would have used had that family been running);
- the action vocabulary: some actions have no form in the target family's grammar (an OpenCUA scroll needs an
  amount, a UI-TARS scroll has none). Those are converted where a faithful equivalent exists (``CONVERSIONS``) and
  reported; a step with an action that cannot be written at all is left out of the data and reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from guiagent.actions import types as t
from guiagent.actions.types import Action, Space, map_points
from guiagent.agent.trajectory import StepRecord
from guiagent.errors import ActionError, UnsupportedAction
from guiagent.models.profiles import Profile

#: wheel clicks written for a scroll recorded without an amount (the desktop executor's default)
DEFAULT_SCROLL_CLICKS = 5


@dataclass
class Retargeted:
    """A step in the target family's terms: its text, or why it could not be written."""

    text: str | None
    #: one line per action changed to fit the target grammar ("opencua scrolls need an amount: wrote 5 clicks")
    conversions: list[str] = field(default_factory=list)
    #: why the step cannot be written in the target family (None when ``text`` is set)
    unexpressible: str | None = None
    #: the text of the actions that could be written (for the history of later steps), even when some could not
    history_text: str = ""


def model_actions(step: StepRecord, profile: Profile) -> list[Action]:
    """The step's actions in ``profile``'s model space.

    When the recorded frame is the one ``profile`` would use, the recorded model-space actions are returned as the
    model wrote them (no rounding); otherwise the executed screenshot-pixel actions are mapped through
    ``profile.frame(screenshot size)``.
    """
    frame = profile.frame(tuple(step.screenshot_size))
    recorded = step.frame or {}
    if (recorded.get("convention") == frame.convention.value
            and list(recorded.get("image_size") or ()) == list(frame.image_size)
            and list(recorded.get("content_size") or ()) == list(frame.content_size)):
        return step.typed_actions(Space.MODEL)
    return [map_points(a, frame.to_model) for a in step.typed_actions(Space.SCREENSHOT)]


def _alternatives(action: Action) -> list[tuple[Action, str]]:
    """Faithful rewrites of ``action`` for grammars that cannot write it as it is, with a note for each."""
    if isinstance(action, t.Scroll):
        if action.amount is None:
            return [(replace(action, amount=DEFAULT_SCROLL_CLICKS),
                     f"a scroll without an amount was written as {DEFAULT_SCROLL_CLICKS} clicks")]
        return [(replace(action, amount=None), f"a scroll of {action.amount} clicks was written without an amount")]
    if isinstance(action, t.Wait) and action.seconds is not None:
        return [(t.Wait(None), f"a wait of {action.seconds:g} s was written as a wait of the default length")]
    return []


def retarget_step(step: StepRecord, profile: Profile) -> Retargeted:
    """The step's actions and thought formatted by ``profile``'s grammar, in its coordinate frame."""
    grammar = profile.parser()
    written: list[Action] = []
    conversions: list[str] = []
    problem = None
    for action in model_actions(step, profile):
        first_error = None
        for candidate, note in [(action, None), *_alternatives(action)]:
            try:
                grammar.format_action(candidate)
            except (UnsupportedAction, ActionError) as e:
                first_error = first_error or str(e)
                continue
            written.append(candidate)
            if note is not None:
                conversions.append(f"{profile.name}: {note}")
            break
        else:
            problem = problem or first_error
    history = _format(grammar, written, step)
    if problem is not None:
        return Retargeted(None, conversions, problem, history)
    return Retargeted(history, conversions, None, history)


def _format(grammar, actions: list[Action], step: StepRecord) -> str:
    try:
        return grammar.format_step(actions, thought=step.thought, reflection=step.reflection)
    except (UnsupportedAction, ActionError):  # e.g. an empty step once its only action was dropped
        return step.thought or ""
