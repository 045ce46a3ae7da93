"""Models and a suite for the evaluation tests. Module-level classes: workers are spawned processes that unpickle
them by import (tests/ is on the workers' sys.path, as it is on the test process's)."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from agent_helpers import BoardEnv, ScriptModel, click, finished

from guiagent.agent.evaluation import CheckOutcome, Episode, EpisodeSpec, EvalModel, TaskRef, WorkerContext
from guiagent.errors import ConfigError
from guiagent.models.profiles import get_profile
from guiagent.agent.spec import LoadedModel


@dataclass(frozen=True)
class FinishAtOnceModel(EvalModel):
    """Says the task is finished at the first step, having done nothing: every task's check fails."""

    spec: str = "test:finish-at-once"
    family: str | None = "ui-tars-1.5"

    def load(self, env: Any, spec: EpisodeSpec, worker: WorkerContext) -> LoadedModel:
        return LoadedModel(ScriptModel([finished("all done")]), get_profile("ui-tars-1.5"))


@dataclass(frozen=True)
class MisbehavingModel(EvalModel):
    """The scripted model, except on ``hang`` (its first answer never comes), ``crash`` (the worker process
    exits with status 3 in the middle of the episode) and ``bug`` (the model raises an unexpected exception)."""

    spec: str = "scripted"
    hang: str = ""
    crash: str = ""
    bug: str = ""

    def load(self, env: Any, spec: EpisodeSpec, worker: WorkerContext) -> LoadedModel:
        if spec.task == self.hang:
            return LoadedModel(ScriptModel(lambda *_: time.sleep(3600)), get_profile("ui-tars-1.5"))
        if spec.task == self.crash:
            return LoadedModel(ScriptModel(lambda *_: os._exit(3)), get_profile("ui-tars-1.5"))
        if spec.task == self.bug:
            return LoadedModel(ScriptModel(_raise_bug), get_profile("ui-tars-1.5"))
        return super().load(env, spec, worker)


def _raise_bug(*_: Any) -> str:
    raise RuntimeError("a bug in the model code")


@dataclass(frozen=True)
class BrokenModel(EvalModel):
    """A model that cannot be loaded (a server that is down)."""

    spec: str = "test:broken"

    def load(self, env: Any, spec: EpisodeSpec, worker: WorkerContext) -> LoadedModel:
        raise ConnectionError("connection refused")


# ---------------------------------------------------------------- a suite plug-in


@dataclass(frozen=True)
class BoardSuite:
    """A plug-in suite on a non-mock env: task "click-N" asks for N clicks on the board; the check counts marks.
    Each worker makes its boards through one factory made once per worker (``WorkerContext.resource``); the
    check reports how many factories the worker made, so a test can see the factory was reused."""

    clicks: int = 3
    name: ClassVar[str] = "board"
    group_by: ClassVar[tuple[str, ...]] = ("size",)

    def options(self) -> dict[str, Any]:
        return {"clicks": self.clicks}

    def tasks(self, ids: Sequence[str] | None = None, where: Mapping[str, str] | None = None) -> list[TaskRef]:
        if where:
            raise ConfigError(f"the board suite has no filters, got {sorted(where)}")
        refs = [TaskRef(f"click-{n}", {"size": "small" if n < 3 else "large"}, n + 2) for n in range(1, 5)]
        return [r for r in refs if not ids or r.id in ids]

    def build(self, spec: EpisodeSpec, worker: WorkerContext) -> Episode:
        made = worker.resource("factories-made", lambda: [0])
        factory = worker.resource("board-factory", lambda: _count(made, BoardEnv))
        env = factory(width=640, height=400)
        wanted = int(spec.task.split("-")[1])

        def check() -> CheckOutcome:
            ok = len(env.marks) >= wanted
            return CheckOutcome(ok, (f"{len(env.marks)} of {wanted} marks", f"factories made: {made[0]}"),
                                score=len(env.marks) / wanted)

        return Episode(env, f"click {wanted} times", check, wanted + 2, {"size": [640, 400]}, {"wait_s": 0.0})


def _count(made: list, factory: Any) -> Any:
    made[0] += 1
    return factory


@dataclass(frozen=True)
class BoardClicker(EvalModel):
    """Clicks ``clicks`` times at new places, then says finished."""

    spec: str = "test:board-clicker"
    clicks: int = 3

    def load(self, env: Any, spec: EpisodeSpec, worker: WorkerContext) -> LoadedModel:
        answers = [click(200 + 40 * i, 200) for i in range(self.clicks)] + [finished()]
        return LoadedModel(ScriptModel(answers), get_profile("ui-tars-1.0"))
