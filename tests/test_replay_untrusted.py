"""A run folder is untrusted input: `guiagent replay` rebuilds its env from the harmless recorded options only and
never starts a program, reads a path, connects to a server or loosens a safety setting that meta.json names; and
`view` / `export` never write over a file of the run folders they read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from agent_helpers import ScriptModel, finished

import guiagent.agent.factory as factory
from guiagent.agent.config import AgentConfig
from guiagent.agent.loop import Agent
from guiagent.cli import main
from guiagent.envs.mock import MockDesktop
from guiagent.errors import ConfigError
from guiagent.models.profiles import get_profile

MOCK = {"width": 800, "height": 600, "scale": 1.0, "seed": 0}
ANSWERS = ["Thought: a\nAction: click(start_box='(400,300)')", "Thought: b\nAction: type(content='hello')",
           finished("ok")]
EXAMPLE_TASKS = Path(__file__).resolve().parents[1] / "examples" / "user_project" / "tasks"


@pytest.fixture
def mock_run(tmp_path: Path) -> Path:
    return Agent(MockDesktop(**MOCK), ScriptModel(ANSWERS), get_profile("ui-tars-1.5"), AgentConfig(wait_s=0)).run(
        "poke", out_dir=tmp_path / "rec", meta={"env_options": MOCK}).run_dir


def _rewrite(run: Path, env: str, options: dict[str, Any]) -> None:
    meta = json.loads((run / "meta.json").read_text())
    meta["env"]["name"], meta["env_options"] = env, options
    (run / "meta.json").write_text(json.dumps(meta))


@pytest.fixture
def built(monkeypatch) -> list[tuple[str, dict[str, Any]]]:
    """make_env as replay calls it: records (kind, options) and hands back a mock desktop of the recorded size."""
    import importlib
    import pkgutil

    import guiagent.cli

    for module in pkgutil.iter_modules(guiagent.cli.__path__):  # imported now, so that the commands that import
        importlib.import_module(f"guiagent.cli.{module.name}")  # make_env by name keep the real one

    calls: list[tuple[str, dict[str, Any]]] = []

    def fake_make_env(kind: str, **options: Any) -> MockDesktop:
        calls.append((kind, dict(options)))
        return MockDesktop(**MOCK)

    monkeypatch.setattr(factory, "make_env", fake_make_env)
    return calls


def test_replay_starts_no_program_a_run_folder_names(mock_run: Path, tmp_path: Path, built, capsys) -> None:
    marker = tmp_path / "PWNED"
    _rewrite(mock_run, "sandbox", {"width": 800, "height": 600, "apps": [f"sh -c 'id > {marker}'"], "vnc": True,
                                   "window_manager": "xterm", "failsafe": False})
    assert main(["replay", str(mock_run), "--no-wait"]) == 0
    assert not marker.exists()
    ((kind, options),) = built
    assert kind == "sandbox" and options == {"width": 800, "height": 600, "failsafe": False}
    err = capsys.readouterr().err
    assert "'apps'" in err and "pass --sandbox-app to replay" in err
    assert "'vnc'" in err and "--sandbox-vnc" in err and "'window_manager'" in err and "default is used" in err
    # the user may give the programs explicitly
    assert main(["replay", str(mock_run), "--no-wait", "--sandbox-app", "xterm"]) == 0
    assert built[1][1]["apps"] == ["xterm"]


def test_sandbox_replay_really_runs_nothing_named_in_meta(mock_run: Path, tmp_path: Path, monkeypatch) -> None:
    """Without make_env stubbed out: the malicious app never reaches the sandbox (whose start is stubbed, so the
    test needs no X server) -- the SandboxEnv is asked for no apps at all."""
    import guiagent.envs.sandbox.env as sandbox_env

    marker = tmp_path / "PWNED"
    seen: list[dict[str, Any]] = []

    class Refused(Exception):
        pass

    def fake_init(self, width=1280, height=800, **kwargs):
        seen.append({"width": width, "height": height, **kwargs})
        raise Refused

    monkeypatch.setattr(sandbox_env.SandboxEnv, "__init__", fake_init)
    _rewrite(mock_run, "sandbox", {"width": 800, "height": 600, "apps": [f"sh -c 'id > {marker}'"]})
    with pytest.raises(Refused):
        main(["replay", str(mock_run), "--no-wait"])
    assert seen and "apps" not in seen[0] and not marker.exists()


def test_replay_reads_no_folder_a_run_folder_names(mock_run: Path, monkeypatch, capsys) -> None:
    import guiagent.envs.mock.tasks as tasks

    read: list[Any] = []
    real_get_task = tasks.get_task
    monkeypatch.setattr(tasks, "get_task", lambda task_id, tasks_dir=None: (read.append(tasks_dir),
                                                                             real_get_task(task_id, tasks_dir))[1])
    _rewrite(mock_run, "mock", {**MOCK, "tasks_dir": "/etc", "task": "passwd"})
    assert main(["replay", str(mock_run), "--no-wait"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "pass --tasks-dir" in err[0]
    assert read == []


def test_task_from_a_tasks_dir_replays_with_the_flag(tmp_path: Path, capsys) -> None:
    assert main(["run", "--task", "standup-reminder", "--tasks-dir", str(EXAMPLE_TASKS), "--model", "scripted",
                 "--quiet", "--out", str(tmp_path / "runs")]) == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    capsys.readouterr()
    assert main(["replay", str(run_dir), "--check", "--no-wait"]) == 2
    assert "pass --tasks-dir DIR" in capsys.readouterr().err
    assert main(["replay", str(run_dir), "--check", "--no-wait", "--tasks-dir", str(EXAMPLE_TASKS)]) == 0
    assert "every screenshot matches" in capsys.readouterr().out


def test_desktop_replay_keeps_the_deny_list_and_failsafe(mock_run: Path, built, capsys) -> None:
    _rewrite(mock_run, "desktop", {"monitor": 1, "scale": 1.0, "unicode_method": "auto", "failsafe": False,
                                   "allow_hotkeys": ["ctrl+alt+delete", "alt+f4"], "deny": [],
                                   "deny_hotkeys": ["ctrl+q"], "x_display": ":0", "os_name": "macos"})
    assert main(["replay", str(mock_run), "--no-wait", "--yes"]) == 0
    ((kind, options),) = built
    assert kind == "desktop"
    assert options == {"monitor": 1, "scale": 1.0, "unicode_method": "auto", "deny_hotkeys": ["ctrl+q"]}
    err = capsys.readouterr().err
    for name, flag in (("allow_hotkeys", "--allow-hotkey"), ("failsafe", "--no-failsafe")):
        assert f"'{name}'" in err and f"pass {flag} to replay" in err
    assert "'deny'" in err and "'x_display'" in err and "'os_name'" in err
    assert main(["replay", str(mock_run), "--no-wait", "--yes", "--allow-hotkey", "alt+f4", "--no-failsafe"]) == 0
    assert built[1][1]["allow_hotkeys"] == ["alt+f4"] and built[1][1]["failsafe"] is False


def test_vnc_replay_connects_only_to_the_server_given(mock_run: Path, built, capsys) -> None:
    _rewrite(mock_run, "vnc", {"server": "evil.example:5900", "password_env": "AWS_SECRET_ACCESS_KEY",
                               "remote_os": "macos", "unicode": "keysym"})
    assert main(["replay", str(mock_run), "--no-wait"]) == 2
    assert "pass --env vnc:HOST:PORT" in capsys.readouterr().err and not built
    assert main(["replay", str(mock_run), "--no-wait", "--env", "vnc:localhost:5999"]) == 0
    ((kind, options),) = built
    assert kind == "vnc:localhost:5999" and options == {"unicode": "keysym"}
    err = capsys.readouterr().err
    assert "--vnc-password-env" in err and "--remote-os" in err and "'server'" not in err
    assert "recorded on the vnc env" not in err  # vnc:HOST:PORT is the same kind of env


def test_flags_for_another_env_are_refused(mock_run: Path, capsys) -> None:
    assert main(["replay", str(mock_run), "--no-wait", "--sandbox-app", "xterm"]) == 2
    assert "--sandbox-app" in capsys.readouterr().err


def test_recorded_mock_run_still_replays_identically(mock_run: Path, capsys) -> None:
    assert main(["replay", str(mock_run), "--check", "--no-wait"]) == 0
    out, err = capsys.readouterr()
    assert "every screenshot matches" in out and "warning" not in err


def test_safe_recorded_options_checks_values() -> None:
    kept, dropped = factory.safe_recorded_options("desktop", {"monitor": "../x", "scale": float("nan"),
                                                              "failsafe": True, "deny_hotkeys": "ctrl+q"})
    assert kept == {"failsafe": True} and dropped == ["deny_hotkeys", "monitor", "scale"]
    with pytest.raises(ConfigError, match="--tasks-dir"):
        factory.env_from_meta({"env": {"name": "desktop"}}, given={"tasks_dir": "/tmp"})


@pytest.mark.parametrize("command", ["view", "export"])
@pytest.mark.parametrize("name", ["meta.json", "trajectory.jsonl", "step_001.png"])
def test_view_and_export_never_overwrite_the_run(mock_run: Path, command: str, name: str, capsys) -> None:
    target = mock_run / name
    before = target.read_bytes()
    assert main([command, str(mock_run), "-o", str(target)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "another -o path" in err[0]
    assert target.read_bytes() == before
    # the same file through a symlinked folder is refused too
    link = mock_run.parent / "link"
    link.symlink_to(mock_run)
    assert main([command, str(link), "-o", str(mock_run / name)]) == 2
    assert main([command, str(mock_run), "-o", str(link / name)]) == 2
    assert target.read_bytes() == before


def test_view_may_rewrite_its_own_report_and_export_writes_elsewhere(mock_run: Path, tmp_path: Path) -> None:
    assert main(["view", str(mock_run)]) == 0
    assert main(["view", str(mock_run)]) == 0  # the default report is rewritten
    assert main(["view", str(mock_run), "-o", str(mock_run / "report.html")]) == 0
    assert main(["export", str(mock_run), "-o", str(mock_run / "report.html")]) == 2  # not export's to replace
    assert main(["export", str(mock_run), "-o", str(tmp_path / "data.jsonl")]) == 0
    assert (tmp_path / "data.jsonl").read_text().strip()
