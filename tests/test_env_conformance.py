"""The environment conformance check (guiagent.envs.check.check_env) on every env the project ships, on a user's
own minimal env, and on broken envs, each of which must fail with a message that names the cause."""

from __future__ import annotations

import time
from typing import Any

import pytest
from PIL import Image

from guiagent.actions.coords import Display
from guiagent.actions.types import Point, Space, map_points, points_of
from guiagent.envs.base import Observation
from guiagent.envs.check import EnvConformanceError, check_env
from guiagent.envs.mock import MockDesktop
from guiagent.errors import EnvError


@pytest.mark.parametrize("size, scale", [((1280, 800), 1.0), ((1024, 768), 2.0), ((800, 600), 1.5)])
def test_the_mock_desktop_conforms(size, scale):
    check_env(MockDesktop(*size, scale=scale), deterministic=True)


def test_the_mock_desktop_with_a_task_conforms():
    from guiagent.agent.factory import make_env

    check_env(make_env("mock", task="files-new-folder"), deterministic=True)


@pytest.mark.parametrize("monitor, factor", [(1, 1), (2, 2), (0, 1)])
def test_the_real_desktop_conforms_with_its_process_boundary_replaced(monitor, factor):
    from test_desktop_unit import make_env

    env, gui = make_env(monitor=monitor, factor=factor)
    check_env(env)
    moves = [c for c in gui.calls if c[0] == "moveTo"]
    # three accepted moves were sent, nothing for the refused ones (nor for the dry-run checks)
    assert len(moves) == 3, gui.calls


def test_the_real_desktop_conforms_on_an_x_server(xauthority):
    from desktop_apps.fixtures import start_xvfb

    from guiagent.envs.desktop import DesktopEnv

    xvfb = start_xvfb(1024, 768)
    try:
        check_env(DesktopEnv(x_display=xvfb.display))
    finally:
        xvfb.stop()


# ---------------------------------------------------------------- a user's own env, good and broken

class TinyEnv:
    """The smallest env that follows the contract: a grey screen that records where the pointer went."""

    name = "tiny"

    def __init__(self, size: tuple[int, int] = (320, 200), scale: float = 2.0):
        self._display = Display(size, scale, (100.0, 0.0))
        self.moves: list[Point] = []
        self.closed = False

    @property
    def display(self) -> Display:
        return self._display

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Observation:
        self.moves.clear()
        return self.observe()

    def observe(self) -> Observation:
        if self.closed:
            raise EnvError("closed")
        return Observation(Image.new("RGB", self._display.size_px, (128, 128, 128)), time.time())

    def check(self, action):
        d = self._display

        def to_screen(p: Point) -> Point:
            if p.space is Space.MODEL:
                raise EnvError("model space")
            if p.space is Space.SCREENSHOT:
                p = d.to_screen(p)
            if not d.contains_screen_point(p):
                raise EnvError("off screen")
            return p
        return map_points(action, to_screen)

    def execute(self, action) -> None:
        self.moves += points_of(self.check(action))

    def close(self) -> None:
        self.closed = True


def test_a_minimal_user_env_conforms():
    env = TinyEnv()
    check_env(env, deterministic=True)
    assert [(p.x, p.y) for p in env.moves] == [(180.0, 50.0), (180.0, 50.0), (100.0, 0.0)]


def test_close_false_leaves_the_env_usable():
    env = TinyEnv()
    check_env(env, close=False)
    assert not env.closed and env.observe().screenshot.size == (320, 200)


class NoName(TinyEnv):
    name = ""


class WrongSize(TinyEnv):
    def observe(self) -> Observation:
        w, h = self._display.size_px
        return Observation(Image.new("RGB", (int(w / 2), int(h / 2))), time.time())


class Rgba(TinyEnv):
    def observe(self) -> Observation:
        return Observation(Image.new("RGBA", self._display.size_px), time.time())


class NoBoundsCheck(TinyEnv):
    def check(self, action):
        return map_points(action, lambda p: self._display.to_screen(p) if p.space is Space.SCREENSHOT else p)


class CrashesOnBadPoint(TinyEnv):
    def execute(self, action) -> None:
        for p in points_of(action):
            if not 0 <= p.x < 320:
                raise IndexError("list index out of range")


class CheckKeepsScreenshotSpace(TinyEnv):
    def check(self, action):
        super().check(action)
        return action


class NotClosable(TinyEnv):
    def observe(self) -> Observation:
        return Observation(Image.new("RGB", self._display.size_px), time.time())


class Drifting(TinyEnv):
    shade = 0

    def reset(self, *, seed=None, options=None) -> Observation:
        self.shade += 1
        return Observation(Image.new("RGB", self._display.size_px, (self.shade, 0, 0)), time.time())


class NotAnEnv:
    name = "x"

    def reset(self, **_: Any) -> None:
        return None


@pytest.mark.parametrize("env, deterministic, cause", [
    (NoName(), False, "env.name is ''"),
    (WrongSize(), False, r"the screenshot is 160x100 but display.size_px is 320x200.*physical pixels"),
    (Rgba(), False, "mode is 'RGBA'; convert it to 'RGB'"),
    (NoBoundsCheck(), False, r"MoveTo\(a SCREENSHOT point right of and below the screen\)\) was accepted"),
    (CrashesOnBadPoint(), False, "raised IndexError: list index out of range; refuse it with EnvError"),
    (CheckKeepsScreenshotSpace(), False, r"check\(\) returned points in \['screenshot'\] space"),
    (NotClosable(), False, r"observe\(\) after close\(\) was accepted; raise EnvError"),
    (Drifting(), True, "two reset.seed=0. calls gave different screenshots"),
    (NotAnEnv(), False, r"NotAnEnv has no callable observe\(\)"),
])
def test_a_broken_env_fails_with_its_cause(env, deterministic, cause):
    with pytest.raises(EnvConformanceError, match=cause):
        check_env(env, deterministic=deterministic)
