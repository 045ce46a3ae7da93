"""Helpers for the sandbox and VNC tests: attach the desktop test helpers to a display someone else started, find
a sandbox's processes, and start the documented VNC desktop (docs/start-vnc-desktop.sh)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from desktop_apps.xserver import Xvfb, require, wait_for

ROOT = Path(__file__).resolve().parents[2]
START_SCRIPT = ROOT / "docs" / "start-vnc-desktop.sh"
# Display numbers and ports these tests may use (other test suites on the machine use other ones).
DISPLAYS = "170-199"
VNC_PORTS = "5970-5999"


def attach(display: str) -> Xvfb:
    """The test helpers' Xvfb object for an X server that is already running (``stop`` ends only its apps)."""
    server = Xvfb(0, 0)
    server.display = display
    return server


def xterm_cat_argv(out: str, title: str, geometry: str = "60x8+760+80") -> list[str]:
    """An xterm running ``cat > out``: what is typed into it lands in ``out`` (relative: in the app's cwd)."""
    return [require("xterm"), "-u8", "-T", title, "-geometry", geometry, "-e", "sh", "-c", 'exec cat > "$0"', out]


def procs_with_env(needle: bytes) -> list[int]:
    """Pids of processes whose environment has the entry ``needle`` (b"HOME=/tmp/x"), or, when ``needle`` ends
    with "/", an entry starting with it (b"HOME=/tmp/" matches every HOME under /tmp)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                items = f.read().split(b"\0")
        except OSError:
            continue
        if any(item == needle or (needle.endswith(b"/") and item.startswith(needle)) for item in items):
            found.append(int(entry))
    return found


def sandbox_pids(marker: str) -> list[int]:
    return [pid for pid in procs_with_env(f"GUIAGENT_SANDBOX_ID={marker}".encode()) if _alive(pid)]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def free_pair(used: set[int] | None = None) -> tuple[int, int]:
    """A display number and a port from the ranges above that nothing uses now."""
    used = used or set()
    for i in range(30):
        n, port = 170 + i, 5970 + i
        if n in used or os.path.exists(f"/tmp/.X{n}-lock") or os.path.exists(f"/tmp/.X11-unix/X{n}") \
                or port_open(port):
            continue
        return n, port
    raise RuntimeError("no free display number in :170-:199 / port in 5970-5999")


class VncDesktop:
    """Xvfb + openbox + x11vnc started with docs/start-vnc-desktop.sh, in its own process group."""

    def __init__(self, width: int, height: int, password: str | None = None, home: Path | None = None):
        self.number, self.port = free_pair()
        self.display = f":{self.number}"
        self.extra: list[subprocess.Popen[Any]] = []
        env = dict(os.environ)
        env.pop("VNC_PASSWORD", None)
        if password:
            env["VNC_PASSWORD"] = password
        if home is not None:
            env["HOME"] = str(home)
        self.proc = subprocess.Popen(["sh", str(START_SCRIPT), str(self.number), str(self.port),
                                      f"{width}x{height}"], env=env, start_new_session=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for(lambda: port_open(self.port) or self.proc.poll() is not None, timeout=30,
                     what="the VNC desktop to listen")
            if self.proc.poll() is not None:
                raise RuntimeError(f"start-vnc-desktop.sh exited: {self.proc.stderr.read().decode()[-2000:]}")
            wait_for(self._wm_up, timeout=30, what="openbox to start")
        except BaseException:
            self.stop()
            raise
        self.x = attach(self.display)

    def _wm_up(self) -> bool:
        done = subprocess.run(["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"], env={**os.environ,
                              "DISPLAY": self.display}, capture_output=True, timeout=10, check=False)
        return b"window id" in done.stdout

    def group(self) -> list[tuple[int, str, list[str]]]:
        """(pid, command name, argv) of the processes the script started."""
        out = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")[:-1]
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == self.proc.pid and fields[0] != "Z":  # fields[2] is the process group
                out.append((int(entry), stat.split("(", 1)[1].rsplit(")", 1)[0], [a.decode() for a in argv]))
        return out

    def x11vnc(self) -> tuple[int, list[str]]:
        return next((pid, argv) for pid, name, argv in self.group() if name == "x11vnc")

    def signal_vnc(self, sig: int) -> list[str]:
        """Send ``sig`` to x11vnc; returns its argv (to start it again)."""
        pid, argv = self.x11vnc()
        os.kill(pid, sig)
        return argv

    def restart_vnc(self, argv: list[str]) -> subprocess.Popen[Any]:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.extra.append(proc)
        wait_for(lambda: port_open(self.port), timeout=20, what="x11vnc to listen again")
        return proc

    def stop(self) -> None:
        if getattr(self, "x", None) is not None:
            self.x.stop()
        for proc in self.extra:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while self.group() and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid, _, _ in self.group():  # the group outlived its leader: end it
            os.kill(pid, signal.SIGKILL)
