"""How an agent run ended: ``RunResult`` and the outcomes it can have.

Every way off the happy path ends the run with an outcome and a reason in words, recorded in meta.json:

    success       the model said finished (its content is the answer), and the task check passed (if there is one)
    check_failed  the model said finished, but the task check failed (guiagent.agent.outcome)
    call_user     the model asked for the user and no callback answered (or answered max_call_user times)
    step_limit    AgentConfig.max_steps steps were taken
    stuck         the same actions proposed stuck_after times in a row on an unchanged screen
    timeout       AgentConfig.timeout_s elapsed
    parse_error   parse_tries answers in a row did not parse
    model_error   the model backend failed (ModelError)
    env_error     the screen could not be captured, a fatal EnvError (the desktop's fail-safe), or
                  max_env_errors steps in a row had an action refused
    stopped       a hook (or the confirming user) said stop
    interrupted   KeyboardInterrupt (re-raised after recording)
    error         an unexpected exception (re-raised after recording)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from guiagent.agent.trajectory import StepRecord

OUTCOMES = ("success", "check_failed", "call_user", "step_limit", "stuck", "timeout", "parse_error", "model_error",
            "env_error", "stopped", "interrupted", "error")


@dataclass
class RunResult:
    """How a run ended (``outcome``, one of OUTCOMES, and ``reason`` in words), its steps and run folder."""

    outcome: str
    reason: str
    answer: str | None
    steps: list[StepRecord]
    run_dir: Path | None
    meta: dict[str, Any] = field(default_factory=dict)
    #: what the ``evaluate`` callback of ``Agent.run`` returned (e.g. a mock task's check), if one was given
    evaluation: dict[str, Any] | None = None

    @property
    def success(self) -> bool:
        """The model said finished, and the evaluation (when there is one) agrees."""
        return self.outcome == "success" and (self.evaluation is None or bool(self.evaluation.get("success")))


class RunStopped(Exception):
    """Ends a run: raised from anywhere inside a step (the step is still recorded), carrying the outcome."""

    def __init__(self, outcome: str, reason: str, answer: str | None = None):
        super().__init__(reason)
        self.outcome, self.reason, self.answer = outcome, reason, answer


def now_iso() -> str:
    """The current UTC time as ISO 8601 with milliseconds (meta.json's ``started`` / ``ended``)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def evaluate_end_state(evaluate: Callable[[], Mapping[str, Any]] | None) -> dict[str, Any] | None:
    """Call a run's ``evaluate`` callback; a callback that raises is a failed evaluation, recorded as such.

    Returns:
        Its mapping as a dict (at least ``success``), ``{"success": False, "error": ...}``, or None without one.
    """
    if evaluate is None:
        return None
    try:
        return dict(evaluate())
    except Exception as e:  # noqa: BLE001 - a failing check is a failed evaluation, not a crashed run
        return {"success": False, "error": f"{type(e).__name__}: {e}"}
