""""success" means the task check passed whenever the task has one: CLI, meta.json, report, export, Python."""

from __future__ import annotations

import json
from pathlib import Path

from agent_helpers import BoardEnv, ScriptModel, finished

from guiagent.agent.config import AgentConfig
from guiagent.agent.export import export_sft
from guiagent.agent.loop import Agent
from guiagent.agent.outcome import judge
from guiagent.agent.trajectory import load_run
from guiagent.agent.viewer import render_html
from guiagent.cli import main
from guiagent.models.profiles import get_profile

PROFILE = get_profile("ui-tars-1.5")
CLICK = "Thought: x\nAction: click(start_box='(300,200)')"


def _run(tmp_path: Path, passed: bool):
    evaluation = {"success": passed, "reasons": [] if passed else ["failed: folder Invoices does not exist"]}
    return Agent(BoardEnv(), ScriptModel([CLICK, finished("all done")]), PROFILE, AgentConfig()).run(
        "make the folder", out_dir=tmp_path / "runs", evaluate=lambda: evaluation)


def test_finished_with_a_failed_check_is_not_success_anywhere(tmp_path: Path):
    result = _run(tmp_path, passed=False)
    assert result.outcome == "check_failed" and not result.success
    assert "task check failed" in result.reason and "Invoices" in result.reason
    assert result.answer == "all done"
    meta = json.loads((result.run_dir / "meta.json").read_text())
    assert meta["outcome"] == "check_failed"
    run = load_run(result.run_dir)
    assert run.outcome == "check_failed"
    page = render_html(run)
    assert '<span class="outcome check_failed">check_failed</span>' in page
    assert '"outcome success"' not in page
    stats = export_sft([result.run_dir], tmp_path / "d.jsonl", success_only=True)
    assert stats.runs == 0 and stats.examples == 0 and len(stats.skipped_runs) == 1


def test_finished_with_a_passed_check_is_success(tmp_path: Path):
    result = _run(tmp_path, passed=True)
    assert result.outcome == "success" and result.success
    assert load_run(result.run_dir).outcome == "success"
    assert export_sft([result.run_dir], tmp_path / "d.jsonl", success_only=True).runs == 1


def test_runs_recorded_before_the_rule_read_back_as_check_failed(tmp_path: Path):
    result = _run(tmp_path, passed=False)
    meta_path = result.run_dir / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["outcome"] = "success"  # what older versions wrote
    meta_path.write_text(json.dumps(meta))
    run = load_run(result.run_dir)
    assert run.outcome == "check_failed" and "task check failed" in run.reason
    assert export_sft([result.run_dir], tmp_path / "d.jsonl", success_only=True).runs == 0


def test_judge_leaves_other_endings_alone():
    assert judge("step_limit", "r", {"success": False}) == ("step_limit", "r")
    assert judge("success", "r", None) == ("success", "r")


def test_cli_headline_says_check_failed(tmp_path: Path, capsys):
    # a recorded answer that says finished at once; the mock task's check then fails
    recorded = Agent(BoardEnv(), ScriptModel([finished("done")]), PROFILE, AgentConfig()).run(
        "x", out_dir=tmp_path / "rec").run_dir
    code = main(["run", "--env", "mock", "--task", "files-new-folder", "--model", f"replay:{recorded}",
                 "--family", "ui-tars-1.5", "--out", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == 1
    headline = [line for line in err.splitlines() if " after " in line and "steps" in line]
    assert headline and headline[0].startswith("check_failed"), err
    assert not any(line.startswith("success") for line in err.splitlines())
