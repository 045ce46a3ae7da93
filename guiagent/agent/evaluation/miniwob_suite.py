"""MiniWoB++ as an evaluation suite (``guiagent eval --suite miniwob``), scored by MiniWoB's own reward.

Each worker starts one headless Chromium (``MiniWoBBrowser``, in ``prepare``) and runs all its episodes in it,
switching task pages as needed. An episode is one MiniWoB episode of a task with the episode's seed; the
instruction is MiniWoB's utterance; success is MiniWoB's verdict (``raw_reward > 0``) and the result's ``score``
is MiniWoB's time-scaled reward. ``--model scripted`` runs the DOM-reading oracle (``envs/miniwob/oracle.py``).
Without ``--tasks``, the oracle's tasks are selected; ``--tasks`` takes any MiniWoB task name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from guiagent.agent.evaluation.suite import CheckOutcome, Episode, EpisodeSpec, TaskRef, WorkerContext
from guiagent.errors import ConfigError

#: steps per episode unless --max-steps says otherwise (MiniWoB's own timer ends episodes after 10 s anyway)
DEFAULT_MAX_STEPS = 10


@dataclass(frozen=True)
class MiniWoBSuite:
    """MiniWoB++ tasks in headless Chromium.

    Args:
        device_scale: the browser's device pixel ratio (2: screenshots at twice the CSS size, as on HiDPI).
    """

    device_scale: float = 1.0

    name: ClassVar[str] = "miniwob"
    group_by: ClassVar[tuple[str, ...]] = ("task",)

    def options(self) -> dict[str, Any]:
        return {} if self.device_scale == 1.0 else {"device_scale": self.device_scale}

    def tasks(self, ids: Sequence[str] | None = None, where: Mapping[str, str] | None = None) -> list[TaskRef]:
        from guiagent.envs.miniwob.env import check_task_name
        from guiagent.envs.miniwob.tasks import ORACLE_TASKS

        if where:
            raise ConfigError(f"the miniwob suite has no filter {sorted(where)}; select tasks with --tasks "
                              f"(MiniWoB task names, e.g. click-button,enter-text)")
        names = list(dict.fromkeys(ids)) if ids else list(ORACLE_TASKS)
        for name in names:
            check_task_name(name)
        return [TaskRef(n, {"task": n}, DEFAULT_MAX_STEPS) for n in names]

    def prepare(self, worker: WorkerContext) -> None:
        """Start this worker's browser (its start-up stays out of the episodes' timings)."""
        self._browser(worker, None)

    def build(self, spec: EpisodeSpec, worker: WorkerContext) -> Episode:
        from guiagent.envs.miniwob import MiniWoBEnv

        env = MiniWoBEnv(spec.task, browser=self._browser(worker, spec.task))
        env.reset(seed=spec.seed)

        def check() -> CheckOutcome:
            result = env.result()
            if not result.done:
                return CheckOutcome(False, ("MiniWoB did not end the episode (the task was not completed)",), 0.0)
            why = f"MiniWoB reward {result.reward:.3f} (raw {result.raw_reward:.3f})"
            if result.reason:
                why += f": {result.reason}"
            return CheckOutcome(result.success, (why,), result.reward)

        options = {"task": spec.task, "seed": spec.seed, **self.options()}
        # MiniWoB's timer runs in real time: a wait() without a duration waits briefly.
        return Episode(env, env.utterance, check, DEFAULT_MAX_STEPS, options, {"wait_s": 1.0})

    def _browser(self, worker: WorkerContext, task: str | None) -> Any:
        from guiagent.envs.miniwob import MiniWoBBrowser
        from guiagent.envs.miniwob.tasks import ORACLE_TASKS

        key = ("miniwob-browser", self.device_scale)
        browser = worker.resource(key, lambda: MiniWoBBrowser(task or ORACLE_TASKS[0], self.device_scale),
                                  lambda b: b.close())
        if browser.closed or getattr(browser.instance, "died", False):  # a crashed browser: start another
            worker._resources.pop(key, None)
            browser = worker.resource(key, lambda: MiniWoBBrowser(task or ORACLE_TASKS[0], self.device_scale),
                                      lambda b: b.close())
        return browser
