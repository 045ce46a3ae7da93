"""The sandbox supervisor: a small stdlib-only process that owns every process of one sandbox.

The agent starts it (in its own session, so Ctrl-C in the agent's terminal does not reach it) and talks to it over
its stdin/stdout, one JSON object per line:

    {"op": "spawn", "argv": [...], "env": {...}, "displayfd": false, "timeout": 20}
        -> {"pid": 123} (with "display": "170" when displayfd asked Xvfb to report its display when ready)
    {"op": "poll"}   -> {"alive": [pid, ...], "dead": {pid: returncode, ...}}
    {"op": "stop"}   -> {"stopped": true}, then it exits

Every child runs in its own process group with PR_SET_PDEATHSIG=SIGTERM (the supervisor is single-threaded, so the
signal means exactly "the supervisor died"). The supervisor tears everything down when told to stop, when its
stdin reaches end of file (the agent exited, however it died, SIGKILL included), and on SIGTERM/SIGINT/SIGHUP:
SIGTERM to each child's process group (Xvfb then removes its own lock file and socket), SIGKILL to whatever is
left after a grace period, a sweep of /proc for stragglers that carry this sandbox's marker variable (grandchildren
that left their group), removal of a killed Xvfb's lock and socket, and finally the sandbox's temp HOME.

Run as a script (``python supervisor.py --marker ID --home DIR``): it must not import guiagent, which may not be
importable from the interpreter's default path.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1
MARKER_VAR = "GUIAGENT_SANDBOX_ID"
GRACE_S = 3.0


def _child_setup() -> None:
    """Runs in each child between fork and exec: own process group, SIGTERM when the supervisor dies."""
    os.setpgid(0, 0)
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class Supervisor:
    def __init__(self, marker: str, home: str | None):
        self.marker, self.home = marker, home
        self.children: list[subprocess.Popen[bytes]] = []
        self.displays: dict[int, str] = {}   # Xvfb pid -> display number
        self.stopping = False

    # ------------------------------------------------------------ commands

    def spawn(self, msg: dict) -> dict:
        argv = [str(a) for a in msg["argv"]]
        env = {str(k): str(v) for k, v in msg.get("env", {}).items()}
        env[MARKER_VAR] = self.marker
        log = msg.get("log")
        out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 (closed below, the child keeps its copy)
        read_fd = write_fd = None
        try:
            if msg.get("displayfd"):
                read_fd, write_fd = os.pipe()
                argv += ["-displayfd", str(write_fd)]
            proc = subprocess.Popen(argv, env=env, cwd=msg.get("cwd") or None, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=out, preexec_fn=_child_setup,
                                    pass_fds=(write_fd,) if write_fd is not None else ())
        except OSError as e:
            return {"error": f"cannot start {argv[0]}: {e.strerror or e}"}
        finally:
            if log:
                out.close()  # type: ignore[union-attr]
            if write_fd is not None:
                os.close(write_fd)
        self.children.append(proc)
        reply: dict = {"pid": proc.pid}
        if read_fd is not None:
            number = self._read_display(read_fd, proc, float(msg.get("timeout", 20)))
            if number is None:
                code = proc.poll()
                if code is None:  # EOF before a display: the server may still be exiting (display taken)
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        code = proc.wait(timeout=2)
                reply = {"error": "exited" if code is not None else "timeout", "returncode": code, "pid": proc.pid}
                if code is None:
                    self._kill_group(proc, signal.SIGKILL)
                    proc.wait()
            else:
                self.displays[proc.pid] = number
                reply["display"] = number
        return reply

    @staticmethod
    def _read_display(fd: int, proc: subprocess.Popen[bytes], timeout: float) -> str | None:
        data = b""
        deadline = time.monotonic() + timeout
        try:
            while not data.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([fd], [], [], left)[0]:
                    return None
                chunk = os.read(fd, 64)
                if not chunk:
                    return None  # the server exited (display in use, bad option)
                data += chunk
        finally:
            os.close(fd)
        return data.decode().strip()

    def poll(self) -> dict:
        alive = [p.pid for p in self.children if p.poll() is None]
        dead = {str(p.pid): p.returncode for p in self.children if p.returncode is not None}
        return {"alive": alive, "dead": dead}

    # ------------------------------------------------------------ teardown

    @staticmethod
    def _kill_group(proc: subprocess.Popen[bytes], sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)

    def stop(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        # Apps first, the X server last: apps exit cleanly while their display still exists.
        for proc in reversed(self.children):
            if proc.poll() is None:
                self._kill_group(proc, signal.SIGTERM)
                self._wait(proc, GRACE_S)
            if proc.poll() is None:
                self._kill_group(proc, signal.SIGKILL)
                self._wait(proc, GRACE_S)
            else:  # the leader is gone; its group may not be
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
        self._sweep()
        for pid, number in self.displays.items():
            self._remove_x_files(pid, number)
        if self.home:
            shutil.rmtree(self.home, ignore_errors=True)

    @staticmethod
    def _wait(proc: subprocess.Popen[bytes], timeout: float) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)

    def _sweep(self) -> None:
        """SIGKILL every process that still carries this sandbox's marker (descendants that left their group)."""
        needle = f"{MARKER_VAR}={self.marker}".encode()
        me = os.getpid()
        for _ in range(3):
            found = []
            for entry in os.listdir("/proc"):
                if not entry.isdigit() or int(entry) == me:
                    continue
                try:
                    with open(f"/proc/{entry}/environ", "rb") as f:
                        if needle in f.read().split(b"\0"):
                            found.append(int(entry))
                except OSError:
                    continue
            if not found:
                return
            for pid in found:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)
            for proc in self.children:
                proc.poll()  # reap

    @staticmethod
    def _remove_x_files(pid: int, number: str) -> None:
        """An Xvfb that had to be killed leaves its lock file and socket; remove them if they are still its own."""
        lock = f"/tmp/.X{number}-lock"
        try:
            with open(lock) as f:
                owner = int(f.read().strip() or 0)
        except (OSError, ValueError):
            return
        if owner == pid:
            for path in (lock, f"/tmp/.X11-unix/X{number}"):
                with contextlib.suppress(OSError):
                    os.unlink(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--marker", required=True)
    ap.add_argument("--home", default=None, help="directory to delete at the end")
    args = ap.parse_args(argv)
    sup = Supervisor(args.marker, args.home)

    def on_signal(signum: int, frame: object) -> None:
        sup.stop()
        os._exit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)

    out = sys.stdout
    for line in sys.stdin:  # EOF: the agent is gone
        try:
            msg = json.loads(line)
            op = msg.get("op")
            if op == "spawn":
                reply = sup.spawn(msg)
            elif op == "poll":
                reply = sup.poll()
            elif op == "stop":
                sup.stop()
                reply = {"stopped": True}
            else:
                reply = {"error": f"unknown op {op!r}"}
        except Exception as e:  # noqa: BLE001 (answer the agent; never die with children unattended)
            reply = {"error": f"{type(e).__name__}: {e}"}
        try:
            out.write(json.dumps(reply) + "\n")
            out.flush()
        except OSError:
            break
        if sup.stopping:
            return 0
    sup.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
