"""guiagent: a framework for multimodal GUI agents.

The names a user needs, importable from the top::

    import guiagent

    env = guiagent.make_env("mock", task="files-new-folder")
    loaded = guiagent.load_model("scripted", env=env)
    agent = guiagent.Agent(env, loaded.model, loaded.profile, guiagent.AgentConfig(max_steps=30))
    result = agent.run(env.task.instruction, out_dir="runs")      # result.outcome, result.run_dir
    guiagent.check_env(env)                 # the conformance check every environment passes

Everything else lives in the layer packages (``actions``, ``models``, ``envs``, ``agent``, ``cli``; see
``docs/architecture.md``); modules and names starting with ``_`` are private. Names are imported on first use, so
``import guiagent`` stays cheap (the ``guiagent parse`` command does not load PIL, the loop or the mock desktop).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    # the loop
    "Agent": "guiagent.agent.loop", "AgentConfig": "guiagent.agent.config", "RunResult": "guiagent.agent.loop",
    "Hooks": "guiagent.agent.hooks", "load_run": "guiagent.agent.trajectory",
    # models
    "load_model": "guiagent.agent.spec", "LoadedModel": "guiagent.agent.spec", "register_spec": "guiagent.agent.spec",
    "Model": "guiagent.models.base", "Profile": "guiagent.models.profiles", "get_profile": "guiagent.models.profiles",
    "PROFILES": "guiagent.models.profiles",
    # environments
    "make_env": "guiagent.agent.factory", "Env": "guiagent.envs.base", "Observation": "guiagent.envs.base",
    "check_env": "guiagent.envs.check",
    # actions and grammars
    "Action": "guiagent.actions.types", "Point": "guiagent.actions.types", "Space": "guiagent.actions.types",
    "Step": "guiagent.actions.types", "Display": "guiagent.actions.coords", "get_grammar": "guiagent.actions.families",
    "GRAMMARS": "guiagent.actions.families",
    # the error tree
    **{name: "guiagent.errors" for name in (
        "GuiAgentError", "ParseError", "ActionError", "UnsupportedAction", "EnvError", "DeniedAction",
        "FailSafeTriggered", "ModelError", "TrajectoryError", "ConfigError")},
}

#: every action class, by name (Click, Drag, Type, ...), from the one typed action set
_ACTION_NAMES = ("Click", "Drag", "Scroll", "Type", "Hotkey", "Press", "KeyDown", "KeyUp", "MoveTo", "MouseDown",
                 "MouseUp", "Wait", "Finished", "CallUser", "LongPress", "OpenApp", "PressHome", "PressBack",
                 "Navigate", "NavigateBack")
_EXPORTS.update({name: "guiagent.actions.types" for name in _ACTION_NAMES})

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'guiagent' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # for type checkers and IDEs; at run time the names above are imported on first use
    from guiagent.actions.coords import Display
    from guiagent.actions.families import GRAMMARS, get_grammar
    from guiagent.actions.types import (Action, CallUser, Click, Drag, Finished, Hotkey, KeyDown, KeyUp, LongPress,
                                        MouseDown, MouseUp, MoveTo, Navigate, NavigateBack, OpenApp, Point, Press,
                                        PressBack, PressHome, Scroll, Space, Step, Type, Wait)
    from guiagent.agent.config import AgentConfig
    from guiagent.agent.factory import make_env
    from guiagent.agent.hooks import Hooks
    from guiagent.agent.loop import Agent, RunResult
    from guiagent.agent.spec import LoadedModel, load_model, register_spec
    from guiagent.agent.trajectory import load_run
    from guiagent.envs.base import Env, Observation
    from guiagent.envs.check import check_env
    from guiagent.errors import (ActionError, ConfigError, DeniedAction, EnvError, FailSafeTriggered, GuiAgentError,
                                 ModelError, ParseError, TrajectoryError, UnsupportedAction)
    from guiagent.models.base import Model
    from guiagent.models.profiles import PROFILES, Profile, get_profile
