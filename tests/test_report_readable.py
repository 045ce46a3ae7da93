"""The report reads like prose: actions as `click (552, 371)`, the task check as a sentence; python-xlib's xauthority
warning is said once, on stderr, not three times on stdout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from agent_helpers import BoardEnv, ScriptModel, finished

from guiagent.agent.config import AgentConfig
from guiagent.agent.loop import Agent
from guiagent.agent.outcome import check_sentence
from guiagent.agent.trajectory import load_run
from guiagent.agent.viewer import render_html
from guiagent.envs.desktop.xlibquiet import quiet_xauth
from guiagent.models.profiles import get_profile

ANSWERS = ["Thought: a\nAction: click(start_box='(552,371)')",
           "Thought: b\nAction: type(content='hello\\n')",
           "Thought: c\nAction: hotkey(key='ctrl s')",
           finished("ok")]


def test_report_shows_actions_and_the_check_in_words(tmp_path: Path):
    evaluation = {"success": False, "reasons": ["failed: file todo.txt does not exist", "ok: notes.txt is gone"]}
    result = Agent(BoardEnv(1288, 812), ScriptModel(ANSWERS), get_profile("ui-tars-1.5"), AgentConfig()).run(
        "x", out_dir=tmp_path, evaluate=lambda: evaluation)
    page = render_html(load_run(result.run_dir))
    assert ">click (552, 371)</span>" in page
    assert '>type &quot;hello&quot; then Enter</span>' in page
    assert ">hotkey ctrl+s</span>" in page
    assert "<code>{&quot;type&quot;" not in page  # no raw JSON as the visible text (it is in the tooltip)
    assert "The task check failed: file todo.txt does not exist." in page


def test_check_sentences():
    assert check_sentence(None) is None
    assert check_sentence({"success": True, "reasons": ["ok: the folder exists"]}) == \
        "The task check passed: the folder exists."
    assert check_sentence({"success": False, "error": "ZeroDivisionError: x"}) == \
        "The task check could not run: ZeroDivisionError: x."


def test_xauth_warning_is_said_once_on_stderr(capsys):
    import guiagent.envs.desktop.xlibquiet as q

    q._said.clear()
    for _ in range(3):
        with quiet_xauth():
            print("Xlib.xauth: warning, no xauthority details available")
            print("other output")
    out, err = capsys.readouterr()
    assert out == "other output\n" * 3
    assert err.count("no xauthority details") == 1


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb (installed in CI by .ci/run)")
def test_a_desktop_command_prints_the_xauth_warning_once(tmp_path: Path):
    sys.path.insert(0, str(Path(__file__).parent))
    from desktop_apps.xserver import Xvfb

    empty = tmp_path / "Xauthority"
    empty.write_bytes(b"")
    with Xvfb(800, 600).start() as x:
        env = {**x.env, "XAUTHORITY": str(empty), "PYTHONPATH": os.getcwd()}
        p = subprocess.run([sys.executable, "-m", "guiagent", "run", "x", "--env", "desktop", "--model",
                            f"replay:{tmp_path / 'none'}", "--dry-run", "--no-record"],
                           env=env, capture_output=True, text=True, timeout=120)
    assert "xauthority" not in p.stdout
    assert p.stderr.count("no xauthority details") == 1, p.stderr
