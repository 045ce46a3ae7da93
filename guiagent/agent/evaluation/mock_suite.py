"""The mock desktop's task suite as an evaluation suite (``guiagent eval --suite mock``).

Tasks come from the built-in suite (``guiagent tasks`` lists them); ``tasks_dir`` points at a folder of task files
in the same format instead. Success is the task's own declarative check on the desktop's end state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from guiagent.agent.evaluation.suite import (CheckOutcome, Episode, EpisodeSpec, TaskRef, WorkerContext,
                                             select_ids)
from guiagent.errors import ConfigError


@dataclass(frozen=True)
class MockSuite:
    """The mock desktop's tasks, grouped by main app and difficulty.

    Args:
        tasks_dir: a folder of ``*.json`` task files to use instead of the built-in suite (None: built-in). This
            is where a ``--tasks-dir`` flag plugs in.
        width, height, scale: the mock desktop's size in points and HiDPI scale (None: the desktop's defaults).
    """

    tasks_dir: str | None = None
    width: int | None = None
    height: int | None = None
    scale: float | None = None

    name: ClassVar[str] = "mock"
    group_by: ClassVar[tuple[str, ...]] = ("app", "difficulty")
    #: --app and --difficulty; ``app`` matches every app a task uses, as ``guiagent tasks --app`` does
    filters: ClassVar[tuple[str, ...]] = ("app", "difficulty")

    def options(self) -> dict[str, Any]:
        """The settings that define the suite (only those that differ from the defaults)."""
        return {k: v for k, v in {"tasks_dir": self.tasks_dir, "width": self.width, "height": self.height,
                                  "scale": self.scale}.items() if v is not None}

    @property
    def group_order(self) -> dict[str, tuple[str, ...]]:
        """How the summary orders the labels of each group (the suite's own order, not alphabetical)."""
        from guiagent.envs.mock.tasks import APPS, DIFFICULTIES

        return {"app": APPS, "difficulty": DIFFICULTIES}

    def tasks(self, ids: Sequence[str] | None = None, where: Mapping[str, str] | None = None) -> list[TaskRef]:
        from guiagent.envs.mock.tasks import APPS, DIFFICULTIES

        where = dict(where or {})
        unknown = set(where) - set(self.filters)
        if unknown:
            raise ConfigError(f"the mock suite has no filter {sorted(unknown)}; it filters by: "
                              f"{', '.join(self.filters)}")
        for key, choices in (("app", APPS), ("difficulty", DIFFICULTIES)):
            if key in where and where[key] not in choices:
                raise ConfigError(f"unknown {key} {where[key]!r}; choose one of: {', '.join(choices)}")
        tasks = _load_tasks(self.tasks_dir)
        if ids:
            tasks, missing = select_ids(tasks, ids)
            if missing:
                _get_task(missing[0], self.tasks_dir)  # raises ConfigError naming close matches
        if "app" in where:
            tasks = [t for t in tasks if where["app"] in t.apps]
        if "difficulty" in where:
            tasks = [t for t in tasks if t.difficulty == where["difficulty"]]
        return [TaskRef(t.id, {"app": t.app, "difficulty": t.difficulty}, t.max_steps) for t in tasks]

    def prepare(self, worker: WorkerContext) -> None:
        """Load the tasks, and build and drop one desktop (fonts, caches), once per worker."""
        from guiagent.agent.factory import make_env

        _load_tasks(self.tasks_dir)
        make_env("mock").close()

    def build(self, spec: EpisodeSpec, worker: WorkerContext) -> Episode:
        task = _get_task(spec.task, self.tasks_dir)
        options = {k: v for k, v in {"width": self.width, "height": self.height, "scale": self.scale,
                                     "seed": spec.seed}.items() if v is not None}
        env = _make_desktop(task, options, self.tasks_dir)

        def check() -> CheckOutcome:
            result = task.check(env)
            return CheckOutcome(bool(result.success), tuple(str(r) for r in result.reasons))

        env_options = {**options, "task": task.id}
        if self.tasks_dir is not None:
            env_options["tasks_dir"] = self.tasks_dir
        # Waiting changes nothing on the mock desktop (its clock only moves with actions): don't sleep for it.
        return Episode(env, task.instruction, check, task.max_steps, env_options, {"wait_s": 0.0})


# The only places that touch the mock task registry and the mock desktop's constructor.

def _load_tasks(tasks_dir: str | None) -> list[Any]:
    from guiagent.envs.mock.tasks import load_suite

    return load_suite(tasks_dir)


def _get_task(task_id: str, tasks_dir: str | None) -> Any:
    from guiagent.envs.mock.tasks import get_task

    return get_task(task_id, tasks_dir)


def _make_desktop(task: Any, options: Mapping[str, Any], tasks_dir: str | None) -> Any:
    if tasks_dir is None:
        from guiagent.agent.factory import make_env

        return make_env("mock", task=task.id, **options)
    from guiagent.envs.mock import MockDesktop

    return MockDesktop(task=task, **options)
