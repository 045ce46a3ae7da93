"""An Env conformance check, written against the Env protocol (guiagent/envs/base.py) only.

Stand-in until the shared conformance check (issue 9) lands; the sandbox and VNC tests call it, so swapping it for
the shared one is a one-line change there. It checks what every env promises: the protocol's members, screenshots
that are RGB images of exactly ``display.size_px``, a reset that returns an observation, actions in SCREENSHOT and
SCREEN space accepted, MODEL-space points and points off the screen refused before anything is sent, a ``check``
that agrees with ``execute``, and a close that is idempotent and final.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PIL import Image

from guiagent.actions.coords import Display
from guiagent.actions.types import Click, MoveTo, Point, Space, Wait
from guiagent.envs.base import Env, Observation, SupportsCheck
from guiagent.errors import ActionError, EnvError


def check_env_conformance(env: Env, sent: Callable[[], int] | None = None) -> None:
    """Assert ``env`` honours the Env protocol. ``sent()``, if given, counts input events the screen received;
    it must not move when an action is refused. Leaves ``env`` closed."""
    assert isinstance(env, Env)
    assert isinstance(env.name, str) and env.name
    first = env.reset()
    assert isinstance(first, Observation)
    for obs in (first, env.observe()):
        assert isinstance(obs.screenshot, Image.Image) and obs.screenshot.mode == "RGB"
        assert isinstance(obs.timestamp, float) and obs.timestamp > 0
        assert isinstance(env.display, Display)
        assert obs.screenshot.size == env.display.size_px
    w, h = env.display.size_px
    inside = Point(w // 2, h // 2)
    env.execute(MoveTo(inside))
    env.execute(MoveTo(env.display.to_screen(Point(w // 3, h // 3))))
    env.execute(Wait(0))
    before = sent() if sent else None
    for bad in (Point(w, 0), Point(-1, 0), Point(0, h), Point(w * 10, h * 10)):
        with pytest.raises(EnvError):
            env.execute(Click(bad))
    with pytest.raises(ActionError):
        env.execute(Click(Point(500, 500, Space.MODEL)))
    if sent:
        assert sent() == before, "a refused action sent input"
    if isinstance(env, SupportsCheck):
        checked = env.check(MoveTo(inside))
        assert isinstance(checked, MoveTo) and checked.point.space is Space.SCREEN
        with pytest.raises(EnvError):
            env.check(Click(Point(w, h)))
    env.close()
    env.close()  # twice is fine
    with pytest.raises(EnvError):
        env.observe()
