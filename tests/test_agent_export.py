"""SFT export: one chat example per step, laid out exactly as the loop sent it, answers in the family's format."""

from __future__ import annotations

import json
from pathlib import Path

from agent_helpers import BoardEnv, ScriptModel, click, finished

from guiagent.agent.config import AgentConfig
from guiagent.agent.export import export_sft
from guiagent.agent.hooks import ConfirmHook
from guiagent.agent.loop import Agent
from guiagent.models.base import ImagePart, TextPart
from guiagent.models.profiles import get_profile

PROFILE = get_profile("ui-tars-1.5")


def record(tmp_path: Path, answers, hooks=(), **config):
    model = ScriptModel(answers)
    result = Agent(BoardEnv(), model, PROFILE, AgentConfig(**config), hooks).run("mark the board",
                                                                                 out_dir=tmp_path / "runs")
    return result, model


def as_json(messages, run_dir: Path):
    out = []
    for m in messages:
        parts = []
        for p in m.content:
            if isinstance(p, TextPart):
                parts.append({"type": "text", "text": p.text})
            else:
                assert isinstance(p, ImagePart)
                parts.append({"type": "image", "image": str((run_dir / p.ref).resolve())})
        out.append({"role": m.role, "content": parts})
    return out


def test_each_step_is_what_the_loop_sent_plus_the_canonical_answer(tmp_path: Path):
    # bare boxes and a sloppy 'Thought:' spacing in the raw answers; the export writes the canonical form
    answers = [f"Thought:  mark {i}\nAction: click(start_box='({150 + 30 * i},{100 + 20 * i})')" for i in range(6)]
    answers.append(finished("all marked"))
    result, model = record(tmp_path, answers)
    assert result.success
    out = tmp_path / "data.jsonl"
    stats = export_sft([result.run_dir], out)
    examples = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert stats.examples == len(examples) == 7 and stats.runs == 1 and stats.skipped_steps == 0

    grammar = PROFILE.parser()
    for i, ex in enumerate(examples):
        target = ex["messages"][-1]
        assert target["role"] == "assistant"
        text = target["content"][0]["text"]
        assert grammar.parse(text).actions == grammar.parse(answers[i]).actions
        assert text == grammar.format_step(grammar.parse(answers[i]).actions,
                                           thought=grammar.parse(answers[i]).thought)
        assert ex["meta"]["step"] == i and ex["meta"]["family"] == "ui-tars-1.5"
        assert all(Path(p).is_file() for p in ex["images"]) and len(ex["images"]) == min(i + 1, 5)
        assert all(size == [644, 392] for size in ex["meta"]["image_sizes"])

    # the prompt part equals what the model was really sent, image for image (history texts are canonical)
    last = examples[6]["messages"][:-1]
    sent = as_json(model.calls[6][0], result.run_dir)
    assert [m["role"] for m in last] == [m["role"] for m in sent]
    assert [[p["type"] for p in m["content"]] for m in last] == [[p["type"] for p in m["content"]] for m in sent]
    assert [p for m in last for p in m["content"] if p["type"] == "image"] == \
        [p for m in sent for p in m["content"] if p["type"] == "image"]
    assert last[:2] == sent[:2]  # system prompt and instruction prompt
    assert "<|box_start|>(150,100)<|box_end|>" in last[2]["content"][0]["text"]


def test_raw_mode_keeps_what_the_model_wrote(tmp_path: Path):
    answers = ["Thought:  mark\nAction: click(start_box='(150,100)')", finished()]
    result, _ = record(tmp_path, answers)
    out = tmp_path / "raw.jsonl"
    export_sft([result.run_dir], out, raw=True, relative=True)
    first, second = [json.loads(x) for x in out.read_text().splitlines()]
    assert first["messages"][-1]["content"][0]["text"] == answers[0]
    assert first["images"] == ["runs/" + result.run_dir.name + "/step_000.png"]
    # history in raw mode: box tokens restored by the history policy, as the loop did
    assert second["messages"][3]["content"][0]["text"] == \
        "Thought:  mark\nAction: click(start_box='<|box_start|>(150,100)<|box_end|>')"


def test_vetoed_and_failed_steps_are_left_out_and_failed_runs_with_success_only(tmp_path: Path):
    verdicts = iter(["skip", "allow"])
    result, _ = record(tmp_path, [click(150, 100), click(160, 100), finished()],
                       hooks=[ConfirmHook(lambda ctx: next(verdicts))])
    failed, _ = record(tmp_path, ["nonsense"] * 3)
    assert result.success and failed.outcome == "parse_error"
    out = tmp_path / "d.jsonl"
    stats = export_sft([result.run_dir, failed.run_dir], out)
    examples = [json.loads(x) for x in out.read_text().splitlines()]
    assert [e["meta"]["step"] for e in examples] == [1, 2] and stats.skipped_steps == 1
    # the skipped step stays in the history of the next one: it is what the model saw
    assert "(150,100)" in examples[0]["messages"][3]["content"][0]["text"]
    stats = export_sft([result.run_dir, failed.run_dir], out, success_only=True)
    assert stats.runs == 1 and len(stats.skipped_runs) == 1 and "parse_error" in stats.skipped_runs[0]
