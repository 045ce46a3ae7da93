"""Kimi-VL answers written by guiagent (SFT export, training, scripted solver) follow the kimi-vl computer prompt."""

import re

from guiagent.actions import types as t
from guiagent.actions.types import Point, Space
from guiagent.models.profiles import get_profile

P = Point(0.204, 0.149, Space.MODEL)


def _prompt_layout() -> re.Pattern:
    """The answer layout the kimi-vl computer prompt shows, as a pattern (its sentence and code as wildcards)."""
    prompt = get_profile("kimi-vl").prompts["computer"]
    shown = prompt.split("Answer in exactly this format:\n", 1)[1].split("\n```\n", 1)[0] + "\n```"
    sentence = "one sentence describing the next action and its target element"
    assert sentence in shown and "## Action:" in shown and "## Code:\n```python\n" in shown
    pattern = re.escape(shown).replace(re.escape(sentence), "(?P<sentence>[^\n]+)")
    return re.compile(re.sub(re.escape(re.escape("pyautogui.click(x=0.5, y=0.5)")), "(?P<code>.+)", pattern), re.S)


def test_instruct_answer_is_the_prompt_layout_without_thinking():
    text = get_profile("kimi-vl").parser().format_step([t.Click(P)], thought="Open the Files app.")
    m = _prompt_layout().fullmatch(text)
    assert m, text
    assert m["sentence"] == "Open the Files app." and m["code"] == "pyautogui.click(x=0.204, y=0.149)"
    assert "◁think▷" not in text and "◁/think▷" not in text


def test_summary_is_the_action_sentence():
    text = get_profile("kimi-vl").parser().format_step([t.Click(P)], thought="long reasoning", summary="Click Files.")
    assert _prompt_layout().fullmatch(text)["sentence"] == "Click Files."


def test_thinking_answer_is_the_think_block_then_the_prompt_layout():
    text = get_profile("kimi-vl-thinking").parser().format_step([t.Click(P)], thought="The dock has Files.",
                                                                summary="Click Files.")
    assert text.startswith("◁think▷The dock has Files.◁/think▷")
    m = _prompt_layout().fullmatch(text.split("◁/think▷", 1)[1])
    assert m and m["sentence"] == "Click Files.", text
    step = get_profile("kimi-vl-thinking").read(text, (1000, 1000))
    assert (step.thought, step.summary) == ("The dock has Files.", "Click Files.")


def test_instruct_answer_reads_back_with_its_sentence_as_thought():
    profile = get_profile("kimi-vl")
    step = profile.read(profile.parser().format_step([t.Type("hi", submit=True)], thought="Type hi."), (100, 100))
    assert step.actions == (t.Type("hi", submit=True),)
    assert (step.thought, step.summary) == ("Type hi.", "Type hi.")


def _scripted_answer(family: str) -> str:
    from guiagent.envs.mock import MockDesktop
    from guiagent.envs.mock.scripted import ScriptedModel
    from guiagent.envs.mock.tasks import get_task
    from guiagent.models.base import Sampling

    desk = MockDesktop(1280, 800, 1.0, task=get_task("calc-add"))
    return ScriptedModel(desk, get_profile(family)).complete([], Sampling()).text


def test_scripted_solver_writes_the_prompt_layout():
    text = _scripted_answer("kimi-vl")
    m = _prompt_layout().fullmatch(text)
    assert m and m["code"].startswith("pyautogui.click(x=0."), text
    thinking = _scripted_answer("kimi-vl-thinking")
    assert thinking.startswith("◁think▷") and _prompt_layout().fullmatch(thinking.split("◁/think▷", 1)[1]), thinking


def test_sft_export_writes_the_prompt_layout(tmp_path):
    import json

    from agent_helpers import BoardEnv, ScriptModel, click, finished

    from guiagent.agent.config import AgentConfig
    from guiagent.agent.export import export_sft
    from guiagent.agent.loop import Agent

    run = Agent(BoardEnv(1280, 800), ScriptModel([click(555, 377, "the OK button"), finished("done")]),
                get_profile("ui-tars-1.5"), AgentConfig(dry_run=True)).run("press OK", out_dir=tmp_path / "runs")
    for family in ("kimi-vl", "kimi-vl-thinking"):
        out = tmp_path / f"{family}.jsonl"
        export_sft([run.run_dir], out, family=family)
        answers = [json.loads(line)["messages"][-1]["content"][0]["text"] for line in out.read_text().splitlines()]
        assert len(answers) == 2
        for text in answers:
            if family == "kimi-vl-thinking":
                assert text.startswith("◁think▷"), text
                text = text.split("◁/think▷", 1)[1]
            assert "◁think▷" not in text and _prompt_layout().fullmatch(text), text
