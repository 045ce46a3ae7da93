"""A results folder: the run's configuration, one line per finished episode, the summary, the trajectories.

    RESULTS_DIR/
      eval.json        what was evaluated (suite, model, limits, seed): a resumed run must match it
      results.jsonl    one line per finished episode (``EpisodeResult``), appended and fsynced one at a time
      summary.json     the table as data (``Summary``), rewritten at the end of every run
      episodes/NAME/   each episode's trajectory folder (``guiagent view`` / ``replay`` / ``export`` read them)

A line only counts once it ends with a newline: a run killed while writing leaves at most an unterminated tail,
which is ignored and cut off before the next run appends (so no episode is counted twice or lost).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import guiagent
from guiagent._jsonio import loads, read_bytes, read_text
from guiagent.agent.evaluation.stats import wilson_interval
from guiagent.agent.trajectory import write_atomic
from guiagent.errors import ConfigError

CONFIG_FILE = "eval.json"
RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"
EPISODES_DIR = "episodes"
FORMAT_VERSION = 1
#: the largest eval.json read (the one guiagent writes is about 1 KB)
CONFIG_LIMIT = 16 << 20
#: the largest results.jsonl read: a line is under 1 KB, so 1 GiB is a million episodes and more
RESULTS_LIMIT = 1 << 30

#: failure kinds of episodes that did not get to finish in their worker
WORKER_FAILURES = ("episode_timeout", "worker_crashed", "setup_error", "error")


@dataclass
class EpisodeResult:
    """One line of results.jsonl.

    ``outcome`` is how the agent loop ended (success meaning the model said finished, step_limit, stuck, ...), or
    for an episode that did not get that far: episode_timeout (the worker was killed), worker_crashed,
    setup_error (the suite could not build the episode), error (an unexpected exception). ``success`` is whether
    the task's check passed on the end state, whatever the model claimed. ``failure`` names why an episode
    failed (None when it succeeded): the outcome, or ``check_failed`` when the model said finished but the check
    disagrees. ``trajectory`` is the episode's run folder, relative to the results folder.
    """

    suite: str
    task: str
    repeat: int
    seed: int
    outcome: str
    success: bool
    reason: str
    failure: str | None = None
    check: dict[str, Any] | None = None
    steps: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    model: str | None = None
    model_spec: str | None = None
    family: str | None = None
    trajectory: str | None = None
    worker: str | None = None
    started: float | None = None
    ended: float | None = None

    @property
    def key(self) -> str:
        return f"{self.suite}/{self.task}/{self.repeat}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> EpisodeResult:
        if not isinstance(data, Mapping):
            raise ValueError("not a JSON object")
        known = set(cls.__dataclass_fields__)
        missing = [k for k in ("suite", "task", "repeat", "outcome", "success") if k not in data]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        values = {k: v for k, v in data.items() if k in known}
        values.setdefault("seed", 0)
        values.setdefault("reason", "")
        result = cls(**values)
        if not isinstance(result.task, str) or isinstance(result.repeat, bool) or not isinstance(result.repeat, int):
            raise ValueError("task must be a string and repeat a whole number")
        if not isinstance(result.success, bool):
            raise ValueError("success must be true or false")
        _check_types(result)
        return result


def _check_types(result: EpisodeResult) -> None:
    """The fields the summary and the report compute with: a hand-edited or damaged line is refused here, by
    name, rather than crashing them later."""
    def number(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    for name in ("suite", "outcome", "reason"):
        if not isinstance(getattr(result, name), str):
            raise ValueError(f"{name} must be a string")
    if result.failure is not None and not isinstance(result.failure, str):
        raise ValueError("failure must be a string or null")
    if isinstance(result.steps, bool) or not isinstance(result.steps, int):
        raise ValueError("steps must be a whole number")
    if not isinstance(result.timings, dict) or not all(isinstance(k, str) and (v is None or number(v))
                                                        for k, v in result.timings.items()):
        raise ValueError("timings must map names to seconds")
    if not isinstance(result.groups, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                       for k, v in result.groups.items()):
        raise ValueError("groups must map names to strings")


def failure_kind(outcome: str, success: bool) -> str | None:
    """Why an episode failed, in one word (None when its check passed)."""
    if success:
        return None
    if outcome in ("success", "check_failed"):  # the model said it was done; the task's check says otherwise
        return "check_failed"
    return outcome


# ---------------------------------------------------------------- the folder

class ResultsDir:
    """A results folder. ``open`` checks (or records) the configuration; ``append`` adds one episode's line."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    @property
    def results_file(self) -> Path:
        return self.path / RESULTS_FILE

    @property
    def episodes_dir(self) -> Path:
        return self.path / EPISODES_DIR

    def open(self, config: Mapping[str, Any], *, force: bool = False) -> str:
        """Prepare the folder for a run of ``config``.

        A new or empty folder gets ``eval.json`` (with a new ``run_id``). A folder of the same configuration is
        resumed as it is. A folder of another configuration is refused, unless ``force``: then its earlier
        results are moved aside into ``superseded-<time>/`` (nothing is deleted; ``self.superseded`` says where)
        and the run starts over.

        Returns:
            The folder's run id (workers compare it with the eval.json they see to tell whether they share it).

        Raises:
            ConfigError: the path is not a folder, the folder holds another configuration (without ``force``),
                or its files are not readable.
        """
        if self.path.exists() and not self.path.is_dir():
            raise ConfigError(f"{self.path} exists and is not a folder; give -o a folder for the results")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:  # a parent that is a file, a read-only place
            raise ConfigError(f"cannot make the results folder {self.path}: {e.strerror or e}") from e
        recorded = self.read_config()
        self.superseded: Path | None = None
        if recorded is not None:
            differences = config_differences(recorded, config)
            if differences and not force:
                raise ConfigError(
                    f"{self.path} holds results of another configuration ({'; '.join(differences)}); use another "
                    f"results folder, or --force to move those results aside and start over")
            if differences:
                self.superseded = self._supersede()
                recorded = None
        elif self.results_file.exists() and self.results_file.stat().st_size:
            raise ConfigError(f"{self.path} holds a {RESULTS_FILE} but no {CONFIG_FILE}; it was not written by "
                              f"guiagent eval. Use another results folder")
        self._drop_unterminated_tail()  # before eval.json is written: a results.jsonl it refuses leaves no trace
        if recorded is None or not isinstance(recorded.get("run_id"), str):
            recorded = {"format": FORMAT_VERSION, **config, "run_id": uuid.uuid4().hex,
                        "guiagent_version": guiagent.__version__, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            write_atomic(self.path / CONFIG_FILE,
                         (json.dumps(recorded, indent=2, ensure_ascii=False) + "\n").encode())
        return recorded["run_id"]

    def read_config(self) -> dict[str, Any] | None:
        """The recorded configuration, or None when there is none yet."""
        path = self.path / CONFIG_FILE
        if not os.path.lexists(path):
            return None
        try:
            data = loads(read_text(path, limit=CONFIG_LIMIT, inside=self.path))
        except OSError as e:
            raise ConfigError(f"cannot read {path}: {e.strerror or e}") from None
        except ValueError as e:
            raise ConfigError(f"cannot read {path}: {e}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path} does not hold a JSON object")
        version = data.get("format", 1)
        if isinstance(version, bool) or not isinstance(version, int):
            raise ConfigError(f"{path}: format must be a whole number, got {version!r}; was it edited by hand?")
        if version > FORMAT_VERSION:
            raise ConfigError(f"{path} was written by a newer guiagent; upgrade to resume it")
        return data

    def _supersede(self) -> Path:
        target = self.path / f"superseded-{time.strftime('%Y%m%d-%H%M%S')}"
        n = 2
        while target.exists():
            target = target.with_name(f"{target.name.split('~')[0]}~{n}")
            n += 1
        target.mkdir()
        for name in (CONFIG_FILE, RESULTS_FILE, SUMMARY_FILE, EPISODES_DIR):
            if (self.path / name).exists():
                os.replace(self.path / name, target / name)
        return target

    def _drop_unterminated_tail(self) -> None:
        """Cut a line a killed run left half-written, so the next append starts on a line of its own."""
        path = self.results_file
        if not os.path.lexists(path):
            return
        data = _read_results_file(path)
        if data and not data.endswith(b"\n"):
            with open(path, "r+b") as f:
                f.truncate(data.rfind(b"\n") + 1)
                f.flush()
                os.fsync(f.fileno())

    def results(self) -> list[EpisodeResult]:
        """Every finished episode, one per key (a later line for the same key replaces an earlier one)."""
        return read_results(self.results_file)

    def append(self, result: EpisodeResult) -> None:
        """Add one episode's line, durably (flushed and fsynced) and in a single write."""
        line = json.dumps(result.to_json(), ensure_ascii=False, allow_nan=False) + "\n"
        with open(self.results_file, "ab") as f:
            f.write(line.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())

    def write_summary(self, summary: Summary) -> Path:
        path = self.path / SUMMARY_FILE
        write_atomic(path, (json.dumps(summary.to_json(), indent=2, ensure_ascii=False) + "\n").encode())
        return path


def config_differences(recorded: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    """What differs between two configurations, in words (``created`` and ``format`` do not count)."""
    out = []
    for key in sorted((set(recorded) | set(wanted)) - {"created", "format", "guiagent_version", "run_id"}):
        old, new = recorded.get(key), wanted.get(key)
        if _canonical(old) != _canonical(new):
            out.append(f"{key}: {_short(old)} then, {_short(new)} now")
    return out


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _short(value: Any, limit: int = 80) -> str:
    text = _canonical(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_results(path: str | os.PathLike) -> list[EpisodeResult]:
    """The episodes of a results.jsonl, one per key, in file order.

    Raises:
        ConfigError: the file cannot be read, or a complete line is not an episode record (naming the line).
    """
    path = Path(path)
    if not os.path.lexists(path):
        return []
    try:
        text = _read_results_file(path).decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"cannot read {path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    lines = text.split("\n")
    lines.pop()  # the unterminated tail (empty when the file ends with a newline) does not count
    by_key: dict[str, EpisodeResult] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            result = EpisodeResult.from_json(loads(line))
        except (ValueError, TypeError) as e:
            raise ConfigError(f"{path} line {number} is not an episode record ({e})") from None
        by_key.pop(result.key, None)
        by_key[result.key] = result
    return list(by_key.values())


def _read_results_file(path: Path) -> bytes:
    """The bytes of a results.jsonl, refused (ConfigError) when it is not a regular file inside its results folder
    or is over ``RESULTS_LIMIT``."""
    try:
        return read_bytes(path, limit=RESULTS_LIMIT, inside=path.parent)
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror or e}") from None
    except ValueError as e:
        raise ConfigError(f"cannot read {path}: {e}") from None


# ---------------------------------------------------------------- the summary

@dataclass
class GroupStats:
    """Success rate and means over a set of episodes."""

    episodes: int
    successes: int
    success_rate: float | None
    ci95: tuple[float, float] | None
    mean_steps: float | None
    mean_time_s: float | None

    @classmethod
    def of(cls, results: Sequence[EpisodeResult]) -> GroupStats:
        n = len(results)
        ok = sum(r.success for r in results)
        times = [r.timings.get("total_s") for r in results if r.timings.get("total_s") is not None]
        return cls(n, ok, ok / n if n else None, wilson_interval(ok, n),
                   sum(r.steps for r in results) / n if n else None,
                   sum(times) / len(times) if times else None)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["ci95"] = list(self.ci95) if self.ci95 else None
        return out


@dataclass
class FailureStats:
    """One kind of failure: how many episodes, which tasks, and the most common reasons."""

    kind: str
    count: int
    tasks: list[str]
    reasons: list[tuple[str, int]]

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "count": self.count, "tasks": self.tasks,
                "reasons": [{"reason": r, "count": c} for r, c in self.reasons]}


@dataclass
class Summary:
    """What ``summary.json`` holds and ``evaluate`` returns: the success rate overall and by group, with 95%
    Wilson intervals, mean steps and time, and the failures by kind.

    ``complete`` says whether every selected episode has a result (False after an interrupted run: run the
    same command again to finish it); ``pending`` counts the selected episodes still missing.
    """

    suite: str | None
    model: str | None
    family: str | None
    overall: GroupStats
    groups: dict[str, dict[str, GroupStats]]
    failures: list[FailureStats]
    tasks: dict[str, dict[str, Any]]
    complete: bool = True
    pending: int = 0
    results_dir: str | None = None

    @property
    def success_rate(self) -> float | None:
        return self.overall.success_rate

    @property
    def episodes(self) -> int:
        return self.overall.episodes

    def to_json(self) -> dict[str, Any]:
        return {
            "suite": self.suite, "model": self.model, "family": self.family,
            "success_rate": self.overall.success_rate, "episodes": self.overall.episodes,
            "successes": self.overall.successes, "ci95": self.overall.to_json()["ci95"],
            "mean_steps": self.overall.mean_steps, "mean_time_s": self.overall.mean_time_s,
            "complete": self.complete, "pending": self.pending,
            "groups": {g: {label: s.to_json() for label, s in rows.items()} for g, rows in self.groups.items()},
            "failures": [f.to_json() for f in self.failures],
            "tasks": self.tasks,
            "results_dir": self.results_dir,
        }


def summarize(results: Sequence[EpisodeResult], *, group_by: Sequence[str] = (),
              group_order: Mapping[str, Sequence[str]] | None = None, pending: int = 0,
              results_dir: str | None = None) -> Summary:
    """Tabulate episode results.

    Args:
        results: one per episode.
        group_by: the group keys to break success down by (labels come from each result's ``groups``).
        group_order: the order of each group's labels (others follow, alphabetically).
        pending: selected episodes that have no result yet.
        results_dir: recorded in the summary.
    """
    group_order = group_order or {}
    groups: dict[str, dict[str, GroupStats]] = {}
    for key in group_by:
        members: dict[str, list[EpisodeResult]] = {}
        for r in results:
            members.setdefault(str(r.groups.get(key, "?")), []).append(r)
        order = list(group_order.get(key, ()))
        labels = sorted(members, key=lambda label: (order.index(label) if label in order else len(order), label))
        groups[key] = {label: GroupStats.of(members[label]) for label in labels}
    tasks: dict[str, dict[str, Any]] = {}
    for r in results:
        row = tasks.setdefault(r.task, {"episodes": 0, "successes": 0})
        row["episodes"] += 1
        row["successes"] += int(r.success)
    for row in tasks.values():
        row["success_rate"] = row["successes"] / row["episodes"]
    first = results[0] if results else None
    return Summary(first.suite if first else None, first.model_spec if first else None,
                   first.family if first else None, GroupStats.of(results), groups, failure_stats(results), tasks,
                   pending == 0, pending, results_dir)


def failure_stats(results: Iterable[EpisodeResult], top: int = 5) -> list[FailureStats]:
    """Failed episodes by kind (most frequent first), with their tasks and the ``top`` most common reasons."""
    by_kind: dict[str, list[EpisodeResult]] = {}
    for r in results:
        if not r.success:
            by_kind.setdefault(r.failure or failure_kind(r.outcome, r.success) or "unknown", []).append(r)
    out = []
    for kind, rs in sorted(by_kind.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        reasons = Counter(_reason_line(r) for r in rs)
        out.append(FailureStats(kind, len(rs), sorted({r.task for r in rs}), reasons.most_common(top)))
    return out


def _reason_line(result: EpisodeResult) -> str:
    """The most telling line about a failure: the first failed check line when the model claimed success."""
    if result.failure == "check_failed" and result.check:
        failed = [x for x in result.check.get("reasons") or [] if str(x).startswith("failed")]
        if failed:
            return str(failed[0])
    return result.reason or result.outcome
