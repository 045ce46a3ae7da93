"""End to end on the mock desktop: the real loop, real grammars, real HTTP, real task checks.

- Through the OpenAI-compatible backend against the local stub server, answering with scripted UI-TARS-1.5 and
  Kimi-VL text, the run reaches the task's success.
- Round trip: `guiagent run --model scripted`, `guiagent replay --check` (no difference), `guiagent run --model
  replay:RUN` (the same actions), `guiagent view`, `guiagent export`.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from stub_openai import StubOpenAI

from guiagent.agent.config import AgentConfig
from guiagent.agent.factory import make_env, task_evaluator
from guiagent.agent.loop import Agent
from guiagent.agent.trajectory import load_run
from guiagent.cli import main
from guiagent.agent.spec import load_model


def scripted_answers(task_id: str, family: str) -> list[str]:
    """What the mock desktop's reference solver answers, step by step, for ``task_id`` in ``family``'s format."""
    env = make_env("mock", task=task_id)
    loaded = load_model("scripted", family=family, env=env)
    result = Agent(env, loaded.model, loaded.profile, AgentConfig(wait_s=0)).run(
        env.task.instruction, evaluate=task_evaluator(env))
    assert result.success, result.evaluation
    return [s.response for s in result.steps]


@pytest.mark.parametrize("family, task_id", [("ui-tars-1.5", "rename-file"), ("kimi-vl", "rename-file"),
                                             ("ui-tars-1.5", "editor-type-save")])
def test_openai_backend_against_the_stub_server_reaches_task_success(family, task_id, tmp_path: Path):
    answers = scripted_answers(task_id, family)
    with StubOpenAI(models=("stub-model",)) as stub:
        for text in answers:
            stub.reply(text)
        code = main(["run", "--env", "mock", "--task", task_id, "--model", f"openai:{stub.url}",
                     "--model-name", "stub-model", "--family", family, "--out", str(tmp_path), "--quiet"])
        requests = [r for r in stub.requests if r.path.endswith("/chat/completions")]
        assert stub.violations == []
    assert code == 0
    (run_dir,) = tmp_path.iterdir()
    run = load_run(run_dir)
    assert run.outcome == "success" and run.meta["evaluation"]["success"] is True
    assert run.meta["family"] == family and run.meta["model"] == "stub-model"
    assert [s.response for s in run.steps] == answers
    # what went over the wire: one request per step, the history policy's images, the family's prompt
    assert len(requests) == len(answers)
    for n, request in enumerate(requests):
        assert request.images == min(n + 1, 5)
        assert request.roles[:2] == ["system", "user"]
        texts = [m["content"] for m in request.body["messages"] if m["role"] == "assistant"]
        assert len(texts) == n
    shown = requests[-1].decoded_images[-1][1]
    profile = load_model(f"replay:{run_dir}").profile
    assert shown.size == profile.budget.sizes(run.steps[-1].screenshot_size)[0]  # padded for Kimi-VL


def test_round_trip_run_replay_check_replay_model_view_export(tmp_path: Path, capsys):
    runs = tmp_path / "runs"
    assert main(["run", "--env", "mock", "--task", "editor-type-save", "--model", "scripted",
                 "--out", str(runs), "--quiet"]) == 0
    (first,) = runs.iterdir()
    recorded = load_run(first)
    assert recorded.outcome == "success" and recorded.meta["evaluation"]["success"]
    assert recorded.meta["env_options"]["task"] == "editor-type-save"

    # replay the actions on a fresh mock desktop built from meta.json: every screenshot matches
    assert main(["replay", str(first), "--check"]) == 0
    assert "every screenshot matches" in capsys.readouterr().out

    # feed the recorded answers back through the live loop: the same actions, the same success
    again = tmp_path / "again"
    assert main(["run", "--env", "mock", "--task", "editor-type-save", "--model", f"replay:{first}",
                 "--out", str(again), "--quiet"]) == 0
    (second,) = again.iterdir()
    replayed = load_run(second)
    assert [(s.actions, s.status) for s in replayed.steps] == [(s.actions, s.status) for s in recorded.steps]
    assert [replayed.screenshot(s).tobytes() for s in replayed.steps] == \
        [recorded.screenshot(s).tobytes() for s in recorded.steps]

    # view it
    report = tmp_path / "report.html"
    assert main(["view", str(first), "-o", str(report)]) == 0
    page = report.read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == len(recorded.steps)
    assert html.escape(recorded.instruction) in page

    # export it
    data = tmp_path / "sft.jsonl"
    assert main(["export", str(first), str(second), "-o", str(data)]) == 0
    examples = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines()]
    assert len(examples) == 2 * len(recorded.steps)
    grammar = load_model(f"replay:{first}").profile.parser()
    for example, step in zip(examples, recorded.steps):
        answer = example["messages"][-1]["content"][0]["text"]
        assert grammar.parse(answer).actions == grammar.parse(step.response).actions
