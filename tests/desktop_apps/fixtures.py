"""pytest fixtures shared by the desktop test modules (registered for every test by tests/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_apps.xserver import TkApp, Xvfb


@pytest.fixture(scope="session")
def xauthority(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """python-xlib (pyautogui) refuses to connect without an Xauthority file; Xvfb needs no cookie, so an empty
    file is enough. Only set when the current one is missing, so a developer's real session is left alone."""
    current = os.environ.get("XAUTHORITY") or os.path.expanduser("~/.Xauthority")
    if os.path.isfile(current):
        yield current
        return
    path = tmp_path_factory.mktemp("xauth") / "Xauthority"
    path.write_bytes(b"")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XAUTHORITY", str(path))
        yield str(path)


def start_xvfb(width: int, height: int) -> Xvfb:
    return Xvfb(width, height).start()


def module_xvfb(width: int, height: int):
    """A module-scoped ``xvfb`` fixture, one Xvfb of this size for a test module: ``xvfb = module_xvfb(W, H)``."""

    @pytest.fixture(scope="module")
    def xvfb(xauthority: str) -> Iterator[Xvfb]:
        server = start_xvfb(width, height)
        yield server
        server.stop()

    return xvfb


@pytest.fixture
def tk_app_factory(tmp_path: Path):
    apps: list[TkApp] = []

    def make(xvfb: Xvfb, **kwargs: object) -> TkApp:
        app = TkApp(xvfb, tmp_path / f"tk{len(apps)}.jsonl", **kwargs)  # type: ignore[arg-type]
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()
