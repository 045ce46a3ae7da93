"""Typing text, including text pyautogui cannot type.

pyautogui types by pressing keys of the current keyboard layout, so it handles printable ASCII, newline and tab
(and only those it finds on the layout). Everything else (CJK, accents, emoji) goes one of these ways:

keysym (X11)    bind spare keycodes (ones the layout leaves empty) to the characters' keysyms, press them through
                XTEST, and keep the bindings until they are needed for other characters or the env closes. Works
                in every X11 window, terminals included, and leaves the clipboard alone. The default on X11.
                (``xdotool type`` uses the same trick but rebinds the keycode right after each character; a busy
                app that reads the keymap late then sees the next binding and drops or swaps characters, which
                the tests caught under load, so guiagent does its own binding.)
clipboard       put the text on the clipboard, send the paste shortcut, put the old clipboard back. The shortcut
                depends on the focused window: ordinary apps paste with ctrl+v (cmd+v on macOS), most Linux
                terminals with ctrl+shift+v, and xterm/urxvt paste the PRIMARY selection with shift+insert.
                The default on macOS and Windows.

The text is split into runs so ASCII still goes through ordinary key presses (which trigger autocomplete and key
bindings the way a user's typing does) and only the other runs take the special route, in order.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from guiagent.actions.keys import canonical_key
from guiagent.envs.desktop.keymap import OsName
from guiagent.envs.desktop.xlibquiet import open_display
from guiagent.errors import ActionError, EnvError

_KEY_TYPABLE = frozenset(chr(c) for c in range(0x20, 0x7F)) | {"\n", "\t"}

# WM_CLASS names (lower case, instance or class) -> how that window pastes.
PRIMARY_TERMINALS = frozenset({"xterm", "uxterm", "urxvt", "rxvt", "rxvt-unicode", "aterm", "eterm"})
CTRL_SHIFT_V_TERMINALS = frozenset({
    "gnome-terminal", "gnome-terminal-server", "org.gnome.terminal", "org.gnome.console", "kgx", "konsole",
    "xfce4-terminal", "terminator", "tilix", "com.gexperts.tilix", "alacritty", "kitty", "lxterminal",
    "mate-terminal", "qterminal", "terminology", "st", "st-256color", "wezterm", "org.wezfurlong.wezterm",
    "foot", "sakura", "guake", "tilda", "yakuake", "cool-retro-term", "ptyxis", "blackbox",
})


#: control characters that name a key: typing one presses that key, under the same rules (deny list, held
#: modifiers) as a Press of it; \n and \t are typed as keys by pyautogui.write, the others are pressed
CONTROL_KEYS = {"\b": "backspace", "\t": "tab", "\n": "enter", "\r": "enter", "\x1b": "esc", "\x7f": "delete"}
#: the control characters pressed one by one (pyautogui.write and the Unicode route must never see them)
PRESSED_CONTROLS = frozenset({"\b", "\x1b", "\x7f"})


def check_control_chars(text: str) -> None:
    """Refuse control characters that name no key (they would reach the desktop as raw keysyms, around the key
    rules). Raises ActionError naming the first one."""
    for ch in text:
        if unicodedata.category(ch) == "Cc" and ch not in CONTROL_KEYS:
            raise ActionError(f"cannot type the control character U+{ord(ch):04X}: it names no key; "
                              f"use Press or Hotkey for keys")


def key_of_char(ch: str) -> str | None:
    """The key a typed character presses, for the key rules: a control key's name ("\b" -> backspace), the key
    named by the character ("a", "enter"), or None for characters no key names (typed another way)."""
    if ch in CONTROL_KEYS:
        return CONTROL_KEYS[ch]
    try:
        return canonical_key(ch)
    except ActionError:
        return None


def split_pressed_controls(text: str) -> list[str]:
    """``text`` cut before and after every character of PRESSED_CONTROLS (each of those is a piece of its own)."""
    pieces: list[str] = []
    start = 0
    for i, ch in enumerate(text):
        if ch in PRESSED_CONTROLS:
            if i > start:
                pieces.append(text[start:i])
            pieces.append(ch)
            start = i + 1
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def normalise_newlines(text: str) -> str:
    """``text`` with Windows (CRLF) and old Mac (CR) line ends turned into Unix ones (LF)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_runs(text: str, can_press: Callable[[str], bool] = lambda ch: True) -> list[tuple[bool, str]]:
    """Split ``text`` into (key_typable, run) pieces in order. Key-typable characters are printable ASCII, \\n and
    \\t that ``can_press`` accepts (pyautogui has a key for them on this layout)."""
    runs: list[tuple[bool, str]] = []
    for ch in normalise_newlines(text):
        ok = ch in _KEY_TYPABLE and can_press(ch)
        if runs and runs[-1][0] == ok:
            runs[-1] = (ok, runs[-1][1] + ch)
        else:
            runs.append((ok, ch))
    return runs


