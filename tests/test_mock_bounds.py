"""The mock desktop on hostile input: very long lines, many lines, raw bytes to the gym step, huge sizes. Each
action is all-or-nothing: refused before anything changes, or done completely."""

from __future__ import annotations

import gymnasium as gym
import pytest

import guiagent.envs.mock.gym  # noqa: F401 - registers the environments
from guiagent.actions import types as T
from guiagent.agent.factory import make_env
from guiagent.cli import main
from guiagent.envs.mock import MockDesktop
from guiagent.envs.mock.desktop import MAX_TYPE_CHARS, MockDesktopFailed
from guiagent.envs.mock.text import TextStyle, measure
from guiagent.errors import ConfigError, EnvError


def _editor_text(d: MockDesktop) -> str:
    return d.state()["apps"]["editor"]["documents"][0]["text"]


@pytest.fixture
def editor() -> MockDesktop:
    d = MockDesktop(640, 480)
    d.execute(T.OpenApp("editor"))
    return d


def test_a_very_long_line_is_measured_without_recursion():
    text = "x" * 60_000
    assert measure(text) == pytest.approx(60_000 * measure("x"), rel=1e-6)
    assert measure(text, TextStyle("mono", 12)) > 0


def test_typing_a_line_longer_than_37500_characters_works(editor: MockDesktop):
    for _ in range(4):
        editor.execute(T.Type("y" * 9_500))
    editor.observe()
    assert _editor_text(editor) == "y" * 38_000


def test_many_line_breaks_are_one_edit(editor: MockDesktop):
    editor.execute(T.Type("ab\n" * 3_000))
    editor.observe()
    assert _editor_text(editor) == "ab\n" * 3_000
    # undo takes the whole typed text back, as in one edit
    editor.execute(T.Hotkey(("ctrl", "z")))
    assert _editor_text(editor) == ""


def test_typing_too_much_is_refused_before_anything_changes(editor: MockDesktop):
    editor.execute(T.Type("keep"))
    with pytest.raises(EnvError, match="at most 10,000 characters"):
        editor.execute(T.Type("\n" * (MAX_TYPE_CHARS + 1)))
    assert _editor_text(editor) == "keep"


def test_an_internal_failure_stops_the_desktop_until_reset(editor: MockDesktop, monkeypatch):
    import guiagent.envs.mock.desktop as desktop

    def broken(d, a):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setitem(desktop._HANDLERS, T.Type, broken)
    with pytest.raises(MockDesktopFailed, match="half-changed") as err:
        editor.execute(T.Type("x"))
    assert err.value.fatal
    with pytest.raises(MockDesktopFailed):
        editor.execute(T.Press("a"))
    monkeypatch.undo()
    editor.reset()
    editor.execute(T.Press("a"))


def test_gym_step_with_raw_bytes_is_a_parse_error():
    env = gym.make("guiagent/Mock-calc-add-v0")
    env.reset(seed=0)
    _, _, _, _, info = env.step(b"\xff\xfe click")
    assert "not UTF-8" in info["parse_error"]
    env.close()


@pytest.mark.parametrize("options", [{"width": 100_000, "height": 100_000}, {"width": 1280, "height": 800,
                                                                             "scale": 50.0},
                                     {"width": "wide", "height": 800}, {"seed": "x"}])
def test_sizes_and_options_are_bounded(options):
    with pytest.raises(ConfigError):
        make_env("mock", **options)


def test_cli_size_is_bounded(capsys):
    assert main(["run", "x", "--model", "scripted", "--size", "100000x100000", "--no-record"]) == 2
    assert "between 480x360 and 7680x4320" in capsys.readouterr().err


def test_async_vector_env_keeps_the_instruction():
    envs = gym.vector.AsyncVectorEnv([lambda: gym.make("guiagent/Mock-calc-add-v0"),
                                      lambda: gym.make("guiagent/Mock-v0")])
    try:
        obs, info = envs.reset(seed=0)
        assert info["instruction"][0] == "Use the Calculator to add 12 and 30."
        assert all(isinstance(x, str) and x for x in info["instruction"])
        _, _, _, _, info = envs.step(["Thought: x\nAction: wait()"] * 2)
        assert info["instruction"][0] == "Use the Calculator to add 12 and 30."
    finally:
        envs.close()


def test_file_system_makes_folders_thousands_deep_without_recursion():
    """A task may name a very deep path: its folders are made in a loop (this was a RecursionError)."""
    from guiagent.envs.mock.fs import FileSystem, FsError

    fs = FileSystem()
    deep = "/home/user/" + "/".join(f"d{i}" for i in range(5000))
    fs.write(deep + "/note.txt", "hi", parents=True)
    assert fs.read(deep + "/note.txt") == "hi" and fs.is_dir("/home/user/d0/d1") and fs.is_dir(deep)
    fs.write("/home/user/plain.txt", "x")
    with pytest.raises(FsError, match="'plain.txt' already exists"):
        fs.mkdir("/home/user/plain.txt/a/b", parents=True)
    assert not fs.exists("/home/user/plain.txt/a")
