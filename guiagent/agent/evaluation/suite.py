"""Evaluation suites: which episodes an evaluation runs, and how one episode is set up and judged.

A suite is a small picklable object (its class defined at module level, its fields plain data) with two halves:

- in the parent process, ``tasks(ids, where)`` lists the tasks to run (``TaskRef``: id, group labels such as app
  and difficulty, step limit); the evaluator turns them into ``EpisodeSpec`` (one per task and repeat);
- inside a worker process (a local worker or a Ray task, possibly on another machine), ``build(spec, worker)``
  makes the ``Episode``: a fresh environment in its initial state, the instruction, and the success check run on
  the environment's end state.

``WorkerContext.resource`` keeps things a worker should start once and reuse across its episodes (a sandboxed
desktop, a browser, a loaded checkpoint), and closes them when the worker ends: this is how a suite gives each
worker its own environment factory.

Suites are found by name in a registry (``register_suite`` / ``get_suite``); the mock desktop's is built in.
"""

from __future__ import annotations

import difflib
import importlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from guiagent.envs.base import Env
from guiagent.errors import ConfigError

T = TypeVar("T")


@dataclass(frozen=True)
class TaskRef:
    """One task of a suite, as the parent process sees it (no environment yet).

    ``groups`` holds the labels the summary breaks success down by, e.g. ``{"app": "files", "difficulty": "easy"}``.
    """

    id: str
    groups: Mapping[str, str] = field(default_factory=dict)
    max_steps: int | None = None


@dataclass(frozen=True)
class EpisodeSpec:
    """One episode to run: a task of a suite, a repeat index and its seed. Plain data, sent to workers."""

    suite: str
    task: str
    repeat: int = 0
    seed: int = 0
    groups: Mapping[str, str] = field(default_factory=dict)
    max_steps: int | None = None

    @property
    def key(self) -> str:
        """What identifies the episode in results.jsonl (resume skips the keys already there)."""
        return f"{self.suite}/{self.task}/{self.repeat}"

    @property
    def folder_name(self) -> str:
        """The name of the episode's trajectory folder under ``episodes/``."""
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", self.task).strip("-.") or "task"
        return f"{slug}-r{self.repeat}"


@dataclass(frozen=True)
class CheckOutcome:
    """The verdict of a task's own check on the end state. ``score`` is for suites that grade (MiniWoB's
    reward); ``success`` is what the success rate counts."""

    success: bool
    reasons: tuple[str, ...] = ()
    score: float | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"success": self.success, "reasons": list(self.reasons)}
        if self.score is not None:
            out["score"] = self.score
        return out


@dataclass
class Episode:
    """One episode, built inside the worker by ``Suite.build``.

    env            the environment, already in the task's initial state
    instruction    what the agent is told
    check          judges the environment's current state; called once when the agent stops
    max_steps      the task's step limit (the evaluation's --max-steps overrides it)
    env_options    recorded in meta.json as ``env_options``, so ``guiagent replay`` can rebuild the environment
    agent_options  AgentConfig fields the suite sets for its envs (e.g. ``wait_s=0`` where waiting changes nothing)
    close          releases the episode's resources (default: ``env.close()``)
    info           facts about where the episode ran (e.g. ``{"screen": ":231"}``), recorded in meta.json's ``eval``
    """

    env: Env
    instruction: str
    check: Callable[[], CheckOutcome]
    max_steps: int | None = None
    env_options: Mapping[str, Any] = field(default_factory=dict)
    agent_options: Mapping[str, Any] = field(default_factory=dict)
    close: Callable[[], None] | None = None
    info: Mapping[str, Any] = field(default_factory=dict)

    def release(self) -> None:
        """Close the episode's environment (errors while closing are not the episode's result)."""
        try:
            (self.close or self.env.close)()
        except Exception:  # noqa: BLE001 - a failing close must not change the recorded outcome
            pass


class WorkerContext:
    """What lives as long as one worker process: its id, and the resources suites and models reuse between
    episodes. ``close`` (called when the worker ends) closes the resources in reverse order of creation.

    ``slot`` is the worker's place among the workers running at once (0 .. N-1; a worker that replaces a lost one
    takes its slot): per-worker resources that exist N times, such as VNC endpoint i, are picked by it."""

    def __init__(self, worker_id: str, slot: int = 0):
        self.worker_id = worker_id
        self.slot = slot
        self._resources: dict[Any, Any] = {}
        self._closers: list[tuple[Any, Callable[[Any], None]]] = []

    def resource(self, key: Any, create: Callable[[], T], close: Callable[[T], None] | None = None) -> T:
        """The worker's resource called ``key``, created by ``create()`` on first use.

        Args:
            key: any hashable name, e.g. ``("xvfb", display_size)``.
            create: builds the resource (called at most once per worker and key).
            close: releases it when the worker ends (optional).

        Returns:
            The resource.
        """
        if key not in self._resources:
            value = create()
            self._resources[key] = value
            if close is not None:
                self._closers.append((value, close))
        return self._resources[key]

    def close(self) -> None:
        """Close every resource (a failing close does not stop the others). Safe to call twice."""
        closers, self._closers = self._closers, []
        self._resources.clear()
        for value, close in reversed(closers):
            try:
                close(value)
            except Exception:  # noqa: BLE001 - best effort at worker exit
                pass


