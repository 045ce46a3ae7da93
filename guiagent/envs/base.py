"""The environment interface shared by the mock desktop, the real desktop and replay.

The agent, replay and the tests only ever talk to this Protocol. Screenshots are PIL images in physical pixels;
``execute`` takes one typed action whose points are in SCREENSHOT space (pixels of the env's own screenshot) or
SCREEN space (logical points); the env converts with its ``display`` through ``guiagent.actions.coords``.

An env may also offer ``check(action)`` (the ``SupportsCheck`` protocol; optional, not part of ``Env``): every
check ``execute`` makes, raising the same EnvError / ActionError, without changing anything. The agent's dry-run
mode calls it when it exists, so a dry run records the refusals a real run would meet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from PIL import Image

from guiagent.actions.coords import Display
from guiagent.actions.types import Action


@dataclass(frozen=True)
class Observation:
    screenshot: Image.Image
    timestamp: float
    info: dict[str, Any] = field(default_factory=dict, compare=False)


@runtime_checkable
class Env(Protocol):
    #: short name recorded in trajectories ("mock", "desktop", ...)
    name: str

    @property
    def display(self) -> Display:
        """Size in physical pixels, HiDPI scale, monitor offset of what ``observe`` captures."""
        ...

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Observation:
        """Bring the environment to its initial state and return the first observation."""
        ...

    def observe(self) -> Observation:
        """Capture the screen now."""
        ...

    def execute(self, action: Action) -> None:
        """Carry out one action. Raises EnvError (state untouched) when the action cannot be done."""
        ...

    def close(self) -> None:
        """Release resources; safe to call twice."""
        ...


@runtime_checkable
class ProvidesScriptedModel(Protocol):
    """The optional half of an Env that brings its own reference solver (MiniWoB's DOM oracle): the ``scripted``
    model SPEC uses it instead of the mock desktop's solver."""

    def scripted_model(self, profile: Any) -> Any:
        """A ``guiagent.models.base.Model`` that solves this env's current task, writing ``profile``'s format."""
        ...


@runtime_checkable
class SupportsCheck(Protocol):
    """The optional half of an Env: validate an action without carrying it out."""

    def check(self, action: Action) -> Action:
        """Raise what ``execute`` would raise for ``action`` (EnvError, ActionError), but send no input and change
        no state. Returns the action as the env would carry it out (e.g. converted to SCREEN points)."""
        ...
