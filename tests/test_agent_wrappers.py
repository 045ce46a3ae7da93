"""The loop's env wrappers (settle, dry run) and its timing context manager, on their own."""

from __future__ import annotations

import pickle
import time

import pytest
from agent_helpers import BoardEnv

from guiagent.actions import types as t
from guiagent.actions.types import Point
from guiagent.agent.config import AgentConfig
from guiagent.agent.timing import timed
from guiagent.agent.wrappers import DryRunWrapper, EnvWrapper, SettleWrapper
from guiagent.envs.base import Env, SupportsCheck
from guiagent.envs.check import check_env
from guiagent.errors import EnvError


class CheckingBoard(BoardEnv):
    def __init__(self):
        super().__init__()
        self.checked: list[t.Action] = []

    def check(self, action):
        self.checked.append(action)
        return self.display.action_to_screen(action)


def test_timed_adds_up_per_phase_and_counts_a_raising_block():
    latency: dict[str, float] = {}
    with timed(latency, "wait"):
        time.sleep(0.01)
    first = latency["wait"]
    with pytest.raises(RuntimeError):
        with timed(latency, "wait"):
            time.sleep(0.01)
            raise RuntimeError("boom")
    assert first >= 0.009 and latency["wait"] >= first + 0.009 and set(latency) == {"wait"}


def test_a_wrapper_is_an_env_and_passes_everything_else_through():
    board = CheckingBoard()
    board.task = "a task"
    env = SettleWrapper(DryRunWrapper(board), AgentConfig())
    assert isinstance(env, Env) and isinstance(env, SupportsCheck)
    assert env.name == "board" and env.display is board.display and env.task == "a task"
    assert env.unwrapped is board
    with pytest.raises(AttributeError):
        env.no_such_thing  # noqa: B018
    assert isinstance(pickle.loads(pickle.dumps(EnvWrapper(BoardEnv()))), EnvWrapper)


def test_dry_run_checks_instead_of_executing():
    board = CheckingBoard()
    env = DryRunWrapper(board)
    env.execute(t.Click(Point(300, 100)))
    with pytest.raises(EnvError, match="outside the screen"):
        env.execute(t.Click(Point(9000, 100)))
    assert board.executed == [] and len(board.checked) == 2
    plain = BoardEnv()
    DryRunWrapper(plain).execute(t.Click(Point(9000, 100)))  # no check(): nothing to ask, nothing sent
    assert plain.executed == []


def test_settle_waits_only_after_executed_actions_and_returns_the_settled_capture():
    board = BoardEnv(animate=3)
    env = SettleWrapper(board, AgentConfig(settle_stable=True, settle_poll_s=0.0, settle_timeout_s=5))
    before = board.observations
    env.observe()
    assert board.observations == before + 1 and env.settle_s == 0.0  # nothing executed: one plain capture
    env.execute(t.Click(Point(300, 100)))
    settled = env.observe()
    # 3 animated frames, then two equal ones; the last of them is the observation (no extra capture)
    assert board.observations == before + 1 + 5 and env.settle_s > 0.0
    assert settled.screenshot.getpixel((5, 2)) != (250, 0, 0)
    with pytest.raises(EnvError):
        env.execute(t.Click(Point(9000, 100)))  # refused: nothing moved, so the next observe does not settle
    env.observe()
    assert board.observations == before + 1 + 5 + 1


def test_settle_never_waits_past_the_run_deadline():
    env = SettleWrapper(BoardEnv(), AgentConfig(settle_s=30.0), time_left=lambda: 0.01)
    env.execute(t.Click(Point(300, 100)))
    t0 = time.monotonic()
    env.observe()
    assert time.monotonic() - t0 < 5


def test_wrapped_envs_still_conform():
    check_env(DryRunWrapper(CheckingBoardWithClose()), close=False)


class CheckingBoardWithClose(CheckingBoard):
    closed = False

    def observe(self):
        if self.closed:
            raise EnvError("closed")
        return super().observe()

    def close(self):
        self.closed = True
