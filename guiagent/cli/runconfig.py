"""Run settings from ``--config FILE``: the ``[run]`` and ``[env]`` tables, next to the profile overrides.

    family = "ui-tars-1.5"
    temperature = 0.0

    [run]
    max_steps = 30
    timeout = 600
    settle = 0.5

    [env]
    kind = "mock"             # what --env takes: mock, desktop, sandbox, vnc:HOST:PORT
    task = "rename-file"
    size = "1920x1080"

A flag given on the command line wins over the file. Unknown names are a ConfigError that suggests the closest
valid ones ("did you mean: max_steps?").
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import Any

from guiagent.errors import ConfigError
from guiagent.models.profiles import did_you_mean


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")
    return value


def _text_list(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise argparse.ArgumentTypeError(f"expected a list of 'key+key' strings, got {value!r}")
    return list(value)


def _size(value: Any) -> tuple[int, int]:
    from guiagent.cli.parse import screen_size

    if isinstance(value, list) and len(value) == 2:
        value = f"{value[0]}x{value[1]}"
    return screen_size(str(value))


def _choice(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices:
            raise argparse.ArgumentTypeError(f"expected one of {', '.join(choices)}, got {value!r}")
        return value
    return check


def _env_kind(value: Any) -> str:
    """[env] kind: exactly what ``--env`` takes (mock, desktop, sandbox, vnc:HOST:PORT), with its message."""
    from guiagent.cli.sandbox import env_choice

    if not isinstance(value, str):
        raise argparse.ArgumentTypeError(f"expected mock, desktop, sandbox or vnc:HOST:PORT, got {value!r}")
    return env_choice(value)


def _run_fields() -> dict[str, tuple[str, Callable[[Any], Any]]]:
    from guiagent.cli.argtypes import positive_int, seconds

    return {
        "max_steps": ("max_steps", lambda v: positive_int(str(v))),
        "timeout": ("timeout", lambda v: seconds(str(v))),
        "wait": ("wait", lambda v: seconds(str(v))),
        "settle": ("settle", lambda v: seconds(str(v))),
        "settle_stable": ("settle_stable", _bool),
        "mode": ("mode", _choice("computer", "mobile", "grounding")),
        "dry_run": ("dry_run", _bool),
        "report": ("report", _bool),
    }


def _env_fields() -> dict[str, tuple[str, Callable[[Any], Any]]]:
    from guiagent.cli.argtypes import monitor_spec
    from guiagent.envs.desktop.env import UNICODE_METHODS

    def number(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise argparse.ArgumentTypeError(f"expected a number, got {v!r}")
        return float(v)

    def whole(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise argparse.ArgumentTypeError(f"expected a whole number, got {v!r}")
        return v

    def text(v: Any) -> str:
        if not isinstance(v, str) or not v:
            raise argparse.ArgumentTypeError(f"expected text, got {v!r}")
        return v

    return {
        "kind": ("env", _env_kind),
        "task": ("task", text),
        "seed": ("seed", whole),
        "size": ("size", _size),
        "scale": ("scale", number),
        "monitor": ("monitor", lambda v: monitor_spec(str(v))),
        "failsafe": ("failsafe", lambda v: None if _bool(v) else False),
        "unicode_method": ("unicode_method", _choice(*UNICODE_METHODS)),
        "allow_hotkeys": ("allow_hotkey", _text_list),
        "deny_hotkeys": ("deny_hotkey", _text_list),
    }


#: the argparse defaults of the settings above: a value still at its default was not given on the command line
_DEFAULTS = {"max_steps": None, "timeout": None, "wait": 5.0, "settle": None, "settle_stable": False,
             "mode": "computer", "dry_run": False, "report": False, "env": "mock", "task": None, "seed": None,
             "size": None, "scale": None, "monitor": None, "failsafe": None, "unicode_method": None,
             "allow_hotkey": [], "deny_hotkey": []}


def apply_run_config(args: argparse.Namespace, data: Mapping[str, Any], source: str) -> None:
    """Set ``args`` from the ``[run]`` and ``[env]`` tables of a loaded config file, where no flag was given.

    Raises:
        ConfigError: a table that is not a table, an unknown name (with close matches), or a bad value.
    """
    for table, fields in (("run", _run_fields()), ("env", _env_fields())):
        values = data.get(table)
        if values is None:
            continue
        if not isinstance(values, Mapping):
            raise ConfigError(f"{source}: [{table}] must be a table of settings, got {values!r}")
        for name, value in values.items():
            if name not in fields:
                raise ConfigError(f"{source}: unknown {table} setting {name!r}; {did_you_mean(name, list(fields))}"
                                  f"valid: {', '.join(fields)}")
            dest, convert = fields[name]
            try:
                converted = convert(value)
            except (argparse.ArgumentTypeError, ValueError) as e:
                raise ConfigError(f"{source}: {table}.{name}: {e}") from None
            if getattr(args, dest, None) == _DEFAULTS[dest]:
                setattr(args, dest, converted)
