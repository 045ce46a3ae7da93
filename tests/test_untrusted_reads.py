"""Files of folders the program does not own (run folders, results folders, task folders) are read with care: a
link to /dev/zero, a FIFO, a file over the size limit or a link leading out of the folder gets a one-line error and
the command's error exit, never an out-of-memory kill, a hang, a traceback or a read of the file it leads to. JSON
nested too deeply at the remaining places that read it is a one-line error too."""

from __future__ import annotations

import io
import json
import os
import resource
import shutil
import signal
import sys

import pytest

from guiagent._jsonio import read_bytes, read_text
from guiagent.agent import trajectory
from guiagent.agent.evaluation import desktop_suite
from guiagent.cli import main
from guiagent.errors import ConfigError

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture(autouse=True)
def guarded():
    """A regression must fail the test, not the machine: reads past a few GiB raise MemoryError, a hang ends."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/status") as f:
        size = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (size + (3 << 30), hard))
    handler = signal.signal(signal.SIGALRM, lambda *_: pytest.fail("the read hung"))
    signal.alarm(60)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, handler)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _cli(argv, capsys):
    rc = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    return rc, lines, err


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """One finished mock run folder, copied by each test before it damages it."""
    runs = tmp_path_factory.mktemp("runs")
    assert main(["run", "--task", "files-open-folder", "--model", "scripted", "--out", str(runs), "--quiet"]) == 0
    return next(runs.iterdir())


@pytest.fixture
def run(tmp_path, recorded):
    target = tmp_path / "run"
    shutil.copytree(recorded, target)
    return target


COMMANDS = {
    "view": lambda run, out: ["view", str(run), "-o", str(out / "view.html")],
    "export": lambda run, out: ["export", str(run), "-o", str(out / "export.jsonl")],
    "replay --check": lambda run, out: ["replay", str(run), "--check"],
    "run --model replay:RUN": lambda run, out: ["run", "--task", "files-open-folder", "--model", f"replay:{run}",
                                                "--no-record"],
}


def _replace(path, how):
    """Make ``path`` a link to /dev/zero, a FIFO, or a link to a copy of itself outside its folder."""
    outside = path.parent.parent / f"outside-{path.name}"
    if how == "outside":
        shutil.copy(path, outside)  # the same valid content: refused for where it is, not for what it holds
    path.unlink()
    if how == "/dev/zero":
        os.symlink("/dev/zero", path)
    elif how == "fifo":
        os.mkfifo(path)
    else:
        os.symlink(outside, path)


@pytest.mark.parametrize("how, message", [("/dev/zero", "a link leading outside"), ("fifo", "not a regular file"),
                                          ("outside", "a link leading outside")])
@pytest.mark.parametrize("name", ["meta.json", "trajectory.jsonl"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_run_folder_file_that_is_a_device_fifo_or_link_outside_is_refused(tmp_path, capsys, run, command, name,
                                                                          how, message):
    _replace(run / name, how)
    rc, lines, err = _cli(COMMANDS[command](run, tmp_path), capsys)
    assert rc in (1, 2) and len(lines) == 1 and "Traceback" not in err, err
    assert f"{run / name}" in lines[0] and message in lines[0]
    assert not (tmp_path / "view.html").exists() and not (tmp_path / "export.jsonl").exists()


@pytest.mark.parametrize("name, limit", [("meta.json", "META_LIMIT"), ("trajectory.jsonl", "TRAJECTORY_LIMIT")])
@pytest.mark.parametrize("command", ["view", "export", "replay --check"])
def test_run_folder_file_over_its_size_limit_is_refused(tmp_path, capsys, monkeypatch, run, command, name, limit):
    size = (run / name).stat().st_size
    monkeypatch.setattr(trajectory, limit, size - 1)
    rc, lines, err = _cli(COMMANDS[command](run, tmp_path), capsys)
    assert rc == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert f"{run / name}: it is {size} bytes; the limit is {size - 1}" in lines[0]


def test_run_folder_files_at_their_size_limit_are_read(tmp_path, capsys, monkeypatch, run):
    monkeypatch.setattr(trajectory, "META_LIMIT", (run / "meta.json").stat().st_size)
    monkeypatch.setattr(trajectory, "TRAJECTORY_LIMIT", (run / "trajectory.jsonl").stat().st_size)
    assert main(["view", str(run), "-o", str(tmp_path / "view.html")]) == 0
    assert len(trajectory.load_run(run).steps) > 0


def test_run_folder_links_that_stay_inside_it_are_followed(run):
    os.rename(run / "trajectory.jsonl", run / "steps.jsonl")
    os.symlink("steps.jsonl", run / "trajectory.jsonl")
    assert len(trajectory.load_run(run).steps) > 0 and not trajectory.load_run(run).problems


def test_meta_json_linked_to_a_private_file_is_not_read(tmp_path, capsys, run):
    secret = tmp_path / "secret.json"
    secret.write_text('{"password": "hunter2"}', encoding="utf-8")
    (run / "meta.json").unlink()
    os.symlink(secret, run / "meta.json")
    rc, lines, err = _cli(["view", str(run), "-o", str(tmp_path / "view.html")], capsys)
    assert rc == 2 and len(lines) == 1 and "a link leading outside" in lines[0]
    assert "hunter2" not in err and "password" not in err


# ---------------------------------------------------------------------- eval results folders

@pytest.mark.parametrize("name", ["results.jsonl", "eval.json"])
@pytest.mark.parametrize("how", ["/dev/zero", "fifo"])
def test_results_folder_file_that_is_a_device_or_fifo_is_refused(tmp_path, capsys, name, how):
    res = tmp_path / "res"
    res.mkdir()
    (res / name).write_text("")
    _replace(res / name, how)
    rc, lines, err = _cli(["eval", "--model", "scripted", "--tasks", "calc-add", "--workers", "1", "-o", str(res),
                           "--quiet"], capsys)
    assert rc == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert f"cannot read {res / name}" in lines[0]
    assert sorted(p.name for p in res.iterdir()) == [name]  # refused before anything was written


def test_results_jsonl_over_its_limit_is_refused(tmp_path, capsys, monkeypatch):
    from guiagent.agent.evaluation import results
    res = tmp_path / "res"
    argv = ["eval", "--model", "scripted", "--tasks", "calc-add", "--workers", "1", "-o", str(res), "--quiet"]
    assert main(argv) == 0
    size = (res / "results.jsonl").stat().st_size
    monkeypatch.setattr(results, "RESULTS_LIMIT", size - 1)
    rc, lines, err = _cli(argv, capsys)
    assert rc == 2 and len(lines) == 1 and f"it is {size} bytes; the limit is {size - 1}" in lines[0], err


# ---------------------------------------------------------------------- task folders

@pytest.mark.parametrize("how, message", [("/dev/zero", "a link leading outside"), ("fifo", "not a regular file")])
def test_mock_tasks_dir_file_that_is_a_device_or_fifo_is_refused(tmp_path, capsys, how, message):
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    (tasks / "z.json").write_text("")
    _replace(tasks / "z.json", how)
    rc, lines, err = _cli(["tasks", "--tasks-dir", str(tasks)], capsys)
    assert rc == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert f"cannot read task file {tasks / 'z.json'}: " in lines[0] and message in lines[0]


def test_mock_task_file_over_its_limit_is_refused(tmp_path, capsys, monkeypatch):
    from guiagent.envs.mock.tasks import suite
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    (tasks / "big.json").write_text(" " * 200 + "{}", encoding="utf-8")
    monkeypatch.setattr(suite, "TASK_FILE_LIMIT", 100)
    rc, lines, err = _cli(["tasks", "--tasks-dir", str(tasks)], capsys)
    assert rc == 2 and len(lines) == 1 and "it is 202 bytes; the limit is 100" in lines[0], err


@pytest.mark.parametrize("how, message", [("/dev/zero", "a link leading outside"), ("fifo", "not a regular file"),
                                          ("big", "it is 202 bytes; the limit is 100")])
def test_desktop_tasks_dir_file_that_is_a_device_fifo_or_too_big_is_refused(tmp_path, monkeypatch, how, message):
    (tmp_path / "z.json").write_text(" " * 200 + "{}", encoding="utf-8")
    if how != "big":
        _replace(tmp_path / "z.json", how)
    monkeypatch.setattr(desktop_suite, "TASK_FILE_LIMIT", 100)
    with pytest.raises(ConfigError, match=f"desktop task z.json: .*{message}"):
        desktop_suite.load_tasks(str(tmp_path))


# ---------------------------------------------------------------------- JSON nested too deeply

def test_parse_jsonl_line_nested_too_deeply_is_an_error_line(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("[" * 20_000 + "\n" + json.dumps({"text": "Action: wait()"}) + "\n"))
    rc = main(["parse", "--family", "ui-tars-1.5", "--screen", "1000x600", "--jsonl"])
    captured = capsys.readouterr()
    out = [json.loads(line) for line in captured.out.splitlines()]
    assert rc == 1 and "Traceback" not in captured.err
    assert out[0] == {"error": "line 1: not JSON (nested too deeply)"} and "actions" in out[1]


@pytest.mark.parametrize("name, text", [("deep.json", DEEP), ("deep.toml", "a = " + "[" * 100_000)])
def test_config_file_nested_too_deeply_is_one_line_error(tmp_path, capsys, name, text):
    config = tmp_path / name
    config.write_text(text, encoding="utf-8")
    rc, lines, err = _cli(["run", "--task", "files-open-folder", "--model", "scripted", "--config", str(config),
                           "--no-record"], capsys)
    assert rc == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert str(config) in lines[0] and "nested too deeply" in lines[0]


def test_loss_log_lines_nested_too_deeply_are_left_out_of_the_plot(tmp_path):
    from guiagent.agent.train.plot import plot_loss_log
    (tmp_path / "loss.jsonl").write_text(DEEP + '\n{"step": 1, "loss": 0.5}\n', encoding="utf-8")
    assert plot_loss_log(tmp_path) == tmp_path / "loss.png" and (tmp_path / "loss.png").is_file()


def test_checkpoint_name_of_a_config_nested_too_deeply_is_none(tmp_path):
    from guiagent.agent.spec import _checkpoint_name
    (tmp_path / "config.json").write_text(DEEP, encoding="utf-8")
    assert _checkpoint_name(tmp_path) is None


# ---------------------------------------------------------------------- the reader itself

def test_read_text_refuses_what_is_not_a_regular_file_and_reads_what_is(tmp_path):
    (tmp_path / "ok.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    os.symlink("loop", tmp_path / "loop")
    assert read_text(tmp_path / "ok.json", limit=3, inside=tmp_path) == "{}\n"
    with pytest.raises(ValueError, match=r"^it is 3 bytes; the limit is 2$"):
        read_text(tmp_path / "ok.json", limit=2)
    with pytest.raises(ValueError, match=r"^not a regular file \(it is a folder\)$"):
        read_text(tmp_path / "sub", limit=10)
    with pytest.raises(ValueError, match=r"^not a regular file \(it is a character device\)$"):
        read_bytes("/dev/zero", limit=10)  # no folder given: still only a regular file
    with pytest.raises(ValueError, match=r"^it is a link leading outside "):
        read_text(tmp_path / "ok.json", limit=10, inside=tmp_path / "sub")
    with pytest.raises(FileNotFoundError):
        read_text(tmp_path / "missing.json", limit=10)
    with pytest.raises(OSError):
        read_text(tmp_path / "loop", limit=10)
    (tmp_path / "latin1.json").write_bytes(b"\xff{}")
    with pytest.raises(ValueError, match="not UTF-8 text"):
        read_text(tmp_path / "latin1.json", limit=10)


def test_train_export_file_over_its_limit_is_refused(tmp_path, monkeypatch):
    from guiagent.agent.train import data
    from guiagent.models.profiles import get_profile
    export = tmp_path / "export.jsonl"
    export.write_text('{"messages": []}\n' * 10, encoding="utf-8")
    monkeypatch.setattr(data, "EXPORT_LIMIT", 100)
    with pytest.raises(ConfigError, match=f"cannot read {export}: it is 170 bytes; the limit is 100"):
        data.load_examples([export], get_profile("ui-tars-1.5"))
