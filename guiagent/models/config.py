"""Profile overrides from config files (the command-line flags are in ``guiagent.cli.model_args``).

A config file is TOML (``.toml``) or JSON (``.json``) whose keys are the names ``Profile.with_overrides`` accepts,
plus ``family`` (which profile to start from). Prompt templates can be given inline or as files next to it::

    family = "ui-tars-1.5"
    temperature = 0.0
    max_images = 3

    [prompts]
    computer_file = "my_computer_prompt.txt"   # read byte-exact, relative to this file, in its folder

    [budget]
    max_pixels = 2_000_000

The order of precedence is: the family's defaults < the config file < command-line flags. ``[run]`` and ``[env]``
tables hold run settings (step limit, environment options) for ``guiagent run`` (``guiagent.cli.runconfig``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping

from guiagent._jsonio import loads, read_text
from guiagent.errors import ConfigError
from guiagent.models.profiles import (PROFILES, Profile, did_you_mean, get_profile, guess_family,
                                      override_names)

log = logging.getLogger("guiagent.models")

#: tables of a config file that hold run settings rather than profile fields (``[run]``: max_steps, timeout...;
#: ``[env]``: the environment's options); ``guiagent run`` reads them
RUN_TABLES = ("run", "env")
#: Largest prompt file read (a prompt template is a few KB)
MAX_PROMPT_FILE = 1 << 20


def load_config(path: str | Path) -> dict[str, Any]:
    """The overrides in a TOML or JSON config file, with ``prompts.<mode>_file`` entries read into text."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    if path.suffix.lower() == ".json":
        try:
            data = loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ConfigError(f"config file {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
        except ValueError as exc:  # "not valid JSON: ...", nested too deeply included
            raise ConfigError(f"config file {path}: {exc}") from None
    else:
        try:
            import tomllib
        except ImportError:  # Python 3.10
            try:
                import tomli as tomllib  # type: ignore[no-redef]
            except ImportError as exc:
                raise ConfigError(f"reading TOML needs Python 3.11+ (or `pip install tomli`); "
                                  f"or write {path.name} as JSON") from exc
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
        except RecursionError:  # tomllib recurses once per nested array or table
            raise ConfigError(f"config file {path} is not valid TOML: nested too deeply") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a table of settings")
    prompts = data.get("prompts")
    if prompts is not None:
        if not isinstance(prompts, dict):
            raise ConfigError(f"{path}: prompts must be a table mapping a mode to a template")
        resolved: dict[str, str] = {}
        for key, value in prompts.items():
            if key.endswith("_file"):
                prompt_path = path.parent / str(value)
                try:
                    # the prompt is sent to the model server: a config (maybe one that came with a downloaded
                    # model) may only name files in its own folder, not /etc/passwd or ~/.ssh/id_rsa
                    resolved[key[: -len("_file")]] = read_text(prompt_path, limit=MAX_PROMPT_FILE,
                                                               inside=path.parent)
                except OSError as exc:
                    raise ConfigError(f"{path}: cannot read prompt file {prompt_path}: "
                                      f"{exc.strerror or exc}") from exc
                except ValueError as exc:
                    raise ConfigError(f"{path}: prompt file {prompt_path}: {exc} (prompt files are UTF-8 text "
                                      f"in the config file's folder)") from None
            else:
                resolved[key] = value
        data["prompts"] = resolved
    return data


def resolve_profile(family: str | None = None, *, name_hint: str | None = None, config: str | Path | None = None,
                    overrides: Mapping[str, Any] | None = None, default: str | None = None) -> tuple[Profile, bool]:
    """Pick and adjust a profile. Returns (profile, family_was_guessed).

    The family is, in order: ``family``; the config file's ``family``; a guess from ``name_hint`` (a served
    model name or checkpoint path); ``default``. No family at all raises ConfigError listing the choices.
    """
    file_overrides = load_config(config) if config else {}
    known = [*override_names(), "family", *RUN_TABLES]
    for key in file_overrides:  # the file's keys named with the file, and with the keys only files have
        if key not in known:
            raise ConfigError(f"{config}: unknown setting {key!r}; {did_you_mean(key, known)}valid: "
                              f"{', '.join(known)}")
    for table in RUN_TABLES:  # read by the command line (guiagent.cli.runconfig), not part of the profile
        file_overrides.pop(table, None)
    family = family or file_overrides.pop("family", None)
    file_overrides.pop("family", None)
    guessed = False
    if family is None:
        family = guess_family(name_hint)
        if family is not None:
            guessed = True
            log.info("family auto-detected: %s (from %r)", family, name_hint)
    if family is None:
        family = default
    if family is None:
        hint = f" from {name_hint!r}" if name_hint else ""
        raise ConfigError(f"cannot tell the model family{hint}; pass --family (one of: {', '.join(PROFILES)})")
    profile = get_profile(family)
    if file_overrides:
        profile = profile.with_overrides(**file_overrides)
    if overrides:
        profile = profile.with_overrides(**overrides)
    return profile, guessed


__all__ = ["load_config", "resolve_profile", "override_names"]
