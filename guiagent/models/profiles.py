"""Model-family profiles: one entry per family, holding everything that differs between families.

A profile says how to talk to a model line and how to read its answers: the output grammar, the coordinate
convention and image budget (together they fix the coordinate map), the prompt templates, the system prompt, how
history is replayed, and the sampling defaults. Adding a family means adding one ``Profile`` to ``PROFILES`` (its
prompts as text files ``guiagent/models/prompts/<family>.<mode>.txt``; for a new output grammar, one module under
``guiagent.actions.families``).

Prompt templates are data, kept byte-exact where the model was trained on them (``Profile.trained_prompts``
names those modes; tests pin their hashes). Only two placeholders are substituted, by plain string replacement:
``{language}`` and ``{instruction}``; everything else, braces included, is sent as written.

Every field can be overridden without code: ``Profile.with_overrides(**fields)`` in Python, a TOML/JSON config
file (``guiagent.models.config``), or command-line flags.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal, Mapping

from guiagent.actions.coords import Convention, ModelFrame, Size
from guiagent.actions.families import Grammar, get_grammar
from guiagent.actions.types import Action, Space, Step, map_points
from guiagent.errors import ActionError, ConfigError
from guiagent.models.base import Sampling
from guiagent.models.budget import ImageBudget

MODES = ("computer", "mobile", "grounding")
Layout = Literal["prompt-first", "prompt-last"]


@dataclass(frozen=True)
class HistoryPolicy:
    """How past steps are replayed to the model.

    max_images:          screenshots sent per request, the current one included (vLLM allows 5 by default:
                         ``--limit-mm-per-prompt``); older steps keep only their text.
    keep_thoughts:       False re-formats past responses without their thought (needs a parseable response).
    restore_box_tokens:  UI-TARS 1.x: put ``<|box_start|>(x,y)<|box_end|>`` back around bare boxes, as in training.
    drop_thinking:       Kimi-VL Thinking: drop the ``◁think▷...◁/think▷`` block from past responses.
    layout:              "prompt-first": system, prompt, then (screenshot, response) per step, then the screenshot
                         (UI-TARS, Kimi-VL, Qwen2.5-VL). "prompt-last": system, then the steps, then the screenshot
                         with the instruction after it (OpenCUA).
    step_header:         text put before each past response; ``{n}`` is the 1-based step number (OpenCUA:
                         ``"# Step {n}:\\n"``).
    """

    max_images: int = 5
    keep_thoughts: bool = True
    restore_box_tokens: bool = False
    drop_thinking: bool = False
    layout: Layout = "prompt-first"
    step_header: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.max_images, bool) or not isinstance(self.max_images, int) or self.max_images < 1:
            raise ConfigError(f"max_images must be a whole number of at least 1, got {self.max_images!r}")
        if self.layout not in ("prompt-first", "prompt-last"):
            raise ConfigError(f"history layout must be 'prompt-first' or 'prompt-last', got {self.layout!r}")


@dataclass(frozen=True)
class Profile:
    """Everything that makes a model family: grammar, coordinate convention, image budget, prompts, history, sampling.

    Adding a family means adding one Profile; the loop, parsers and backends read everything family-specific here.
    """
    name: str
    #: name of the output grammar in guiagent.actions.families
    grammar: str
    convention: Convention
    budget: ImageBudget
    #: mode ("computer", "mobile", "grounding") -> template with {language} and {instruction}
    prompts: Mapping[str, str] = field(default_factory=dict, hash=False)
    system_prompt: str | None = "You are a helpful assistant."
    history: HistoryPolicy = HistoryPolicy()
    sampling: Sampling = Sampling()
    #: temperature of the retries after a response that does not parse (the reference loop uses 1.0)
    retry_temperature: float = 1.0
    #: what {language} becomes in the prompt
    language: str = "English"
    #: modes whose template is the one the model was trained on (kept byte-exact; tests pin them)
    trained_prompts: frozenset[str] = frozenset()
    #: one line for `--help` and the README: which checkpoints this family is for
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "convention", Convention(self.convention))
        object.__setattr__(self, "prompts", dict(self.prompts))
        object.__setattr__(self, "trained_prompts", frozenset(self.trained_prompts))
        object.__setattr__(self, "_frames", {})  # screenshot size -> ModelFrame (not a field: no effect on ==)
        _check_sampling(self.sampling)
        _check_budget(self.budget)
        if not isinstance(self.retry_temperature, (int, float)) or self.retry_temperature < 0:
            raise ConfigError(f"retry_temperature must be a number >= 0, got {self.retry_temperature!r}")
        unknown = set(self.prompts) - set(MODES)
        if unknown:
            raise ConfigError(f"unknown prompt mode(s) {sorted(unknown)}; modes are: {', '.join(MODES)}")

    # ------------------------------------------------------------------ coordinates and parsing

    def frame(self, screenshot_size: Size) -> ModelFrame:
        """The coordinate map between this family's MODEL space and a screenshot of ``screenshot_size``."""
        if type(screenshot_size) is not tuple:
            screenshot_size = tuple(screenshot_size)
        frame = self._frames.get(screenshot_size)
        if frame is None:  # frames are immutable and a run sees one or two sizes: build each once
            if len(self._frames) >= 16:
                self._frames.clear()
            frame = self._frames[screenshot_size] = self.budget.frame(self.convention, screenshot_size)
        return frame

    def parser(self) -> Grammar:
        """The family's grammar (parser and formatter)."""
        return get_grammar(self.grammar)

    def read(self, text: str, screenshot_size: Size) -> Step:
        """The one path from model text to actions: parse ``text`` and map its points to screenshot pixels.

        Args:
            text: the model's whole answer.
            screenshot_size: (W, H) of the screenshot the model was shown, in pixels.

        Returns:
            The Step with its actions in SCREENSHOT space; ``model_actions`` keeps them as written (MODEL space).

        Raises:
            ParseError: text off the family's grammar (the message quotes the bad fragment), or a point outside
                the image under a relative convention (``ModelFrame.check_in_image``: 0..1 or 0..1000).
            ActionError: an action with invalid fields.
        """
        step = get_grammar(self.grammar).parse(text)
        frame = self._frames.get(screenshot_size) if type(screenshot_size) is tuple else None
        if frame is None:
            frame = self.frame(screenshot_size)
        model_actions = step.actions
        to_screenshot = frame.read_point  # under a relative convention a point off the image is a misreading

        # grammars put every point in MODEL space (anything else is a grammar bug: ActionError). The step is new
        # and ours alone, so it is completed in place (its instance dict: a frozen dataclass refuses setattr): a
        # copy would cost as much as the mapping (parse benchmark).
        fields = step.__dict__
        fields["actions"] = ((map_points(model_actions[0], to_screenshot),) if len(model_actions) == 1  # the usual
                             else tuple([map_points(a, to_screenshot) for a in model_actions]))
        fields["model_actions"] = model_actions
        return step

    def to_screenshot(self, step: Step, screenshot_size: Size) -> Step:
        """``step`` with its MODEL-space points mapped to SCREENSHOT pixels (points already in another space, and
        actions without points, are kept). ``model_actions`` keeps the actions as they were."""
        frame = self.frame(screenshot_size)
        return step.mapped(tuple(_to_screenshot(a, frame) for a in step.actions))

    # ------------------------------------------------------------------ prompts

    def prompt(self, mode: str = "computer") -> str:
        """The raw template for ``mode``."""
        try:
            return self.prompts[mode]
        except KeyError:
            have = ", ".join(self.prompts) or "none"
            raise ConfigError(f"family {self.name!r} has no {mode!r} prompt (it has: {have}); choose another "
                              f"mode or give one with --config (prompts.{mode}_file = 'my_prompt.txt')") from None

    def render_prompt(self, instruction: str, mode: str = "computer", language: str | None = None) -> str:
        """The template with ``{language}`` and then ``{instruction}`` replaced (nothing else is touched)."""
        text = self.prompt(mode).replace("{language}", language or self.language)
        return text.replace("{instruction}", instruction)

    # ------------------------------------------------------------------ overrides

    def with_overrides(self, **fields: Any) -> "Profile":
        """A copy with some fields replaced.

        Accepts the profile's own fields (``system_prompt``, ``retry_temperature``, ``grammar``, ``convention``,
        ``language``, ``prompts`` (merged by mode)), nested dicts ``sampling={...}``, ``history={...}``,
        ``budget={...}``, and the fields of those three directly (``temperature=0.5``, ``max_images=3``,
        ``max_pixels=...``). ``None`` values are ignored, so CLI flags that were not given can be passed as they are.
        Unknown names raise ConfigError listing the valid ones.
        """
        top: dict[str, Any] = {}
        nested: dict[str, dict[str, Any]] = {"sampling": {}, "history": {}, "budget": {}}
        for key, value in fields.items():
            if value is None:
                continue
            if key in nested:
                if not isinstance(value, Mapping):
                    raise ConfigError(f"{key} must be a table of fields, got {value!r}")
                for sub_key, sub_value in value.items():
                    if sub_key not in _SUB_FIELDS[key]:
                        raise ConfigError(f"unknown {key} field {sub_key!r}; {did_you_mean(sub_key, _SUB_FIELDS[key])}"
                                          f"valid: {', '.join(_SUB_FIELDS[key])}")
                    if sub_value is not None:
                        nested[key][sub_key] = sub_value
            elif key in _TOP_FIELDS:
                top[key] = value
            elif key in _FLAT:
                nested[_FLAT[key]][key] = value
            else:
                raise ConfigError(f"unknown profile field {key!r}; {did_you_mean(key, override_names())}"
                                  f"valid: {', '.join(override_names())}")
        if "prompts" in top:
            prompts = top["prompts"]
            if not isinstance(prompts, Mapping):
                raise ConfigError(f"prompts must map a mode to a template, got {prompts!r}")
            merged = dict(self.prompts)
            merged.update({str(k): _as_text(v, f"prompts.{k}") for k, v in prompts.items()})
            top["prompts"] = merged
            # A replaced template is no longer the trained one.
            top["trained_prompts"] = frozenset(m for m in self.trained_prompts if merged[m] == self.prompts.get(m))
        if "convention" in top:
            top["convention"] = _convention(top["convention"])
        if "stop" in nested["sampling"]:
            stop = nested["sampling"]["stop"]
            nested["sampling"]["stop"] = (stop,) if isinstance(stop, str) else tuple(stop)
        try:
            for key, sub in nested.items():
                if sub:
                    top[key] = dataclasses.replace(getattr(self, key), **sub)
            return dataclasses.replace(self, **top)
        except TypeError as exc:  # a field of the wrong kind reaching a dataclass
            raise ConfigError(f"bad override for profile {self.name!r}: {exc}") from exc

    # ------------------------------------------------------------------ records

    def to_dict(self) -> dict[str, Any]:
        """Plain data describing the profile (for trajectory metadata): prompts as sha256 digests."""
        return {
            "name": self.name,
            "grammar": self.grammar,
            "convention": self.convention.value,
            "budget": dataclasses.asdict(self.budget),
            "system_prompt": self.system_prompt,
            "history": dataclasses.asdict(self.history),
            "sampling": {**dataclasses.asdict(self.sampling), "stop": list(self.sampling.stop)},
            "retry_temperature": self.retry_temperature,
            "language": self.language,
            "prompts_sha256": {m: hashlib.sha256(t.encode("utf-8")).hexdigest() for m, t in self.prompts.items()},
            "trained_prompts": sorted(self.trained_prompts),
        }