@dataclass(frozen=True)
class PasteRoute:
    """How to paste into the focused window: the shortcut's keys and the X selection it pastes."""
    keys: tuple[str, ...]      # canonical key names of the paste shortcut
    selection: str             # "clipboard", or "primary" (X11 terminals that paste the PRIMARY selection)


def paste_route(os_name: OsName, window_class: Sequence[str] = ()) -> PasteRoute:
    """How the focused window (known by its WM_CLASS names on X11) pastes."""
    if os_name == "macos":
        return PasteRoute(("cmd", "v"), "clipboard")
    if os_name == "windows":
        return PasteRoute(("ctrl", "v"), "clipboard")
    names = {n.lower() for n in window_class}
    if names & PRIMARY_TERMINALS:
        return PasteRoute(("shift", "insert"), "primary")
    if names & CTRL_SHIFT_V_TERMINALS:
        return PasteRoute(("ctrl", "shift", "v"), "clipboard")
    return PasteRoute(("ctrl", "v"), "clipboard")


def x11_focused_window_class(x_display: str) -> tuple[str, ...]:
    """WM_CLASS (instance, class) of the window that gets keyboard input on ``x_display``; () if unknown.

    Without a window manager the focus is often PointerRoot, meaning "the window under the pointer", so that case
    looks under the pointer. With a window manager the WM_CLASS sits on the client window inside the frame, so
    the search goes up through parents and then down through children.
    """
    from Xlib import X

    conn = open_display(x_display)
    try:
        root = conn.screen().root
        focus = conn.get_input_focus().focus
        if isinstance(focus, int) or focus in (X.NONE, X.PointerRoot) or focus == root:
            focus = root.query_pointer().child
            if isinstance(focus, int) or not focus:
                return ()
        window = focus
        while window and window != root:
            cls = window.get_wm_class()
            if cls:
                return tuple(cls)
            window = window.query_tree().parent
        queue, seen = [focus], 0
        while queue and seen < 200:
            window, seen = queue.pop(0), seen + 1
            cls = window.get_wm_class()
            if cls:
                return tuple(cls)
            queue.extend(window.query_tree().children)
        return ()
    finally:
        conn.close()


class Clipboard(Protocol):
    """A text selection that can be read and replaced (the clipboard, or X's PRIMARY selection)."""
    def read(self) -> str | None:
        """Current text, or None when the selection is empty or not text."""
        ...

    def write(self, text: str) -> None:
        """Make ``text`` the selection's content.

        Raises:
            EnvError: the selection could not be set.
        """
        ...


class XClipboard:
    """One X selection (CLIPBOARD or PRIMARY) through xclip or xsel."""

    def __init__(self, tool: str, x_display: str, selection: str = "clipboard"):
        if selection not in ("clipboard", "primary"):
            raise ValueError(f"selection must be 'clipboard' or 'primary', got {selection!r}")
        self.tool, self.selection = tool, selection
        self._env = {**os.environ, "DISPLAY": x_display}
        self._xsel = os.path.basename(tool).startswith("xsel")

    def _argv(self, direction: str) -> list[str]:
        if self._xsel:
            return [self.tool, f"--{self.selection}", "--output" if direction == "out" else "--input"]
        return [self.tool, "-selection", self.selection, "-o" if direction == "out" else "-i"]

    def read(self) -> str | None:
        """The selection's text through xclip/xsel, or None when it is empty, not text or the tool hangs."""
        argv = self._argv("out")
        if not self._xsel:
            argv += ["-t", "UTF8_STRING"]
        try:
            done = subprocess.run(argv, env=self._env, capture_output=True, timeout=5, check=False)
        except subprocess.TimeoutExpired:
            return None
        if done.returncode != 0:
            return None
        return done.stdout.decode("utf-8", errors="replace")

    def write(self, text: str) -> None:
        """Own the selection with ``text`` through xclip/xsel.

        Raises:
            EnvError: the tool failed or took longer than 5 s.
        """
        # xclip/xsel fork a child that keeps serving the selection: it must inherit no pipe we wait on, so
        # its stderr goes to a file.
        with tempfile.TemporaryFile() as err:
            try:
                done = subprocess.run(self._argv("in"), env=self._env, input=text.encode("utf-8"),
                                      stdout=subprocess.DEVNULL, stderr=err, timeout=5, check=False)
            except subprocess.TimeoutExpired as e:
                raise EnvError(f"{self.tool} did not take the clipboard text within 5 s") from e
            if done.returncode != 0:
                err.seek(0)
                raise EnvError(f"{self.tool} could not set the {self.selection} selection: "
                               f"{err.read().decode(errors='replace').strip()}")


