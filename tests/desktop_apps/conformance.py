"""The shared Env conformance check (``guiagent.envs.check.check_env``) for live desktops, plus one thing only a
test that watches the screen can see: an action the env refuses sends no input at all."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from guiagent.actions.types import Click, Point, Space
from guiagent.envs.base import Env
from guiagent.envs.check import check_env
from guiagent.errors import ActionError, EnvError


def check_env_conformance(env: Env, sent: Callable[[], int] | None = None) -> None:
    """Assert ``env`` passes ``check_env``; ``sent()``, if given, counts input events the screen received, and must
    not move when an action is refused. Leaves ``env`` closed."""
    check_env(env, close=False)
    w, h = env.display.size_px
    before = sent() if sent else None
    for bad in (Point(w, 0), Point(-1, 0), Point(0, h), Point(w * 10, h * 10)):
        with pytest.raises(EnvError):
            env.execute(Click(bad))
    with pytest.raises(ActionError):
        env.execute(Click(Point(500, 500, Space.MODEL)))
    if sent:
        assert sent() == before, "a refused action sent input"
    env.close()
    env.close()  # twice is fine
    with pytest.raises(EnvError):
        env.observe()
