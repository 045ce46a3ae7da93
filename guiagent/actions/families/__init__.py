"""One grammar (parser + formatter) per model family, selected by name.

    >>> step = get_grammar("ui-tars-1.5").parse("Thought: open it\\nAction: click(start_box='(100,200)')")
    >>> step.actions[0]
    Click(point=Point(x=100.0, y=200.0, space=<Space.MODEL: 'model'>), button='left', clicks=1)

Grammars read model text literally (``literals``): nothing from it is evaluated or executed. Points come out in
MODEL space; map them with the family profile's ``ModelFrame`` (``guiagent.models.profiles``).
"""

from __future__ import annotations

from guiagent.actions.families.base import Grammar
from guiagent.actions.families.pycode import KIMI_VL, KIMI_VL_THINKING, OPENCUA, PyCodeGrammar, strip_thinking
from guiagent.actions.families.uitars import (UI_TARS_2, UI_TARS_2_POINT, UI_TARS_10, UI_TARS_15, UiTarsGrammar,
                                              restore_box_tokens)
from guiagent.errors import ConfigError

_REGISTRY: dict[str, Grammar] = {g.name: g for g in (UI_TARS_10, UI_TARS_15, UI_TARS_2, KIMI_VL, OPENCUA,
                                                      KIMI_VL_THINKING)}

#: Names accepted by ``get_grammar``.
GRAMMARS: tuple[str, ...] = tuple(_REGISTRY)


def get_grammar(name: str) -> Grammar:
    """The grammar registered under ``name``; ConfigError listing the valid names otherwise."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown grammar {name!r}; choose one of: {', '.join(GRAMMARS)}") from None


__all__ = ["GRAMMARS", "Grammar", "PyCodeGrammar", "UiTarsGrammar", "UI_TARS_2_POINT", "get_grammar",
           "restore_box_tokens", "strip_thinking"]
