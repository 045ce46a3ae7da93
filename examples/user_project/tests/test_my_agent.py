"""Tests of an agent set-up, written the way a guiagent user writes them: only the fixtures of guiagent's pytest
plugin (run_agent, canned_model, mock_desktop, openai_stub) and the public guiagent.testing helpers.

The task "standup-reminder" is ours: it lives in ../tasks/, named by `guiagent_tasks_dir` in pyproject.toml.
"""

import pytest

from guiagent.testing import assert_element, assert_element_value, assert_run_replays, assert_task_passed

TASK = "standup-reminder"
DONE = "Thought: Nothing left to do.\nAction: finished(content='')"


def test_reference_solution_passes_and_replays(run_agent, guiagent_tasks_dir):
    run = run_agent(TASK)                      # the scripted model follows the task's solution
    assert_task_passed(run)
    assert run.run_dir is not None and (run.run_dir / "meta.json").is_file()
    # the recorded actions give the recorded screens again (a run folder never names the task folder to read)
    assert_run_replays(run.run_dir, tasks_dir=guiagent_tasks_dir)


@pytest.mark.parametrize("family", ["ui-tars-1.5", "kimi-vl", "opencua"])
def test_every_family_format_solves_it(run_agent, family):
    run = run_agent(TASK, family=family)       # the same plan, written in each family's text and coordinates
    assert_task_passed(run)


def test_an_agent_that_gives_up_fails_the_check(run_agent, canned_model):
    model = canned_model([DONE])
    run = run_agent(TASK, model)
    assert not run.check.success
    assert any("reminder.txt" in reason for reason in run.check.reasons)
    # what the model was sent: one screenshot, and the task's instruction in the prompt
    assert model.calls[0].images == 1
    assert "Standup moved to 10:30" in model.calls[0].prompt


@pytest.mark.mock_desktop(task=TASK)
def test_the_task_starts_with_the_empty_file_open(mock_desktop):
    window = assert_element(mock_desktop, role="window", name_contains="reminder.txt")
    x, y, w, h = window.bounds                 # screen points
    assert w > 0 and h > 0
    assert_element_value(mock_desktop, "", role="text_area", name="Document")
    assert mock_desktop.state()["files"]["/home/user/Documents/reminder.txt"] == ""


def test_serving_config_against_a_local_stub(run_agent, openai_stub):
    openai_stub.reply(DONE)
    run = run_agent(TASK, openai_stub.spec, family="ui-tars-1.5", retries=0)
    assert [step.actions for step in run.steps] == [[{"type": "finished", "content": None}]]
    assert not run.check.success                # it gave up at once
    [chat] = [r for r in openai_stub.requests if r.path.endswith("/chat/completions")]
    assert chat.images == 1 and chat.body["temperature"] == 0.0
    assert openai_stub.violations == []


def test_server_errors_end_the_run_cleanly(run_agent, openai_stub):
    openai_stub.error(503, "overloaded")
    run = run_agent(TASK, openai_stub.spec, family="ui-tars-1.5", retries=0)
    assert run.outcome == "model_error"
    openai_stub.hang(5.0)
    run = run_agent(TASK, openai_stub.spec, family="ui-tars-1.5", retries=0, timeout=0.5)
    assert run.outcome == "model_error"
