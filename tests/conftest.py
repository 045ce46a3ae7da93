"""Shared pytest fixtures. Each part of the project appends its own fixtures below, in its own section."""

from __future__ import annotations

import pytest


# ---------------------------------------------------------------- models (stub OpenAI-compatible server)

@pytest.fixture
def stub_openai():
    """A started ``StubOpenAI`` (tests/stub_openai.py) serving the model "stub-model"; stopped after the test."""
    from stub_openai import StubOpenAI

    stub = StubOpenAI()
    stub.start()
    try:
        yield stub
    finally:
        stub.stop()


# ---------------------------------------------------------------- real desktop (Xvfb; tests/desktop_apps)

from desktop_apps.fixtures import tk_app_factory, xauthority  # noqa: F401 (registers the fixtures)
