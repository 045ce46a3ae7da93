"""guiagent's test kit: test models, a stub OpenAI-compatible server, a one-call runner and assertions.

    from guiagent.testing import CannedModel, StubOpenAI, run_task, assert_task_passed, assert_element

With pytest, the same come as fixtures (``mock_desktop``, ``canned_model``, ``scripted_model``, ``openai_stub``,
``run_agent`` ...) from the plugin in ``guiagent.testing.plugin``, which pytest loads by itself once guiagent is
installed (``pip install 'guiagent[test]'``). See docs/testing.md.
"""

from guiagent.testing.asserts import (
    assert_element,
    assert_element_value,
    assert_run_replays,
    assert_screenshot,
    assert_task_passed,
    describe_action,
)
from guiagent.testing.models import CannedCall, CannedModel
from guiagent.testing.runner import AgentRun, run_task
from guiagent.testing.stub_openai import RecordedRequest, StubOpenAI

__all__ = ["AgentRun", "CannedCall", "CannedModel", "RecordedRequest", "StubOpenAI", "assert_element",
           "assert_element_value", "assert_run_replays", "assert_screenshot", "assert_task_passed",
           "describe_action", "run_task"]
