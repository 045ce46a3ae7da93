"""A DOM-reading reference solver for a few MiniWoB tasks, answering in a real model family's text.

    env = MiniWoBEnv("click-button"); env.reset(seed=0)
    oracle = MiniWoBOracle(env, get_profile("ui-tars-1.5"))
    oracle.complete(messages, Sampling()).text
    # "Thought: I click the button 'Ok'.\nAction: click(start_box='<|box_start|>(38,173)<|box_end|>')"

It proves the MiniWoB adapter end to end without a model: every answer goes through the same parse -> map ->
execute path as a real model's. On each call it reads the page's current DOM (never the messages), decides the next
action for the task (``ORACLE_TASKS``), takes the target element's centre in CSS pixels (= the env's SCREEN
points), maps it to screenshot pixels (``env.display``) and then to the family's model space (``profile.frame``),
and formats it with the family's grammar. Being stateless, it answers the same step again if an action was refused.
Once MiniWoB has ended the episode it answers ``finished()``; on a task it does not know, or a page it does not
understand, ``call_user()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from guiagent.actions import types as T
from guiagent.models.base import Message, ModelResponse, Sampling

SOLVED_TASKS = ("click-button", "click-link", "enter-text", "focus-text", "click-checkboxes")


class OracleStuck(Exception):
    """The page does not hold what the task needs (answered as call_user)."""


class MiniWoBOracle:
    """``Model`` that solves MiniWoB tasks by reading the DOM (see the module docstring).

    Args:
        env: the ``MiniWoBEnv`` it reads.
        profile: the family whose grammar and coordinate frame the answers use.
    """

    name = "miniwob-oracle"

    def __init__(self, env: Any, profile: Any):
        self.env = env
        self.profile = profile
        self.grammar = profile.parser()

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> ModelResponse:
        try:
            action, thought = self.decide()
        except OracleStuck as e:
            action, thought = T.CallUser(str(e)), f"I cannot solve this: {e}"
        return ModelResponse(self.render(action, thought))

    # ------------------------------------------------------------------ deciding

    def decide(self) -> tuple[T.Action, str]:
        """The next action (points in SCREEN space = CSS pixels) and a thought."""
        env = self.env
        if env.done:
            return T.Finished(), "MiniWoB ended the episode; the task is done."
        solver = getattr(self, "_solve_" + env.task.replace("-", "_"), None)
        if solver is None:
            raise OracleStuck(f"the oracle knows only {', '.join(SOLVED_TASKS)}, not {env.task}")
        return solver(env.dom(), dict(env.fields))

    def _solve_click_button(self, dom: list[Any], fields: dict[str, str]) -> tuple[T.Action, str]:
        button = _find(dom, lambda e: e.tag == "button" and _text(e) == fields.get("target"), "the button")
        return self._click(button), f"I click the button '{_text(button)}'."

    def _solve_click_link(self, dom: list[Any], fields: dict[str, str]) -> tuple[T.Action, str]:
        link = _find(dom, lambda e: "alink" in e.classes.split() and _text(e) == fields.get("target"), "the link")
        return self._click(link), f"I click the link '{_text(link)}'."

    def _solve_focus_text(self, dom: list[Any], fields: dict[str, str]) -> tuple[T.Action, str]:
        box = _find(dom, lambda e: e.tag.startswith("input_text"), "the text box")
        return self._click(box), "I click into the text box."

    def _solve_enter_text(self, dom: list[Any], fields: dict[str, str]) -> tuple[T.Action, str]:
        box = _find(dom, lambda e: e.tag.startswith("input_text"), "the text field")
        wanted = fields.get("target", "")
        if str(box.value or "") != wanted:
            if str(box.value or ""):
                raise OracleStuck(f"the text field holds {box.value!r}, not {wanted!r}")
            if not box.focused:
                return self._click(box), "I click into the text field."
            return T.Type(wanted), f"I type '{wanted}'."
        return self._click(_submit(dom)), "The text is entered; I press Submit."

    def _solve_click_checkboxes(self, dom: list[Any], fields: dict[str, str]) -> tuple[T.Action, str]:
        wanted = {v for k, v in fields.items() if k.startswith("target")}
        boxes = [e for e in dom if e.tag.startswith("input_checkbox")]
        if not boxes:
            raise OracleStuck("no checkboxes on the page")
        for box in boxes:
            label = _label_of(box)
            if bool(box.value) != (label in wanted):
                verb = "tick" if label in wanted else "untick"
                return self._click(box), f"I {verb} the checkbox '{label}'."
        return self._click(_submit(dom)), "The right boxes are ticked; I press Submit."

    @staticmethod
    def _click(element: Any) -> T.Click:
        return T.Click(T.Point(element.left + element.width / 2, element.top + element.height / 2, T.Space.SCREEN))

    # ------------------------------------------------------------------ rendering

    def render(self, action: T.Action, thought: str) -> str:
        """The action as the family's text: SCREEN -> screenshot -> model space."""
        display = self.env.display
        frame = self.profile.frame(display.size_px)
        action = T.map_points(action, lambda p: frame.to_model(display.to_screenshot(p)))
        return self.grammar.format_step([action], thought=thought)


def _text(element: Any) -> str:
    return (element.text or "").strip()


def _find(dom: list[Any], match, what: str) -> Any:
    for element in dom:
        if match(element):
            return element
    raise OracleStuck(f"{what} is not on the page")


def _submit(dom: list[Any]) -> Any:
    return _find(dom, lambda e: e.tag == "button" and _text(e).lower() == "submit", "the Submit button")


def _label_of(box: Any) -> str:
    parent = box.parent
    words = [_text(c) for c in (parent.children if parent is not None else ()) if c is not box and _text(c)]
    return " ".join(words) or _text(parent) if parent is not None else ""
