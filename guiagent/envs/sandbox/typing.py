"""Keysym typing that changes the keyboard mapping once per batch of characters instead of once per character.

The desktop env's ``XKeysymTyper`` binds each new character to a spare keycode with its own ChangeKeyboardMapping
request. Every such request makes the X server send MappingNotify to every client, and openbox answers each one
by reloading its keyboard state, which costs it 0.1-0.2 s of CPU (measured on Xvfb). Typing 40 distinct
non-ASCII characters kept openbox busy for about 10 s, and while it is busy it holds back the clicks it grabs:
a click on another window right after such typing neither reached the window nor moved the focus.

``BatchedKeysymTyper`` makes the same bindings (same spare keycodes, same least-recently-used reuse, same
pauses), but writes all of a batch's new bindings in one request covering the range of keycodes they span, the
keycodes in between rewritten with their current keysyms. One MappingNotify per batch: for that text, 3 instead
of 43, and openbox is idle again within about a second. (The server may normalise how it reports the other
groups of a rewritten key; what each key types in group 1 is unchanged, which the tests check.) Used by the
sandbox, whose X server and keymap are its own; the desktop env keeps the per-character typer.
"""

from __future__ import annotations

from guiagent.envs.desktop.text import XKeysymTyper


class BatchedKeysymTyper(XKeysymTyper):
    """``XKeysymTyper`` with one keyboard-mapping change per batch of new characters."""

    def _write_mapping(self, changed: dict[int, int]) -> None:
        """One ``ChangeKeyboardMapping`` for the whole span of changed keycodes; the keycodes in between keep their
        current symbols."""
        first, last = min(changed), max(changed)
        current = self._conn.get_keyboard_mapping(first, last - first + 1)
        width = max(2, max((len(syms) for syms in current), default=2))
        rows = []
        for offset, syms in enumerate(current):
            keycode = first + offset
            if keycode in changed:
                rows.append([changed[keycode]] * 2 + [0] * (width - 2))
            else:
                rows.append(list(syms) + [0] * (width - len(syms)))
        self._conn.change_keyboard_mapping(first, rows)
