"""What the real desktop refuses to do: dangerous key combinations and input outside the chosen monitor.

The deny list is a set of key combinations in canonical names ("ctrl+alt+delete"). A combination is refused when
the keys that would be down together include every key of an entry, so "ctrl+alt+shift+delete" is refused by
"ctrl+alt+delete", and so is pressing "delete" while ctrl and alt are held by earlier ``KeyDown`` actions.

Defaults differ per OS because the same canonical key means a different physical key ("cmd" is Command on macOS
and Super/Windows elsewhere) and because the dangerous shortcuts differ. Entries and why:

    ctrl+alt+delete       Windows security screen; logout/reboot dialog on GNOME and KDE
    ctrl+alt+backspace    kills the X server where enabled (the session and every app in it)
    ctrl+alt+f1..f12      switches the Linux virtual terminal away from the X session
    alt+printscreen       the Linux magic SysRq prefix (alt+sysrq+b reboots at once)
    cmd+l, ctrl+alt+l     lock the screen (Windows, GNOME / Xfce, KDE); the agent cannot unlock it
    cmd+shift+q           macOS logout (cmd+alt+shift+q logs out without asking)
    ctrl+cmd+q            macOS lock screen

alt+f4 is deliberately allowed: it is the ordinary way to close a window or dialog, and the shutdown dialog it can
show on an empty Windows desktop still asks before doing anything. Add it if you want it refused:
``DesktopEnv(deny=default_deny("windows") | {"alt+f4"})``, or ``adjusted_deny("windows", deny=["alt+f4"])``
(``guiagent run --env desktop --deny-hotkey alt+f4``).
"""

from __future__ import annotations

from collections.abc import Iterable

from guiagent.actions.keys import canonical_key
from guiagent.envs.desktop.keymap import OsName, check_os
from guiagent.errors import ActionError, ConfigError, DeniedAction

Combo = frozenset[str]

_COMMON_PC = {"ctrl+alt+delete", "cmd+l"}
_DEFAULT_DENY: dict[str, frozenset[str]] = {
    "linux": frozenset(_COMMON_PC | {"ctrl+alt+backspace", "ctrl+alt+l", "alt+printscreen"}
                       | {f"ctrl+alt+f{i}" for i in range(1, 13)}),
    "windows": frozenset(_COMMON_PC),
    "macos": frozenset({"cmd+shift+q", "ctrl+cmd+q"}),
}


def default_deny(os_name: OsName) -> frozenset[str]:
    """The default deny list for ``os_name`` as "key+key" strings (a set you can extend or shrink)."""
    return _DEFAULT_DENY[check_os(os_name)]


def adjusted_deny(os_name: OsName, *, allow: Iterable[str] = (), deny: Iterable[str] = ()) -> frozenset[str]:
    """``default_deny(os_name)`` without the ``allow`` entries and with the ``deny`` ones (the CLI's
    --allow-hotkey / --deny-hotkey). Entries compare by their keys, so "alt+ctrl+del" allows "ctrl+alt+delete".
    Allowing a combination that is not on the default list is a ConfigError (it would silently do nothing)."""
    if isinstance(allow, str) or isinstance(deny, str):
        raise ConfigError("allow and deny take collections of 'key+key' strings, not one string")
    defaults = default_deny(os_name)
    try:
        removed = {parse_combo(a): a for a in allow}
        added = {parse_combo(d): d for d in deny}
    except ActionError as e:
        raise ConfigError(str(e)) from e
    both = [text for combo, text in added.items() if combo in removed]
    if both:
        raise ConfigError(f"{', '.join(map(repr, both))} is both allowed and denied; give one or the other")
    present = {parse_combo(e): e for e in defaults}
    unknown = [text for combo, text in removed.items() if combo not in present]
    if unknown:
        raise ConfigError(f"cannot allow {', '.join(map(repr, unknown))}: not on the default {os_name} deny list "
                          f"({', '.join(sorted(defaults))})")
    kept = {text for combo, text in present.items() if combo not in removed}
    return frozenset(kept | {text for combo, text in added.items() if combo not in present})


def parse_combo(text: str) -> Combo:
    """"ctrl+alt+delete" -> frozenset of canonical key names. A lone "+" key is written "plus"."""
    if not isinstance(text, str) or not text.strip():
        raise ActionError(f"a deny-list entry must be a non-empty string like 'ctrl+alt+delete', got {text!r}")
    parts = [p for p in text.replace(" ", "").split("+")]
    if any(not p for p in parts):
        raise ActionError(f"bad deny-list entry {text!r}: write keys joined by '+', and the plus key as 'plus'")
    return frozenset(canonical_key(p) for p in parts)


class DenyList:
    """A set of forbidden key combinations; ``check(keys_down)`` raises DeniedAction on a match."""

    def __init__(self, entries: Iterable[str]):
        if isinstance(entries, str):
            raise ActionError("deny list must be a collection of 'key+key' strings, not one string")
        self.entries: tuple[tuple[str, Combo], ...] = tuple(sorted((e, parse_combo(e)) for e in entries))

    def __len__(self) -> int:
        return len(self.entries)

    def match(self, keys_down: Iterable[str]) -> str | None:
        """The first entry (as written) whose keys are all in ``keys_down``, or None."""
        down = {canonical_key(k) for k in keys_down}
        for text, combo in self.entries:
            if combo <= down:
                return text
        return None

    def check(self, keys_down: Iterable[str], what: str) -> None:
        """Refuse a key combination that matches an entry.

        Args:
            keys_down: the canonical names of the keys that would be held together.
            what: the action in words, for the message.

        Raises:
            DeniedAction: the keys match an entry (the message names it and how to allow it).
        """
        keys_down = list(keys_down)
        hit = self.match(keys_down)
        if hit is not None:
            raise DeniedAction(f"refused {what}: the keys {'+'.join(keys_down)} match the deny-list entry {hit!r}. "
                               "If you really want the agent to press it, change DesktopEnv(deny=...) "
                               "(guiagent run: --allow-hotkey).")
