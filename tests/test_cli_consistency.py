"""One style across the command line: --size everywhere, unknown names with close matches, flags that do not apply
refused, 1-based step numbers, each parse error once, scripted needs a task, run settings in --config, `guiagent
tasks` in 80 columns, pip hints for missing extras."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest
from agent_helpers import BoardEnv, ScriptModel

from guiagent.agent.config import AgentConfig
from guiagent.agent.loop import Agent
from guiagent.agent.progress import RichProgress
from guiagent.cli import main
from guiagent.errors import ConfigError
from guiagent.models.profiles import get_profile
from rich.console import Console


def test_parse_takes_size_like_the_other_commands(capsys):
    assert main(["parse", "--family", "ui-tars-1.5", "--size", "1000x1000", "Action: click(start_box='(10,20)')"]) == 0
    assert '"type": "click"' in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["run", "x", "--model", "scripted", "--family", "ui-tars-15"],
                                  ["parse", "--family", "ui-tars-15", "--size", "10x10", "x"]])
def test_unknown_family_names_close_matches(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and "did you mean: ui-tars-1.5" in err and "invalid choice" not in err


def test_unknown_profile_field_in_config_suggests(tmp_path: Path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("temprature = 0.5\n")
    assert main(["run", "x", "--model", "scripted", "--task", "calc-add", "--config", str(cfg), "--no-record",
                 "--quiet"]) == 2
    assert "did you mean: temperature" in capsys.readouterr().err


@pytest.mark.parametrize("argv, flags", [
    (["--env", "desktop", "--task", "calc-add", "--seed", "3"], "--task, --seed apply to --env mock only"),
    (["--env", "desktop", "--size", "800x600"], "--size applies to --env mock only"),
    (["--env", "mock", "--no-failsafe"], "--no-failsafe applies to --env desktop only"),
])
def test_flags_for_the_other_env_are_refused_not_ignored(argv, flags, capsys):
    assert main(["run", "x", "--model", "scripted", "--no-record", *argv]) == 2
    assert flags in capsys.readouterr().err


def test_scripted_without_a_task_is_a_usage_error(capsys):
    assert main(["run", "x", "--model", "scripted", "--no-record", "--quiet"]) == 2
    assert "--model scripted plays a mock task's solution: give --task ID" in capsys.readouterr().err


def test_step_numbers_are_one_based_everywhere(tmp_path: Path):
    result = Agent(BoardEnv(), ScriptModel(["no action here"] * 3), get_profile("ui-tars-1.5"),
                   AgentConfig()).run("x")
    assert result.outcome == "parse_error" and "at step 1:" in result.reason


def test_each_parse_error_is_printed_once():
    console = Console(record=True, width=200)
    Agent(BoardEnv(), ScriptModel(["garbage", "Thought: x\nAction: finished(content='')"]),
          get_profile("ui-tars-1.5"), AgentConfig(), [RichProgress(console)]).run("x")
    text = console.export_text()
    assert text.count("garbage") == 1, text


def test_config_file_holds_run_settings_and_flags_win(tmp_path: Path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[run]\nmax_steps = 2\n\n[env]\ntask = "calc-add"\nsize = "800x600"\n')
    out = tmp_path / "runs"
    code = main(["run", "--model", "scripted", "--config", str(cfg), "--out", str(out), "--quiet"])
    (run_dir,) = out.iterdir()
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["config"]["max_steps"] == 2 and meta["task"] == "calc-add" and meta["env"]["size"] == [800, 600]
    assert code == 1 and meta["outcome"] == "step_limit"
    out2 = tmp_path / "runs2"
    main(["run", "--model", "scripted", "--config", str(cfg), "--max-steps", "3", "--out", str(out2), "--quiet"])
    (run_dir,) = out2.iterdir()
    assert json.loads((run_dir / "meta.json").read_text())["config"]["max_steps"] == 3


@pytest.mark.parametrize("text, message", [("[run]\nmax_step = 2\n", "did you mean: max_steps?"),
                                           ("[env]\nsize = 5\n", "env.size"),
                                           ("[run]\nmax_steps = 0\n", "run.max_steps")])
def test_config_run_settings_typos_and_bad_values(tmp_path: Path, text: str, message: str, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    assert main(["run", "x", "--model", "scripted", "--task", "calc-add", "--config", str(cfg), "--no-record"]) == 2
    assert message in capsys.readouterr().err


def test_tasks_is_readable_in_80_columns(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["tasks"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines)
    from guiagent.envs.mock.tasks import get_task
    instruction = get_task("files-new-folder").instruction
    assert instruction in " ".join(line.strip() for line in lines)  # whole words, not a 14-column sliver


def test_missing_extras_name_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "gymnasium", None)
    monkeypatch.delitem(sys.modules, "guiagent.envs.mock.gym", raising=False)
    with pytest.raises(ImportError, match=r"pip install 'guiagent\[gym\]'"):
        importlib.import_module("guiagent.envs.mock.gym")
    monkeypatch.setitem(sys.modules, "openai", None)
    from guiagent.models.openai_backend import OpenAIModel
    with pytest.raises(ConfigError, match=r"pip install 'guiagent\[openai\]'"):
        OpenAIModel("http://127.0.0.1:9/v1", "m")
