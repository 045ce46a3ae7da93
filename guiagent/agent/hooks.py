"""Hooks: how Python code watches a run and vetoes actions, and the confirmation policy built on them.

Subclass ``Hooks`` and override what you need; every method has a do-nothing default. The agent calls the hooks in
the order given. Exceptions raised by a hook are not swallowed: the run ends with outcome ``error``, is recorded,
and the exception propagates (a bug in a hook should be loud).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from PIL import Image

from guiagent.actions.types import Action
from guiagent.envs.base import Observation

if TYPE_CHECKING:
    from guiagent.agent.result import RunResult
    from guiagent.agent.trajectory import StepRecord


class Decision(str, Enum):
    """What to do with one proposed action."""

    ALLOW = "allow"  # execute it
    SKIP = "skip"    # do not execute it, go on with the run (the model sees the unchanged screen)
    STOP = "stop"    # do not execute it, end the run (outcome "stopped")


@dataclass(frozen=True)
class ActionContext:
    """Everything a hook may want to judge one action by."""

    step: int
    #: position of the action within its step (a step may hold several actions)
    position: int
    #: the action as it would be executed (points in screenshot pixels)
    action: Action
    #: the same action in the model's own space, as the model wrote it
    action_model: Action
    screenshot: Image.Image
    thought: str | None
    response: str
    dry_run: bool


class Hooks:
    """Callbacks around each step. Override any subset."""

    def on_run_start(self, meta: dict) -> None:
        """The run is about to take its first screenshot; ``meta`` is what meta.json holds."""

    def on_observation(self, step: int, observation: Observation) -> None:
        """Step ``step`` captured its screenshot."""

    def on_response(self, step: int, response: str, error: str | None) -> None:
        """The model answered; ``error`` is the parse error, if the answer did not parse (a retry follows)."""

    def before_action(self, context: ActionContext) -> Decision | None:
        """Veto point: return SKIP or STOP to prevent the action, ALLOW or None to let it run."""
        return None

    def on_call_user(self, step: int, question: str | None) -> str | None:
        """The model asked for the user. Return the user's answer to go on, or None to end the run."""
        return None

    def on_step_end(self, record: StepRecord) -> None:
        """A step ended (its record is what trajectory.jsonl gets)."""

    def on_run_end(self, result: RunResult) -> None:
        """The run ended, for any reason."""


class ConfirmHook(Hooks):
    """Ask before each action that would change the screen (confirmation mode).

    ``ask(context)`` shows the action to someone and returns a Decision or one of "allow", "skip", "stop".
    Waits and the terminal actions (finished, call_user) are not asked about: they change nothing.
    """

    def __init__(self, ask: Callable[[ActionContext], Decision | str]):
        self.ask = ask

    def before_action(self, context: ActionContext) -> Decision | None:
        """Ask ``ask`` about the action and turn its answer into a Decision.

        Raises:
            ValueError: ``ask`` returned a string that is not a Decision value.
        """
        return Decision(self.ask(context))


class CallbackHooks(Hooks):
    """Hooks from plain functions, for one-off use: ``CallbackHooks(on_step_end=print)``."""

    def __init__(self, **callbacks: Callable):
        unknown = set(callbacks) - {n for n in vars(Hooks) if n.startswith(("on_", "before_"))}
        if unknown:
            raise TypeError(f"unknown hook names: {sorted(unknown)}")
        for name, fn in callbacks.items():
            setattr(self, name, fn)


def decide(hooks: Sequence[Hooks], context: ActionContext) -> Decision:
    """Ask each hook in turn; the first SKIP or STOP wins and later hooks are not asked."""
    for hook in hooks:
        decision = hook.before_action(context)
        if decision is not None and Decision(decision) is not Decision.ALLOW:
            return Decision(decision)
    return Decision.ALLOW


def ask_user(hooks: Sequence[Hooks], step: int, question: str | None) -> str | None:
    """The first answer a hook gives to the model's question (``on_call_user``), or None when none answers."""
    for hook in hooks:
        answer = hook.on_call_user(step, question)
        if answer is not None:
            return answer
    return None
