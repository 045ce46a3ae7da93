"""The run / replay / view / export commands on the mock desktop: exit codes, outputs, files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from agent_helpers import ScriptModel

from guiagent.agent.config import AgentConfig
from guiagent.agent.loop import Agent
from guiagent.agent.trajectory import load_run
from guiagent.cli import main
from guiagent.envs.mock import MockDesktop
from guiagent.models.profiles import get_profile

MOCK = {"width": 800, "height": 600, "scale": 1.0, "seed": 0}
ANSWERS = ["Thought: look at the desktop\nAction: click(start_box='(400,300)')",
           "Thought: again\nAction: left_double(start_box='(120,90)')",
           "Thought: and type\nAction: type(content='hello')",
           "Thought: done\nAction: finished(content='all good')"]


@pytest.fixture
def mock_run(tmp_path: Path) -> Path:
    """A run recorded on the mock desktop through the Python API, as `guiagent run` would record it."""
    env = MockDesktop(**MOCK)
    result = Agent(env, ScriptModel(ANSWERS), get_profile("ui-tars-1.5"), AgentConfig(wait_s=0)).run(
        "poke the desktop", out_dir=tmp_path / "recorded", meta={"env_options": MOCK})
    assert result.success
    return result.run_dir


def test_run_with_a_replayed_model_succeeds_and_records(mock_run: Path, tmp_path: Path, capsys):
    code = main(["run", "poke the desktop", "--env", "mock", "--size", "800x600", "--model", f"replay:{mock_run}",
                 "--out", str(tmp_path / "runs"), "--report", "--quiet"])
    assert code == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    run = load_run(run_dir)
    assert run.outcome == "success" and run.meta["answer"] == "all good"
    assert run.meta["env_options"] == {"width": 800, "height": 600, "seed": 0}
    assert run.meta["model_spec"] == f"replay:{mock_run}" and run.meta["family"] == "ui-tars-1.5"
    assert [s.actions for s in run.steps] == [s.actions for s in load_run(mock_run).steps]
    assert (run_dir / "report.html").is_file()
    assert capsys.readouterr().out.splitlines() == [f"run folder: {run_dir}", f"report:     {run_dir / 'report.html'}"]


def test_run_exit_code_1_when_the_run_fails(mock_run: Path, tmp_path: Path):
    code = main(["run", "poke", "--env", "mock", "--size", "800x600", "--model", f"replay:{mock_run}",
                 "--max-steps", "2", "--out", str(tmp_path / "runs"), "--quiet"])
    assert code == 1
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert load_run(run_dir).outcome == "step_limit"


def test_run_dry_run_executes_nothing(mock_run: Path, tmp_path: Path):
    code = main(["run", "poke", "--env", "mock", "--size", "800x600", "--model", f"replay:{mock_run}",
                 "--dry-run", "--out", str(tmp_path / "runs"), "--quiet"])
    (run_dir,) = (tmp_path / "runs").iterdir()
    run = load_run(run_dir)
    assert code == 0 and run.meta["config"]["dry_run"] is True
    assert [s.status for s in run.steps] == [["dry_run"], ["dry_run"], ["dry_run"], ["terminal"]]
    first = run.screenshot(run.steps[0]).tobytes()
    assert all(run.screenshot(s).tobytes() == first for s in run.steps)  # nothing changed on screen


@pytest.mark.parametrize("argv, message", [
    (["run", "x", "--model", "nonsense"], "unknown model spec"),
    (["run", "--model", "scripted"], "give --task ID"),
    (["run", "--model", "replay:nowhere"], "INSTRUCTION"),
    (["run", "x", "--model", "scripted", "--task", "no-such-task"], "no-such-task"),
])
def test_run_usage_errors_exit_2(argv, message, tmp_path: Path, capsys):
    assert main(argv + ["--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["run", "x", "--model", "scripted", "--max-steps", "0"],
                                  ["run", "x", "--model", "scripted", "--family", "no-such-family"],
                                  ["run", "x", "--model", "scripted", "--env", "moon"]])
def test_argparse_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2


def test_replay_check_passes_then_reports_a_tampered_step(mock_run: Path, capsys):
    assert main(["replay", str(mock_run), "--env", "mock", "--check"]) == 0
    assert "every screenshot matches" in capsys.readouterr().out
    meta = json.loads((mock_run / "meta.json").read_text())
    meta["env_options"]["seed"] = 0
    step_2 = mock_run / "step_002.png"
    from PIL import Image
    img = Image.open(step_2).convert("RGB")
    img.putpixel((5, 5), (1, 2, 3))
    img.save(step_2)
    assert main(["replay", str(mock_run), "--check"]) == 1
    assert "step 3 differs" in capsys.readouterr().out


def test_view_and_export(mock_run: Path, tmp_path: Path, capsys):
    out = tmp_path / "r.html"
    assert main(["view", str(mock_run), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out) and "poke the desktop" in out.read_text()
    data = tmp_path / "d.jsonl"
    assert main(["export", str(mock_run), "--format", "sft", "-o", str(data)]) == 0
    assert len(data.read_text().splitlines()) == 4
    assert "4 examples from 1 runs" in capsys.readouterr().err
    assert main(["view", str(tmp_path)]) == 2  # not a run folder


def test_the_installed_command_line(mock_run: Path, tmp_path: Path):
    proc = subprocess.run([sys.executable, "-m", "guiagent", "view", str(mock_run), "-o", str(tmp_path / "x.html")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([sys.executable, "-m", "guiagent", "replay", str(tmp_path)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 2 and "not a run folder" in proc.stderr


def test_terminal_confirm_and_call_user_prompts(tmp_path: Path):
    import io

    from rich.console import Console

    from guiagent.agent.hooks import ConfirmHook
    from guiagent.agent.progress import RichProgress, TerminalUser, terminal_confirm

    out = io.StringIO()
    console = Console(file=out, width=120, highlight=False)
    answers = io.StringIO("maybe\nskip\n\nyes-please\nt\n")  # unknown words are asked again; empty = allow
    env = MockDesktop(**MOCK)
    model = ScriptModel(["Action: click(start_box='(400,300)')", "Action: click(start_box='(410,300)')",
                         "Action: call_user()", "Action: click(start_box='(420,300)')"])
    user = TerminalUser(io.StringIO("the answer is 42\n"), console)
    result = Agent(env, model, get_profile("ui-tars-1.5"), AgentConfig(),
                   [RichProgress(console), ConfirmHook(terminal_confirm(answers, console)), user]).run("poke")
    assert result.outcome == "stopped"
    assert [s.status for s in result.steps] == [["skipped"], ["executed"], ["terminal"], ["stopped"]]
    text = out.getvalue()
    assert "step 1: click" in text and "[a]llow, [s]kip or s[t]op?" in text
    assert "The model asks for you" in text and "42" in model.calls[3][0][1].content[0].text
    assert "step 2" in text and "(executed)" in text and "(skipped)" in text

    # end of input while confirming: stop rather than guess
    result = Agent(MockDesktop(**MOCK), ScriptModel(["Action: click(start_box='(400,300)')"]),
                   get_profile("ui-tars-1.5"), AgentConfig(),
                   [ConfirmHook(terminal_confirm(io.StringIO(""), console))]).run("poke")
    assert result.outcome == "stopped"


def test_confirm_needs_a_terminal(tmp_path: Path, capsys, monkeypatch):
    import io
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["run", "x", "--model", "scripted", "--confirm", "--out", str(tmp_path)]) == 2