def _to_screenshot(action: Action, frame: ModelFrame) -> Action:
    try:
        return map_points(action, frame.to_screenshot)  # what grammars produce: every point in MODEL space
    except ActionError:  # a point already in another space (an action given by hand): keep it
        return map_points(action, lambda p: frame.to_screenshot(p) if p.space is Space.MODEL else p)


def _check_sampling(s: Sampling) -> None:
    if not isinstance(s.temperature, (int, float)) or isinstance(s.temperature, bool) or \
            not 0 <= s.temperature < float("inf"):  # also refuses nan and inf (a server answers 400)
        raise ConfigError(f"temperature must be a number >= 0 and finite, got {s.temperature!r}")
    if not isinstance(s.top_p, (int, float)) or isinstance(s.top_p, bool) or not 0 < s.top_p <= 1:
        raise ConfigError(f"top_p must be in (0, 1], got {s.top_p!r}")
    if isinstance(s.max_tokens, bool) or not isinstance(s.max_tokens, int) or s.max_tokens < 1:
        raise ConfigError(f"max_tokens must be a whole number of at least 1, got {s.max_tokens!r}")
    if not all(isinstance(x, str) and x for x in s.stop):
        raise ConfigError(f"stop must be a list of non-empty strings, got {s.stop!r}")
    if s.seed is not None and (isinstance(s.seed, bool) or not isinstance(s.seed, int)):
        raise ConfigError(f"seed must be a whole number, got {s.seed!r}")


