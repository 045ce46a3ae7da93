"""`guiagent run --env sandbox` as a user runs it (a subprocess against the stub model server): after a normal end,
Ctrl-C and SIGKILL of the agent, no process of the sandbox is left and no file outside its temp HOME (the agent's
HOME and TMPDIR are fresh folders here, so anything written there shows)."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from desktop_apps.remote import DISPLAYS, ROOT, procs_with_env, xterm_cat_argv
from desktop_apps.xserver import wait_for
from stub_openai import StubOpenAI

from guiagent.agent.trajectory import load_run

pytestmark = pytest.mark.timeout(120)


def start_agent(stub: StubOpenAI, tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path, Path]:
    home, tmp = tmp_path / "user-home", tmp_path / "user-tmp"
    home.mkdir()
    tmp.mkdir()
    argv = [sys.executable, "-m", "guiagent", "run", "type into the terminal", "--env", "sandbox", "--size", "640x480",
            "--sandbox-app", shlex.join(xterm_cat_argv("typed.txt", "cat", "40x5+20+20")),
            "--model", f"openai:{stub.url}", "--model-name", "stub-model", "--family", "ui-tars-1.5",
            "--out", str(tmp_path / "runs"), "--settle", "0", "--wait", "0.1", "--max-steps", "400", "--quiet"]
    env = {k: v for k, v in os.environ.items() if k not in ("XAUTHORITY", "DISPLAY", "GUIAGENT_SANDBOX_ID")}
    env.update(PYTHONPATH=str(ROOT), HOME=str(home), TMPDIR=str(tmp), GUIAGENT_SANDBOX_DISPLAYS=DISPLAYS)
    proc = subprocess.Popen(argv, env=env, cwd=str(tmp_path), start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return proc, home, tmp


def sandbox_procs(tmp: Path) -> list[int]:
    """Every live process whose HOME is a sandbox HOME under ``tmp`` (the supervisor, Xvfb, openbox, the apps)."""
    pids = []
    for pid in procs_with_env(f"HOME={tmp}/".encode()):
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                pids.append(pid)
        except OSError:
            continue
    return pids


def xvfb_display(pids: list[int]) -> str:
    for pid in pids:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if argv and argv[0].endswith(b"Xvfb"):
            return argv[1].decode()
    raise AssertionError("no Xvfb among the sandbox's processes")


def wait_running(proc: subprocess.Popen[bytes], stub: StubOpenAI, tmp: Path) -> tuple[list[int], str]:
    """Wait until the run is under way (the model was asked twice); returns the sandbox's pids and display."""
    def ready() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"the agent exited early ({proc.returncode}): {proc.stderr.read().decode()[-2000:]}")
        return len([r for r in stub.requests if r.path.endswith("/chat/completions")]) >= 2

    wait_for(ready, timeout=60, what="the run to reach its second step")
    pids = sandbox_procs(tmp)
    assert len(pids) >= 4, pids  # supervisor, Xvfb, openbox, xterm (and its shell)
    return pids, xvfb_display(pids)


def assert_nothing_left(tmp: Path, home: Path, display: str) -> None:
    wait_for(lambda: not sandbox_procs(tmp), timeout=20, what="every sandbox process to end")
    wait_for(lambda: not list(tmp.iterdir()), timeout=10, what="the sandbox HOME to be deleted")
    assert list(home.iterdir()) == [], "the agent wrote into the user's HOME"
    n = display.lstrip(":")
    assert not os.path.exists(f"/tmp/.X{n}-lock") and not os.path.exists(f"/tmp/.X11-unix/X{n}")


def test_normal_end_leaves_nothing(tmp_path: Path) -> None:
    with StubOpenAI() as stub:
        stub.reply("Thought: wait\nAction: wait()")
        stub.reply("Thought: wait\nAction: wait()")
        stub.reply("Thought: done\nAction: finished(content='ok')")
        proc, home, tmp = start_agent(stub, tmp_path)
        pids, display = wait_running(proc, stub, tmp)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert_nothing_left(tmp, home, display)
    (run_dir,) = (tmp_path / "runs").iterdir()
    run = load_run(run_dir)
    assert run.outcome == "success" and run.meta["env"]["name"] == "sandbox"
    assert run.meta["env_options"]["apps"] and run.meta["env_options"]["width"] == 640


@pytest.mark.parametrize("how", ["ctrl-c", "sigkill"])
def test_interrupted_or_killed_agent_leaves_nothing(tmp_path: Path, how: str) -> None:
    with StubOpenAI(default_text="Thought: wait\nAction: wait()") as stub:
        proc, home, tmp = start_agent(stub, tmp_path)
        try:
            pids, display = wait_running(proc, stub, tmp)
            if how == "ctrl-c":
                os.killpg(proc.pid, signal.SIGINT)  # what the terminal does: the whole foreground group
                proc.communicate(timeout=60)
                assert proc.returncode == 130
            else:
                os.kill(proc.pid, signal.SIGKILL)
                proc.communicate(timeout=30)
                assert proc.returncode == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert_nothing_left(tmp, home, display)
    if how == "ctrl-c":
        (run_dir,) = (tmp_path / "runs").iterdir()
        assert load_run(run_dir).outcome == "interrupted"


def test_sandbox_shell_prints_how_to_watch_and_ends_everything(capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    from desktop_apps.remote import VNC_PORTS, port_open

    from guiagent.cli import main

    monkeypatch.setenv("GUIAGENT_SANDBOX_DISPLAYS", DISPLAYS)
    monkeypatch.setenv("GUIAGENT_SANDBOX_VNC_PORTS", VNC_PORTS)
    assert main(["sandbox", "shell", "--size", "640x480", "--app", "xterm", "--for", "1"]) == 0
    out = capsys.readouterr().out
    display = re.search(r"display (:\d+) \(640x480\), HOME (\S+)", out)
    port = re.search(r"vncviewer localhost:(\d+)", out)
    assert display and port, out
    assert f"--env vnc:localhost:{port.group(1)}" in out
    assert not port_open(int(port.group(1))) and not Path(display.group(2)).exists()
    assert not os.path.exists(f"/tmp/.X{display.group(1)[1:]}-lock")
    assert main(["sandbox", "shell", "--size", "10x10"]) == 2  # too small: a usage error, nothing started
