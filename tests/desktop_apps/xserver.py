"""A real Xvfb for the desktop tests, and helpers to launch and watch X11 programs on it.

Missing Xvfb (or xdotool, xterm...) is an error, not a skip: CI installs them (.ci/run), and a desktop test that
silently does not run proves nothing.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TK_APP = HERE / "tk_app.py"


def require(program: str) -> str:
    path = shutil.which(program)
    if not path:
        raise RuntimeError(f"{program} is not installed; the desktop tests need it (Debian: see .ci/run)")
    return path


class Xvfb:
    """An Xvfb server on a free display number (chosen by the server itself through -displayfd)."""

    def __init__(self, width: int, height: int, depth: int = 24):
        self.width, self.height, self.depth = width, height, depth
        self.proc: subprocess.Popen[bytes] | None = None
        self.display = ""
        self._children: list[subprocess.Popen[Any]] = []

    def start(self, timeout: float = 20.0) -> Xvfb:
        xvfb = require("Xvfb")
        read_fd, write_fd = os.pipe()
        argv = [xvfb, "-displayfd", str(write_fd), "-screen", "0", f"{self.width}x{self.height}x{self.depth}",
                "-nolisten", "tcp", "-noreset", "+extension", "RANDR"]
        # -noreset: keep RandR monitors and selections alive when the last client disconnects.
        self.proc = subprocess.Popen(argv, pass_fds=(write_fd,), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        os.close(write_fd)
        number = b""
        deadline = time.monotonic() + timeout
        try:
            while not number.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([read_fd], [], [], left)[0]:
                    raise RuntimeError(f"Xvfb did not report a display within {timeout} s")
                chunk = os.read(read_fd, 64)
                if not chunk:
                    err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                    raise RuntimeError(f"Xvfb exited before it was ready: {err[-2000:]}")
                number += chunk
        except BaseException:
            self.stop()
            raise
        finally:
            os.close(read_fd)
        self.display = f":{number.decode().strip()}"
        return self

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(DISPLAY=self.display, LC_ALL="C.UTF-8", LANG="C.UTF-8")
        env.pop("WAYLAND_DISPLAY", None)
        return env

    def run(self, argv: Sequence[str], timeout: float = 20.0, check: bool = True) -> str:
        done = subprocess.run(list(argv), env=self.env, capture_output=True, timeout=timeout, check=False)
        if check and done.returncode != 0:
            raise RuntimeError(f"{argv} failed ({done.returncode}): {done.stderr.decode(errors='replace')}")
        return done.stdout.decode("utf-8", errors="replace")

    def spawn(self, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
        proc = subprocess.Popen(list(argv), env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True, **kwargs)
        self._children.append(proc)
        return proc

    def wait_window(self, *, name: str | None = None, cls: str | None = None, timeout: float = 30.0) -> int:
        """Id of a visible window matching the title or class; waits for it to be mapped."""
        require("xdotool")
        argv = ["xdotool", "search", "--sync", "--onlyvisible"]
        argv += ["--name", name] if name else ["--class", str(cls)]
        out = self.run(argv, timeout=timeout)
        return int(out.split()[0])

    def window_geometry(self, wid: int) -> tuple[int, int, int, int]:
        """(root_x, root_y, width, height) of a window, from xwininfo."""
        out = self.run(["xwininfo", "-id", str(wid)])
        fields = {}
        for line in out.splitlines():
            key, _, value = line.strip().partition(":")
            fields[key] = value.strip()
        return (int(fields["Absolute upper-left X"]), int(fields["Absolute upper-left Y"]),
                int(fields["Width"]), int(fields["Height"]))

    def stop(self) -> None:
        for proc in self._children:
            _terminate(proc)
        self._children.clear()
        if self.proc is not None:
            _terminate(self.proc)
            self.proc = None

    def __enter__(self) -> Xvfb:  # noqa: PYI034
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _terminate(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition",
              interval: float = 0.05) -> Any:
    """Poll until ``predicate()`` is truthy and return its value; AssertionError naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class TkApp:
    """The Tk test app running on an Xvfb, with its JSON-lines event log."""

    def __init__(self, xvfb: Xvfb, log_path: Path, geometry: str = "700x520+40+60", target: str | None = None,
                 title: str = "guiagent-tk-test", log_keys: bool = False):
        self.log_path = log_path
        log_path.write_text("")
        argv = [sys.executable, str(TK_APP), "--log", str(log_path), "--geometry", geometry, "--title", title]
        if target:
            argv += ["--target", target]
        if log_keys:
            argv.append("--log-keys")
        self.proc = xvfb.spawn(argv)
        ready = wait_for(lambda: self.find("ready"), timeout=30, what="the Tk test app to show its window")
        self.widgets: dict[str, list[int]] = ready[0]["widgets"]

    def events(self) -> list[dict[str, Any]]:
        if self.proc.poll() is not None and self.proc.returncode not in (0, -15):
            err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
            raise AssertionError(f"the Tk test app died ({self.proc.returncode}): {err[-2000:]}")
        lines = self.log_path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def find(self, ev: str) -> list[dict[str, Any]]:
        return [e for e in self.events() if e["ev"] == ev]

    def center(self, widget: str) -> tuple[float, float]:
        """Centre of a widget in root (screen) coordinates."""
        x, y, w, h = self.widgets[widget]
        return x + w / 2, y + h / 2

    def canvas_point(self, cx: float, cy: float) -> tuple[float, float]:
        """A canvas coordinate in root (screen) coordinates."""
        x, y, _, _ = self.widgets["canvas"]
        return x + cx, y + cy

    def mark(self) -> int:
        """The number of events so far; ``since(mark)`` gives only newer ones."""
        return len(self.events())

    def since(self, mark: int, ev: str | None = None) -> list[dict[str, Any]]:
        out = self.events()[mark:]
        return [e for e in out if ev is None or e["ev"] == ev]

    def close(self) -> None:
        _terminate(self.proc)