class PyperclipClipboard:
    """The system clipboard on macOS and Windows."""

    def __init__(self) -> None:
        try:
            import pyperclip
        except ImportError as e:
            raise EnvError("typing non-ASCII text needs pyperclip: pip install 'guiagent[desktop]'") from e
        self._p = pyperclip

    def read(self) -> str | None:
        """The clipboard's text, or None when pyperclip cannot read it."""
        try:
            return self._p.paste()
        except Exception:  # noqa: BLE001 (pyperclip raises its own and OS errors; unreadable means "nothing")
            return None

    def write(self, text: str) -> None:
        """Set the clipboard's text.

        Raises:
            EnvError: pyperclip could not set it.
        """
        try:
            self._p.copy(text)
        except Exception as e:
            raise EnvError(f"could not set the clipboard: {e}") from e


class ClipboardTyper:
    """Pastes text: save the selection, set it, send the window's paste shortcut, wait, restore the old text."""

    def __init__(self, clipboard_for: Callable[[str], Clipboard], route: Callable[[], PasteRoute],
                 press: Callable[[tuple[str, ...]], None], restore_delay: float = 0.3):
        self._clipboard_for, self._route, self._press = clipboard_for, route, press
        self.restore_delay = restore_delay

    def type(self, text: str) -> None:
        """Paste ``text`` into the focused window, then put back the selection's previous text.

        Raises:
            EnvError: the selection could not be set.
        """
        route = self._route()
        clip = self._clipboard_for(route.selection)
        old = clip.read()
        clip.write(text)
        try:
            time.sleep(0.05)  # let the new owner settle before the app asks for it
            self._press(route.keys)
            # The app fetches the selection after it handles the shortcut; restoring earlier would paste the old.
            time.sleep(self.restore_delay)
        finally:
            clip.write(old if old is not None else "")


def keysym_for(ch: str) -> int:
    """The X keysym of one character: Latin-1 keysyms equal the code point; others are 0x01000000 + code point."""
    cp = ord(ch)
    if ch == "\n":
        return 0xFF0D  # Return
    if ch == "\t":
        return 0xFF09  # Tab
    if 0x20 <= cp <= 0x7E or 0xA0 <= cp <= 0xFF:
        return cp
    return 0x01000000 | cp


class X11LayoutCheck:
    """Which characters pyautogui really types on the current X keyboard layout.

    pyautogui presses the first keycode that carries a character's keysym, adding shift only for the characters a
    US keyboard shifts. On other layouts that types the wrong character ('/' is shift+7 on a German layout, '@' is
    AltGr+q, AZERTY shifts its digits). A character counts as key-typable only if the key pyautogui would press,
    with the shift state it would use, yields that character's keysym on the live keymap; the rest go through the
    Unicode route.
    """

    def __init__(self, x_display: str, gui: Any):
        self._conn = open_display(x_display)
        self._gui = gui

    def typable(self) -> frozenset[str]:
        """The characters pyautogui types correctly on the live keymap (see the class docstring)."""
        info = self._conn.display.info
        lo, hi = info.min_keycode, info.max_keycode
        keymap = self._conn.get_keyboard_mapping(lo, hi - lo + 1)
        table = self._gui.platformModule.keyboardMapping
        ok = set()
        for ch in _KEY_TYPABLE:
            keycode = table.get(ch)
            if not keycode or not lo <= keycode <= hi:
                continue
            column = 1 if self._gui.isShiftCharacter(ch) else 0
            syms = keymap[keycode - lo]
            if len(syms) > column and syms[column] == keysym_for(ch):
                ok.add(ch)
        return frozenset(ok)

    def close(self) -> None:
        """Close the X connection. Safe to call twice."""
        conn, self._conn = getattr(self, "_conn", None), None
        if conn is not None:
            conn.close()


