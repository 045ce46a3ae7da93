"""``evaluate``: run a suite's episodes on worker processes (or Ray), resumably, and summarise them.

    from guiagent.agent.evaluation import evaluate
    summary = evaluate("results/scripted", suite="mock", model="scripted", workers=4)
    summary.success_rate, summary.groups["app"]["mail"].ci95
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from guiagent.agent.evaluation.episode import EpisodeOutput, EvalJob, EvalModel
from guiagent.agent.evaluation.pool import EvalError, LocalPool
from guiagent.agent.evaluation.results import EpisodeResult, ResultsDir, Summary, summarize
from guiagent.agent.evaluation.suite import EpisodeSpec, Suite, get_suite
from guiagent.errors import ConfigError

DEFAULT_EPISODE_TIMEOUT_S = 3600.0


class EvalProgress(Protocol):
    """What ``evaluate`` tells a front-end (a progress bar) while it runs."""

    def start(self, total: int, done: Sequence[EpisodeResult]) -> None:
        """The run starts: ``total`` selected episodes, of which ``done`` already have results (resumed)."""

    def episode_done(self, result: EpisodeResult) -> None:
        """One episode ended (its line is already in results.jsonl)."""


def default_workers() -> int:
    """Local workers when none are asked for: the CPUs, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))


def episode_specs(suite: Suite, *, tasks: Sequence[str] | None = None, where: Mapping[str, str] | None = None,
                  repeats: int = 1, seed: int = 0) -> list[EpisodeSpec]:
    """The selected episodes: each selected task ``repeats`` times, repeat k with seed ``seed + k``.

    Raises:
        ConfigError: unknown task ids or filters, or nothing selected.
    """
    refs = suite.tasks(list(tasks) if tasks else None, dict(where or {}))
    if not refs:
        raise ConfigError(f"no task of the {suite.name} suite matches the selection")
    return [EpisodeSpec(suite.name, ref.id, k, seed + k, dict(ref.groups), ref.max_steps)
            for ref in refs for k in range(repeats)]


def evaluate(out_dir: str | os.PathLike, *, suite: str | Suite = "mock", model: str | EvalModel = "scripted",
             family: str | None = None, tasks: Sequence[str] | None = None, where: Mapping[str, str] | None = None,
             repeats: int = 1, seed: int = 0, max_steps: int | None = None, mode: str = "computer",
             workers: int | None = None, episode_timeout_s: float | None = DEFAULT_EPISODE_TIMEOUT_S,
             kill_grace_s: float = 60.0, ray: str | None = None, ray_resources: Mapping[str, Any] | None = None,
             force: bool = False, progress: EvalProgress | None = None) -> Summary:
    """Evaluate a model on a suite; resumable. The same call again runs only the episodes not yet recorded.

    Args:
        out_dir: the results folder (eval.json, results.jsonl, summary.json, episodes/).
        suite: a registered suite name or a Suite.
        model: a model SPEC (openai:URL, hf:PATH, scripted, replay:RUN) or an EvalModel.
        family: the model family (with a SPEC string; an EvalModel carries its own).
        tasks: only these task ids; where: only tasks matching these filters (mock: app, difficulty).
        repeats: episodes per task (repeat k uses seed ``seed + k``).
        seed: the first episode seed.
        max_steps: step limit (None: each task's own, else 50).
        mode: the prompt mode.
        workers: local worker processes (None: the CPUs, at most 4); with ``ray``: most episodes at once
            (None: as many as the cluster's CPUs allow).
        episode_timeout_s: wall-clock limit of one episode (None: none). The agent stops itself at this limit
            between steps; a worker still busy ``kill_grace_s`` later is killed and the episode recorded as
            ``episode_timeout``.
        kill_grace_s: see ``episode_timeout_s``.
        ray: None: local processes; "auto" or a cluster address: Ray tasks.
        ray_resources: what each Ray episode declares (default ``{"num_cpus": 1}``; e.g. add ``num_gpus``).
        force: when the folder holds results of another configuration, move them aside and start over (else
            ConfigError).
        progress: told about the run as it goes (e.g. a progress bar).

    Returns:
        The summary of the selected episodes (also written to summary.json). After Ctrl-C the summary is written
        with ``complete: false`` and KeyboardInterrupt propagates; the folder can be resumed.

    Raises:
        ConfigError: bad arguments, unknown suite / tasks, a folder of another configuration.
        EvalError: the run could not go on (the model cannot be loaded, workers cannot start).
    """
    _check_counts(repeats=repeats, workers=workers, episode_timeout_s=episode_timeout_s)
    suite_obj = get_suite(suite) if isinstance(suite, str) else suite
    workers = _workers_for(suite_obj, workers, ray)
    eval_model = EvalModel(model, family=family) if isinstance(model, str) else model
    _preflight(eval_model)
    specs = episode_specs(suite_obj, tasks=tasks, where=where, repeats=repeats, seed=seed)
    folder = ResultsDir(out_dir)
    config = {"suite": {"name": suite_obj.name, "options": suite_obj.options()}, "model": eval_model.describe(),
              "max_steps": max_steps, "seed": seed, "mode": mode}
    run_id = folder.open(config, force=force)
    job = EvalJob(suite_obj, eval_model, str(folder.path.resolve()), run_id, max_steps, episode_timeout_s, mode)

    selected = {s.key for s in specs}
    done = {r.key: r for r in folder.results() if r.key in selected}
    todo = [s for s in specs if s.key not in done]
    if progress is not None:
        progress.start(len(specs), list(done.values()))

    def on_output(output: EpisodeOutput, spec: EpisodeSpec) -> None:
        folder.append(output.result)
        if progress is not None:
            progress.episode_done(output.result)

    def summary() -> Summary:
        # from the file, not from memory: an interrupt between a line's write and any bookkeeping cannot skew it
        recorded = {r.key: r for r in folder.results()}
        ordered = [recorded[s.key] for s in specs if s.key in recorded]
        result = summarize(ordered, group_by=suite_obj.group_by, group_order=getattr(suite_obj, "group_order", None),
                           pending=len(specs) - len(ordered), results_dir=str(folder.path))
        folder.write_summary(result)
        return result

    try:
        if todo and ray is None:
            LocalPool(job, workers or default_workers(), kill_grace_s=kill_grace_s).run(todo, on_output)
        elif todo:
            from guiagent.agent.evaluation.ray_backend import run_on_ray

            run_on_ray(job, todo, on_output, address=ray, max_in_flight=workers, resources=ray_resources,
                       kill_grace_s=kill_grace_s)
    except BaseException:
        summary()  # what was finished is summarised; the same call again resumes
        raise
    return summary()


