"""Compare two evaluations task by task: per-task success rates, the overall difference, and a paired bootstrap
confidence interval over tasks.

The unit is the task: each task's success rate (its successes over its repeats) in A and in B gives one paired
difference B - A; the overall delta is their mean over the tasks both runs hold, and the interval comes from
resampling tasks with replacement (``stats.paired_bootstrap``). Pairing by task removes the spread between easy
and hard tasks from the comparison, which is what makes a small suite able to tell two models apart.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from guiagent.agent.evaluation.results import RESULTS_FILE, EpisodeResult, read_results
from guiagent.agent.evaluation.stats import paired_bootstrap
from guiagent.errors import ConfigError


@dataclass(frozen=True)
class TaskDelta:
    """One task in both runs: success rates, their difference (B - A) and the episodes behind each rate."""

    task: str
    a: float
    b: float
    delta: float
    episodes_a: int
    episodes_b: int


@dataclass
class Comparison:
    """The result of ``compare``; ``to_json`` is what ``guiagent compare --json`` prints."""

    a: str
    b: str
    tasks: list[TaskDelta]
    rate_a: float
    rate_b: float
    delta: float
    ci: tuple[float, float]
    confidence: float
    samples: int
    seed: int
    only_a: list[str] = field(default_factory=list)
    only_b: list[str] = field(default_factory=list)

    @property
    def significant(self) -> bool:
        """Whether the interval excludes 0 (a difference at the chosen confidence)."""
        return self.ci[0] > 0 or self.ci[1] < 0

    def to_json(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "tasks_compared": len(self.tasks), "success_rate_a": self.rate_a,
                "success_rate_b": self.rate_b, "delta": self.delta, "ci": list(self.ci),
                "confidence": self.confidence, "significant": self.significant, "samples": self.samples,
                "seed": self.seed, "only_a": self.only_a, "only_b": self.only_b,
                "tasks": [asdict(t) for t in self.tasks]}


def load_results(path: str | os.PathLike) -> list[EpisodeResult]:
    """The episodes of a results folder (or of a results.jsonl file).

    Raises:
        ConfigError: not a results folder, or an unreadable / malformed results.jsonl.
    """
    path = Path(path)
    file = path / RESULTS_FILE if path.is_dir() else path.resolve()  # a file named by the user: its links followed
    if not file.is_file():
        raise ConfigError(f"{path} is not a results folder of guiagent eval (it has no {RESULTS_FILE})")
    results = read_results(file)
    if not results:
        raise ConfigError(f"{file} holds no episodes yet")
    return results


def task_rates(results: list[EpisodeResult]) -> dict[str, tuple[float, int]]:
    """Per task (``suite/task``): (success rate over its episodes, episodes)."""
    counts: dict[str, list[int]] = {}
    for r in results:
        row = counts.setdefault(f"{r.suite}/{r.task}", [0, 0])
        row[0] += int(r.success)
        row[1] += 1
    return {task: (ok / n, n) for task, (ok, n) in counts.items()}


def compare(a: str | os.PathLike, b: str | os.PathLike, *, samples: int = 10_000, confidence: float = 0.95,
            seed: int = 0) -> Comparison:
    """Compare results folder ``b`` with ``a`` over the tasks both hold.

    Args:
        a, b: results folders (or results.jsonl files).
        samples: bootstrap resamples.
        confidence: of the interval.
        seed: of the bootstrap (the same inputs give the same interval).

    Returns:
        The comparison (tasks in suite order of A, deltas B - A).

    Raises:
        ConfigError: unreadable inputs, or no task in common.
    """
    rates_a, rates_b = task_rates(load_results(a)), task_rates(load_results(b))
    common = [t for t in rates_a if t in rates_b]
    if not common:
        raise ConfigError(f"{a} and {b} have no task in common: nothing to compare")
    rows = [TaskDelta(_task_name(t), rates_a[t][0], rates_b[t][0], rates_b[t][0] - rates_a[t][0], rates_a[t][1],
                      rates_b[t][1]) for t in common]
    deltas = [r.delta for r in rows]
    ci = paired_bootstrap(deltas, samples=samples, confidence=confidence, seed=seed)
    mean_a = sum(r.a for r in rows) / len(rows)
    mean_b = sum(r.b for r in rows) / len(rows)
    return Comparison(str(a), str(b), rows, mean_a, mean_b, sum(deltas) / len(deltas), ci, confidence, samples,
                      seed, [_task_name(t) for t in rates_a if t not in rates_b],
                      [_task_name(t) for t in rates_b if t not in rates_a])


def _task_name(key: str) -> str:
    """'mock/rename-file' -> 'rename-file' (the suite is the same for every task of one comparison)."""
    return key.split("/", 1)[1] if "/" in key else key