class XKeysymTyper:
    """Types any Unicode text on X11 through spare keycodes bound to the characters' keysyms.

    Bindings live in a small least-recently-used table over the spare keycodes. After new bindings the typer waits
    ``bind_settle`` seconds before pressing them: apps (their Xlib/XKB keymap cache) pick up a keymap change
    asynchronously, and a key pressed too soon after it is dropped now and then (seen with Tk on a German XKB
    layout). A text with more distinct characters than there are spare keycodes is typed in batches with
    ``settle`` seconds between them, so apps have read the keymap for one batch before the next one rebinds the
    keycodes. ``close`` waits ``settle`` and clears the bindings.
    """

    def __init__(self, x_display: str, delay: float = 0.004, bind_settle: float = 0.1, settle: float = 0.25):
        self.delay, self.bind_settle, self.settle = delay, bind_settle, settle
        self._conn = open_display(x_display)
        lo, hi = self._conn.display.info.min_keycode, self._conn.display.info.max_keycode
        mapping = self._conn.get_keyboard_mapping(lo, hi - lo + 1)
        self._spare = [lo + i for i, syms in enumerate(mapping) if not any(syms)]
        if not self._spare:
            self._conn.close()
            raise EnvError("the keyboard layout has no free keycode to type non-ASCII text with; use "
                           "unicode_method='clipboard' (needs xclip or xsel)")
        self._bound: dict[str, int] = {}   # char -> keycode, least recently used first

    @property
    def capacity(self) -> int:
        """How many distinct characters can be bound at once (the number of spare keycodes)."""
        return len(self._spare)

    def type(self, text: str) -> None:
        """Type ``text`` by binding its characters to spare keycodes and pressing them through XTEST.

        Texts with more distinct characters than ``capacity`` are typed in batches, with ``settle`` seconds
        between rebinding batches.
        """
        from Xlib import X
        from Xlib.ext import xtest

        chars = list(text)
        start = 0
        while start < len(chars):
            batch: list[str] = []
            distinct: set[str] = set()
            for ch in chars[start:]:
                if ch not in distinct and len(distinct) == self.capacity:
                    break
                distinct.add(ch)
                batch.append(ch)
            if start and any(ch not in self._bound for ch in distinct):
                time.sleep(self.settle)  # apps finish reading the previous batch's bindings first
            self._bind(distinct)
            for ch in batch:
                keycode = self._bound[ch]
                xtest.fake_input(self._conn, X.KeyPress, keycode)
                xtest.fake_input(self._conn, X.KeyRelease, keycode)
                self._conn.sync()
                if self.delay:
                    time.sleep(self.delay)
            start += len(batch)

    def _bind(self, chars: set[str]) -> None:
        changed = self._assign(chars)
        if not changed:
            return
        self._write_mapping(changed)
        self._conn.sync()
        time.sleep(self.bind_settle)

    def _assign(self, chars: set[str]) -> dict[int, int]:
        """Give each of ``chars`` not bound yet a spare keycode (a free one, else the least recently used one
        that no character of ``chars`` needs); returns keycode -> keysym of the new bindings."""
        for ch in chars:  # mark as recently used
            if ch in self._bound:
                self._bound[ch] = self._bound.pop(ch)
        missing = [ch for ch in chars if ch not in self._bound]
        free = [k for k in self._spare if k not in self._bound.values()] if missing else []
        changed: dict[int, int] = {}
        for ch in missing:
            if free:
                keycode = free.pop()
            else:
                victim = next(c for c in self._bound if c not in chars)
                keycode = self._bound.pop(victim)
            self._bound[ch] = keycode
            changed[keycode] = keysym_for(ch)
        return changed

    def _write_mapping(self, changed: dict[int, int]) -> None:
        """Put the new bindings in the server's keyboard mapping: one request per keycode."""
        for keycode, sym in changed.items():
            self._conn.change_keyboard_mapping(keycode, [(sym, sym)])

    def close(self) -> None:
        """Wait ``settle``, unbind the spare keycodes and close the X connection. Safe to call twice."""
        conn, self._conn = getattr(self, "_conn", None), None
        if conn is None:
            return
        try:
            if self._bound:
                time.sleep(self.settle)
                for keycode in self._bound.values():
                    conn.change_keyboard_mapping(keycode, [(0, 0)])
                conn.sync()
                self._bound.clear()
        finally:
            conn.close()
