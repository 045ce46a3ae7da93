"""A suite for the worker-slot test: the mock suite, recording each episode's worker slot in its meta.json.
Module-level, so spawned workers import it (tests/ is on their sys.path)."""

from __future__ import annotations

from dataclasses import dataclass

from guiagent.agent.evaluation import Episode, EpisodeSpec, WorkerContext
from guiagent.agent.evaluation.mock_suite import MockSuite


@dataclass(frozen=True)
class SlotRecordingSuite(MockSuite):
    def build(self, spec: EpisodeSpec, worker: WorkerContext) -> Episode:
        episode = super().build(spec, worker)
        episode.info = {"slot": worker.slot}
        return episode
