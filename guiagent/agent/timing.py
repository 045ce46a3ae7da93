"""Per-phase timing of a step: ``with timed(record.latency, "parse"): ...`` adds the block's seconds to a phase."""

from __future__ import annotations

import time
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager

__all__ = ["timed"]


@contextmanager
def timed(latency: MutableMapping[str, float], phase: str) -> Iterator[None]:
    """Add the wall-clock seconds the block takes to ``latency[phase]`` (also when it raises).

    Args:
        latency: a step record's ``latency`` mapping (phase -> seconds).
        phase: the phase name ("capture", "prepare", "model", "parse", "execute", ...); repeated blocks add up.
    """
    t0 = time.perf_counter()
    try:
        yield
    finally:
        latency[phase] = latency.get(phase, 0.0) + time.perf_counter() - t0
