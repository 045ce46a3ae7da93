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


def _strip(reason: str, prefix: str) -> str:
    return reason[len(prefix):] if reason.startswith(prefix) else reason


def check_reasons(evaluation: Mapping[str, Any], failed_only: bool = True) -> str:
    """The check's reasons (or its error) in one line; empty when it gave none.

    Mock task checks list ``failed: ...`` then ``ok: ...`` reasons; with ``failed_only`` (the default) only the
    failed ones are kept, without their prefix, when there are any.
    """
    error = evaluation.get("error")
    if error:
        return str(error)
    reasons = evaluation.get("reasons")
    if not isinstance(reasons, (list, tuple)) or not reasons:
        return ""
    reasons = [str(r) for r in reasons]
    failed = [_strip(r, "failed: ") for r in reasons if r.startswith("failed: ")]
    if failed_only and failed:
        return "; ".join(failed)
    return "; ".join(_strip(_strip(r, "failed: "), "ok: ") for r in reasons)


def check_sentence(evaluation: Mapping[str, Any] | None) -> str | None:
    """The task check's verdict as a sentence ("The task check failed: file todo.txt does not exist."), or None
    when the run had no check."""
    if not isinstance(evaluation, Mapping):
        return None
    if evaluation.get("error"):
        return f"The task check could not run: {evaluation['error']}."
    details = check_reasons(evaluation, failed_only=not evaluation.get("success"))
    verdict = "passed" if evaluation.get("success") else "failed"
    return f"The task check {verdict}" + (f": {details}." if details else ".")


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
