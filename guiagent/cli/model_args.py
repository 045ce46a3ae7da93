"""The model flags shared by the sub-commands that run a model (``--model SPEC``, ``--family``, overrides).

    add_model_arguments(parser)            # in a sub-command's parser
    loaded = load_model_from_args(args)    # after parsing: guiagent.agent.spec.load_model with those flags
"""

from __future__ import annotations

import argparse
from typing import Any

from guiagent.agent.spec import LoadedModel, load_model
from guiagent.errors import ConfigError
from guiagent.models.config import resolve_profile
from guiagent.models.profiles import PROFILES, Profile, unknown_family_message


#: flag destination -> profile override name
_FLAG_OVERRIDES = {
    "temperature": "temperature", "top_p": "top_p", "max_tokens": "max_tokens", "max_images": "max_images",
    "min_pixels": "min_pixels", "max_pixels": "max_pixels", "language": "language", "sampling_seed": "seed",
}


def family_name(text: str) -> str:
    """argparse type for --family: a known family name (the error names close matches)."""
    if text not in PROFILES:
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
                        "Qwen2-VL/Qwen2.5-VL-architecture or Kimi-VL checkpoint folder), scripted (the mock "
                        "desktop's built-in model), replay:RUN_DIR"
                        + (f" (default: {default_model})" if default_model else ""))
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
    """The profile overrides (sampling, budget, language) given as flags, by profile field name."""
    return {name: getattr(args, dest) for dest, name in _FLAG_OVERRIDES.items()
            if getattr(args, dest, None) is not None}


def backend_options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The backend options (image format, timeouts, device, dtype) given as flags, by ``load_model`` name."""
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


def check_mode(args: argparse.Namespace) -> None:
    """Refuse ``--mode`` up front when the family the flags name (``--family``, or ``family`` in ``--config``) has
    no prompt for it, before an environment starts or a run folder is written. A family still to be guessed from
    the served model's name is checked once the model is loaded (``Profile.prompt``).

    Args:
        args: the parsed flags (``mode``, ``family``, ``config`` and the overrides).

    Raises:
        ConfigError: the family has no prompt for the mode.
    """
    mode = getattr(args, "mode", None)
    if not mode or not (getattr(args, "family", None) or getattr(args, "config", None)):
        return
    try:
        profile, guessed = resolve_profile(getattr(args, "family", None), config=getattr(args, "config", None),
                                           overrides=overrides_from_args(args))
    except ConfigError:
        return  # no family named after all (or a bad --config): the model loader says what is wrong
    profile.prompt(mode)


def load_model_from_args(args: argparse.Namespace, *, env: Any = None, spec: str | None = None) -> LoadedModel:
    """``guiagent.agent.spec.load_model`` driven by the flags of ``add_model_arguments``.

    Args:
        args: the parsed flags; env: the environment (the scripted model reads it); spec: overrides ``--model``.

    Returns:
        The LoadedModel.

    Raises:
        ConfigError: no --model, or a bad spec, family or option.
    """
    spec = spec or getattr(args, "model", None)
    if not spec:
        raise ConfigError("no model given: pass --model SPEC (openai:URL, hf:PATH, scripted, replay:RUN)")
    return load_model(spec, family=getattr(args, "family", None), model_name=getattr(args, "model_name", None),
                      env=env, config=getattr(args, "config", None), overrides=overrides_from_args(args),
                      **backend_options_from_args(args))


__all__ = ["add_model_arguments", "backend_options_from_args", "check_mode", "load_model_from_args", "overrides_from_args",
           "profile_from_args"]
