"""Shared pytest fixtures. Each part of the project appends its own fixtures below, in its own section."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

# guiagent's pytest plugin (guiagent/testing/plugin.py) is loaded by its pytest11 entry point when the package is
# installed (`pip install -e '.[all]'`); from a checkout on PYTHONPATH there is no entry point, so load it here.
if not any(ep.name == "guiagent" for ep in entry_points(group="pytest11")):
    pytest_plugins = ["guiagent.testing.plugin"]


# ---------------------------------------------------------------- models (stub OpenAI-compatible server)

@pytest.fixture
def stub_openai():
    """A started ``StubOpenAI`` (guiagent/testing/stub_openai.py) serving "stub-model"; stopped after the test."""
    from stub_openai import StubOpenAI

    stub = StubOpenAI()
    stub.start()
    try:
        yield stub
    finally:
        stub.stop()


# ---------------------------------------------------------------- real desktop (Xvfb; tests/desktop_apps)

from desktop_apps.fixtures import tk_app_factory, xauthority  # noqa: F401 (registers the fixtures)


# ---------------------------------------------------------------- model code (torch)

@pytest.fixture(scope="module")
def torch_one_thread():
    """torch on one thread for a test module (tiny models: threads only add contention on a shared machine)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
