"""One episode, inside a worker: build the suite's environment, load the model, run the agent, check the task.

Success is decided here, by running the task's own check on the environment's end state, whatever the model
claimed. Everything an episode can do wrong becomes its ``EpisodeResult`` (setup_error, error, the loop's
outcomes); only a model that cannot be loaded at all is a run-level failure (``EpisodeOutput.fatal``), because
every other episode would fail the same way and a later run should not skip them as done.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guiagent._jsonio import loads, read_text
from guiagent.agent.evaluation.results import CONFIG_FILE, CONFIG_LIMIT, EPISODES_DIR, EpisodeResult, failure_kind
from guiagent.agent.evaluation.suite import CheckOutcome, EpisodeSpec, Suite, WorkerContext

#: model options that change how requests are sent, not what the model answers (left out of the run's identity)
_TRANSPORT_OPTIONS = ("timeout", "retries", "backoff_base", "backoff_max", "api_key")
#: spec prefixes whose models hold no per-episode state: loaded once per worker and reused
_REUSABLE_SPECS = ("openai:", "hf:")


@dataclass(frozen=True)
class EvalModel:
    """The model an evaluation runs, as data a worker can rebuild it from.

    spec        a model SPEC (openai:URL, hf:PATH, scripted, replay:RUN)
    family      the profile (None: guessed, as ``guiagent run`` does)
    model_name  openai: the served model name (None: asked from the server)
    config      a TOML/JSON file of profile overrides; overrides: more overrides, applied last
    options     backend options (image_format, jpeg_quality, timeout, retries, device, dtype, ...)

    Subclass and override ``load`` to evaluate a model built some other way (tests do).
    """

    spec: str
    family: str | None = None
    model_name: str | None = None
    config: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """What identifies the model in eval.json (no API key; the config file by content as well as path)."""
        out: dict[str, Any] = {"spec": self.spec, "family": self.family}
        if self.model_name:
            out["model_name"] = self.model_name
        if self.config:
            out["config"] = {"path": str(self.config), "sha256": _file_sha256(self.config)}
        if self.overrides:
            out["overrides"] = dict(self.overrides)
        options = {k: v for k, v in self.options.items() if k not in _TRANSPORT_OPTIONS}
        if options:
            out["options"] = options
        return out

    def load(self, env: Any, spec: EpisodeSpec, worker: WorkerContext) -> Any:
        """The model and profile for one episode (a ``LoadedModel``): served and local checkpoints are loaded once
        per worker; the scripted model (which reads the env) and replayed runs are built for each episode."""
        if self.spec.startswith(_REUSABLE_SPECS):
            # one model per job, so the spec names it within a worker
            return worker.resource(("model", self.spec), lambda: self._load(None))
        return self._load(env)

    def _load(self, env: Any) -> Any:
        # The one place an evaluation builds a model from its SPEC.
        from guiagent.agent.spec import load_model

        return load_model(self.spec, family=self.family, model_name=self.model_name, env=env, config=self.config,
                          overrides=dict(self.overrides) or None, **dict(self.options))


def _file_sha256(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


@dataclass(frozen=True)
class EvalJob:
    """What every worker needs besides the episode: the suite, the model, the results folder and the limits.

    ``run_id`` identifies the results folder (it is in its eval.json): a worker that sees the same id writes the
    trajectory there directly; one that does not (a Ray node without the shared disk) sends the files back.
    """

    suite: Suite
    model: EvalModel
    results_dir: str
    run_id: str
    max_steps: int | None = None
    episode_timeout_s: float | None = None
    mode: str = "computer"


@dataclass
class EpisodeOutput:
    """What a worker sends back: the result line, and the trajectory's files when it could not write them in
    place (relative path -> bytes)."""

    result: EpisodeResult
    files: dict[str, bytes] | None = None
    #: set when the model could not be loaded (the run stops; nothing is recorded for this episode)
    fatal: str | None = None


def results_dir_is_shared(job: EvalJob) -> bool:
    """Whether this process sees the results folder the evaluation writes to."""
    try:
        folder = Path(job.results_dir)
        data = loads(read_text(folder / CONFIG_FILE, limit=CONFIG_LIMIT, inside=folder))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("run_id") == job.run_id


def run_episode(job: EvalJob, spec: EpisodeSpec, worker: WorkerContext, *, ship: bool = False) -> EpisodeOutput:
    """Run one episode to its end and judge it.

    Args:
        job: the evaluation's settings.
        spec: the episode.
        worker: this worker's context (its id and reusable resources).
        ship: write the trajectory to a temporary folder and return its files instead of writing it under
            ``job.results_dir`` (for workers on machines without the results folder).

    Returns:
        The episode's result (never raises for a failure of the episode itself).
    """
    started = time.time()
    t0 = time.perf_counter()
    base = EpisodeResult(suite=spec.suite, task=spec.task, repeat=spec.repeat, seed=spec.seed, outcome="error",
                         success=False, reason="", groups=dict(spec.groups), model_spec=job.model.spec,
                         family=job.model.family, worker=worker.worker_id, started=started)
    parent = Path(tempfile.mkdtemp(prefix="guiagent-episode-")) if ship else Path(job.results_dir) / EPISODES_DIR
    try:
        if not ship:
            clear_episode_folder(parent, spec)
        try:
            episode = job.suite.build(spec, worker)
        except Exception as e:  # noqa: BLE001 - a suite that cannot set up this episode costs the episode
            return EpisodeOutput(_finish(base, "setup_error", f"the suite could not set up the episode: "
                                                              f"{_describe(e)}", None, t0, {}))
        try:
            return _run(job, spec, worker, episode, base, parent, t0, ship)
        except Exception as e:  # noqa: BLE001 - a bug around the loop costs this episode, not the worker
            return EpisodeOutput(_finish(base, "error", f"the episode failed: {_describe(e)}", None, t0, {}))
        finally:
            episode.release()
    finally:
        if ship:
            shutil.rmtree(parent, ignore_errors=True)


def clear_episode_folder(parent: Path, spec: EpisodeSpec) -> None:
    """Remove what an unrecorded earlier attempt at this episode left: its folder, or the hidden staging folder
    of a run folder whose creation was cut short."""
    shutil.rmtree(parent / spec.folder_name, ignore_errors=True)
    for staging in parent.glob(f".{spec.folder_name}.*.partial"):
        shutil.rmtree(staging, ignore_errors=True)


def _run(job: EvalJob, spec: EpisodeSpec, worker: WorkerContext, episode: Any, base: EpisodeResult,
         parent: Path, t0: float, ship: bool) -> EpisodeOutput:
    from guiagent.agent.config import AgentConfig
    from guiagent.agent.loop import Agent

    timings = {"setup_s": time.perf_counter() - t0}
    try:
        loaded = job.model.load(episode.env, spec, worker)
    except Exception as e:  # noqa: BLE001 - reported once, as the run's error
        return EpisodeOutput(base, fatal=f"could not load the model {job.model.spec!r}: {_describe(e)}")
    base.model, base.family = getattr(loaded.model, "name", None), loaded.profile.name
    max_steps = job.max_steps or spec.max_steps or episode.max_steps or 50
    config = AgentConfig(**{**dict(episode.agent_options), "max_steps": max_steps,
                            "timeout_s": job.episode_timeout_s, "mode": job.mode})
    verdict: dict[str, CheckOutcome] = {}

    def evaluate() -> dict[str, Any]:
        verdict["check"] = episode.check()
        return verdict["check"].to_json()

    meta = {"env_options": dict(episode.env_options), "model_spec": job.model.spec,
            "eval": {**dict(episode.info), "suite": spec.suite, "task": spec.task, "repeat": spec.repeat,
                     "seed": spec.seed}}
    t1 = time.perf_counter()
    run_dir = None
    try:
        run = Agent(episode.env, loaded.model, loaded.profile, config).run(
            episode.instruction, task_id=spec.task, out_dir=parent, run_name=spec.folder_name, meta=meta,
            evaluate=evaluate)
        outcome, reason, steps, run_dir = run.outcome, run.reason, len(run.steps), run.run_dir
    except Exception as e:  # noqa: BLE001 - the loop recorded the run; the episode ends as an error
        outcome, reason, steps = "error", f"the agent crashed: {_describe(e)}", steps_recorded(parent, spec)
        _save_traceback(parent / spec.folder_name)
    timings["run_s"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    if "check" not in verdict:  # the loop stopped before it could judge the end state: judge it here
        try:
            evaluate()
        except Exception as e:  # noqa: BLE001 - a check that crashes is a failed check
            verdict["check"] = CheckOutcome(False, (f"the task check crashed: {_describe(e)}",))
    timings["check_s"] = time.perf_counter() - t2
    folder = run_dir or (parent / spec.folder_name if (parent / spec.folder_name).is_dir() else None)
    result = _finish(base, outcome, reason, verdict["check"], t0, timings, steps)
    files = None
    if folder is not None:
        result.trajectory = f"{EPISODES_DIR}/{folder.name}"
        if ship:
            files = {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir()) if p.is_file()}
    return EpisodeOutput(result, files)


def _save_traceback(folder: Path) -> None:
    """Keep the traceback of a crashed episode next to its trajectory (not on the terminal, under the bar)."""
    if folder.is_dir():
        try:
            (folder / "error.txt").write_text(traceback.format_exc(), encoding="utf-8")
        except OSError:
            pass


def _finish(base: EpisodeResult, outcome: str, reason: str, check: CheckOutcome | None, t0: float,
            timings: dict[str, float], steps: int = 0) -> EpisodeResult:
    base.outcome, base.reason, base.steps = outcome, reason, steps
    base.success = bool(check and check.success)
    base.check = check.to_json() if check else None
    base.failure = failure_kind(outcome, base.success)
    base.timings = {**{k: round(v, 4) for k, v in timings.items()}, "total_s": round(time.perf_counter() - t0, 4)}
    base.ended = time.time()
    return base


def steps_recorded(parent: Path, spec: EpisodeSpec) -> int:
    """How many steps an episode's trajectory holds (for episodes that ended without a RunResult)."""
    path = parent / spec.folder_name / "trajectory.jsonl"
    try:
        return path.read_bytes().count(b"\n")
    except OSError:
        return 0


def _describe(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"
