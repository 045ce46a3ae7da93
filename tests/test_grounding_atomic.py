"""make-grounding writes its dataset all at once: an interrupt or a write error leaves OUT as it was (no
half-written dataset that a re-run refuses), and --force replaces the old dataset only when the new one is done."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from guiagent.agent.grounding import mock_data
from guiagent.cli import main


def _make(out: Path, screens: int, *extra: str) -> int:
    return main(["make-grounding", "--suite", "mock", "--screens", str(screens), "--per-screen", "1", "--quiet",
                 "-o", str(out), *extra])


def _fail_after(monkeypatch: pytest.MonkeyPatch, screens: int, error: BaseException) -> None:
    """Make the per-screen writer raise ``error`` once ``screens`` screens are written."""
    real, calls = mock_data._write_screen, []

    def writer(*args, **kwargs):
        if len(calls) == screens:
            raise error
        calls.append(1)
        real(*args, **kwargs)

    monkeypatch.setattr(mock_data, "_write_screen", writer)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_an_interrupt_leaves_nothing_and_a_rerun_succeeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "D"
    _fail_after(monkeypatch, 2, KeyboardInterrupt())
    assert _make(out, 5) == 130
    err = capsys.readouterr().err
    assert err.strip() == (f"interrupted: nothing was written ({out} was not made); run the command again to make "
                           f"the dataset")
    assert list(tmp_path.iterdir()) == []  # no dataset, no hidden partial folder
    monkeypatch.undo()
    assert _make(out, 3) == 0
    assert sorted(p.name for p in out.iterdir()) == ["images", "mock_desktop.json", "trees"]
    assert len(list((out / "images").iterdir())) == 3


def test_force_keeps_the_old_dataset_until_the_new_one_is_complete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "D"
    assert _make(out, 4) == 0
    (out / "notes.txt").write_text("mine")
    before = _snapshot(out)
    _fail_after(monkeypatch, 1, KeyboardInterrupt())
    assert _make(out, 2, "--seed", "7", "--force") == 130
    assert "is as it was" in capsys.readouterr().err
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["D"]
    monkeypatch.undo()
    assert _make(out, 2, "--seed", "7", "--force") == 0
    after = _snapshot(out)
    assert after["notes.txt"] == b"mine"  # not the dataset's: left alone
    assert len([k for k in after if k.startswith("images/")]) == 2  # the old 4 screens' images are gone
    assert after["mock_desktop.json"] != before["mock_desktop.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["D"]


def test_a_write_error_is_one_line_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "D"
    _fail_after(monkeypatch, 1, OSError(errno.ENOSPC, "No space left on device"))
    assert _make(out, 3) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device; nothing was written" in err, err
    assert list(tmp_path.iterdir()) == []


def test_a_failed_swap_puts_the_old_dataset_back(tmp_path: Path) -> None:
    out = tmp_path / "D"
    assert _make(out, 2) == 0
    before = _snapshot(out)
    partial = tmp_path / ".D.partial-test"
    (partial / "images").mkdir(parents=True)
    (partial / "images" / "new.png").write_bytes(b"new")
    # no trees/ in the partial build: the second move fails after the first has gone through
    with pytest.raises(OSError):
        mock_data._move_into_place(partial, out)
    assert _snapshot(out) == before
    assert (partial / "images" / "new.png").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".D.partial-test", "D"]
