"""The contract every family grammar (parser + formatter) fulfils.

A grammar turns one model response into a ``Step`` whose actions carry points in MODEL space (the family's own
convention; ``guiagent.actions.coords`` maps them), and turns typed actions back into the family's text form for
history messages and training-data export. Parsing is literal-only: model text is matched against the known
grammar and its argument values read as literals; nothing from it is evaluated or executed.
"""

from __future__ import annotations

from typing import Iterable, Protocol

from guiagent.actions.types import Action, Step


class Grammar(Protocol):
    #: registry name, e.g. "ui-tars-1.5"
    name: str
    #: the action classes this family can express; format_action raises UnsupportedAction for the others
    supported: frozenset[type]

    def parse(self, text: str) -> Step:
        """Parse one response. Raises ParseError (quoting the bad fragment) for anything off-grammar."""
        ...

    def format_action(self, action: Action) -> str:
        """One action (points in MODEL space) in the family's text form."""
        ...

    def format_step(self, actions: Iterable[Action], thought: str | None = None,
                    reflection: str | None = None) -> str:
        """A whole response as the model would write it (used for history and SFT export)."""
        ...
