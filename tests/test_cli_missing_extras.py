"""What a user on the core install (`pip install guiagent`, no extras) sees from commands that need an extra: one
line naming the `pip install 'guiagent[...]'` to run and a non-zero exit, never a traceback, and nothing started."""

from __future__ import annotations

import sys

import pytest

from guiagent.cli import main
from guiagent.envs.sandbox import Sandbox, SandboxConfig
from guiagent.errors import EnvError


@pytest.fixture
def no_xlib(monkeypatch: pytest.MonkeyPatch) -> None:
    """python-xlib not installed (a None entry in sys.modules makes `import Xlib` raise ImportError)."""
    for name in [m for m in sys.modules if m == "Xlib" or m.startswith("Xlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "Xlib", None)


def test_sandbox_without_xlib_names_the_extra_and_starts_nothing(no_xlib: None) -> None:
    box = Sandbox(SandboxConfig(vnc=False))
    with pytest.raises(EnvError, match=r"pip install 'guiagent\[desktop\]'"):
        box.start()
    assert box.home is None and box._sup is None       # no supervisor, no Xvfb, no temp HOME to clean up


def test_sandbox_shell_without_xlib_is_one_line(no_xlib: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "shell", "--no-vnc", "--for", "1"]) == 1
    err = capsys.readouterr().err
    assert "guiagent[desktop]" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("spec,module,extra", [("openai:http://localhost:1/v1", "openai", "openai"),
                                               ("hf:/models/UI-TARS-1.5-7B", "torch", "local")])
def test_eval_without_the_backend_extra_stops_before_any_episode(
        tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        spec: str, module: str, extra: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)
    out = tmp_path / "results"
    assert main(["eval", "--tasks", "calc-add", "--model", spec, "--quiet", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"pip install 'guiagent[{extra}]'" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()                            # no workers started, no half-made results folder


def test_eval_with_an_unknown_spec_stops_before_any_episode(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "results"
    assert main(["eval", "--tasks", "calc-add", "--model", "nope", "--quiet", "-o", str(out)]) == 2
    assert "unknown model spec 'nope'" in capsys.readouterr().err
    assert not out.exists()