def _check_budget(b: ImageBudget) -> None:
    for name in ("factor", "min_pixels", "max_pixels", "token_limit"):
        value = getattr(b, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a whole number of at least 1, got {value!r}")
    if b.min_pixels > b.max_pixels:
        raise ConfigError(f"min_pixels ({b.min_pixels}) must not exceed max_pixels ({b.max_pixels})")
    if b.kind not in ("none", "smart_resize", "kimi"):
        raise ConfigError(f"budget kind must be 'none', 'smart_resize' or 'kimi', got {b.kind!r}")


def _as_text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{what} must be text, got {value!r}")
    return value


def _convention(value: Any) -> Convention:
    try:
        return Convention(value)
    except ValueError:
        raise ConfigError(f"unknown coordinate convention {value!r}; choose one of: "
                          f"{', '.join(c.value for c in Convention)}") from None


_SUB_FIELDS = {
    "sampling": tuple(f.name for f in dataclasses.fields(Sampling)),
    "history": tuple(f.name for f in dataclasses.fields(HistoryPolicy)),
    "budget": tuple(f.name for f in dataclasses.fields(ImageBudget)),
}
_FLAT = {name: group for group, names in _SUB_FIELDS.items() for name in names if name != "kind"}
_TOP_FIELDS = ("grammar", "convention", "prompts", "system_prompt", "retry_temperature", "language", "description")


def did_you_mean(name: object, choices: list[str] | tuple[str, ...]) -> str:
    """"did you mean: a, b? " for the close matches of ``name`` among ``choices`` ("" when there are none)."""
    import difflib

    by_case = {str(c).lower(): str(c) for c in choices}  # "Run" is a typo of "run" as much as "rn" is
    close = difflib.get_close_matches(str(name).lower(), list(by_case), n=3, cutoff=0.6)
    return f"did you mean: {', '.join(by_case[c] for c in close)}? " if close else ""


def override_names() -> list[str]:
    """Every name ``with_overrides`` and config files accept."""
    return [*_TOP_FIELDS, "sampling", "history", "budget", *_FLAT]


# ---------------------------------------------------------------------- the families

def _prompt(family: str, mode: str) -> str:
    # One flat folder (prompts/<family>.<mode>.txt): packaging tools skip sub-folders whose names hold dots.
    return resources.files("guiagent.models").joinpath("prompts", f"{family}.{mode}.txt").read_bytes().decode("utf-8")


def _prompts(family: str, modes: tuple[str, ...]) -> dict[str, str]:
    return {mode: _prompt(family, mode) for mode in modes}


_QWEN25 = ImageBudget("smart_resize", max_pixels=16384 * 28 * 28)
_UITARS_SAMPLING = Sampling(temperature=0.0, top_p=0.9, max_tokens=1000)
_UITARS15_PROMPTS = _prompts("ui-tars-1.5", ("computer", "mobile", "grounding"))
_KIMI_PROMPTS = _prompts("kimi-vl", ("computer", "grounding"))  # Instruct and Thinking share the templates

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in [
        Profile(
            "ui-tars-1.0", "ui-tars-1.0", Convention.RELATIVE_1000, ImageBudget("smart_resize"),
            # 1.0 computer: the OSWorld reference agent's prompt (with call_user). 1.0's own README mobile prompt
            # uses another action set (navigate_back, WAIT, Action_Summary); the 1.5 mobile and grounding
            # templates share 1.0's box syntax and are used instead (not trained-on for 1.0).
            prompts={**_prompts("ui-tars-1.0", ("computer",)),
                     "mobile": _UITARS15_PROMPTS["mobile"], "grounding": _UITARS15_PROMPTS["grounding"]},
            history=HistoryPolicy(max_images=5, restore_box_tokens=True),
            sampling=_UITARS_SAMPLING, trained_prompts={"computer"},
            description="UI-TARS-2B/7B/72B-SFT/DPO (Qwen2-VL based; relative 0..1000 boxes)",
        ),
        Profile(
            "ui-tars-1.5", "ui-tars-1.5", Convention.ABSOLUTE, _QWEN25,
            prompts=_UITARS15_PROMPTS,
            history=HistoryPolicy(max_images=5, restore_box_tokens=True),
            sampling=_UITARS_SAMPLING, trained_prompts={"computer", "mobile", "grounding"},
            description="UI-TARS-1.5-7B (Qwen2.5-VL based; absolute pixels of the smart_resized image)",
        ),
        Profile(
            "ui-tars-2", "ui-tars-2", Convention.RELATIVE_1000, _QWEN25,
            prompts=_prompts("ui-tars-2", ("computer", "mobile", "grounding")),
            history=HistoryPolicy(max_images=5),
            sampling=_UITARS_SAMPLING, trained_prompts={"computer", "mobile", "grounding"},
            description="UI-TARS-2 / Doubao-1.5-UI-TARS (point syntax, relative 0..1000)",
        ),
        Profile(
            # Kimi-VL answers in fractions of the UNPADDED screenshot: the black padding to a multiple of 28
            # that MoonViT gets is not part of the coordinate frame (coords_on_padded=False).
            "kimi-vl", "kimi-vl", Convention.RELATIVE_1, ImageBudget("kimi", token_limit=4096,
                                                                     coords_on_padded=False),
            prompts=_KIMI_PROMPTS,
            system_prompt="You are a helpful assistant",
            history=HistoryPolicy(max_images=5, drop_thinking=True),
            sampling=Sampling(temperature=0.2, top_p=1.0, max_tokens=1024, stop=("<|im_end|>",)),
            retry_temperature=0.6, trained_prompts={"grounding"},
            description="Kimi-VL-A3B-Instruct (pyautogui calls, relative 0..1)",
        ),
        Profile(
            # same prompts as Instruct; its own grammar name so that formatted answers carry the ◁think▷ block
            "kimi-vl-thinking", "kimi-vl-thinking", Convention.RELATIVE_1,
            ImageBudget("kimi", token_limit=16384, coords_on_padded=False),
            prompts=_KIMI_PROMPTS,
            system_prompt="You are a helpful assistant",
            history=HistoryPolicy(max_images=5, drop_thinking=True),
            sampling=Sampling(temperature=0.8, top_p=1.0, max_tokens=8192, stop=("<|im_end|>",)),
            retry_temperature=1.0, trained_prompts={"grounding"},
            description="Kimi-VL-A3B-Thinking(-2506) (◁think▷ block, then pyautogui calls, relative 0..1)",
        ),
        Profile(
            "qwen2.5-vl", "ui-tars-1.5", Convention.ABSOLUTE, _QWEN25,
            # Generic Qwen2.5-VL checkpoints ground in absolute pixels of the resized image, like UI-TARS-1.5,
            # so they share its grammar and templates (not trained-on for plain Qwen2.5-VL).
            prompts=_UITARS15_PROMPTS,
            history=HistoryPolicy(max_images=5, restore_box_tokens=True),
            sampling=Sampling(temperature=0.0, top_p=0.9, max_tokens=1000),
            description="Qwen2.5-VL-3B/7B/72B-Instruct and fine-tunes (absolute pixels)",
        ),
        Profile(
            "opencua", "opencua", Convention.RELATIVE_1, _QWEN25,
            prompts=_prompts("opencua", ("computer",)),
            system_prompt=_prompt("opencua", "system"),
            history=HistoryPolicy(max_images=3, layout="prompt-last", step_header="# Step {n}:\n"),
            sampling=Sampling(temperature=0.0, top_p=0.9, max_tokens=1500),
            trained_prompts={"computer"},
            description="OpenCUA-7B/32B (Thought/Action/Code with pyautogui, relative 0..1)",
        ),
    ]
}


