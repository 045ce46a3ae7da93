"""``guiagent tasks`` and ``guiagent screenshot``."""

from __future__ import annotations

import json

from PIL import Image

from guiagent.cli import main
from guiagent.envs.mock import MockDesktop
from guiagent.envs.mock.tasks import get_task, load_suite


def test_tasks_table_lists_every_task(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["tasks"]) == 0
    out = capsys.readouterr().out
    assert f"Mock desktop tasks ({len(load_suite())})" in out
    for t in load_suite():
        assert t.id in out
    assert "Copy the text of meeting.txt" in out and "editor+mail" in out


def test_tasks_json_with_filters(capsys):
    assert main(["tasks", "--json", "--app", "settings", "--difficulty", "easy"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all("settings" in r["apps"] and r["difficulty"] == "easy" for r in rows)
    assert {r["id"] for r in rows} >= {"settings-wifi-off", "settings-dark-mode"}
    assert main(["tasks", "--json", "--tag", "non-ascii"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert "editor-cjk" in {r["id"] for r in rows} and all("non-ascii" in r["tags"] for r in rows)
    assert any(any(ord(c) > 127 for c in r["instruction"]) for r in rows)  # written as UTF-8, not escaped


def test_screenshot_writes_the_initial_screen(tmp_path, capsys):
    out = tmp_path / "shots" / "form.png"
    assert main(["screenshot", "--task", "form-contact", "-o", str(out), "--size", "1024x768", "--scale", "1.5"]) == 0
    img = Image.open(out)
    assert img.size == (1536, 1152) and img.format == "PNG"
    expected = MockDesktop(1024, 768, 1.5, task=get_task("form-contact")).observe().screenshot
    assert img.convert("RGB").tobytes() == expected.convert("RGB").tobytes()
    assert "wrote" in capsys.readouterr().err


def test_screenshot_format_follows_the_file_name(tmp_path, capsys):
    out = tmp_path / "desk.JPG"
    assert main(["screenshot", "-o", str(out)]) == 0
    assert Image.open(out).format == "JPEG"
    assert main(["screenshot", "-o", str(tmp_path / "desk.txt")]) == 2
    assert "must end in .png, .jpg or .jpeg" in capsys.readouterr().err
    assert not (tmp_path / "desk.txt").exists()


def test_screenshot_without_task_and_with_errors(tmp_path, capsys):
    out = tmp_path / "desk.png"
    assert main(["screenshot", "-o", str(out)]) == 0
    assert Image.open(out).size == (1280, 800)
    assert main(["screenshot", "--task", "calc-ad", "-o", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert "unknown mock task 'calc-ad'" in err and "calc-add" in err
    assert not (tmp_path / "x.png").exists()
