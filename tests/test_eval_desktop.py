"""guiagent eval on real desktops: the desktop suite on a fresh sandbox per episode (parallel workers never share a
screen), on worker i's own VNC endpoint, its task files, and --tasks-dir for the mock suite.

Xvfb, openbox, xterm and x11vnc are required (CI installs them). Displays :230-:249 and ports 5940-5959 only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eval_helpers import FinishAtOnceModel

from guiagent.agent.evaluation import evaluate
from guiagent.agent.evaluation.desktop_suite import DesktopSuite, load_tasks, parse_task
from guiagent.agent.trajectory import load_run
from guiagent.cli import main
from guiagent.envs.sandbox import Sandbox, SandboxConfig
from guiagent.envs.sandbox.workers import WorkerEnvs
from guiagent.errors import ConfigError

pytestmark = pytest.mark.timeout(180)

ROOT = Path(__file__).resolve().parents[1]
DISPLAYS, VNC_PORTS = "230-249", "5940-5959"


@pytest.fixture(autouse=True)
def _ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUIAGENT_SANDBOX_DISPLAYS", DISPLAYS)
    monkeypatch.setenv("GUIAGENT_SANDBOX_VNC_PORTS", VNC_PORTS)
    monkeypatch.delenv("GUIAGENT_VNC_PASSWORD", raising=False)


def records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


def overlapping(a: dict, b: dict) -> bool:
    return a["started"] < b["ended"] and b["started"] < a["ended"]


# ---------------------------------------------------------------- sandbox per episode


def test_two_workers_reach_100_percent_each_episode_on_its_own_display(tmp_path: Path, capsys):
    out = tmp_path / "res"
    code = main(["eval", "--suite", "desktop", "--env", "sandbox", "--model", "scripted", "--workers", "2",
                 "-o", str(out), "--quiet", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["success_rate"] == 1.0 and summary["failures"] == []
    assert summary["episodes"] == len(load_tasks()) == 4
    rows = records(out)
    screens = {}
    for r in rows:
        run = load_run(out / r["trajectory"])
        assert run.finished and run.meta["evaluation"]["success"] and run.meta["env"]["name"] == "sandbox"
        screens[r["task"]] = run.meta["eval"]["screen"]
        assert screens[r["task"]].startswith(":") and 230 <= int(screens[r["task"]][1:]) <= 249
        # env_options rebuild the episode's start: its size and the apps as one command each
        assert run.meta["env_options"]["apps"] and run.meta["env_options"]["width"] == 1280
    # both workers worked, and episodes that ran at the same time never shared an X display
    assert len({r["worker"] for r in rows}) == 2
    pairs = [(a, b) for i, a in enumerate(rows) for b in rows[i + 1:] if overlapping(a, b)]
    assert pairs, "the two workers never ran episodes at the same time"
    for a, b in pairs:
        assert screens[a["task"]] != screens[b["task"]]
    # the CJK line arrived exactly, through the file the app wrote in the sandbox's HOME
    cjk = next(r for r in rows if r["task"] == "type-cjk")
    assert cjk["check"]["reasons"] == ["greeting.txt holds '你好，世界\\n' (expected it to equal '你好，世界\\n')"]
    # every sandbox ended with its episode: no X server left on the displays used
    for display in set(screens.values()):
        assert not Path(f"/tmp/.X{display[1:]}-lock").exists()


def test_a_model_that_does_nothing_fails_the_file_check_with_its_reason(tmp_path: Path):
    summary = evaluate(tmp_path / "res", suite=DesktopSuite(), model=FinishAtOnceModel(), tasks=["type-line"],
                       workers=1)
    assert summary.success_rate == 0.0
    (row,) = records(tmp_path / "res")
    assert row["failure"] == "check_failed"
    assert row["check"]["reasons"] == ["notes.txt holds '' (expected it to equal 'hello sandbox\\n')"]


def test_the_desktop_suite_runs_as_ray_tasks_each_on_its_own_sandbox(tmp_path: Path):
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        summary = evaluate(tmp_path / "res", suite=DesktopSuite(), model="scripted",
                           tasks=["pick-window", "type-line"], ray="auto")
    finally:
        ray.shutdown()
    assert summary.success_rate == 1.0 and summary.episodes == 2
    rows = records(tmp_path / "res")
    screens = [load_run(tmp_path / "res" / r["trajectory"]).meta["eval"]["screen"] for r in rows]
    assert all(230 <= int(s[1:]) <= 249 for s in screens)
    if overlapping(*rows):
        assert screens[0] != screens[1]


# ---------------------------------------------------------------- VNC endpoints, one per worker


VNC_TASK = {
    "instruction": "Click into the terminal and type the line hello.", "groups": {"skill": "type"}, "max_steps": 4,
    "check": [{"screen_changed": [20, 40, 200, 90]}],
    "solution": [{"click": {"point": [120, 60]}}, {"type": "hello", "submit": True}, {"finished": "Typed."}],
}


def test_each_worker_drives_its_own_vnc_endpoint(tmp_path: Path, capsys):
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    for name in ("type-a", "type-b"):
        (tasks / f"{name}.json").write_text(json.dumps({"id": name, **VNC_TASK}))
    # two prepared remote desktops: Xvfb + openbox + x11vnc, each running a terminal
    app = "xterm -geometry 40x6+20+20 -e cat"
    boxes = [Sandbox(SandboxConfig(640, 480, apps=(app,), vnc=True)).start() for _ in range(2)]
    try:
        endpoints = [f"localhost:{b.vnc_port}" for b in boxes]
        listing = tmp_path / "endpoints.txt"
        listing.write_text(f"# one per worker\n{endpoints[0]}\n{endpoints[1]}\n")
        out = tmp_path / "res"
        argv = ["eval", "--suite", "desktop", "--env", "vnc", "--vnc-endpoints", f"@{listing}", "--tasks-dir",
                str(tasks), "--model", "scripted", "-o", str(out), "--quiet"]
        assert main([*argv, "--workers", "3"]) == 2
        assert "3 workers but only 2 screens (VNC endpoints)" in capsys.readouterr().err
        assert main([*argv, "--workers", "2"]) == 0
    finally:
        for b in boxes:
            b.stop()
    rows = records(out)
    assert [r["success"] for r in rows] == [True, True]
    for r in rows:
        meta = load_run(out / r["trajectory"]).meta
        assert meta["env"]["name"] == "vnc"
        # worker slot i connects to endpoint i, and records it
        assert meta["eval"]["screen"] == f"vnc:{endpoints[meta['eval']['worker_slot']]}"
        assert meta["env_options"] == {"server": endpoints[meta["eval"]["worker_slot"]]}


def test_worker_envs_assign_endpoint_i_to_worker_i_and_refuse_more_workers():
    suite = DesktopSuite(env="vnc", endpoints="h1:5901, h2:5902")
    assert suite.endpoints == ("h1:5901", "h2:5902") and suite.max_workers == 2
    envs = suite.worker_envs()
    assert isinstance(envs, WorkerEnvs) and envs.endpoints == suite.endpoints
    with pytest.raises(ConfigError, match="worker 2 has no VNC endpoint of its own"):
        envs(2)
    assert DesktopSuite().max_workers is None and DesktopSuite().worker_envs().kind == "sandbox"
    with pytest.raises(ConfigError, match="names a server twice"):
        DesktopSuite(env="vnc", endpoints="h1:5901,h1:5901")
    with pytest.raises(ConfigError, match="one endpoint per worker"):
        DesktopSuite(env="vnc")
    # the built-in tasks start apps and read files: only a sandbox of the suite's own can do that
    with pytest.raises(ConfigError, match="run them with --env sandbox"):
        suite.tasks()
    with pytest.raises(ConfigError, match="needs local workers: drop --ray"):
        evaluate("/nonexistent/never-made", suite=suite, model="scripted", ray="auto")


@pytest.mark.parametrize("argv, message", [
    (["--suite", "mock", "--env", "sandbox"], "--env and --vnc-endpoints apply to --suite desktop"),
    (["--suite", "desktop", "--env", "vnc"], "--env vnc needs --vnc-endpoints"),
    (["--suite", "desktop", "--vnc-endpoints", "h:1"], "--vnc-endpoints goes with --env vnc"),
    (["--suite", "desktop", "--env", "vnc", "--vnc-endpoints", "nohost"], "a VNC server is HOST:PORT"),
    (["--suite", "desktop", "--env", "vnc", "--vnc-endpoints", "@/nonexistent/list"],
     "cannot read the VNC endpoint list /nonexistent/list"),
    (["--suite", "desktop", "--tasks", "type-lin"], "unknown desktop task(s) type-lin"),
    (["--suite", "desktop", "--app", "xterm"], "the desktop suite has no filter ['app']"),
    (["--suite", "desktop", "--tasks-dir", "/nonexistent/tasks"], "--tasks-dir /nonexistent/tasks: not a folder"),
])
def test_bad_desktop_flags_are_one_line_usage_errors(tmp_path: Path, capsys, argv, message):
    code = main(["eval", "--model", "scripted", "-o", str(tmp_path / "res"), "--quiet", *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "res" / "results.jsonl").exists()


# ---------------------------------------------------------------- task files are literal data


GOOD = {"id": "t", "instruction": "Type x.", "apps": [["xterm", "-e", "tee", "x.txt"]],
        "check": [{"file": "x.txt", "equals": "x\n"}], "solution": [{"click": {"app": 0}}, {"type": "x"}]}


@pytest.mark.parametrize("change, message", [
    ({"check": [{"file": "../escape.txt", "equals": "x"}]}, "relative path inside the sandbox's HOME"),
    ({"check": [{"file": "/etc/passwd", "contains": "root"}]}, "relative path inside the sandbox's HOME"),
    ({"check": []}, "at least one file or screen box"),
    ({"check": [{"file": "x.txt", "equals": "x", "contains": "y"}]}, "each check is"),
    ({"apps": "xterm -e sh -c 'rm -rf ~'"}, "apps must be a list of argv lists"),
    ({"solution": [{"click": {"app": 3}}]}, "a click step is"),
    ({"solution": [{"run": "rm -rf /"}]}, "each solution step has one of"),
    ({"setup": "echo hi"}, "unknown field(s) ['setup']"),
    ({"check": [{"screen_changed": [10, 10, 5, 20]}]}, "screen_changed needs a box"),
    ({"id": "../t"}, "id must be a non-empty name"),
])
def test_malformed_task_files_name_the_file_and_the_problem(change, message):
    with pytest.raises(ConfigError, match="desktop task bad.json: ") as info:
        parse_task({**GOOD, **change}, "bad.json")
    assert message in str(info.value)


def test_the_built_in_tasks_parse_and_every_solution_targets_a_started_app():
    tasks = load_tasks()
    assert [t.id for t in tasks] == ["erase-line", "pick-window", "type-cjk", "type-line"]
    for t in tasks:
        assert t.needs_sandbox and t.apps and t.solution[-1].get("finished")
        assert all(a[0] == "xterm" for a in t.apps)


# ---------------------------------------------------------------- --tasks-dir for the mock suite


def test_mock_suite_eval_runs_a_user_task_folder(tmp_path: Path, capsys):
    folder = ROOT / "examples" / "user_project" / "tasks"
    out = tmp_path / "res"
    assert main(["eval", "--suite", "mock", "--tasks-dir", str(folder), "--model", "scripted", "--workers", "1",
                 "-o", str(out), "--quiet", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    ids = sorted(json.loads(p.read_text())["id"] for p in folder.glob("*.json"))
    assert summary["success_rate"] == 1.0 and sorted(r["task"] for r in records(out)) == ids
    meta = load_run(out / records(out)[0]["trajectory"]).meta
    assert meta["env_options"]["tasks_dir"] == str(folder)
    assert json.loads((out / "eval.json").read_text())["suite"]["options"] == {"tasks_dir": str(folder)}
    # the built-in suite is another configuration: refused in the same folder
    assert main(["eval", "--suite", "mock", "--model", "scripted", "-o", str(out), "--quiet"]) == 2


# ---------------------------------------------------------------- worker slots


def test_workers_that_replace_crashed_ones_take_free_slots_never_a_busy_one(tmp_path: Path):
    from eval_helpers import MisbehavingModel
    from slot_helpers import SlotRecordingSuite

    # calc-add's two repeats come first and each kills its worker: replacements must take the freed slots
    evaluate(tmp_path / "res", suite=SlotRecordingSuite(), model=MisbehavingModel(crash="calc-add"),
             tasks=["calc-add", "rename-file", "settings-dark-mode", "calc-percent"], repeats=2, workers=2)
    rows = records(tmp_path / "res")
    assert sorted(r["outcome"] for r in rows if r["task"] == "calc-add") == ["worker_crashed"] * 2
    ran = [r for r in rows if r["outcome"] != "worker_crashed"]
    assert len(ran) == 6 and all(r["success"] for r in ran)
    slot = {r["worker"]: load_run(tmp_path / "res" / r["trajectory"]).meta["eval"]["slot"] for r in ran}
    assert set(slot.values()) <= {0, 1} and max(int(w.split("-")[1]) for w in slot) >= 3
    for a in ran:
        for b in ran:
            if a["worker"] != b["worker"] and overlapping(a, b):
                assert slot[a["worker"]] != slot[b["worker"]]


def test_a_file_check_never_reads_outside_home_through_a_link(tmp_path: Path):
    from guiagent.agent.evaluation.desktop_suite import FileCheck, judge

    home, outside = tmp_path / "home", tmp_path / "secret.txt"
    home.mkdir()
    outside.write_text("hello sandbox\n")
    (home / "notes.txt").symlink_to(outside)
    verdict = judge([FileCheck("notes.txt", "contains", "hello")], home, env=None, start=None)
    assert not verdict.success and verdict.reasons == ("notes.txt points outside the sandbox's HOME; not read",)
    (home / "ok.txt").write_text("hello sandbox\n")
    assert judge([FileCheck("ok.txt", "contains", "hello")], home, env=None, start=None).success
