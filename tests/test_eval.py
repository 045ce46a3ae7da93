"""guiagent eval: parallel workers over the mock suite, success by the task check, failure reasons, hung and
crashed workers, kill + resume, Ctrl-C, configuration changes, a plug-in suite, and the Ray backend."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from eval_helpers import BoardClicker, BoardSuite, BrokenModel, FinishAtOnceModel, MisbehavingModel

from guiagent.agent.evaluation import (
    EvalError,
    EvalModel,
    ResultsDir,
    evaluate,
    get_suite,
    register_suite,
    wilson_interval,
)
from guiagent.agent.evaluation.results import EpisodeResult, read_results
from guiagent.agent.trajectory import load_run
from guiagent.cli import main
from guiagent.envs.mock import MockDesktop
from guiagent.envs.mock.tasks import get_task, load_suite
from guiagent.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
FEW = ["rename-file", "calc-add", "settings-dark-mode"]


def lines(folder: Path) -> list[dict]:
    return [json.loads(x) for x in (folder / "results.jsonl").read_text().splitlines()]


# ---------------------------------------------------------------- the whole suite, in parallel


def test_whole_mock_suite_in_parallel_reaches_100_percent_with_the_right_table(tmp_path: Path, capsys):
    out = tmp_path / "res"
    summary = evaluate(out, suite="mock", model="scripted", workers=2)
    tasks = load_suite()
    assert summary.episodes == len(tasks) == 61
    assert summary.success_rate == 1.0 and summary.complete and summary.failures == []
    assert summary.overall.ci95 == wilson_interval(61, 61)
    by_app, by_difficulty = Counter(t.app for t in tasks), Counter(t.difficulty for t in tasks)
    assert list(summary.groups["app"]) == [a for a in ("files", "editor", "calculator", "settings", "mail",
                                                       "webform") if a in by_app]
    assert list(summary.groups["difficulty"]) == ["easy", "medium", "hard"]
    for group, counts in (("app", by_app), ("difficulty", by_difficulty)):
        for label, n in counts.items():
            stats = summary.groups[group][label]
            assert (stats.episodes, stats.successes, stats.ci95) == (n, n, wilson_interval(n, n))
    # one line per episode, each with its finished trajectory folder; the mean steps are the recorded steps
    records = lines(out)
    assert sorted(r["task"] for r in records) == sorted(t.id for t in tasks)
    assert {(r["outcome"], r["success"], r["failure"], r["model_spec"], r["family"]) for r in records} == \
        {("success", True, None, "scripted", "ui-tars-1.5")}
    assert len({r["worker"] for r in records}) == 2
    steps = []
    for r in records:
        run = load_run(out / r["trajectory"])
        assert run.finished and run.meta["evaluation"]["success"] and run.meta["task"] == r["task"]
        assert len(run.steps) == r["steps"]
        steps.append(r["steps"])
    assert summary.overall.mean_steps == pytest.approx(sum(steps) / len(steps))
    assert json.loads((out / "summary.json").read_text()) == json.loads(json.dumps(summary.to_json()))

    # the same command again: nothing left to run, the same table printed
    assert main(["eval", "--suite", "mock", "--model", "scripted", "--workers", "2", "-o", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "app: mail" in printed and "difficulty: hard" in printed
    assert f"│ all                │       {61} │ 61 │ 100.0% │" in printed
    assert len(lines(out)) == 61


# ---------------------------------------------------------------- failures


def test_a_model_that_always_fails_gives_0_percent_with_the_check_reasons(tmp_path: Path):
    summary = evaluate(tmp_path / "res", model=FinishAtOnceModel(), tasks=FEW, workers=2)
    assert summary.success_rate == 0.0 and summary.overall.ci95 == wilson_interval(0, 3)
    (failure,) = summary.failures
    assert failure.kind == "check_failed" and failure.count == 3 and failure.tasks == sorted(FEW)
    # the reasons are the tasks' own first failed predicate on the untouched desktop
    expected = Counter(next(r for r in get_task(t).check(MockDesktop(task=get_task(t))).reasons
                            if r.startswith("failed")) for t in FEW)
    assert dict(failure.reasons) == dict(expected)
    for r in lines(tmp_path / "res"):
        # the model claimed success; the check says otherwise, and the check is what counts
        assert r["outcome"] == "check_failed" and r["success"] is False and r["failure"] == "check_failed"
        assert r["check"]["success"] is False and r["steps"] == 1


def test_step_limit_failures_are_reported_by_kind(tmp_path: Path):
    summary = evaluate(tmp_path / "res", model="scripted", tasks=["note-to-email", "calc-add"], max_steps=2,
                       workers=1)
    assert summary.success_rate == 0.0
    assert [(f.kind, f.count) for f in summary.failures] == [("step_limit", 2)]
    assert dict(summary.failures[0].reasons) == {"reached the step limit of 2 steps": 2}


def test_a_hung_and_a_crashed_worker_cost_only_their_episode(tmp_path: Path):
    model = MisbehavingModel(hang="rename-file", crash="calc-add", bug="settings-wifi-off")
    summary = evaluate(tmp_path / "res", model=model, tasks=["rename-file", "calc-add", "settings-dark-mode",
                                                             "files-open-folder", "settings-wifi-off"],
                       workers=2, episode_timeout_s=8, kill_grace_s=0.5)
    by_task = {r["task"]: r for r in lines(tmp_path / "res")}
    assert len(by_task) == 5 and summary.complete
    hung, crashed = by_task["rename-file"], by_task["calc-add"]
    assert hung["outcome"] == "episode_timeout" and hung["success"] is False
    assert "no result after 8.5 s" in hung["reason"] and hung["timings"]["total_s"] >= 8.5
    assert crashed["outcome"] == "worker_crashed" and "exited with status 3" in crashed["reason"]
    assert by_task["settings-dark-mode"]["success"] and by_task["files-open-folder"]["success"]
    bug = by_task["settings-wifi-off"]
    assert bug["outcome"] == "error" and bug["reason"] == "the agent crashed: RuntimeError: a bug in the model code"
    assert bug["check"]["success"] is False  # the end state was still judged
    assert "RuntimeError: a bug in the model code" in (tmp_path / "res" / bug["trajectory"] / "error.txt").read_text()
    assert {f.kind: f.count for f in summary.failures} == {"episode_timeout": 1, "worker_crashed": 1, "error": 1}


def test_a_model_that_cannot_load_stops_the_run_and_records_nothing(tmp_path: Path):
    with pytest.raises(EvalError, match="could not load the model 'test:broken': ConnectionError: connection refused"):
        evaluate(tmp_path / "res", model=BrokenModel(), tasks=FEW, workers=1)
    assert read_results(tmp_path / "res" / "results.jsonl") == []  # the next run does them all


# ---------------------------------------------------------------- resume, kill, Ctrl-C, configuration


def _start_cli(out: Path, tasks: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "guiagent", "eval", "--model", "scripted", "--tasks",
                             ",".join(tasks), "--workers", "1", "-o", str(out), "--quiet"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_lines(out: Path, n: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        path = out / "results.jsonl"
        if path.exists() and path.read_bytes().count(b"\n") >= n:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError("no results appeared")


TASKS6 = ["rename-file", "calc-add", "settings-dark-mode", "files-open-folder", "settings-wifi-off", "note-to-email"]


def test_killed_interrupted_and_resumed_runs_end_with_every_episode_once(tmp_path: Path):
    out = tmp_path / "res"
    proc = _start_cli(out, TASKS6)
    _wait_for_lines(out, 1, proc)
    proc.kill()  # SIGKILL: no chance to clean up
    proc.wait(30)
    first = read_results(out / "results.jsonl")
    assert 1 <= len(first) < 6

    proc = _start_cli(out, TASKS6)
    _wait_for_lines(out, len(first) + 1, proc)
    proc.send_signal(signal.SIGINT)  # Ctrl-C
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "run the same command again to resume" in err and "Traceback" not in err
    second = read_results(out / "results.jsonl")
    summary = json.loads((out / "summary.json").read_text())
    if len(second) < 6:
        assert summary["complete"] is False and summary["pending"] == 6 - len(second)

    proc = _start_cli(out, TASKS6)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    records = lines(out)
    assert sorted(r["task"] for r in records) == sorted(TASKS6)  # none missing, none twice
    assert all(r["success"] for r in records)
    folders = sorted(p.name for p in (out / "episodes").iterdir())  # hidden leftovers of killed workers included
    assert folders == sorted(f"{t}-r0" for t in TASKS6), folders
    assert json.loads((out / "summary.json").read_text())["complete"] is True


def test_a_half_written_last_line_is_ignored_and_cut_before_appending(tmp_path: Path):
    folder = ResultsDir(tmp_path / "res")
    config = {"suite": {"name": "mock", "options": {}}, "model": {"spec": "scripted"}}
    folder.open(config)
    done = EpisodeResult("mock", "calc-add", 0, 0, "success", True, "finished")
    folder.append(done)
    with open(folder.results_file, "ab") as f:
        f.write(b'{"suite": "mock", "task": "rena')  # what a kill in the middle of a write leaves
    assert [r.key for r in folder.results()] == ["mock/calc-add/0"]
    folder.open(config)  # resuming
    folder.append(EpisodeResult("mock", "rename-file", 0, 0, "success", True, "finished"))
    assert [r.key for r in folder.results()] == ["mock/calc-add/0", "mock/rename-file/0"]
    assert folder.results_file.read_text().count("\n") == 2


def test_repeats_resume_only_the_new_episodes_and_seeds_follow_the_repeat(tmp_path: Path):
    out = tmp_path / "res"
    evaluate(out, model="scripted", tasks=["calc-add"], repeats=2, seed=5, workers=1)
    first = {(r["repeat"], r["seed"]): r["started"] for r in lines(out)}
    assert set(first) == {(0, 5), (1, 6)}
    summary = evaluate(out, model="scripted", tasks=["calc-add"], repeats=3, seed=5, workers=1)
    records = lines(out)
    assert [(r["repeat"], r["seed"]) for r in records] == [(0, 5), (1, 6), (2, 7)]
    assert {(r["repeat"], r["seed"]): r["started"] for r in records[:2]} == first  # not run again
    assert summary.episodes == 3 and summary.tasks == {"calc-add": {"episodes": 3, "successes": 3,
                                                                    "success_rate": 1.0}}


def test_a_changed_model_or_config_is_refused_unless_forced(tmp_path: Path, capsys):
    out = tmp_path / "res"
    base = ["eval", "--model", "scripted", "--tasks", "calc-add", "--workers", "1", "-o", str(out), "--quiet"]
    assert main(base) == 0
    capsys.readouterr()
    assert main(base + ["--family", "kimi-vl"]) == 2
    err = capsys.readouterr().err
    assert "holds results of another configuration" in err and "kimi-vl" in err and "--force" in err
    assert main(base + ["--max-steps", "3"]) == 2
    assert "max_steps: null then, 3 now" in capsys.readouterr().err
    assert main(base + ["--family", "kimi-vl", "--force"]) == 0
    (moved,) = out.glob("superseded-*")
    assert [r["family"] for r in lines(moved)] == ["ui-tars-1.5"]
    assert [r["family"] for r in lines(out)] == ["kimi-vl"]
    assert (out / "episodes" / "calc-add-r0").is_dir() and (moved / "episodes" / "calc-add-r0").is_dir()


@pytest.mark.parametrize("argv, message", [
    (["--tasks", "calc-ad"], "unknown mock task 'calc-ad'; did you mean: calc-add"),
    (["--app", "browser"], "unknown app 'browser'"),
    (["--suite", "mok"], "unknown suite 'mok'; did you mean mock?"),
    (["--config", "/nonexistent/profile.toml"], "cannot read config file /nonexistent/profile.toml"),
])
def test_bad_selections_are_one_line_usage_errors(tmp_path: Path, capsys, argv, message):
    code = main(["eval", "--model", "scripted", "-o", str(tmp_path / "res"), "--quiet", *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_no_model_is_a_usage_error(tmp_path: Path, capsys):
    assert main(["eval", "-o", str(tmp_path / "res"), "--quiet"]) == 2
    assert "no model given: pass --model SPEC" in capsys.readouterr().err


# ---------------------------------------------------------------- a suite plug-in


def test_a_plugin_suite_runs_its_own_env_and_check_with_a_per_worker_factory(tmp_path: Path):
    register_suite("board", "eval_helpers:BoardSuite")
    suite = get_suite("board", clicks=3)
    assert isinstance(suite, BoardSuite)
    summary = evaluate(tmp_path / "res", suite=suite, model=BoardClicker(clicks=3), workers=1)
    records = {r["task"]: r for r in lines(tmp_path / "res")}
    assert {t: r["success"] for t, r in records.items()} == {"click-1": True, "click-2": True, "click-3": True,
                                                             "click-4": False}
    assert records["click-4"]["check"]["score"] == 0.75 and records["click-4"]["failure"] == "check_failed"
    # one factory for the worker's four episodes
    assert {r["check"]["reasons"][1] for r in records.values()} == {"factories made: 1"}
    assert {k: (s.episodes, s.successes) for k, s in summary.groups["size"].items()} == {"small": (2, 2),
                                                                                        "large": (2, 1)}
    meta = load_run(tmp_path / "res" / records["click-2"]["trajectory"]).meta
    assert meta["env_options"] == {"size": [640, 400]} and meta["eval"]["suite"] == "board"
    with pytest.raises(ConfigError, match="board suite has no filters"):
        evaluate(tmp_path / "other", suite=suite, model=BoardClicker(), where={"app": "mail"})


def test_unknown_suite_names_the_registered_ones():
    with pytest.raises(ConfigError, match=r"unknown suite 'nope' \(registered suites: .*mock"):
        get_suite("nope")


# ---------------------------------------------------------------- Ray


def test_ray_on_a_local_instance_gives_the_same_results_as_local_workers(tmp_path: Path):
    ray = pytest.importorskip("ray")
    local = evaluate(tmp_path / "local", model="scripted", tasks=FEW, workers=2)
    import agent_helpers
    import eval_helpers
    from ray import cloudpickle

    for module in (agent_helpers, eval_helpers):  # Ray's workers cannot import tests/: send the code along
        cloudpickle.register_pickle_by_value(module)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = evaluate(tmp_path / "ray", model="scripted", tasks=FEW, ray="auto")
        broken = evaluate(tmp_path / "ray-crash", model=MisbehavingModel(crash="calc-add", bug="rename-file"),
                          tasks=["calc-add", "rename-file"], ray="auto")
    finally:
        ray.shutdown()
        for module in (agent_helpers, eval_helpers):
            cloudpickle.unregister_pickle_by_value(module)
    crashed = {r["task"]: r for r in lines(tmp_path / "ray-crash")}
    assert crashed["calc-add"]["outcome"] == "worker_crashed" and "Ray worker failed" in crashed["calc-add"]["reason"]
    assert crashed["rename-file"]["outcome"] == "error" and broken.complete and broken.success_rate == 0.0

    def essentials(folder: Path) -> list:
        return sorted((r["task"], r["outcome"], r["success"], r["steps"], r["check"], r["trajectory"])
                      for r in lines(folder))

    assert essentials(tmp_path / "ray") == essentials(tmp_path / "local")
    assert all(r["worker"].startswith("ray-") for r in lines(tmp_path / "ray"))

    def table(summary) -> dict:
        return {(g, k): (s.episodes, s.successes, s.ci95, s.mean_steps) for g, rows in summary.groups.items()
                for k, s in rows.items()}

    assert table(remote) == table(local) and remote.success_rate == local.success_rate == 1.0
    for r in lines(tmp_path / "ray"):
        assert load_run(tmp_path / "ray" / r["trajectory"]).finished


def test_an_eval_model_from_a_spec_describes_itself_without_secrets():
    model = EvalModel("openai:http://x/v1", family="ui-tars-1.5", options={"api_key": "sk-secret", "timeout": 5,
                                                                          "image_format": "jpeg"})
    described = model.describe()
    assert described == {"spec": "openai:http://x/v1", "family": "ui-tars-1.5", "options": {"image_format": "jpeg"}}
    assert "sk-secret" not in json.dumps(described)


def test_a_worker_without_the_results_folder_sends_the_trajectory_back(tmp_path: Path):
    """What a Ray worker on another machine does: write to a temporary folder, return the files, the parent
    writes them into the results folder."""
    from guiagent.agent.evaluation import EvalJob, WorkerContext, episode_specs, run_episode
    from guiagent.agent.evaluation.episode import results_dir_is_shared
    from guiagent.agent.evaluation.ray_backend import _unpack

    suite = get_suite("mock")
    folder = ResultsDir(tmp_path / "res")
    run_id = folder.open({"suite": {"name": "mock", "options": {}}, "model": {"spec": "scripted"}})
    job = EvalJob(suite, EvalModel("scripted"), str(folder.path), run_id)
    assert results_dir_is_shared(job)
    assert not results_dir_is_shared(EvalJob(suite, EvalModel("scripted"), str(folder.path), "another-run"))
    (spec,) = episode_specs(suite, tasks=["calc-add"])
    output = run_episode(job, spec, WorkerContext("remote"), ship=True)
    assert output.result.success and output.result.trajectory == "episodes/calc-add-r0"
    assert not (folder.episodes_dir / "calc-add-r0").exists()  # nothing written in place
    assert {"meta.json", "trajectory.jsonl", "step_000.png"} <= set(output.files)
    _unpack(job, spec, {**output.files, "../escape.txt": b"x"})
    run = load_run(folder.path / output.result.trajectory)
    assert run.finished and len(run.steps) == output.result.steps and not run.problems
    assert not (folder.episodes_dir / "escape.txt").exists() and not (folder.path / "escape.txt").exists()


def test_workers_share_one_model_server_and_load_the_model_once_each(stub_openai, tmp_path: Path):
    stub_openai.default_text = "Thought: looks done\nAction: finished(content='ok')"
    tasks = ["calc-add", "settings-dark-mode", "rename-file"]
    summary = evaluate(tmp_path / "res", model=f"openai:{stub_openai.url}", family="ui-tars-1.5", tasks=tasks,
                       workers=1)
    chats = [r for r in stub_openai.requests if r.path.endswith("/chat/completions")]
    listings = [r for r in stub_openai.requests if r.path.endswith("/models")]
    assert len(chats) == 3 and all(r.images == 1 for r in chats) and not stub_openai.violations
    assert len(listings) == 1  # one worker: the served model's name was asked once, the model reused
    assert summary.success_rate == 0.0 and [(f.kind, f.count) for f in summary.failures] == [("check_failed", 3)]
    assert {(r["model"], r["family"]) for r in lines(tmp_path / "res")} == {("stub-model", "ui-tars-1.5")}
    config = json.loads((tmp_path / "res" / "eval.json").read_text())
    assert config["model"] == {"spec": f"openai:{stub_openai.url}", "family": "ui-tars-1.5"}
