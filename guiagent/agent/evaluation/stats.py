"""The statistics of an evaluation: Wilson intervals for success rates, a paired bootstrap for differences."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from guiagent.errors import ConfigError

#: the normal quantile of a two-sided 95% interval
Z95 = 1.959963984540054


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a success rate (good at 0%, 100% and small n, unlike the normal interval).

    Args:
        successes: episodes that succeeded.
        n: episodes in all.
        z: the normal quantile (1.96 for 95%).

    Returns:
        (low, high), or None when ``n`` is 0.
    """
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n={n}, got {successes}")
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # at 0% / 100% the bound is exactly 0 / 1; the subtraction leaves float noise such as 5.6e-17 in summary.json
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


#: Beyond this the interval no longer changes, and the resampled means alone would not fit in memory.
MAX_BOOTSTRAP_SAMPLES = 1_000_000


def paired_bootstrap(deltas: Sequence[float], *, samples: int = 10_000, confidence: float = 0.95,
                     seed: int = 0) -> tuple[float, float]:
    """Percentile confidence interval of the mean of paired per-task differences, resampling tasks.

    Each bootstrap sample draws ``len(deltas)`` tasks with replacement and averages their differences (B - A);
    the interval is the (1-confidence)/2 and (1+confidence)/2 quantiles of those means ("lower" and "higher"
    quantiles, so the bounds are means that some resample actually has).

    Args:
        deltas: one difference per task (e.g. success rate in B minus success rate in A).
        samples: bootstrap resamples.
        confidence: e.g. 0.95.
        seed: the random generator's seed (the interval is reproducible).

    Returns:
        (low, high).

    Raises:
        ConfigError: no differences, or a confidence outside (0, 1), or samples outside 100..MAX_BOOTSTRAP_SAMPLES.
    """
    values = np.asarray(deltas, dtype=np.float64)
    if values.size == 0:
        raise ConfigError("no tasks in common: nothing to compare")
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must be between 0 and 1, got {confidence}")
    if not 100 <= samples <= MAX_BOOTSTRAP_SAMPLES:
        raise ConfigError(f"use 100 to {MAX_BOOTSTRAP_SAMPLES:,} bootstrap samples, got {samples}")
    rng = np.random.default_rng(seed)
    means = np.empty(samples, dtype=np.float64)
    n = values.size
    chunk = max(1, 2_000_000 // n)  # bounded memory for large suites
    for start in range(0, samples, chunk):
        stop = min(samples, start + chunk)
        idx = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = values[idx].mean(axis=1)
    alpha = (1 - confidence) / 2
    low = float(np.quantile(means, alpha, method="lower"))
    high = float(np.quantile(means, 1 - alpha, method="higher"))
    return low, high