@runtime_checkable
class Suite(Protocol):
    """The plug-in interface of an evaluation suite (see the module docstring)."""

    #: the name results.jsonl records and ``--suite`` selects
    name: str
    #: the ``TaskRef.groups`` keys the summary breaks success down by, in order
    group_by: tuple[str, ...]

    def options(self) -> dict[str, Any]:
        """The JSON-able settings that define the suite (part of the run's configuration: a resumed run with
        different options is refused)."""
        ...

    def tasks(self, ids: Sequence[str] | None = None, where: Mapping[str, str] | None = None) -> list[TaskRef]:
        """The selected tasks, in a stable order.

        Args:
            ids: only these task ids (ConfigError naming close matches for unknown ones).
            where: only tasks matching these filters, e.g. ``{"app": "mail"}`` (ConfigError for a filter the
                suite does not know).
        """
        ...

    def build(self, spec: EpisodeSpec, worker: WorkerContext) -> Episode:
        """Set up one episode inside a worker: a fresh environment in the task's initial state and its check."""
        ...

    # Optional: ``prepare(worker)``, called once when a worker starts, before its first episode (imports, task
    # files, a browser to start): its cost then stays out of the episodes' timings.


def select_ids(tasks: Sequence[T], ids: Sequence[str]) -> tuple[list[T], list[str]]:
    """The tasks (anything with an ``id``) that ``ids`` name, in the order given and each once, and the ids that
    name none (the suite says what it has, in its own words).

    Args:
        tasks: the suite's tasks.
        ids: the ids asked for.

    Returns:
        ``(selected, unknown)``.
    """
    by_id = {t.id: t for t in tasks}  # type: ignore[attr-defined]
    unknown = [i for i in ids if i not in by_id]
    return [by_id[i] for i in dict.fromkeys(ids) if i in by_id], unknown


def prepare_worker(suite: Suite, worker: WorkerContext) -> None:
    """Call the suite's optional ``prepare(worker)`` hook, and import the agent loop, once per worker."""
    import guiagent.agent.loop  # noqa: F401 - loaded before the first episode, not during it

    prepare = getattr(suite, "prepare", None)
    if callable(prepare):
        prepare(worker)


# ---------------------------------------------------------------- registry

#: suite name -> factory (a callable taking the suite's options, or "module:attribute" imported on first use)
_SUITES: dict[str, Callable[..., Suite] | str] = {
    "mock": "guiagent.agent.evaluation.mock_suite:MockSuite",
    "miniwob": "guiagent.agent.evaluation.miniwob_suite:MiniWoBSuite",
    "desktop": "guiagent.agent.evaluation.desktop_suite:DesktopSuite",
}


def register_suite(name: str, factory: Callable[..., Suite] | str) -> None:
    """Make ``get_suite(name, **options)`` (and ``guiagent eval --suite name``) build suites with ``factory``.

    Args:
        name: the suite's name.
        factory: a callable taking the suite's options as keyword arguments, or its "module:attribute" path
            (imported on first use, so registering costs nothing).
    """
    _SUITES[name] = factory


def suite_names() -> list[str]:
    """The registered suite names."""
    return sorted(_SUITES)


def get_suite(name: str, **options: Any) -> Suite:
    """Build the suite called ``name`` with ``options``.

    Raises:
        ConfigError: the name is unknown (naming the registered ones), or the suite refuses the options.
    """
    factory = _SUITES.get(name)
    if factory is None:
        close = difflib.get_close_matches(name, list(_SUITES), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"unknown suite {name!r}{hint} (registered suites: {', '.join(suite_names())})")
    if isinstance(factory, str):
        module, _, attr = factory.partition(":")
        try:
            factory = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as e:
            raise ConfigError(f"suite {name!r} cannot be loaded from {module}:{attr}: {e}") from e
    try:
        return factory(**options)
    except TypeError as e:
        raise ConfigError(f"suite {name!r} does not take these options {sorted(options)}: {e}") from e
