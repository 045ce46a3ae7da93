"""Model SPEC strings: one string names a backend and where the model lives.

    openai:BASE_URL   an OpenAI-compatible server (vLLM, SGLang, hosted), e.g. openai:http://localhost:8000/v1
    hf:PATH           a local Qwen2-VL / Qwen2.5-VL-architecture checkpoint folder, run in-process by transformers,
                      or a Kimi-VL one (config.json model_type kimi_vl), run natively (guiagent.models.kimi_vl)
    scripted          the mock desktop's built-in model (reads the mock's accessibility tree; needs env=)
    replay:RUN        answers recorded in a trajectory folder, replayed in order

The family (profile) is the one given, else the config file's, else guessed from the served model name or the
checkpoint path ("family auto-detected: ..." is logged and ``family_guessed`` is set so the CLI can say so).

Each prefix is an entry of ``SPEC_KINDS`` (see ``register_spec``): a new backend adds one entry, nothing else. This
module sits in the agent layer, next to ``factory.make_env``, because two of its kinds are built from upper layers
(the mock's scripted model, a recorded run); ``guiagent.models`` stays free of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from guiagent._jsonio import loads, read_text
from guiagent.envs.base import ProvidesScriptedModel
from guiagent.errors import ConfigError
from guiagent.models.base import Model
from guiagent.models.config import resolve_profile
from guiagent.models.profiles import Profile

log = logging.getLogger("guiagent.models")

_OPENAI_OPTIONS = {"image_format", "jpeg_quality", "timeout", "retries", "backoff_base", "backoff_max",
                   "api_key", "extra_body"}
_HF_OPTIONS = {"device", "dtype", "attn_implementation"}
_BACKEND_OPTIONS = _OPENAI_OPTIONS | _HF_OPTIONS


@dataclass(frozen=True)
class LoadedModel:
    """A model built from a SPEC, with the profile it runs under."""

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

    Returns:
        The model, its profile, and whether the family was guessed.

    Raises:
        ConfigError: an unknown spec, option or family, a bad URL or path.
        ModelError: the backend could not be reached or loaded.
    """
    unknown = set(options) - _BACKEND_OPTIONS
    if unknown:
        raise ConfigError(f"unknown model option(s) {sorted(unknown)}; valid: {', '.join(sorted(_BACKEND_OPTIONS))}")
    spec = (spec or "").strip()
    kind, sep, rest = spec.partition(":")
    entry = SPEC_KINDS.get(kind.lower())
    if entry is None or (not rest if entry.takes_argument else bool(sep)):
        raise ConfigError(f"unknown model spec {spec!r}; use one of: {', '.join(SPEC_FORMS)}")
    request = SpecRequest(family, model_name, env, config, overrides, dict(options))
    return entry.load(rest, request)


#: SPEC kind -> (modules its backend imports, the extra that installs them)
_SPEC_EXTRAS = {"openai": (("openai",), "openai"), "hf": (("torch", "transformers"), "local")}


def check_spec(spec: str) -> None:
    """Refuse, without loading anything, a SPEC that ``load_model`` would refuse: an unknown kind, or a backend
    whose packages are not installed (so a long run, such as an evaluation, fails at once and clearly).

    Raises:
        ConfigError: the spec's kind is unknown, or its extra is missing (the message says what to pip install).
    """
    kind, sep, rest = (spec or "").strip().partition(":")
    entry = SPEC_KINDS.get(kind.lower())
    if entry is None or (not rest if entry.takes_argument else bool(sep)):
        raise ConfigError(f"unknown model spec {spec!r}; use one of: {', '.join(SPEC_FORMS)}")
    modules, extra = _SPEC_EXTRAS.get(kind.lower(), ((), ""))
    missing = [m for m in modules if not _installed(m)]
    if missing:
        raise ConfigError(f"--model {kind.lower()}: needs {', '.join(missing)}: pip install 'guiagent[{extra}]'")


