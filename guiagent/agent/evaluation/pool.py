"""Local worker processes: N long-lived workers, one episode each at a time, supervised by the parent.

Each worker is a fresh ``spawn``-ed process (nothing inherited from the parent's threads), builds its own
environments, and answers one ``EpisodeOutput`` per episode over a pipe. The parent watches every worker: one that
dies (a segfault, the OOM killer, ``os._exit``) or runs past the episode's deadline is killed if need be, its
episode recorded as ``worker_crashed`` / ``episode_timeout``, and a new worker takes its place. Workers ignore
SIGINT: Ctrl-C reaches the parent, which stops them all and leaves the unfinished episodes unrecorded.

(The standard ProcessPoolExecutor cannot do this: a dead worker breaks the whole pool, and a hung task cannot be
stopped.)
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from multiprocessing.connection import Connection, wait
from typing import Any

from guiagent.agent.evaluation.episode import EpisodeOutput, EvalJob, run_episode, steps_recorded
from guiagent.agent.evaluation.results import EPISODES_DIR, EpisodeResult, failure_kind
from guiagent.agent.evaluation.suite import EpisodeSpec, WorkerContext, prepare_worker
from guiagent.errors import GuiAgentError

#: how long a worker may take to start (import guiagent, unpickle the job) before the run gives up
START_TIMEOUT_S = 120.0


class EvalError(GuiAgentError):
    """The evaluation as a whole cannot go on (the model cannot be loaded, workers cannot start)."""


def _exit_when_orphaned(parent_pid: int) -> None:
    """A worker whose parent was killed (SIGKILL leaves no time to stop it) exits instead of finishing an
    episode nobody will record, possibly into a folder the next run is using."""
    while os.getppid() == parent_pid:
        time.sleep(0.1)
    os._exit(1)


def _worker_main(conn: Connection, job: EvalJob, worker_id: str, parent_pid: int, slot: int = 0) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), daemon=True).start()
    context = WorkerContext(worker_id, slot)
    try:
        prepare_worker(job.suite, context)
        conn.send(("ready", None))
        while True:
            try:
                spec = conn.recv()
            except EOFError:
                return
            if spec is None:
                return
            conn.send(("done", run_episode(job, spec, context)))
    finally:
        context.close()


@dataclass
class _Worker:
    process: Any
    conn: Connection
    name: str
    slot: int = 0
    ready: bool = False
    spec: EpisodeSpec | None = None
    sent_at: float = 0.0
    started_wall: float = 0.0


def crashed_result(spec: EpisodeSpec, job: EvalJob, worker: str, reason: str, outcome: str,
                   started: float) -> EpisodeResult:
    """The result of an episode whose worker died or was stopped before it answered."""
    folder = f"{EPISODES_DIR}/{spec.folder_name}"
    exists = (Path(job.results_dir) / folder).is_dir()
    now = time.time()
    return EpisodeResult(suite=spec.suite, task=spec.task, repeat=spec.repeat, seed=spec.seed, outcome=outcome,
                         success=False, reason=reason, failure=failure_kind(outcome, False), check=None,
                         steps=steps_recorded(Path(job.results_dir) / EPISODES_DIR, spec) if exists else 0,
                         timings={"total_s": round(now - started, 4)}, groups=dict(spec.groups),
                         model_spec=job.model.spec, family=job.model.family, trajectory=folder if exists else None,
                         worker=worker, started=started, ended=now)


def exit_description(exitcode: int | None) -> str:
    """'killed by SIGSEGV', 'exited with status 3'..."""
    if exitcode is None:
        return "stopped answering"
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exited with status {exitcode}"


class LocalPool:
    """Runs episodes on ``workers`` local processes.

    Args:
        job: the evaluation's settings (sent to every worker once).
        workers: how many processes.
        kill_grace_s: how long past ``job.episode_timeout_s`` a worker may take to answer before it is killed
            (the agent loop stops itself at the timeout between steps; this catches a worker stuck inside a step).
        start_method: the multiprocessing start method.
    """

    def __init__(self, job: EvalJob, workers: int, *, kill_grace_s: float = 60.0, start_method: str = "spawn"):
        self.job = job
        self.size = max(1, workers)
        self.kill_grace_s = kill_grace_s
        self._ctx = multiprocessing.get_context(start_method)
        self._workers: list[_Worker] = []
        self._started = 0

    def run(self, specs: Sequence[EpisodeSpec], on_output: Callable[[EpisodeOutput, EpisodeSpec], None]) -> None:
        """Run every episode, calling ``on_output`` in the parent as each ends (in the order they end).

        Raises:
            EvalError: a worker could not start, or the model could not be loaded (after stopping the workers).
            KeyboardInterrupt: after stopping the workers (their episodes stay unrecorded).
        """
        pending = deque(specs)
        try:
            for _ in range(min(self.size, len(pending))):
                self._start_worker()
            while pending or any(w.spec is not None for w in self._workers):
                self._dispatch(pending)
                self._wait_once(pending, on_output)
        finally:
            self._stop_all()

    # ------------------------------------------------------------ workers

    def _start_worker(self) -> _Worker:
        self._started += 1
        name = f"local-{self._started}"
        # the lowest slot no running worker holds: a replacement worker takes the lost one's (its VNC endpoint...)
        slot = min(set(range(len(self._workers) + 1)) - {w.slot for w in self._workers})
        parent_conn, child_conn = self._ctx.Pipe()
        process = self._ctx.Process(target=_worker_main, args=(child_conn, self.job, name, os.getpid(), slot),
                                    name=f"guiagent-{name}", daemon=True)
        process.start()
        child_conn.close()
        worker = _Worker(process, parent_conn, name, slot, sent_at=time.monotonic())
        self._workers.append(worker)
        return worker

    def _dispatch(self, pending: deque) -> None:
        for w in self._workers:
            if w.ready and w.spec is None and pending:
                w.spec, w.sent_at = pending.popleft(), time.monotonic()
                w.started_wall = time.time()
                try:
                    w.conn.send(w.spec)
                except (BrokenPipeError, OSError):
                    pass  # the worker died: _wait_once notices it and records the episode

    def _deadline(self, w: _Worker) -> float:
        if not w.ready:
            return w.sent_at + START_TIMEOUT_S
        if w.spec is None or self.job.episode_timeout_s is None:
            return float("inf")
        return w.sent_at + self.job.episode_timeout_s + self.kill_grace_s

    def _wait_once(self, pending: deque, on_output: Callable[[EpisodeOutput, EpisodeSpec], None]) -> None:
        now = time.monotonic()
        timeout = max(0.0, min([self._deadline(w) for w in self._workers] + [now + 1.0]) - now)
        by_handle = {}
        for w in self._workers:
            by_handle[w.conn] = w
            by_handle[w.process.sentinel] = w
        for handle in wait(list(by_handle), timeout=timeout):
            w = by_handle[handle]
            if w not in self._workers:
                continue
            if handle is w.conn or w.conn.poll():
                try:
                    kind, payload = w.conn.recv()
                except (EOFError, OSError):
                    self._lost(w, pending, on_output, None)
                    continue
                self._message(w, kind, payload, on_output)
            elif not w.process.is_alive():
                self._lost(w, pending, on_output, None)
        now = time.monotonic()
        for w in list(self._workers):
            if now >= self._deadline(w):
                if not w.ready:
                    raise EvalError(f"worker {w.name} did not start within {START_TIMEOUT_S:.0f} s")
                limit = self.job.episode_timeout_s + self.kill_grace_s
                self._lost(w, pending, on_output, f"no result after {limit:g} s (episode timeout "
                                                  f"{self.job.episode_timeout_s:g} s): the worker was stopped")

    def _message(self, w: _Worker, kind: str, payload: Any, on_output) -> None:
        if kind == "ready":
            w.ready = True
            return
        spec, w.spec = w.spec, None
        output: EpisodeOutput = payload
        if output.fatal:
            raise EvalError(output.fatal)
        on_output(output, spec)

    def _lost(self, w: _Worker, pending: deque, on_output, timeout_reason: str | None) -> None:
        """A worker died or overran its deadline: record its episode, replace it if work remains."""
        self._kill(w)
        self._workers.remove(w)
        if not w.ready:
            raise EvalError(f"worker {w.name} could not start ({exit_description(w.process.exitcode)}); "
                            f"see the messages above")
        if w.spec is not None:
            if timeout_reason:
                result = crashed_result(w.spec, self.job, w.name, timeout_reason, "episode_timeout",
                                        w.started_wall)
            else:
                result = crashed_result(w.spec, self.job, w.name, f"the worker process "
                                        f"{exit_description(w.process.exitcode)} during the episode",
                                        "worker_crashed", w.started_wall)
            on_output(EpisodeOutput(result), w.spec)
        if pending and len(self._workers) < self.size:
            self._start_worker()

    @staticmethod
    def _kill(w: _Worker) -> None:
        if w.process.is_alive():
            w.process.kill()
        w.process.join(5)
        w.conn.close()

    def _stop_all(self) -> None:
        for w in self._workers:
            if w.spec is None and w.process.is_alive():
                try:
                    w.conn.send(None)
                except (BrokenPipeError, OSError):
                    pass
        deadline = time.monotonic() + 5.0
        for w in self._workers:
            if w.spec is None:
                w.process.join(max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join(5)
            w.conn.close()
        self._workers.clear()
