"""What "success" means: the model said finished AND, when the task has a check, the check passed.

One rule, applied where a run ends (``Agent.run``) and where a recorded run is read back (``Run.outcome``, for
folders written before the rule), so the CLI headline, meta.json, the HTML report, ``export --success-only`` and
the Python ``RunResult`` never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: the model said finished, but the task's check did not pass
CHECK_FAILED = "check_failed"


def check_reasons(evaluation: Mapping[str, Any]) -> str:
    """The check's reasons (or its error) in one line; empty when it gave none."""
    reasons = evaluation.get("reasons")
    if isinstance(reasons, (list, tuple)) and reasons:
        return "; ".join(str(r) for r in reasons)
    error = evaluation.get("error")
    return str(error) if error else ""


def judge(outcome: str, reason: str | None, evaluation: Mapping[str, Any] | None) -> tuple[str, str | None]:
    """The run's outcome and reason once the task check (``evaluation``, None without one) is taken into account.

    Args:
        outcome: how the loop ended (``success`` when the model said finished).
        reason: that ending in words.
        evaluation: the task check's result, a mapping with ``success`` (and optionally ``reasons``), or None.

    Returns:
        ``(outcome, reason)``: ``success`` becomes ``check_failed`` when the check did not pass; anything else is
        returned unchanged.
    """
    if outcome != "success" or not isinstance(evaluation, Mapping) or bool(evaluation.get("success")):
        return outcome, reason
    details = check_reasons(evaluation)
    return CHECK_FAILED, ("the model said the task is finished, but the task check failed"
                          + (f": {details}" if details else ""))