#: More repeats than this is a typo, not a plan: each repeat is a whole episode per task.
MAX_REPEATS = 10_000


def _check_counts(*, repeats: int, workers: int | None, episode_timeout_s: float | None) -> None:
    if isinstance(repeats, bool) or not isinstance(repeats, int) or not 1 <= repeats <= MAX_REPEATS:
        raise ConfigError(f"repeats must be a whole number from 1 to {MAX_REPEATS:,}, got {repeats!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ConfigError(f"workers must be a whole number >= 1, got {workers!r}")
    if episode_timeout_s is not None and not episode_timeout_s > 0:
        raise ConfigError(f"the episode timeout must be a positive number of seconds, got {episode_timeout_s!r}")


def _workers_for(suite: Suite, workers: int | None, ray: str | None) -> int | None:
    """A suite with ``max_workers`` (one VNC endpoint per worker) caps the workers: more is a usage error."""
    limit = getattr(suite, "max_workers", None)
    if limit is None:
        return workers
    if ray is not None:
        raise ConfigError(f"the {suite.name} suite gives each worker a screen of its own ({limit} in all), which "
                          f"needs local workers: drop --ray")
    if workers is not None and workers > limit:
        raise ConfigError(f"{workers} workers but only {limit} screens (VNC endpoints): each worker needs its own; "
                          f"pass --workers {limit} or more endpoints")
    return workers or min(default_workers(), limit)


def _preflight(model: EvalModel) -> None:
    """Catch a bad spec, a missing extra, family, config file or override here, once, rather than in every
    worker."""
    if type(model).load is EvalModel.load:  # a subclass that builds its model some other way may name anything
        from guiagent.agent.spec import check_spec

        check_spec(model.spec)
    if model.family or model.config or model.overrides:
        from guiagent.models.config import resolve_profile

        resolve_profile(model.family, config=model.config, overrides=dict(model.overrides) or None,
                        default="ui-tars-1.5")


__all__ = ["DEFAULT_EPISODE_TIMEOUT_S", "EvalError", "EvalProgress", "default_workers", "episode_specs", "evaluate"]
