"""Ctrl-C ends a command with one line and status 130, not a KeyboardInterrupt traceback; make-grounding (in a
subprocess, by a real signal) treats SIGTERM the same way and leaves no half-written dataset."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import guiagent.cli.tasks
from guiagent.cli import main

REPO = Path(__file__).resolve().parent.parent


def test_ctrl_c_in_a_command_without_its_own_handling_is_one_word(monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(guiagent.cli.tasks, "main", interrupted)
    assert main(["tasks"]) == 130
    assert capsys.readouterr().err.strip() == "interrupted"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_in_make_grounding_is_quiet_and_leaves_nothing(tmp_path: Path, sig: signal.Signals) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = tmp_path / "data"
    proc = subprocess.Popen([sys.executable, "-m", "guiagent", "make-grounding", "--suite", "mock", "--screens", "5000",
                             "-o", str(out), "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    partial = tmp_path / f".data.partial-{proc.pid}"
    try:
        deadline = time.monotonic() + 60
        while not (partial / "images").is_dir() or not any((partial / "images").iterdir()):  # rendering screens
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted: nothing was written"), lines
    assert "was not made" in lines[0]
    assert list(tmp_path.iterdir()) == []  # neither the dataset nor the partial build
