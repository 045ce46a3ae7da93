"""Ctrl-C in a command without its own handling (make-grounding here) ends it with one word and status 130, not a
KeyboardInterrupt traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_ctrl_c_in_make_grounding_is_quiet(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = tmp_path / "data"
    proc = subprocess.Popen([sys.executable, "-m", "guiagent", "make-grounding", "--suite", "mock", "--screens", "5000",
                             "-o", str(out), "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 60
        while not (out / "images").is_dir() or not any((out / "images").iterdir()):  # it is rendering screens
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert err.decode().strip() == "interrupted"
