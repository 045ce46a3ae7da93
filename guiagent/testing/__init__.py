"""guiagent's test kit: test models, a stub OpenAI-compatible server, a one-call runner and assertions.

    from guiagent.testing import CannedModel, StubOpenAI, run_task, assert_task_passed, assert_element

With pytest, the same come as fixtures (``mock_desktop``, ``canned_model``, ``scripted_model``, ``openai_stub``,
``run_agent`` ...) from the plugin in ``guiagent.testing.plugin``, which pytest loads by itself once guiagent is
installed (``pip install 'guiagent[test]'``). See docs/testing.md.

The names are imported on first use: pytest imports the plugin in every test session of an environment where
guiagent is installed, and that must not cost the agent stack's import time in projects that do not use it.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "assert_element": "asserts", "assert_element_value": "asserts", "assert_run_replays": "asserts",
    "assert_screenshot": "asserts", "assert_task_passed": "asserts", "describe_action": "asserts",
    "CannedCall": "models", "CannedModel": "models",
    "AgentRun": "runner", "run_task": "runner",
    "RecordedRequest": "stub_openai", "StubOpenAI": "stub_openai",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'guiagent.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"guiagent.testing.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
