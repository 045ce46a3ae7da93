"""Typing control characters on the real desktop obeys the same key rules as pressing the keys they are: the deny
list (counting held modifiers), and no raw control character ever reaches the Unicode route."""

from __future__ import annotations

import re

import pytest
from test_desktop_unit import FakeGui, make_env

from guiagent.actions import types as t
from guiagent.envs.desktop import DeniedAction
from guiagent.envs.desktop.executor import PyAutoGuiExecutor
from guiagent.errors import ActionError


@pytest.mark.parametrize("ch, combo", [("\b", "ctrl+alt+backspace"), ("\x7f", "ctrl+alt+delete")])
def test_control_character_with_held_modifiers_is_denied(ch: str, combo: str) -> None:
    env, gui = make_env()
    env.execute(t.KeyDown("ctrl"))
    env.execute(t.KeyDown("alt"))
    before = list(gui.calls)
    with pytest.raises(DeniedAction, match=re.escape(f"entry {combo!r}")):
        env.execute(t.Type(f"x{ch}"))
    with pytest.raises(DeniedAction):
        env.check(t.Type(ch))  # the dry run refuses it too
    assert gui.calls == before  # nothing was sent


def test_a_control_key_denied_alone_is_denied_when_typed() -> None:
    env, gui = make_env(deny={"esc"})
    with pytest.raises(DeniedAction, match="'esc'"):
        env.execute(t.Type("abc\x1b"))
    assert gui.calls == []


def test_control_characters_are_pressed_as_keys_not_sent_as_text() -> None:
    typed: list[str] = []
    gui = FakeGui()
    ex = PyAutoGuiExecutor(gui, "linux", unicode_typer=lambda: typed.append)
    ex.run(t.Type("ab\bc\x1bé\x7f"))
    assert gui.calls == [("write", "ab", ("interval", 0.0)), ("press", "backspace"), ("write", "c", ("interval", 0.0)),
                         ("press", "esc"), ("press", "delete")]
    assert typed == ["é"]


@pytest.mark.parametrize("ch", ["\x03", "\x00", "\x85"])
def test_control_characters_that_name_no_key_are_refused(ch: str) -> None:
    env, gui = make_env()
    with pytest.raises(ActionError, match="control character"):
        env.execute(t.Type(f"a{ch}b"))
    assert gui.calls == []
