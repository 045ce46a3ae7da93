"""Replay a recorded run: its responses into the live loop (``ReplayModel``), or its actions into an env.

Two uses, both for regression testing:

- ``ReplayModel.from_run(RUN)`` is a Model that answers with the recorded raw responses in order (every attempt,
  failed parses included), so the real loop, grammar, profile and env run again and must reach the same actions.
  The ``replay:RUN`` model spec builds one.
- ``replay_actions(run, env, check=True)`` re-executes the recorded actions (screenshot pixels, exactly as they
  were executed) against a fresh environment and, with ``check``, compares each new screenshot with the recorded
  one, stopping at the first step that differs.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageChops

from guiagent.actions import types as t
from guiagent.agent.config import MAX_MODEL_WAIT_S, AgentConfig
from guiagent.agent.trajectory import Run, StepRecord, TrajectoryError, load_run
from guiagent.envs.base import Env
from guiagent.errors import ActionError, EnvError, ModelError
from guiagent.models.base import Message, ModelResponse, Sampling


class ReplayModel:
    """A Model that returns recorded responses in order; raises ModelError once they run out."""

    def __init__(self, responses: Sequence[str], name: str = "replay", source: str | None = None):
        self.responses = list(responses)
        self.name = name
        self.source = source
        self.position = 0
        self.calls: list[tuple[list[Message], Sampling]] = []
        self._lock = threading.Lock()

    @classmethod
    def from_run(cls, path: str | os.PathLike | Run) -> ReplayModel:
        """A ReplayModel answering with every response recorded in a run, retried attempts included, in order.

        Args:
            path: the run folder, or an already loaded Run.

        Returns:
            The model, named ``replay:<run path>``.

        Raises:
            TrajectoryError: the folder is not a readable run.
        """
        run = path if isinstance(path, Run) else load_run(path)
        responses: list[str] = []
        for step in run.steps:
            if step.attempts:
                responses.extend(a.response for a in step.attempts)
            elif step.response is not None:
                responses.append(step.response)
        return cls(responses, name=f"replay:{run.path}", source=str(run.path))

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> ModelResponse:
        """Return the next recorded response (the messages are only recorded in ``calls``, not looked at).

        Args:
            messages: the conversation the agent would send.
            sampling: the sampling settings it would use.

        Returns:
            The next response, with zero latency.

        Raises:
            ModelError: every recorded response was used already (the live run takes more steps than the recording).
        """
        with self._lock:
            if self.position >= len(self.responses):
                where = f" of {self.source}" if self.source else ""
                raise ModelError(f"the replay{where} has no more responses: all {len(self.responses)} were used; "
                                 f"the live run took more steps than the recorded one")
            text = self.responses[self.position]
            self.position += 1
            self.calls.append((list(messages), sampling))
        return ModelResponse(text=text, latency_s=0.0)


# ---------------------------------------------------------------- actions against an env

@dataclass(frozen=True)
class ScreenDiff:
    """How a new screenshot differs from the recorded one."""

    differing_pixels: int
    total_pixels: int
    bbox: tuple[int, int, int, int] | None
    size_recorded: tuple[int, int]
    size_now: tuple[int, int]

    @property
    def fraction(self) -> float:
        """Share of pixels that differ, 0.0 to 1.0 (1.0 when the screenshots have no pixels to compare)."""
        return self.differing_pixels / self.total_pixels if self.total_pixels else 1.0

    def describe(self) -> str:
        """The difference in words: the size change, or how many pixels differ and inside which box."""
        if self.size_recorded != self.size_now:
            return f"screenshot size {self.size_now[0]}x{self.size_now[1]} instead of " \
                   f"{self.size_recorded[0]}x{self.size_recorded[1]}"
        return f"{self.differing_pixels} pixels differ ({self.fraction:.2%}) within box {self.bbox}"


def compare_screens(recorded: Image.Image, now: Image.Image) -> ScreenDiff:
    """Count the pixels that differ (any channel) between two screenshots."""
    a, b = recorded.convert("RGB"), now.convert("RGB")
    if a.size != b.size:
        return ScreenDiff(max(a.size[0] * a.size[1], 1), max(a.size[0] * a.size[1], 1), None, a.size, b.size)
    diff = ImageChops.difference(a, b)
    bbox = diff.getbbox()
    if bbox is None:
        return ScreenDiff(0, a.size[0] * a.size[1], None, a.size, b.size)
    # the largest channel difference per pixel (a luminance conversion would round a change of 1 in one
    # channel to 0 and report a differing screen as identical)
    r, g, b_ = diff.split()
    largest = ImageChops.lighter(ImageChops.lighter(r, g), b_)
    total = a.size[0] * a.size[1]
    return ScreenDiff(total - largest.histogram()[0], total, bbox, a.size, b.size)


@dataclass
class ReplayReport:
    """What replaying a recorded run on an environment found: steps replayed, first differing screenshot, refusals."""
    run: Path
    steps_replayed: int = 0
    checked: bool = False
    #: actions executed on the env (a replay that executed none did not reproduce anything)
    actions_executed: int = 0
    #: index of the first step whose screenshot differs from the recording (with check), else None
    first_difference: int | None = None
    difference: str | None = None
    #: actions the env refused now although they ran in the recording, as "step N: message"
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when some action was replayed, the env refused none and no checked screenshot differed."""
        return self.first_difference is None and not self.errors and self.actions_executed > 0

    def summary(self) -> str:
        """One line for the user: the first difference or refusal, or that the replay reproduced the run."""
        if self.first_difference is not None:
            return f"step {self.first_difference + 1} differs from the recording: {self.difference}"
        if self.errors:
            return f"replayed {self.steps_replayed} steps; the environment refused: {'; '.join(self.errors)}"
        if self.actions_executed == 0:
            return (f"nothing was replayed: the run has no executed actions ({self.steps_replayed} steps, none "
                    f"with an action that ran in the recording)")
        checked = ", every screenshot matches the recording" if self.checked else ""
        return f"replayed {self.steps_replayed} steps{checked}"


