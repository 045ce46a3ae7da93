"""The canonical key vocabulary.

Every key name that enters guiagent (model text, Python callers, task files) is normalised here once, so that
parsers, environments and formatters agree on one spelling. Canonical names follow pyautogui's lower-case names
where those exist ("ctrl", "enter", "up", "pagedown", "f5") and use "cmd" for the platform meta key
(Command on macOS, Windows/Super elsewhere); environments map "cmd" to what their OS calls it.
"""

from __future__ import annotations

import string

from guiagent.errors import ActionError

MODIFIERS: frozenset[str] = frozenset({"ctrl", "shift", "alt", "cmd", "fn"})

#: The numeric keypad: its digits, operators and its own Enter, distinct from the main keys (X11 keysyms KP_*).
KEYPAD_KEYS: frozenset[str] = frozenset(
    {f"kp_{d}" for d in range(10)} | {"kp_enter", "kp_add", "kp_subtract", "kp_multiply", "kp_divide",
                                      "kp_decimal", "kp_separator"})

_NAMED: frozenset[str] = frozenset(
    {
        "enter", "tab", "space", "backspace", "delete", "esc", "insert",
        "home", "end", "pageup", "pagedown", "up", "down", "left", "right",
        "capslock", "numlock", "scrolllock", "printscreen", "pause", "menu",
        "volumeup", "volumedown", "volumemute", "playpause", "nexttrack", "prevtrack",
    }
    | {f"f{i}" for i in range(1, 25)}
    | KEYPAD_KEYS
)

# Single printable ASCII characters are keys too ("a", "1", "/", ...). Upper-case letters fold to lower case:
# a hotkey "ctrl A" means the A key, and shift is its own key.
_CHARS: frozenset[str] = frozenset(string.ascii_lowercase + string.digits + "`-=[]\\;',./~!@#$%^&*()_+{}|:\"<>?")

CANONICAL_KEYS: frozenset[str] = MODIFIERS | _NAMED | _CHARS

ALIASES: dict[str, str] = {
    "control": "ctrl", "ctl": "ctrl", "lctrl": "ctrl", "rctrl": "ctrl", "ctrlleft": "ctrl", "ctrlright": "ctrl",
    "command": "cmd", "meta": "cmd", "win": "cmd", "windows": "cmd", "super": "cmd", "winleft": "cmd",
    "winright": "cmd", "cmdleft": "cmd", "cmdright": "cmd", "os": "cmd",
    "option": "alt", "opt": "alt", "altleft": "alt", "altright": "alt", "lalt": "alt", "ralt": "alt",
    "shiftleft": "shift", "shiftright": "shift", "lshift": "shift", "rshift": "shift",
    "escape": "esc", "return": "enter", "ret": "enter", "\n": "enter", "\r": "enter",
    "arrowup": "up", "arrowdown": "down", "arrowleft": "left", "arrowright": "right",
    "uparrow": "up", "downarrow": "down", "leftarrow": "left", "rightarrow": "right",
    "pgup": "pageup", "pgdn": "pagedown", "page_up": "pageup", "page_down": "pagedown",
    "del": "delete", "bksp": "backspace", "back": "backspace", "ins": "insert",
    "spacebar": "space", " ": "space", "\t": "tab", "caps": "capslock", "caps_lock": "capslock",
    "prtsc": "printscreen", "prtscr": "printscreen", "print": "printscreen", "apps": "menu",
    "plus": "+", "minus": "-",
    # the keypad, as pyautogui ("num0", "add", ...), X11 ("kp_add") and browsers ("numpadadd") name it
    **{f"{prefix}{d}": f"kp_{d}" for prefix in ("num", "numpad", "kp", "numpad_") for d in range(10)},
    **{f"{prefix}{op}": f"kp_{op}" for prefix in ("", "numpad", "numpad_", "kp")
       for op in ("add", "subtract", "multiply", "divide", "decimal", "separator")},
    "kpenter": "kp_enter", "kp_return": "kp_enter", "numpadenter": "kp_enter", "numpad_enter": "kp_enter",
}


def canonical_key(name: str) -> str:
    """Return the canonical spelling of a key name, or raise ActionError naming the unknown key."""
    if not isinstance(name, str) or not name:
        raise ActionError(f"key name must be a non-empty string, got {name!r}")
    if len(name) == 1:
        folded = name.lower()
        if folded in CANONICAL_KEYS:
            return folded
        if name in ALIASES:
            return ALIASES[name]
        raise ActionError(f"unknown key {name!r}")
    folded = name.strip().lower().replace(" ", "")
    if folded in CANONICAL_KEYS:
        return folded
    if folded in ALIASES:
        return ALIASES[folded]
    raise ActionError(f"unknown key {name!r}; known keys are modifiers {sorted(MODIFIERS)}, named keys such as "
                      "enter/esc/tab/up/pagedown/f1..f24, and single characters")
