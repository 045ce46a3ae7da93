"""Env wrappers for the loop's cross-cutting behaviour, in gymnasium's spirit: each overrides one hook.

    env = SettleWrapper(env, config, time_left)   # observe(): first let the screen settle after actions
    env = DryRunWrapper(env)                      # execute(): only ask the env whether it would accept the action

A wrapper is itself an Env: everything it does not override goes to the wrapped env (``name``, ``display``,
``reset``, ``close``, and any other attribute such as the mock desktop's ``task``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PIL import Image, ImageChops

from guiagent.actions.coords import Display
from guiagent.actions.types import Action
from guiagent.agent.config import AgentConfig
from guiagent.envs.base import Env, Observation, SupportsCheck

__all__ = ["DryRunWrapper", "EnvWrapper", "SettleWrapper", "same_image", "settle"]


class EnvWrapper:
    """Passes every Env call to ``env``; subclasses override the one hook they change."""

    def __init__(self, env: Env):
        self.env = env

    @property
    def name(self) -> str:
        """The wrapped env's name."""
        return self.env.name

    @property
    def display(self) -> Display:
        """The wrapped env's display (screenshot size, scale and offset)."""
        return self.env.display

    @property
    def unwrapped(self) -> Env:
        """The innermost env."""
        return self.env.unwrapped if isinstance(self.env, EnvWrapper) else self.env

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Observation:
        """Reset the wrapped env and return its first observation."""
        return self.env.reset(seed=seed, options=options)

    def observe(self) -> Observation:
        """The wrapped env's current observation."""
        return self.env.observe()

    def execute(self, action: Action) -> None:
        """Execute ``action`` on the wrapped env."""
        self.env.execute(action)

    def close(self) -> None:
        """Close the wrapped env."""
        self.env.close()

    def __getattr__(self, name: str) -> Any:  # task, state(), check() ... of the wrapped env
        if name == "env":  # not set yet (during unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.env, name)


class DryRunWrapper(EnvWrapper):
    """``execute`` sends nothing: an env with ``check`` (SupportsCheck) validates the action, so a dry run meets and
    records the refusals a real run would; other envs accept everything."""

    def execute(self, action: Action) -> None:
        """Validate ``action`` without performing it.

        Raises:
            ActionError: the wrapped env's ``check`` refuses the action (as ``execute`` would).
        """
        if isinstance(self.env, SupportsCheck):
            self.env.check(action)


class SettleWrapper(EnvWrapper):
    """``observe`` after executed actions first waits for the screen to settle (see ``settle``), so the model sees
    the result of its actions rather than an animation half-way. The settled capture is the observation.

    Args:
        env: the env to wrap.
        config: ``settle_s``, ``settle_stable``, ``settle_timeout_s``, ``settle_poll_s``.
        time_left: seconds left in the run; settling never waits longer.
    """

    def __init__(self, env: Env, config: AgentConfig, time_left: Callable[[], float] = lambda: float("inf")):
        super().__init__(env)
        self.config, self.time_left = config, time_left
        self.moved = False
        #: seconds the last ``observe`` spent settling (0.0 when nothing was executed since the one before)
        self.settle_s = 0.0

    def execute(self, action: Action) -> None:
        """Execute ``action`` on the wrapped env and remember that the next observation must wait to settle."""
        self.env.execute(action)
        self.moved = True

    def observe(self) -> Observation:
        """The observation after the screen settled, if an action ran since the last one; otherwise a plain capture.

        Sets ``settle_s`` to the seconds spent waiting. Settling never waits past ``time_left()``.
        """
        self.settle_s = 0.0
        if not self.moved:
            return self.env.observe()
        self.moved = False
        t0 = time.perf_counter()
        settled = settle(self.env, self.config, self.time_left())
        observation = settled if settled is not None else self.env.observe()
        self.settle_s = time.perf_counter() - t0
        return observation


def settle(env: Env, config: AgentConfig, time_left: float = float("inf")) -> Observation | None:
    """Wait for the screen to settle after actions: ``settle_s``, then (with ``settle_stable``) capture until two
    consecutive screenshots match or ``settle_timeout_s`` passes.

    Returns:
        The last capture, if any was taken.

    Raises:
        EnvError: a capture failed.
    """
    if config.settle_s:
        time.sleep(min(config.settle_s, time_left))
    if not config.settle_stable:
        return None
    deadline = time.monotonic() + min(config.settle_timeout_s, time_left)
    previous = env.observe()
    while time.monotonic() < deadline:
        time.sleep(config.settle_poll_s)
        current = env.observe()
        if same_image(previous.screenshot, current.screenshot):
            return current
        previous = current
    return previous


def same_image(a: Image.Image, b: Image.Image) -> bool:
    """Pixel-exact equality, computed in C (no Python-level copies of the pixel data)."""
    if a is b:
        return True
    if a.size != b.size or a.mode != b.mode:
        return False
    return ImageChops.difference(a, b).getbbox() is None
