"""Exceptions raised by guiagent.

    GuiAgentError
    ├── ParseError            model text that does not follow the family's grammar
    ├── ActionError           an action that is invalid in itself (bad key, NaN coordinate, empty hotkey)
    │   └── UnsupportedAction an action the target (family formatter, environment) cannot express
    ├── EnvError              an environment that cannot carry out a valid action (point off screen, no display);
    │   │                     ``fatal`` ones (the desktop's fail-safe) end an agent run at once
    │   ├── DeniedAction      an action the desktop's safety rules refuse (deny list); nothing was sent
    │   └── FailSafeTriggered the pointer went into a screen corner (the user stops the agent); fatal
    ├── ModelError            a model backend that failed (HTTP error, bad checkpoint)
    ├── TrajectoryError       a run folder that cannot be written or read
    └── ConfigError           bad user configuration (unknown family, bad spec string, a size or scale that is
                              not positive, an unknown image budget)

Errors that are also bad values (ParseError, ActionError, ConfigError) subclass ``ValueError`` too, so code that
caught ValueError before keeps working.
"""

from __future__ import annotations


class GuiAgentError(Exception):
    """Base class of every error guiagent raises on purpose."""


class ParseError(GuiAgentError, ValueError):
    """Model output that could not be parsed. The message quotes the offending fragment."""

    #: Longest message kept before the quoted fragment (messages may echo values read from the model's text).
    MAX_MESSAGE = 300

    def __init__(self, message: str, fragment: str | None = None):
        self.fragment = fragment
        if len(message) > self.MAX_MESSAGE:
            message = message[:self.MAX_MESSAGE - 3] + "..."
        if fragment is not None:
            message = f"{message}: {quote_fragment(fragment)}"
        super().__init__(message)


class ActionError(GuiAgentError, ValueError):
    """An action whose fields are invalid."""


class UnsupportedAction(ActionError):
    """An action that a family or an environment cannot express."""


class EnvError(GuiAgentError):
    """An environment could not carry out an action or capture the screen.

    Most such errors concern one action (a point off the screen, a refused key): an agent records them and lets
    the model try something else. A subclass sets ``fatal = True`` when going on would be wrong whatever the model
    does next (the user pulled the pointer into a corner to stop the agent); the agent loop then ends the run at
    once instead of counting the error.
    """

    #: True: end the run now (the agent loop's outcome "env_error"); False: the error concerns this action only.
    fatal: bool = False


class DeniedAction(EnvError):
    """An action refused by the desktop's safety rules (deny list). Nothing was sent."""


class FailSafeTriggered(EnvError):
    """pyautogui's fail-safe fired: the pointer is in a screen corner, which is how a user stops the agent.

    Agent loops should end the run on this error rather than report it to the model and carry on.
    """

    fatal = True


class ModelError(GuiAgentError):
    """A model backend failed."""


class TrajectoryError(GuiAgentError):
    """A run folder that cannot be written or read."""


class ConfigError(GuiAgentError, ValueError):
    """Bad configuration: unknown names, malformed spec strings, conflicting options."""


def quote_fragment(fragment: str, limit: int = 120) -> str:
    """Quote a piece of model text for an error message, shortened to ``limit`` characters."""
    if len(fragment) > limit:
        fragment = fragment[: limit - 3] + "..."
    return repr(fragment)
