"""Run the agent on a mock desktop task in one call, for tests: ``run_task`` returns an ``AgentRun``.

    run = run_task("rename-file")                                   # the scripted model solves it
    run = run_task("rename-file", ["Thought: ...\\nAction: ..."])   # a canned model
    run = run_task("my-task", "openai:http://127.0.0.1:8000/v1", tasks_dir="tasks", family="ui-tars-1.5")
    assert run.check.success, run.check.reasons
    print(run.outcome, run.run_dir)
    run.close()                                                     # or: with run_task(...) as run:

The run goes through the same loop, grammar, coordinate maps, recording and task check as ``guiagent run``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from guiagent.agent.config import AgentConfig
from guiagent.agent.factory import task_evaluator
from guiagent.agent.hooks import Hooks
from guiagent.agent.loop import Agent, RunResult
from guiagent.errors import ConfigError
from guiagent.models.base import Model
from guiagent.models.profiles import Profile
from guiagent.testing.models import CannedModel

#: the family of canned answers and of Model objects without a profile of their own
DEFAULT_FAMILY = "ui-tars-1.5"
#: what ``run_task`` accepts as a model: a SPEC string, a Model, a list of answers, or an answer function
ModelLike = str | Model | Sequence[str] | Callable[..., str]


@dataclass
class AgentRun:
    """The result of ``run_task``: the loop's ``RunResult`` with the env, task, model and profile it ran with.

    The env stays open so tests can query it (``run.env.find(role=..., name=...)``, ``run.env.state()``);
    ``close()`` (or the ``with`` block, or the ``run_agent`` fixture's teardown) closes it.
    """

    result: RunResult
    env: Any
    task: Any
    model: Model
    profile: Profile
    #: the screen when the run ended (after the last action), in screenshot pixels
    final_screenshot: Image.Image | None = None
    _closed: bool = field(default=False, repr=False)

    @property
    def outcome(self) -> str:
        """How the run ended: success, call_user, step_limit, stuck, parse_error, model_error ..."""
        return self.result.outcome

    @property
    def reason(self) -> str:
        """Why the run ended, in words."""
        return self.result.reason

    @property
    def answer(self) -> str | None:
        """The answer the model gave with ``finished(content=...)``, if any."""
        return self.result.answer

    @property
    def success(self) -> bool:
        """The run succeeded (``RunResult.success``: with a task, its check decides)."""
        return self.result.success

    @property
    def steps(self) -> list:
        """The run's step records, in order."""
        return self.result.steps

    @property
    def run_dir(self) -> Path | None:
        """The run folder (None when run with ``out_dir=None``)."""
        return self.result.run_dir

    @property
    def check(self) -> Any:
        """The task's check on the desktop as it is now (a ``CheckResult``: ``success`` and ``reasons``)."""
        if self.task is None:
            raise ConfigError("this run has no task, so there is no check; pass a task id to run_task")
        return self.task.check(self.env)

    @property
    def actions(self) -> list[dict[str, Any]]:
        """Every action the model proposed, in order, in the JSON form (screenshot pixels)."""
        return [a for step in self.result.steps for a in (step.actions or [])]

    def close(self) -> None:
        """Close the environment (safe to call twice)."""
        if not self._closed:
            self._closed = True
            self.env.close()

    def __enter__(self) -> AgentRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_task(task: Any = None, model: ModelLike = "scripted", *, instruction: str | None = None,
             family: str | None = None, tasks_dir: str | os.PathLike | None = None, env: Any = None,
             out_dir: str | os.PathLike | None = "runs", max_steps: int | None = None,
             config: AgentConfig | None = None, hooks: Sequence[Hooks] = (), width: int = 1280,
             height: int = 800, scale: float = 1.0, **model_options: Any) -> AgentRun:
    """Run the agent on a mock desktop task and return the result with its run folder.

    Args:
        task: a task id (from the built-in suite, or from ``tasks_dir``), a ``Task``, or None (then give
            ``env`` or ``instruction``).
        model: ``"scripted"`` (the task's reference solution written as the family's text), any model SPEC
            (``"openai:URL"``, ``"hf:PATH"``, ``"replay:RUN"``), a ``Model``, a list of answer texts or a function
            (call number, messages) -> text (both wrapped in a ``CannedModel``).
        instruction: what to ask (default: the task's instruction).
        family: the model family (profile) whose prompt, grammar and coordinates are used (default: the
            model object's own ``profile`` when it has one, as the scripted model does, else ui-tars-1.5; for a
            SPEC: guessed from the served name, else ui-tars-1.5 for ``scripted``).
        tasks_dir: a folder of your own task files (``*.json``) to take ``task`` from.
        env: an environment to use instead of a fresh mock desktop (it is not reset).
        out_dir: parent folder of the run folder; None records nothing.
        max_steps: step limit (default: the task's, else 50). ``config`` replaces the whole AgentConfig.
        hooks: Hooks to watch or veto actions.
        width, height, scale: the mock desktop's size in points and HiDPI scale.
        model_options: backend options for a SPEC (e.g. ``timeout=5``, ``retries=0`` for ``openai:``).

    Returns:
        An ``AgentRun`` whose env is still open (close it, or use ``with``).

    Raises:
        ConfigError: an unknown task, family or spec, or a bad task file.
    """
    from guiagent.envs.mock import MockDesktop

    env_options: dict[str, Any] = {"width": width, "height": height, "scale": scale, "seed": 0}
    if task is not None and not isinstance(task, str):  # a Task object
        env_options["task"] = task.id
        env_options.update(_tasks_dir_option(task))
    elif task is not None:
        from guiagent.agent.factory import get_mock_task

        if tasks_dir is not None:
            env_options["tasks_dir"] = str(Path(tasks_dir).expanduser().resolve())
        env_options["task"] = str(task)
        task = get_mock_task(str(task), env_options.get("tasks_dir"))
    if env is None:
        env = MockDesktop(width, height, scale, task=task)
        recorded_options: dict[str, Any] | None = env_options
    else:
        task = task if task is not None else getattr(env, "task", None)
        recorded_options = _given_env_options(env, task)
    try:
        loaded_model, profile = _model_and_profile(model, family, env, model_options)
        instruction = instruction or getattr(task, "instruction", None)
        if not instruction:
            raise ConfigError("run_task needs a task or an instruction")
        if config is None:
            config = AgentConfig(max_steps=max_steps or getattr(task, "max_steps", None) or 50, wait_s=0.0)
        meta: dict[str, Any] = {"model_spec": model if isinstance(model, str) else getattr(loaded_model, "name", "")}
        if recorded_options is not None:
            meta["env_options"] = recorded_options
        agent = Agent(env, loaded_model, profile, config, hooks)
        result = agent.run(instruction, task_id=getattr(task, "id", None),
                           out_dir=None if out_dir is None else Path(out_dir), meta=meta,
                           evaluate=task_evaluator(env) if task is not None else None)
        final = env.observe().screenshot.copy()
    except BaseException:
        env.close()
        raise
    return AgentRun(result, env, task, loaded_model, profile, final)


def _tasks_dir_option(task: Any) -> dict[str, str]:
    """``{"tasks_dir": folder}`` for a task loaded from a file of the user's (replay needs the folder), else {}."""
    from guiagent.envs.mock.tasks import load_suite

    if any(t is task for t in load_suite()) or not getattr(task, "source", ""):
        return {}
    return {"tasks_dir": str(Path(task.source).resolve().parent)}


def _given_env_options(env: Any, task: Any) -> dict[str, Any] | None:
    """What rebuilds a mock desktop the caller made for a task (None for other envs: replay then reads
    meta.json's env section)."""
    from guiagent.envs.mock import MockDesktop

    if not isinstance(env, MockDesktop) or task is None:
        return None
    return {"width": env.width, "height": env.height, "scale": env.scale, "seed": env.seed, "task": task.id,
            **_tasks_dir_option(task)}


def _model_and_profile(model: ModelLike, family: str | None, env: Any, options: dict[str, Any]
                       ) -> tuple[Model, Profile]:
    from guiagent.models.profiles import get_profile
    from guiagent.agent.spec import load_model

    if isinstance(model, str):
        loaded = load_model(model, family=family, env=env, **options)
        return loaded.model, loaded.profile
    if options:
        raise ConfigError(f"model options {sorted(options)} apply to a model SPEC string only")
    if callable(getattr(model, "complete", None)):
        own = getattr(model, "profile", None)
        if family is None and isinstance(own, Profile):
            return model, own  # type: ignore[return-value]
        return model, get_profile(family or DEFAULT_FAMILY)  # type: ignore[return-value]
    return CannedModel(model), get_profile(family or DEFAULT_FAMILY)  # type: ignore[arg-type]
