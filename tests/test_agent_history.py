"""The exact messages the loop sends over a 7-step run with the default history of 5 images."""

from __future__ import annotations

from agent_helpers import BoardEnv, ScriptModel

from guiagent.agent.config import AgentConfig
from guiagent.agent.loop import Agent
from guiagent.models.base import ImagePart, TextPart
from guiagent.models.profiles import get_profile


def shape(messages):
    out = []
    for m in messages:
        parts = []
        for p in m.content:
            if isinstance(p, TextPart):
                parts.append(("text", p.text))
            else:
                assert isinstance(p, ImagePart)
                parts.append(("image", p.ref, p.image.size))
        out.append((m.role, parts))
    return out


def test_seven_steps_with_five_images_uitars15(tmp_path):
    profile = get_profile("ui-tars-1.5")
    assert profile.history.max_images == 5
    # bare boxes, as models often write them; history must carry them with box tokens restored
    answers = [f"Thought: mark {i}\nAction: click(start_box='({150 + 20 * i},{100 + 10 * i})')" for i in range(6)]
    answers.append("Thought: all marked\nAction: finished(content='done')")
    model = ScriptModel(answers)
    result = Agent(BoardEnv(), model, profile, AgentConfig()).run("mark seven points", out_dir=tmp_path)
    assert result.success and len(model.calls) == 7

    image_size = profile.budget.sizes((640, 400))[0]  # (644, 392): what UI-TARS-1.5 sees
    prompt = profile.render_prompt("mark seven points", "computer")
    restored = [a.replace("start_box='(", "start_box='<|box_start|>(").replace(")')", ")<|box_end|>')")
                for a in answers]
    assert restored[0] == ("Thought: mark 0\nAction: click(start_box='<|box_start|>(150,100)<|box_end|>')")

    expected_last = [("system", [("text", profile.system_prompt)]), ("user", [("text", prompt)]),
                     ("assistant", [("text", restored[0])]),
                     ("assistant", [("text", restored[1])])]
    for i in range(2, 6):
        expected_last += [("user", [("image", f"step_{i:03d}.png", image_size)]),
                          ("assistant", [("text", restored[i])])]
    expected_last.append(("user", [("image", "step_006.png", image_size)]))
    assert shape(model.calls[6][0]) == expected_last

    # every call: all previous answers as text, never more than 5 images, the newest ones kept
    for n, (messages, _) in enumerate(model.calls):
        s = shape(messages)
        assert [p[1] for _, parts in s for p in parts if p[0] == "text"][2:] == restored[:n]
        refs = [p[1] for _, parts in s for p in parts if p[0] == "image"]
        assert refs == [f"step_{i:03d}.png" for i in range(max(0, n - 4), n + 1)]

    # the images sent are the recorded screenshots, resized exactly as the coordinate map assumes
    shown = model.calls[6][0][-1].content[0].image
    recorded = result.steps[6]
    assert shown.size == image_size and recorded.frame["image_size"] == list(image_size)


def test_kimi_thinking_is_dropped_from_history():
    profile = get_profile("kimi-vl-thinking")
    assert profile.history.drop_thinking
    answers = [f"◁think▷long reasoning {i}◁/think▷## Action:\nclick it\n## Code:\n```python\n"
               f"pyautogui.click(x={0.3 + i / 100:.2f}, y=0.5)\n```" for i in range(3)]
    model = ScriptModel(answers + ["◁think▷ok◁/think▷## Code:\n```python\ncomputer.terminate(status='success')\n```"])
    result = Agent(BoardEnv(), model, profile, AgentConfig()).run("click")
    assert result.success and len(model.calls) == 4
    history_texts = [p.text for m in model.calls[3][0] if m.role == "assistant" for p in m.content]
    assert len(history_texts) == 3
    assert all("◁think▷" not in t and "long reasoning" not in t for t in history_texts)
    assert all("pyautogui.click" in t for t in history_texts)
    assert result.steps[0].actions[0]["x"] == round(640 * 0.30, 3)


def test_each_screenshot_is_prepared_once_not_once_per_step_in_history(monkeypatch):
    from guiagent.models.budget import ImageBudget

    prepared = []
    original = ImageBudget.prepare

    def counting(self, screenshot):
        prepared.append(id(screenshot))
        return original(self, screenshot)

    monkeypatch.setattr(ImageBudget, "prepare", counting)
    answers = [f"Action: click(start_box='({150 + 20 * i},100)')" for i in range(7)] + ["Action: finished()"]
    model = ScriptModel(answers)
    Agent(BoardEnv(), model, get_profile("ui-tars-1.5"), AgentConfig()).run("x")
    # one resize per step: without the cache each step would also resize up to 4 history screenshots again
    assert len(model.calls) == 8 and len(prepared) == 8
    # and the very same prepared object is sent again while the screenshot stays in the history
    first = model.calls[1][0][2].content[0].image
    assert model.calls[4][0][2].content[0].image is first
