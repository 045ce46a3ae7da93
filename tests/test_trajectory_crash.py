"""Crash safety: SIGKILL a recording agent run at random moments, many times; every folder must load, with every
completed step intact (its line whole, its screenshot on disk and decodable, showing what that step saw).

To make 30 kills cheap, a "zygote" process imports everything once and forks one recording run per trial; the test
kills the forked child with SIGKILL at a random moment and asks the zygote to reap it.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from guiagent.agent.trajectory import TRAJECTORY_FILE, load_run

TESTS = Path(__file__).parent

ZYGOTE = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, sys.argv[1])
    from agent_helpers import BoardEnv, ScriptModel
    from guiagent.agent.config import AgentConfig
    from guiagent.agent.loop import Agent
    from guiagent.models.profiles import get_profile

    def answer(n, messages):
        if n % 7 == 3:
            return "not an action"  # a parse failure and a retry now and then
        x, y = 120 + (n * 37) % 500, 20 + (n * 53) % 360
        extra = "\\n\\ntype(content='a')" if n % 5 == 0 else ""
        return f"Thought: step {n}\\nAction: click(start_box='({x},{y})'){extra}"

    for line in sys.stdin:
        cmd, arg = line.split()
        if cmd == "run":
            pid = os.fork()
            if pid == 0:
                sys.stdin.close()
                agent = Agent(BoardEnv(), ScriptModel(answer), get_profile("ui-tars-1.5"),
                              AgentConfig(max_steps=100000, stuck_after=0, wait_s=0))
                agent.run("mark the board forever", out_dir=arg)
                os._exit(0)
            print(pid, flush=True)
        elif cmd == "reap":
            _, status = os.waitpid(int(arg), 0)
            print(status, flush=True)
""")


def _lines(parent: Path) -> int:
    if not parent.exists():
        return 0
    for d in parent.iterdir():
        if not d.name.startswith("."):
            try:
                return (d / TRAJECTORY_FILE).read_bytes().count(b"\n")
            except FileNotFoundError:
                return 0
    return 0


def test_sigkill_at_random_moments_leaves_loadable_folders(tmp_path: Path):
    rng = random.Random(1234)
    zygote = subprocess.Popen([sys.executable, "-c", ZYGOTE, str(TESTS)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    trials = 30
    waited_for_steps = []
    try:
        for trial in range(trials):
            parent = tmp_path / f"t{trial:02d}"
            zygote.stdin.write(f"run {parent}\n")
            zygote.stdin.flush()
            pid = int(zygote.stdout.readline())
            if trial % 3:  # two thirds: let it record a step or more first, then kill at a random moment
                deadline = time.monotonic() + 30
                while _lines(parent) < 1 + trial % 4 and time.monotonic() < deadline:
                    time.sleep(0.005)
                waited_for_steps.append(trial)
                time.sleep(rng.uniform(0, 0.15))
            else:  # one third: anywhere from process start on, start-up and folder creation included
                time.sleep(rng.uniform(0, 0.08))
            os.kill(pid, signal.SIGKILL)
            zygote.stdin.write(f"reap {pid}\n")
            zygote.stdin.flush()
            status = int(zygote.stdout.readline())
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, "the run ended by itself"
    finally:
        zygote.stdin.close()
        zygote.wait(timeout=30)

    loaded_steps = {}
    for trial in range(trials):
        parent = tmp_path / f"t{trial:02d}"
        folders = [d for d in parent.iterdir() if not d.name.startswith(".")] if parent.exists() else []
        assert len(folders) <= 1
        for folder in folders:
            run = load_run(folder)
            assert not run.finished and run.outcome == "incomplete"
            assert any("did not finish" in p for p in run.problems)
            assert not any("missing" in p for p in run.problems), run.problems
            assert [s.index for s in run.steps] == list(range(len(run.steps)))
            previous = None
            for step in run.steps:
                img = run.screenshot(step)
                assert img.size == (640, 400) and step.screenshot_size == (640, 400)
                if previous is not None and previous.status[0] == "executed":
                    # the mark left by the previous step's click is in this step's screenshot
                    a = previous.actions[0]
                    assert img.getpixel((int(a["x"]), int(a["y"]))) == (30, 90, 200)
                previous = step
            loaded_steps[trial] = len(run.steps)
    for trial in waited_for_steps:
        assert loaded_steps.get(trial, 0) >= 1 + trial % 4
    assert sum(loaded_steps.values()) >= 40