def replay_actions(run: Run | str | os.PathLike, env: Env, *, check: bool = False, tolerance: float = 0.0,
                   waits: bool = True, on_step: Callable[[StepRecord, ScreenDiff | None], None] | None = None
                   ) -> ReplayReport:
    """Execute a run's recorded actions on ``env`` (already reset to the run's start state).

    Only actions that ran in the recording are executed again (not skipped, dry-run or vetoed ones); waits and
    the recorded settle settings are honoured (``waits=False`` skips the sleeps, for deterministic envs).
    With ``check``, each step's new screenshot is compared with the recorded one before its actions run; the
    first step where more than ``tolerance`` (a fraction) of the pixels differ ends the replay.
    """
    from guiagent.agent.wrappers import settle

    run = run if isinstance(run, Run) else load_run(run)
    check_replayable(run, check)
    report = ReplayReport(run.path, checked=check)
    config = _recorded_config(run)
    for step in run.steps:
        diff = None
        if check:
            now = env.observe().screenshot
            diff = compare_screens(run.screenshot(step), now)
            if diff.size_recorded != diff.size_now or diff.fraction > tolerance:
                report.first_difference, report.difference = step.index, diff.describe()
                if step is run.steps[0] and _recorded_without_task(run):
                    report.difference += (
                        "; the run names no task (meta.json's task is empty), so the mock desktop was rebuilt "
                        "without one and starts from another screen: record with Agent.run(..., task_id=ID) "
                        "(or meta={'env_options': {...}}) so replay can rebuild the start state")
                if on_step:
                    on_step(step, diff)
                return report
        ran = False
        for action, status in step.executed_actions:
            if status == "waited" and waits:
                assert isinstance(action, t.Wait)
                time.sleep(config.wait_s if action.seconds is None else min(action.seconds, MAX_MODEL_WAIT_S))
            elif status == "executed":
                try:
                    env.execute(action)
                except (EnvError, ActionError) as e:
                    report.errors.append(f"step {step.index + 1}: {e}")
                    report.steps_replayed += 1
                    return report
                ran = True
                report.actions_executed += 1
            elif status == "error":
                try:  # the recording saw the env refuse it; doing the same keeps the state identical
                    env.execute(action)
                except (EnvError, ActionError) as e:
                    if isinstance(e, EnvError) and e.fatal:  # e.g. the user tripped the fail-safe: stop here
                        report.errors.append(f"step {step.index + 1}: {e}")
                        report.steps_replayed += 1
                        return report
                break
        if ran and waits:
            settle(env, config)
        report.steps_replayed += 1
        if on_step:
            on_step(step, diff)
    return report


def check_replayable(run: Run, check: bool = False) -> None:
    """Raise TrajectoryError when replaying ``run`` could not reproduce it: steps whose lines were unreadable
    (their actions would be left out), or, with ``check``, recorded screenshots that cannot be compared."""
    if run.skipped_lines:
        raise TrajectoryError(f"{run.path}: {run.skipped_lines} lines of the trajectory could not be read, so "
                              f"their steps cannot be replayed (see `guiagent view` for the details)")
    if check and run.bad_screenshots:
        first = min(run.bad_screenshots)
        raise TrajectoryError(f"{run.path}: cannot check the replay: {run.bad_screenshots[first]}")


def _recorded_without_task(run: Run) -> bool:
    """A mock run whose meta.json says nothing about the task it started from."""
    env = run.meta.get("env") or {}
    options = run.meta.get("env_options") or {}
    return env.get("name") == "mock" and not run.meta.get("task") and not options.get("task")


def planned_actions(run: Run) -> list[tuple[int, t.Action]]:
    """(step index, action in screenshot pixels) for every action ``replay_actions`` would execute, in order."""
    return [(step.index, action) for step in run.steps for action, status in step.executed_actions
            if status == "executed"]


def target_warnings(run: Run, kind: str, display) -> list[str]:
    """Why replaying ``run`` on env ``kind`` with ``display`` may not do what the recording did."""
    env = run.meta.get("env") or {}
    recorded_kind = env.get("name")
    out = []
    if recorded_kind and recorded_kind != kind:
        out.append(f"the run was recorded on the {recorded_kind} env and is replayed on {kind}: its clicks were "
                   f"aimed at that screen, not this one")
    size = env.get("size")
    if size and list(size) != list(display.size_px):
        out.append(f"the recorded screen was {size[0]}x{size[1]} pixels, this one is "
                   f"{display.size_px[0]}x{display.size_px[1]}: points land elsewhere (or off screen)")
    return out


def _recorded_config(run: Run) -> AgentConfig:
    known = set(AgentConfig.__dataclass_fields__) - {"sampling"}
    recorded = {k: v for k, v in (run.meta.get("config") or {}).items() if k in known}
    try:
        return AgentConfig(**recorded)
    except Exception:  # noqa: BLE001 - a config this version cannot read: replay with defaults
        return AgentConfig()
