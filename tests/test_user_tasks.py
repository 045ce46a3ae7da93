"""Task files of the user's own: ``--tasks-dir DIR`` on run / tasks / screenshot / replay, ``make_env`` and
``load_suite(DIR)``, and the deeper validation of hand-written tasks (validate.check_task_setup)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from guiagent.agent.factory import make_env
from guiagent.cli import main
from guiagent.envs.mock.tasks import get_task, load_suite, load_task_file
from guiagent.errors import ConfigError

EXAMPLE_TASKS = Path(__file__).resolve().parent.parent / "examples" / "user_project" / "tasks"

VALID = {
    "id": "night", "app": "settings", "difficulty": "easy", "instruction": "Turn on Night light.",
    "initial_state": {"open": [{"app": "settings", "tab": "Display"}]},
    "check": [{"setting": {"key": "night_light", "equals": True}}],
    "max_steps": 4,
    "solution": [{"click": {"role": "switch", "name": "Night light"}}, {"finished": None}],
}


def write_task(folder: Path, **changes) -> Path:
    data = json.loads(json.dumps(VALID))
    data.update(changes)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{data['id']}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_valid_task_folder_loads_and_runs_from_python(tmp_path):
    write_task(tmp_path)
    [task] = load_suite(tmp_path)
    assert task.id == "night" and task.source.endswith("night.json")
    desk = make_env("mock", task="night", tasks_dir=tmp_path)
    try:
        assert desk.task.id == "night" and not desk.task.check(desk).success
        assert desk.find(role="switch", name="Night light")
    finally:
        desk.close()


@pytest.mark.parametrize("changes, message", [
    ({"check": [{"settings": {"key": "night_light", "equals": True}}]},
     "unknown predicate 'settings' (did you mean setting?)"),
    ({"initial_state": {"open": ["notepadd"]}}, "initial_state cannot be set up on the mock desktop: unknown app 'notepadd'"),
    ({"initial_state": {"settings": {"night_lite": False}}}, "unknown setting 'night_lite' (did you mean night_light?)"),
    ({"initial_state": {"settings": {"volume": "loud"}}}, "volume is a slider: a whole number from 0 to 100"),
    ({"initial_state": {"settings": {"night_light": "no"}}}, "night_light is a switch: true or false"),
    ({"initial_state": {"settings": {"language": "Klingon"}}}, "language must be one of English"),
    ({"initial_state": {"files": {"~/a.txt": 3}}}, "files must map paths to text contents"),
    ({"initial_state": {"mail": {"inbox": [{"frm": "a@example.com"}]}}}, "unknown field(s) ['frm']"),
    ({"initial_state": {"mail": {"outbox": []}}}, "unknown folder 'outbox'"),
    ({"initial_state": {"open": [{"app": "settings", "page": "Display"}]}}, "settings does not take option(s) ['page']"),
    ({"initial_state": {"settings": {"night_light": True}}},
     "the check already passes in the initial state (setting night_light is True)"),
])
def test_hand_written_task_errors_name_the_file_and_the_problem(tmp_path, changes, message):
    path = write_task(tmp_path, **changes)
    with pytest.raises(ConfigError) as e:
        load_suite(tmp_path)
    assert message in str(e.value)
    assert str(path) in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(ConfigError):
        load_task_file(path)


def test_a_folder_replaces_the_built_in_suite_and_unknown_ids_name_it(tmp_path):
    write_task(tmp_path)
    with pytest.raises(ConfigError, match=r"unknown task 'rename-file' in .*; it has: night"):
        get_task("rename-file", tmp_path)
    with pytest.raises(ConfigError, match="did you mean: night"):
        get_task("nite", tmp_path)
    with pytest.raises(ConfigError, match="needs a task id"):
        make_env("mock", tasks_dir=tmp_path)


def test_cli_tasks_screenshot_run_and_replay_with_tasks_dir(tmp_path, capsys, monkeypatch):
    folder = str(EXAMPLE_TASKS)
    assert main(["tasks", "--tasks-dir", folder, "--json"]) == 0
    assert [row["id"] for row in json.loads(capsys.readouterr().out)] == ["standup-reminder"]
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["tasks", "--tasks-dir", folder]) == 0
    assert "Tasks in" in capsys.readouterr().out

    shot = tmp_path / "first.png"
    assert main(["screenshot", "--task", "standup-reminder", "--tasks-dir", folder, "-o", str(shot)]) == 0
    assert Image.open(shot).size == (1280, 800)

    # a relative --tasks-dir is recorded as an absolute path, so the run replays from any folder
    monkeypatch.chdir(Path(folder).parents[2])
    rel = Path(folder).relative_to(Path(folder).parents[2])
    assert main(["run", "--task", "standup-reminder", "--tasks-dir", str(rel), "--model", "scripted", "--quiet",
                 "--out", str(tmp_path / "runs")]) == 0
    run_dir = Path(capsys.readouterr().out.split("run folder:")[1].split()[0])
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["env_options"]["tasks_dir"] == folder and meta["task"] == "standup-reminder"
    monkeypatch.chdir(tmp_path)
    assert main(["replay", str(run_dir), "--check", "--no-wait"]) == 2  # replay reads no folder a run names
    assert "pass --tasks-dir" in capsys.readouterr().err
    assert main(["replay", str(run_dir), "--check", "--no-wait", "--tasks-dir", folder]) == 0
    assert "every screenshot matches" in capsys.readouterr().out


def test_cli_tasks_dir_errors_are_one_line_usage_errors(tmp_path, capsys):
    write_task(tmp_path, initial_state={"settings": {"night_light": True}})
    assert main(["tasks", "--tasks-dir", str(tmp_path)]) == 2
    assert "already passes in the initial state" in capsys.readouterr().err
    assert main(["tasks", "--tasks-dir", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["screenshot", "--tasks-dir", str(EXAMPLE_TASKS), "-o", str(tmp_path / "x.png")]) == 2
    assert "needs --task" in capsys.readouterr().err
    assert main(["run", "--task", "standup-reminder", "--tasks-dir", str(tmp_path / "missing"), "--model",
                 "scripted", "--no-record"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["run", "x", "--env", "desktop", "--tasks-dir", str(EXAMPLE_TASKS), "--model", "scripted",
                 "--no-record"]) == 2
    assert "--tasks-dir applies to --env mock only" in capsys.readouterr().err
