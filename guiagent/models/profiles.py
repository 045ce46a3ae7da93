"""Model-family profiles: one entry per family, holding everything that differs between families.

Adding a family means adding one ``Profile`` to ``PROFILES`` (and, for a new output grammar, one module under
``guiagent.actions.families``).
"""

from __future__ import annotations

from dataclasses import dataclass

from guiagent.actions.coords import Convention, ModelFrame, Size
from guiagent.models.budget import ImageBudget
from guiagent.errors import ConfigError


@dataclass(frozen=True)
class Profile:
    name: str
    #: name of the output grammar in guiagent.actions.families
    grammar: str
    convention: Convention
    budget: ImageBudget

    def frame(self, screenshot_size: Size) -> ModelFrame:
        return self.budget.frame(self.convention, screenshot_size)

    def parser(self):
        from guiagent.actions.families import get_grammar
        return get_grammar(self.grammar)


_QWEN25 = ImageBudget("smart_resize", max_pixels=16384 * 28 * 28)

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in [
        Profile("ui-tars-1.0", "ui-tars-1.0", Convention.RELATIVE_1000, ImageBudget("smart_resize")),
        Profile("ui-tars-1.5", "ui-tars-1.5", Convention.ABSOLUTE, _QWEN25),
        Profile("ui-tars-2", "ui-tars-2", Convention.RELATIVE_1000, _QWEN25),
        Profile("kimi-vl", "kimi-vl", Convention.RELATIVE_1, ImageBudget("kimi", token_limit=4096)),
        Profile("kimi-vl-thinking", "kimi-vl", Convention.RELATIVE_1, ImageBudget("kimi", token_limit=16384)),
        Profile("qwen2.5-vl", "ui-tars-1.5", Convention.ABSOLUTE, _QWEN25),
        Profile("opencua", "opencua", Convention.RELATIVE_1, _QWEN25),
    ]
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(f"unknown model family {name!r}; choose one of: {', '.join(PROFILES)}") from None
