"""Profile overrides from config files and command-line flags.

A config file is TOML (``.toml``) or JSON (``.json``) whose keys are the names ``Profile.with_overrides`` accepts,
plus ``family`` (which profile to start from). Prompt templates can be given inline or as files next to it::

    family = "ui-tars-1.5"
    temperature = 0.0
    max_images = 3

    [prompts]
    computer_file = "my_computer_prompt.txt"   # read byte-exact, relative to this file

    [budget]
    max_pixels = 2_000_000

The order of precedence is: the family's defaults < the config file < command-line flags. ``[run]`` and ``[env]``
tables hold run settings (step limit, environment options) for ``guiagent run`` (``guiagent.cli.runconfig``).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any, Mapping

from guiagent.errors import ConfigError
from guiagent.models.profiles import PROFILES, Profile, get_profile, guess_family, override_names

log = logging.getLogger("guiagent.models")

#: tables of a config file that hold run settings rather than profile fields (``[run]``: max_steps, timeout...;
#: ``[env]``: the environment's options); ``guiagent run`` reads them
RUN_TABLES = ("run", "env")


def load_config(path: str | Path) -> dict[str, Any]:
    """The overrides in a TOML or JSON config file, with ``prompts.<mode>_file`` entries read into text."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(raw.decode("utf-8"))
        except ValueError as exc:
            raise ConfigError(f"config file {path} is not valid JSON: {exc}") from exc
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
                    resolved[key[: -len("_file")]] = prompt_path.read_bytes().decode("utf-8")
                except OSError as exc:
                    raise ConfigError(f"{path}: cannot read prompt file {prompt_path}: "
                                      f"{exc.strerror or exc}") from exc
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


# ---------------------------------------------------------------------- command line

#: flag destination -> profile override name
_FLAG_OVERRIDES = {
    "temperature": "temperature", "top_p": "top_p", "max_tokens": "max_tokens", "max_images": "max_images",
    "min_pixels": "min_pixels", "max_pixels": "max_pixels", "language": "language", "sampling_seed": "seed",
}


def family_name(text: str) -> str:
    """argparse type for --family: a known family name (the error names close matches)."""
    if text not in PROFILES:
        from guiagent.models.profiles import unknown_family_message
        raise argparse.ArgumentTypeError(unknown_family_message(text))
    return text


def add_model_arguments(parser: argparse.ArgumentParser, *, default_model: str | None = None) -> None:
    """Add the model flags to a sub-command: --model SPEC, --family, --model-name, sampling and budget
    overrides, backend options, --config FILE. Read them back with ``profile_from_args`` / ``load_model_from_args``.
    Names that loop or environment options commonly use (--seed, --timeout) are avoided: the sampling seed is
    --sampling-seed and the per-request limit --request-timeout."""
    families = ", ".join(PROFILES)
    g = parser.add_argument_group("model")
    g.add_argument("--model", dest="model", default=default_model, metavar="SPEC",
                   help="openai:BASE_URL (an OpenAI-compatible server such as vLLM), hf:PATH (a local "
                        "Qwen2.5-VL-architecture checkpoint), scripted (the mock desktop's built-in model), "
                        "replay:RUN_DIR" + (f" (default: {default_model})" if default_model else ""))
    g.add_argument("--family", type=family_name, metavar="FAMILY",
                   help=f"model family profile: {families} (default: guessed from the model name)")
    g.add_argument("--model-name", help="served model name (default: asked from the server's /v1/models)")
    g.add_argument("--config", metavar="FILE", help="TOML or JSON file of profile overrides (and, for `guiagent "
                                                    "run`, [run] and [env] tables of run settings)")
    g.add_argument("--temperature", type=float, help="sampling temperature (family default otherwise)")
    g.add_argument("--top-p", type=float, help="nucleus sampling top_p")
    g.add_argument("--max-tokens", type=int, help="longest response, in tokens")
    g.add_argument("--sampling-seed", dest="sampling_seed", type=int,
                   help="sampling seed, where the backend supports one")
    g.add_argument("--max-images", type=int, help="screenshots per request, the current one included")
    g.add_argument("--min-pixels", type=int, help="image budget: least pixels per image (Qwen-style families)")
    g.add_argument("--max-pixels", type=int, help="image budget: most pixels per image (Qwen-style families)")
    g.add_argument("--language", help="language of the model's thoughts (prompt {language}; default English)")
    g.add_argument("--image-format", choices=["png", "jpeg"], default=None,
                   help="openai: how screenshots are encoded (default png)")
    g.add_argument("--jpeg-quality", type=int, default=None, help="openai: JPEG quality 1..100 (default 90)")
    g.add_argument("--request-timeout", dest="request_timeout", type=float, default=None,
                   help="openai: seconds per request (default 120)")
    g.add_argument("--retries", type=int, default=None,
                   help="openai: retries on connection errors, 429 and 5xx (default 3)")
    g.add_argument("--device", default=None, help="hf: torch device (default cuda if available, else cpu)")
    g.add_argument("--dtype", default=None, choices=["bfloat16", "float16", "float32"],
                   help="hf: weights dtype (default bfloat16 on GPU, float32 on CPU)")


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    return {name: getattr(args, dest) for dest, name in _FLAG_OVERRIDES.items()
            if getattr(args, dest, None) is not None}


def backend_options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    flags = {"image_format": "image_format", "jpeg_quality": "jpeg_quality", "request_timeout": "timeout",
             "retries": "retries", "device": "device", "dtype": "dtype"}
    return {option: getattr(args, dest) for dest, option in flags.items() if getattr(args, dest, None) is not None}


def profile_from_args(args: argparse.Namespace, *, name_hint: str | None = None,
                      default: str | None = None) -> Profile:
    """The profile the flags describe (family, then --config, then flag overrides)."""
    profile, _ = resolve_profile(getattr(args, "family", None),
                                 name_hint=name_hint or getattr(args, "model_name", None) or getattr(args, "model", None),
                                 config=getattr(args, "config", None), overrides=overrides_from_args(args),
                                 default=default)
    return profile


def load_model_from_args(args: argparse.Namespace, *, env: Any = None, spec: str | None = None):
    """``guiagent.models.spec.load_model`` driven by the flags of ``add_model_arguments``."""
    from guiagent.models.spec import load_model

    spec = spec or getattr(args, "model", None)
    if not spec:
        raise ConfigError("no model given: pass --model SPEC (openai:URL, hf:PATH, scripted, replay:RUN)")
    return load_model(spec, family=getattr(args, "family", None), model_name=getattr(args, "model_name", None),
                      env=env, config=getattr(args, "config", None), overrides=overrides_from_args(args),
                      **backend_options_from_args(args))


__all__ = ["add_model_arguments", "backend_options_from_args", "load_config", "load_model_from_args",
           "overrides_from_args", "profile_from_args", "resolve_profile", "override_names"]
