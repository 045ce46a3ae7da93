"""AgentConfig: the loop's limits and timings, in one frozen dataclass recorded in every run's meta.json."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from guiagent.errors import ConfigError
from guiagent.models.base import Sampling

#: The longest pause a ``wait(time=...)`` from the model (or a recorded one, on replay) gets: the duration is model
#: text, and ``wait(time=1e12)`` must not stall a run for ever. A model that needs longer waits again (a new step).
MAX_MODEL_WAIT_S = 60.0


@dataclass(frozen=True)
class AgentConfig:
    """How the loop behaves. Defaults follow the UI-TARS reference loop where it has one.

    max_steps        stop with outcome ``step_limit`` after this many steps (model calls that produced actions)
    parse_tries      model calls per step before giving up on unparsable answers (retries use the profile's
                     ``retry_temperature``); then the run stops with outcome ``parse_error``
    stuck_after      stop with outcome ``stuck`` when the model proposes the same actions this many times in a row
                     on an unchanged screen (steps made only of ``wait`` do not count); 0 disables the check
    timeout_s        wall-clock limit for the whole run (outcome ``timeout``); None: no limit
    wait_s           how long a ``wait()`` without its own duration sleeps before looking again
    settle_s         fixed delay after each step's actions, before the next screenshot
    settle_stable    then keep capturing (every ``settle_poll_s``) until two consecutive screenshots match, for at
                     most ``settle_timeout_s``; the last capture becomes the next step's screenshot
    max_env_errors   consecutive steps whose action the environment refused (EnvError) before the run stops with
                     outcome ``env_error``; each refusal is recorded in the step and the model sees the unchanged
                     screen on the next step
    max_call_user    how many ``call_user`` questions a user callback may answer before the run stops
    dry_run          record what would be done, execute nothing
    mode, language   passed to the profile's prompt ("computer", "mobile", "grounding"; the Thought language,
                     None: the profile's)
    sampling         None: the profile's sampling
    """

    max_steps: int = 50
    parse_tries: int = 3
    stuck_after: int = 3
    timeout_s: float | None = None
    wait_s: float = 5.0
    settle_s: float = 0.0
    settle_stable: bool = False
    settle_timeout_s: float = 2.0
    settle_poll_s: float = 0.1
    max_env_errors: int = 3
    max_call_user: int = 3
    dry_run: bool = False
    mode: str = "computer"
    language: str | None = None
    sampling: Sampling | None = None

    def __post_init__(self) -> None:
        def positive_int(name: str, minimum: int) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ConfigError(f"AgentConfig.{name} must be an integer >= {minimum}, got {value!r}")

        positive_int("max_steps", 1)
        positive_int("parse_tries", 1)
        positive_int("stuck_after", 0)
        positive_int("max_env_errors", 1)
        positive_int("max_call_user", 0)
        for name in ("wait_s", "settle_s", "settle_timeout_s", "settle_poll_s", "timeout_s"):
            value = getattr(self, name)
            if value is None and name == "timeout_s":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value < 0:
                raise ConfigError(f"AgentConfig.{name} must be a non-negative number of seconds, got {value!r}")
        if self.stuck_after == 1:
            raise ConfigError("AgentConfig.stuck_after must be 0 (off) or at least 2: one action cannot repeat")

    def to_json(self) -> dict[str, Any]:
        """The settings as JSON-able data (meta.json's ``config``; replay reads it back)."""
        out = asdict(self)
        if self.sampling is not None:
            out["sampling"] = {**asdict(self.sampling), "stop": list(self.sampling.stop)}
        return out
