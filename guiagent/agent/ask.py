"""One model turn of the agent loop: call the model, read its answer into actions, retry what does not parse."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from guiagent.actions.types import Step
from guiagent.agent.config import AgentConfig
from guiagent.agent.hooks import Hooks
from guiagent.agent.result import RunStopped
from guiagent.agent.timing import timed
from guiagent.agent.trajectory import Attempt, StepRecord
from guiagent.errors import ActionError, ModelError, ParseError
from guiagent.models.base import Message, Model
from guiagent.models.profiles import Profile

__all__ = ["ask_model"]


def ask_model(model: Model, profile: Profile, config: AgentConfig, hooks: Sequence[Hooks], record: StepRecord,
              messages: Sequence[Message], screenshot_size: tuple[int, int],
              check_time: Callable[[str], None] | None = None) -> Step:
    """Call the model until an answer reads (``Profile.read``) into at least one action, at most
    ``config.parse_tries`` times; retries sample at the profile's ``retry_temperature``.

    Every attempt, its timing and its error are added to ``record``; hooks hear each response. ``check_time``
    (the run's deadline check, raising RunStopped "timeout") is called after each answer that did not parse, so
    the run's timeout covers parsing and retries too.

    Returns:
        The Step, its actions in SCREENSHOT space.

    Raises:
        RunStopped: "model_error" when the backend fails, "parse_error" when no answer parsed, "timeout" from
            ``check_time``.
    """
    base = config.sampling or profile.sampling
    retry = replace(base, temperature=profile.retry_temperature)
    error = ""
    for attempt in range(config.parse_tries):
        sampling = base if attempt == 0 else retry
        before = record.latency.get("model", 0.0)
        try:
            with timed(record.latency, "model"):
                response = model.complete(messages, sampling)
        except ModelError as e:
            record.errors.append(f"model: {e}")
            raise RunStopped("model_error", f"the model failed at step {record.index + 1}: {e}") from e
        record.response, step, error = response.text, None, None
        with timed(record.latency, "parse"):
            try:
                step = profile.read(response.text, screenshot_size)
                if not step.actions:
                    raise ParseError("the answer holds no action", response.text)
            except (ParseError, ActionError) as e:
                error = str(e)
        record.attempts.append(Attempt(response.text, sampling.temperature, record.latency["model"] - before, error))
        for hook in hooks:
            hook.on_response(record.index, response.text, error)
        if error is None:
            return step
        record.errors.append(f"parse (try {attempt + 1}): {error}")
        if check_time is not None:
            check_time(f"while parsing step {record.index + 1}'s answer (try {attempt + 1}: {error})")
    raise RunStopped("parse_error", f"the model's answer did not parse in {config.parse_tries} "
                                    f"tries at step {record.index + 1}: {error}")
