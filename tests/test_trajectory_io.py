"""Run folders: writing, reading back, and what load_run reports for the damage a crash leaves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from guiagent.actions.jsonform import action_to_json
from guiagent.actions.types import Click, Point, Space
from guiagent.agent.trajectory import (
    META_FILE,
    TRAJECTORY_FILE,
    Attempt,
    StepRecord,
    TrajectoryError,
    TrajectoryWriter,
    load_run,
)


def _image(i: int, size=(64, 48)) -> Image.Image:
    return Image.new("RGB", size, (i * 17 % 256, 10, 200))


def _record(i: int, name: str, size=(64, 48)) -> StepRecord:
    click = Click(Point(10 + i, 20, Space.SCREENSHOT))
    return StepRecord(index=i, started=1.0 + i, ended=1.5 + i, screenshot=name, screenshot_size=size,
                      response=f"Action: click({i})", thought=f"thought {i}", actions=[action_to_json(click)],
                      actions_model=[{"type": "click", "x": 100.0 + i, "y": 200.0}], status=["executed"],
                      latency={"model": 0.25, "execute": 0.001}, errors=[],
                      attempts=[Attempt("bad", 0.0, 0.1, "no Action"), Attempt(f"Action: click({i})", 1.0, 0.1)])


def test_round_trip_keeps_every_field(tmp_path: Path):
    w = TrajectoryWriter.create(tmp_path, {"instruction": "open the file", "task": "t1"})
    for i in range(3):
        name = w.add_screenshot(i, _image(i))
        w.add_step(_record(i, name))
    w.finish(outcome="success", reason="finished", answer="42")

    run = load_run(w.run_dir)
    assert run.finished and run.outcome == "success" and run.meta["answer"] == "42"
    assert run.problems == [] and not run.truncated
    assert [s.index for s in run.steps] == [0, 1, 2]
    s = run.steps[2]
    assert s == _record(2, "step_002.png")
    assert s.typed_actions() == [Click(Point(12, 20))]
    assert s.typed_actions(Space.MODEL)[0].point == Point(102, 200, Space.MODEL)
    assert run.screenshot(s).getpixel((0, 0)) == (34, 10, 200)
    # no temporary files or staging folders are left behind
    assert sorted(p.name for p in w.run_dir.iterdir()) == [META_FILE, "step_000.png", "step_001.png",
                                                           "step_002.png", TRAJECTORY_FILE]
    assert [p.name for p in tmp_path.iterdir()] == [w.run_dir.name]


def test_meta_says_running_until_finish(tmp_path: Path):
    w = TrajectoryWriter.create(tmp_path, {"instruction": "x"})
    w.add_step(_record(0, w.add_screenshot(0, _image(0))))
    w.flush()
    meta = json.loads((w.run_dir / META_FILE).read_text())
    assert meta["finished"] is False and meta["outcome"] == "running"
    run = load_run(w.run_dir)
    assert not run.finished and run.outcome == "incomplete" and len(run.steps) == 1
    assert any("did not finish" in p for p in run.problems)
    w.finish(outcome="step_limit", reason="50 steps")
    assert load_run(w.run_dir).outcome == "step_limit"


def test_truncated_last_line_is_reported_and_skipped(tmp_path: Path):
    w = TrajectoryWriter.create(tmp_path, {"instruction": "x"})
    for i in range(2):
        w.add_step(_record(i, w.add_screenshot(i, _image(i))))
    w.close()
    with open(w.run_dir / TRAJECTORY_FILE, "ab") as f:
        f.write(json.dumps(_record(2, "step_002.png").to_json()).encode()[:57])
    run = load_run(w.run_dir)
    assert run.truncated and [s.index for s in run.steps] == [0, 1]
    assert any("truncated" in p for p in run.problems)


def test_a_complete_json_object_without_newline_still_counts_as_truncated(tmp_path: Path):
    w = TrajectoryWriter.create(tmp_path, {"instruction": "x"})
    w.close()
    (w.run_dir / TRAJECTORY_FILE).write_text(json.dumps(_record(0, "step_000.png").to_json()))
    run = load_run(w.run_dir)
    assert run.truncated and run.steps == []


def test_corrupt_middle_line_and_missing_screenshot_are_reported(tmp_path: Path):
    w = TrajectoryWriter.create(tmp_path, {"instruction": "x"})
    w.add_step(_record(0, w.add_screenshot(0, _image(0))))
    w.close()
    with open(w.run_dir / TRAJECTORY_FILE, "ab") as f:
        f.write(b"{not json\n")
        f.write(json.dumps(_record(1, "step_001.png").to_json()).encode() + b"\n")
    run = load_run(w.run_dir)
    assert [s.index for s in run.steps] == [0, 1]
    assert any("line 2" in p for p in run.problems)
    assert any("step_001.png is missing" in p for p in run.problems)


def test_folder_names_are_unique_and_readable(tmp_path: Path):
    a = TrajectoryWriter.create(tmp_path, {"instruction": "Open the File menu!"}, name="r")
    b = TrajectoryWriter.create(tmp_path, {"instruction": "Open the File menu!"}, name="r")
    c = TrajectoryWriter.create(tmp_path, {"instruction": "Open the File menu!"})
    for w in (a, b, c):
        w.finish(outcome="success")
    assert a.run_dir.name == "r" and b.run_dir.name == "r-2"
    assert c.run_dir.name.endswith("-open-the-file-menu")


def test_not_a_run_folder_and_newer_format(tmp_path: Path):
    with pytest.raises(TrajectoryError, match="no meta.json"):
        load_run(tmp_path)
    (tmp_path / META_FILE).write_text(json.dumps({"format": 99}))
    with pytest.raises(TrajectoryError, match="newer guiagent"):
        load_run(tmp_path)


def test_writer_thread_failure_reaches_the_loop(tmp_path: Path):
    w = TrajectoryWriter.create(tmp_path, {"instruction": "x"})
    (w.run_dir / "step_000.png.tmp").mkdir()  # the screenshot write fails on the writer thread, even as root
    w.add_screenshot(0, _image(0))
    with pytest.raises(TrajectoryError, match="could not write the run folder"):
        w.flush()
    with pytest.raises(TrajectoryError):
        w.add_step(_record(0, "step_000.png"))
    with pytest.raises(TrajectoryError):
        w.close()
    assert load_run(w.run_dir).steps == []  # the line after the failed screenshot was never written


def test_writes_happen_off_the_loop_thread_in_order(tmp_path: Path):
    """Lines queued right after big screenshots never reach the file before the screenshot is there."""
    w = TrajectoryWriter.create(tmp_path, {"instruction": "x"}, queue_size=2)
    for i in range(6):
        w.add_step(_record(i, w.add_screenshot(i, _image(i, (800, 600))), (800, 600)))
    w.finish(outcome="success")
    run = load_run(w.run_dir)
    assert len(run.steps) == 6 and run.problems == []
    for s in run.steps:
        assert run.screenshot(s).size == (800, 600)
