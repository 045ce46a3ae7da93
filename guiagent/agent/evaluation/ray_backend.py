"""Episodes as Ray tasks: the same ``run_episode`` as the local workers, scheduled by Ray on a cluster.

Each episode is one Ray task with its resources declared (1 CPU by default; add GPUs for in-process checkpoints),
no retries (a crashed episode is recorded, not run twice), and at most ``max_in_flight`` running at once. Results
stream back to the parent, which appends them to results.jsonl as they end. A worker that shares the results
folder (same machine or a shared disk) writes the trajectory there; one that does not sends its files back.

Ray reuses its worker processes between tasks, so ``WorkerContext`` resources (a started desktop, a loaded
checkpoint) live as long as the Ray worker and are closed when it exits.
"""

from __future__ import annotations

import atexit
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from guiagent.agent.evaluation.episode import (
    EpisodeOutput,
    EvalJob,
    clear_episode_folder,
    results_dir_is_shared,
    run_episode,
)
from guiagent.agent.evaluation.pool import EvalError, crashed_result
from guiagent.agent.evaluation.suite import EpisodeSpec, WorkerContext, prepare_worker
from guiagent.errors import ConfigError

#: what one episode asks of the cluster unless told otherwise
DEFAULT_RESOURCES = {"num_cpus": 1}

_CONTEXT: WorkerContext | None = None


def _worker_context(job: EvalJob) -> WorkerContext:
    global _CONTEXT
    if _CONTEXT is None:
        _CONTEXT = WorkerContext(f"ray-{os.getpid()}")
        atexit.register(_CONTEXT.close)
        prepare_worker(job.suite, _CONTEXT)
    return _CONTEXT


def ray_episode(job: EvalJob, spec: EpisodeSpec) -> EpisodeOutput:
    """The body of one Ray task (runs in a Ray worker process)."""
    return run_episode(job, spec, _worker_context(job), ship=not results_dir_is_shared(job))


def import_ray() -> Any:
    try:
        import ray
    except ImportError as e:
        raise ConfigError("--ray needs Ray: pip install 'guiagent[ray]'") from e
    return ray


def connect(address: str) -> bool:
    """Connect to Ray unless this process already is. ``auto``: the cluster RAY_ADDRESS names or the one started
    on this machine with ``ray start``, else a new local instance; otherwise the address (host:port or
    ray://host:10001). Returns whether this call connected (so the caller disconnects at the end)."""
    ray = import_ray()
    if ray.is_initialized():
        return False
    try:
        ray.init(address=None if address == "auto" else address, log_to_driver=False)
    except (ConnectionError, ValueError, RuntimeError) as e:
        raise ConfigError(f"cannot connect to Ray at {address!r}: {e}") from e
    return True


def run_on_ray(job: EvalJob, specs: Sequence[EpisodeSpec], on_output: Callable[[EpisodeOutput, EpisodeSpec], None],
               *, address: str = "auto", max_in_flight: int | None = None,
               resources: Mapping[str, Any] | None = None, kill_grace_s: float = 60.0) -> None:
    """Run every episode as a Ray task, calling ``on_output`` in the parent as each ends.

    Args:
        job: the evaluation's settings (put in the object store once).
        specs: the episodes.
        on_output: called with each episode's output and spec.
        address: see ``connect``.
        max_in_flight: most episodes running at once (None: as many as the cluster's CPUs allow).
        resources: what each episode declares: num_cpus, num_gpus, memory, resources={...}.
        kill_grace_s: how long past the episode timeout a task may run before it is cancelled (its worker killed).

    Raises:
        ConfigError: Ray is missing or the cluster cannot be reached.
        EvalError: the model cannot be loaded.
        KeyboardInterrupt: after cancelling the running tasks.
    """
    ray = import_ray()
    started_here = connect(address)
    in_flight: dict[Any, tuple[EpisodeSpec, float, float]] = {}
    try:
        options = {**DEFAULT_RESOURCES, **dict(resources or {})}
        remote = ray.remote(ray_episode).options(max_retries=0, **options)
        if max_in_flight is None:
            cpus = float(ray.cluster_resources().get("CPU", 1))
            max_in_flight = max(1, int(cpus // max(float(options.get("num_cpus") or 1), 1e-9)))
        job_ref = ray.put(job)
        pending = list(reversed(specs))
        limit = None if job.episode_timeout_s is None else job.episode_timeout_s + kill_grace_s
        while pending or in_flight:
            while pending and len(in_flight) < max_in_flight:
                spec = pending.pop()
                in_flight[remote.remote(job_ref, spec)] = (spec, time.monotonic(), time.time())
            wait_s = 1.0
            if limit is not None:
                first = min(t for _, t, _ in in_flight.values())
                wait_s = min(wait_s, max(0.0, first + limit - time.monotonic()))
            ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=wait_s)
            for ref in ready:
                spec, _, wall = in_flight.pop(ref)
                on_output(_collect(ray, ref, job, spec, wall), spec)
            if limit is not None:
                _cancel_overdue(ray, in_flight, job, limit, on_output)
    finally:
        for ref in in_flight:
            ray.cancel(ref, force=True)
        if started_here:
            ray.shutdown()


def _collect(ray: Any, ref: Any, job: EvalJob, spec: EpisodeSpec, wall: float) -> EpisodeOutput:
    try:
        output: EpisodeOutput = ray.get(ref)
    except ray.exceptions.RayError as e:  # the worker process died (or the task could not run)
        reason = f"the Ray worker failed during the episode: {type(e).__name__}: {str(e).splitlines()[0][:300]}"
        return EpisodeOutput(crashed_result(spec, job, "ray", reason, "worker_crashed", wall))
    if output.fatal:
        raise EvalError(output.fatal)
    if output.files is not None:
        _unpack(job, spec, output.files)
    return output


def _cancel_overdue(ray: Any, in_flight: dict, job: EvalJob, limit: float,
                    on_output: Callable[[EpisodeOutput, EpisodeSpec], None]) -> None:
    now = time.monotonic()
    for ref, (spec, sent, wall) in list(in_flight.items()):
        if now - sent >= limit:
            ray.cancel(ref, force=True)
            del in_flight[ref]
            reason = (f"no result after {limit:g} s (episode timeout {job.episode_timeout_s:g} s): the Ray task "
                      f"was cancelled")
            on_output(EpisodeOutput(crashed_result(spec, job, "ray", reason, "episode_timeout", wall)), spec)


def _unpack(job: EvalJob, spec: EpisodeSpec, files: Mapping[str, bytes]) -> None:
    """Write a trajectory a remote worker sent back into the results folder."""
    from guiagent.agent.evaluation.results import EPISODES_DIR

    folder = Path(job.results_dir) / EPISODES_DIR / spec.folder_name
    clear_episode_folder(folder.parent, spec)
    folder.mkdir(parents=True)
    for name, data in files.items():
        if "/" in name or "\\" in name or name in ("", ".", ".."):
            continue  # only plain file names: nothing is written outside the episode's folder
        (folder / name).write_bytes(data)
