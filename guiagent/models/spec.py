"""Model SPEC strings: one string names a backend and where the model lives.

    openai:BASE_URL   an OpenAI-compatible server (vLLM, SGLang, hosted), e.g. openai:http://localhost:8000/v1
    hf:PATH           a local Qwen2-VL / Qwen2.5-VL-architecture checkpoint folder, run in-process by transformers,
                      or a Kimi-VL one (config.json model_type kimi_vl), run natively (guiagent.models.kimi_vl)
    scripted          the mock desktop's built-in model (reads the mock's accessibility tree; needs env=)
    replay:RUN        answers recorded in a trajectory folder, replayed in order

The family (profile) is the one given, else the config file's, else guessed from the served model name or the
checkpoint path ("family auto-detected: ..." is logged and ``family_guessed`` is set so the CLI can say so).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from guiagent.errors import ConfigError
from guiagent.models.base import Model
from guiagent.models.config import resolve_profile
from guiagent.models.profiles import Profile

log = logging.getLogger("guiagent.models")

SPEC_FORMS = ("openai:BASE_URL", "hf:PATH", "scripted", "replay:RUN")

_OPENAI_OPTIONS = {"image_format", "jpeg_quality", "timeout", "retries", "backoff_base", "backoff_max",
                   "api_key", "extra_body"}
_HF_OPTIONS = {"device", "dtype", "attn_implementation"}
_BACKEND_OPTIONS = _OPENAI_OPTIONS | _HF_OPTIONS


@dataclass(frozen=True)
class LoadedModel:
    model: Model
    profile: Profile
    #: True when the family was inferred from the model name / path rather than given
    family_guessed: bool = False


def load_model(spec: str, *, family: str | None = None, model_name: str | None = None, env: Any = None,
               config: str | Path | None = None, overrides: Mapping[str, Any] | None = None,
               **options: Any) -> LoadedModel:
    """Build the model a SPEC names, with its profile.

    Args:
        spec: see the module docstring.
        family: profile name; None: from the config file, else guessed, else an error (``scripted`` defaults
            to ui-tars-1.5).
        model_name: openai: the served name (None: asked from /v1/models).
        env: the environment (``scripted`` reads it).
        config: TOML/JSON file of profile overrides; ``overrides``: more overrides, applied last.
        options: backend options. openai: image_format, jpeg_quality, timeout, retries, backoff_base,
            backoff_max, api_key, extra_body. hf: device, dtype, attn_implementation. Options meant for another
            backend are ignored; unknown ones raise ConfigError.
    """
    unknown = set(options) - _BACKEND_OPTIONS
    if unknown:
        raise ConfigError(f"unknown model option(s) {sorted(unknown)}; valid: {', '.join(sorted(_BACKEND_OPTIONS))}")
    spec = (spec or "").strip()
    kind, _, rest = spec.partition(":")
    kind = kind.lower()

    if kind == "openai" and rest:
        return _load_openai(rest, family, model_name, config, overrides, options)
    if kind == "hf" and rest:
        return _load_hf(rest, family, config, overrides, options)
    if spec == "scripted":
        return _load_scripted(env, family, config, overrides)
    if kind == "replay" and rest:
        return _load_replay(rest, family, config, overrides)
    raise ConfigError(f"unknown model spec {spec!r}; use one of: {', '.join(SPEC_FORMS)}")


def _load_openai(url: str, family, model_name, config, overrides, options) -> LoadedModel:
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"openai: needs an http(s) URL, e.g. openai:http://localhost:8000/v1 (got {url!r})")
    from guiagent.models.openai_backend import OpenAIModel, RetryPolicy

    retry_fields = {k: options[k] for k in ("retries", "backoff_base", "backoff_max") if k in options}
    kwargs = {k: options[k] for k in ("image_format", "jpeg_quality", "timeout", "api_key", "extra_body")
              if k in options}
    model = OpenAIModel(url, model_name, retry=RetryPolicy(**retry_fields), **kwargs)
    profile, guessed = resolve_profile(family, name_hint=model.model_name, config=config, overrides=overrides)
    return LoadedModel(model, profile, guessed)


def _load_hf(path: str, family, config, overrides, options) -> LoadedModel:
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"hf: {folder} is not a folder; give the path of a downloaded checkpoint "
                          f"(the folder holding config.json)")
    from guiagent.models.kimi_vl import is_kimi_vl_checkpoint
    if is_kimi_vl_checkpoint(folder):
        from guiagent.models.kimi_vl.backend import load_kimi_vl
        return LoadedModel(*load_kimi_vl(folder, family, config, overrides,
                                         {k: options[k] for k in _HF_OPTIONS if k in options}))
    hint = str(folder.resolve())
    if family is None and not config:
        from guiagent.models.profiles import guess_family
        if guess_family(hint) is None:
            hint = _checkpoint_name(folder) or hint
    profile, guessed = resolve_profile(family, name_hint=hint, config=config, overrides=overrides)
    from guiagent.models.local_backend import LocalQwenModel

    model = LocalQwenModel(folder, profile, **{k: options[k] for k in _HF_OPTIONS if k in options})
    return LoadedModel(model, profile, guessed)


def _checkpoint_name(folder: Path) -> str | None:
    """The name a checkpoint calls itself (``_name_or_path`` in config.json), for folders named e.g. 'ckpt-100'."""
    try:
        data = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    name = data.get("_name_or_path") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name else None


def _load_scripted(env, family, config, overrides) -> LoadedModel:
    if env is None:
        raise ConfigError("the scripted model reads the mock desktop: it needs env= (use it with --env mock)")
    try:
        from guiagent.envs.mock.scripted import ScriptedModel
    except ImportError as exc:
        raise ConfigError("the scripted model (guiagent.envs.mock.scripted) is not installed in this "
                          "build") from exc
    profile, guessed = resolve_profile(family, config=config, overrides=overrides, default="ui-tars-1.5")
    return LoadedModel(ScriptedModel(env, profile), profile, guessed)


def _load_replay(run: str, family, config, overrides) -> LoadedModel:
    try:
        from guiagent.agent.replay import ReplayModel
        from guiagent.agent.trajectory import load_run
    except ImportError as exc:
        raise ConfigError("trajectory replay (guiagent.agent.replay) is not installed in this build") from exc
    recorded_run = load_run(Path(run).expanduser())
    model = ReplayModel.from_run(recorded_run)
    meta = getattr(recorded_run, "meta", None) or {}
    recorded = meta.get("family") if isinstance(meta.get("family"), str) else None
    # Precedence: --family, the config file's family, the family the run was recorded with, a guess from its name.
    profile, guessed = resolve_profile(family, name_hint=None if recorded else meta.get("model"),
                                       config=config, overrides=overrides, default=recorded)
    return LoadedModel(model, profile, guessed)