def get_profile(name: str) -> Profile:
    """The profile of a model family by name.

    Raises:
        ConfigError: an unknown name (the message names close matches and lists the families).
    """
    try:
        return PROFILES[name]
    except (KeyError, TypeError):
        raise ConfigError(unknown_family_message(name)) from None


def unknown_family_message(name: object) -> str:
    """One short line for an unknown family name, in the style of unknown task ids: close matches first."""
    return f"unknown model family {name!r}; {did_you_mean(str(name).lower(), list(PROFILES))}" \
           f"(families: {', '.join(PROFILES)})"


# ---------------------------------------------------------------------- family detection

# Ordered: the first pattern that matches the normalised name wins (more specific lines first).
_FAMILY_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"ui-?tars-?2(?![0-9.]|b)|doubao.*ui-?tars", "ui-tars-2"),
    (r"ui-?tars-?1[.-]5", "ui-tars-1.5"),
    (r"ui-?tars", "ui-tars-1.0"),
    (r"kimi-?vl.*think", "kimi-vl-thinking"),
    (r"kimi-?vl", "kimi-vl"),
    (r"opencua|open-cua", "opencua"),
    (r"qwen-?2[.-]5-?vl", "qwen2.5-vl"),
)


def guess_family(model_name_or_path: str | None) -> str | None:
    """The family a served model name or checkpoint path clearly belongs to, or None.

    Examples: ``ByteDance-Seed/UI-TARS-1.5-7B`` -> ui-tars-1.5; ``/models/UI-TARS-7B-DPO`` -> ui-tars-1.0;
    ``moonshotai/Kimi-VL-A3B-Thinking-2506`` -> kimi-vl-thinking; ``Qwen2.5-VL-7B-Instruct`` -> qwen2.5-vl.
    """
    if not model_name_or_path:
        return None
    name = re.sub(r"[\s_]+", "-", str(model_name_or_path).lower())
    for pattern, family in _FAMILY_PATTERNS:
        if re.search(pattern, name):
            return family
    return None