def _installed(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: a None entry in sys.modules (import blocked)
        return False


@dataclass(frozen=True)
class SpecRequest:
    """What ``load_model`` was asked for, handed to the loader of the SPEC's kind."""

    family: str | None = None
    model_name: str | None = None
    env: Any = None
    config: str | Path | None = None
    overrides: Mapping[str, Any] | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SpecKind:
    """One SPEC prefix: the form shown in help and errors, and the function that builds its model."""

    prefix: str
    form: str
    load: Callable[[str, SpecRequest], LoadedModel]

    @property
    def takes_argument(self) -> bool:
        """Whether the spec has a part after ":" (``hf:PATH``) or is a bare word (``scripted``)."""
        return ":" in self.form


#: SPEC prefix -> its kind, in the order help and errors list them
SPEC_KINDS: dict[str, SpecKind] = {}


def register_spec(prefix: str, form: str, load: Callable[[str, SpecRequest], LoadedModel]) -> None:
    """Add a SPEC kind, e.g. ``register_spec("kimi", "kimi:PATH", load_kimi)``.

    Args:
        prefix: what comes before the first ":" (or the whole spec for a kind without an argument).
        form: how help and error messages show it ("hf:PATH", "scripted").
        load: called with the text after the ":" and the ``SpecRequest``; returns a LoadedModel or raises
            ConfigError.
    """
    SPEC_KINDS[prefix.lower()] = SpecKind(prefix.lower(), form, load)
    global SPEC_FORMS
    SPEC_FORMS = tuple(k.form for k in SPEC_KINDS.values())


def _load_openai(url: str, request: SpecRequest) -> LoadedModel:
    family, model_name, config, overrides, options = (request.family, request.model_name, request.config,
                                                      request.overrides, request.options)
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"openai: needs an http(s) URL, e.g. openai:http://localhost:8000/v1 (got {url!r})")
    from guiagent.models.openai_backend import OpenAIModel, RetryPolicy

    retry_fields = {k: options[k] for k in ("retries", "backoff_base", "backoff_max") if k in options}
    kwargs = {k: options[k] for k in ("image_format", "jpeg_quality", "timeout", "api_key", "extra_body")
              if k in options}
    model = OpenAIModel(url, model_name, retry=RetryPolicy(**retry_fields), **kwargs)
    profile, guessed = resolve_profile(family, name_hint=model.model_name, config=config, overrides=overrides)
    return LoadedModel(model, profile, guessed)


def _load_hf(path: str, request: SpecRequest) -> LoadedModel:
    family, config, overrides, options = request.family, request.config, request.overrides, request.options
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
        data = loads(read_text(folder / "config.json", limit=16 << 20))  # a config.json is a few KB
    except (OSError, ValueError):
        return None
    name = data.get("_name_or_path") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name else None


def _load_scripted(_: str, request: SpecRequest) -> LoadedModel:
    env, family, config, overrides = request.env, request.family, request.config, request.overrides
    if env is None:
        raise ConfigError("the scripted model reads the mock desktop: it needs env= (use it with --env mock)")
    if isinstance(env, ProvidesScriptedModel):  # an env with its own reference solver (MiniWoB, desktop suite)
        profile, guessed = resolve_profile(family, config=config, overrides=overrides, default="ui-tars-1.5")
        return LoadedModel(env.scripted_model(profile), profile, guessed)
    from guiagent.envs.mock.scripted import ScriptedModel

    profile, guessed = resolve_profile(family, config=config, overrides=overrides, default="ui-tars-1.5")
    return LoadedModel(ScriptedModel(env, profile), profile, guessed)


def _load_replay(run: str, request: SpecRequest) -> LoadedModel:
    family, config, overrides = request.family, request.config, request.overrides
    from guiagent.agent.replay import ReplayModel
    from guiagent.agent.trajectory import load_run
    from guiagent.errors import TrajectoryError

    try:  # a missing or damaged run folder is bad input, like a bad spec: a usage error (exit 2)
        recorded_run = load_run(Path(run).expanduser())
        model = ReplayModel.from_run(recorded_run)
    except TrajectoryError as e:
        raise ConfigError(str(e)) from e
    meta = getattr(recorded_run, "meta", None) or {}
    task = getattr(getattr(request.env, "task", None), "id", None)
    if task is not None and meta.get("task") != task:  # its answers were for another screen: they will misclick
        log.warning("the answers replayed from %s were recorded on task %r, not on %r", run, meta.get("task"), task)
    recorded = meta.get("family") if isinstance(meta.get("family"), str) else None
    # Precedence: --family, the config file's family, the family the run was recorded with, a guess from its name.
    profile, guessed = resolve_profile(family, name_hint=None if recorded else meta.get("model"),
                                       config=config, overrides=overrides, default=recorded)
    return LoadedModel(model, profile, guessed)


SPEC_FORMS: tuple[str, ...] = ()
register_spec("openai", "openai:BASE_URL", _load_openai)
register_spec("hf", "hf:PATH", _load_hf)
register_spec("scripted", "scripted", _load_scripted)
register_spec("replay", "replay:RUN", _load_replay)
