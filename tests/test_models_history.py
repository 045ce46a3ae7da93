"""The exact message lists each family gets (guiagent.models.history)."""

from __future__ import annotations

import pytest
from PIL import Image

from guiagent.actions.families import get_grammar
from guiagent.models.base import ImagePart, Message, TextPart
from guiagent.models.history import (
    Turn,
    build_messages,
    count_images,
    forget_unsent_screenshot,
    history_response,
)
from guiagent.models.profiles import get_profile

TASK = "Open the Downloads folder"


def shot(i: int, size=(1920, 1080)) -> Image.Image:
    return Image.new("RGB", size, (i * 20 % 256, 40, 90))


def layout(messages: list[Message]) -> list[tuple[str, list[str]]]:
    """A compact, exact picture of a message list: text parts verbatim, images as 'image WxH ref'."""
    out = []
    for m in messages:
        parts = []
        for p in m.content:
            if isinstance(p, TextPart):
                parts.append(p.text)
            else:
                assert isinstance(p, ImagePart)
                parts.append(f"image {p.image.size[0]}x{p.image.size[1]} {p.ref}")
        out.append((m.role, parts))
    return out


UITARS_RESPONSES = [
    "Thought: open the menu\nAction: click(start_box='(100,200)')",
    "Thought: pick Downloads\nAction: click(start_box='<|box_start|>(300,400)<|box_end|>')",
    "Thought: scroll\nAction: scroll(start_box='(10,20)', direction='down')",
    "Thought: type\nAction: type(content='abc\\n')",
    "Thought: drag\nAction: drag(start_box='(1,2)', end_box='(3,4)')",
    "Thought: wait\nAction: wait()",
]


def test_ui_tars_15_layout_with_image_window():
    profile = get_profile("ui-tars-1.5")
    past = [Turn(shot(i), r, screenshot_ref=f"step_{i}.png") for i, r in enumerate(UITARS_RESPONSES)]
    messages = build_messages(profile, TASK, past, shot(9), screenshot_ref="now.png")
    img = "image 1932x1092"  # smart_resize of 1920x1080
    assert layout(messages) == [
        ("system", ["You are a helpful assistant."]),
        ("user", [profile.render_prompt(TASK)]),
        ("assistant", ["Thought: open the menu\nAction: click(start_box='<|box_start|>(100,200)<|box_end|>')"]),
        ("assistant", ["Thought: pick Downloads\nAction: click(start_box='<|box_start|>(300,400)<|box_end|>')"]),
        ("user", [f"{img} step_2.png"]),
        ("assistant", ["Thought: scroll\nAction: scroll(start_box='<|box_start|>(10,20)<|box_end|>', "
                       "direction='down')"]),
        ("user", [f"{img} step_3.png"]),
        ("assistant", ["Thought: type\nAction: type(content='abc\\n')"]),
        ("user", [f"{img} step_4.png"]),
        ("assistant", ["Thought: drag\nAction: drag(start_box='<|box_start|>(1,2)<|box_end|>', "
                       "end_box='<|box_start|>(3,4)<|box_end|>')"]),
        ("user", [f"{img} step_5.png"]),
        ("assistant", ["Thought: wait\nAction: wait()"]),
        ("user", [f"{img} now.png"]),
    ]
    assert count_images(messages) == profile.history.max_images == 5


def test_first_step_and_short_history():
    profile = get_profile("ui-tars-1.0")
    assert layout(build_messages(profile, TASK, [], shot(0))) == [
        ("system", ["You are a helpful assistant."]),
        ("user", [profile.render_prompt(TASK)]),
        ("user", ["image 1932x1092 None"]),
    ]
    two = build_messages(profile, TASK, [Turn(shot(1), UITARS_RESPONSES[0], "a.png")], shot(2), screenshot_ref="b.png")
    assert [r for r, _ in layout(two)] == ["system", "user", "user", "assistant", "user"]
    assert layout(two)[2] == ("user", ["image 1932x1092 a.png"])


def test_max_images_override_and_missing_screenshots():
    profile = get_profile("ui-tars-1.5").with_overrides(max_images=2)
    past = [Turn(shot(0), UITARS_RESPONSES[0], "0.png"), Turn(None, UITARS_RESPONSES[1], "1.png")]
    messages = build_messages(profile, TASK, past, shot(2), screenshot_ref="2.png")
    # Step 1 is inside the window but its screenshot is gone: it is replayed as text only.
    assert [r for r, _ in layout(messages)] == ["system", "user", "assistant", "assistant", "user"]
    assert count_images(messages) == 1
    one = build_messages(profile.with_overrides(max_images=1), TASK, [Turn(shot(0), UITARS_RESPONSES[0])], shot(1))
    assert count_images(one) == 1 and layout(one)[-1][0] == "user"


def test_images_are_the_budgeted_images():
    profile = get_profile("ui-tars-1.5").with_overrides(max_pixels=640 * 360)
    messages = build_messages(profile, TASK, [Turn(shot(0, (2560, 1440)), UITARS_RESPONSES[0])], shot(1, (2560, 1440)))
    sizes = [p.image.size for m in messages for p in m.content if isinstance(p, ImagePart)]
    expected, _ = profile.budget.sizes((2560, 1440))
    assert sizes == [expected, expected]
    assert expected[0] * expected[1] <= 640 * 360 and expected[0] % 28 == 0 and expected[1] % 28 == 0


def test_ui_tars_2_keeps_point_syntax_untouched():
    profile = get_profile("ui-tars-2")
    response = "Thought: go\nAction: click(point='<point>500 300</point>')"
    messages = build_messages(profile, TASK, [Turn(shot(0), response)], shot(1))
    assert layout(messages)[3] == ("assistant", [response])


def test_kimi_thinking_drops_the_thinking_and_pads_images():
    profile = get_profile("kimi-vl-thinking")
    response = ("◁think▷The folder icon is on the left.◁/think▷## Action:\nClick Downloads.\n## Code:\n"
                "```python\npyautogui.click(x=0.204, y=0.149)\n```")
    messages = build_messages(profile, TASK, [Turn(shot(0), response, "0.png")], shot(1), screenshot_ref="1.png")
    # 1920x1080 with 16384 patches fits as it is (137x77 patches) and is padded to multiples of 28.
    assert layout(messages) == [
        ("system", ["You are a helpful assistant"]),
        ("user", [profile.render_prompt(TASK)]),
        ("user", ["image 1932x1092 0.png"]),
        ("assistant", ["## Action:\nClick Downloads.\n## Code:\n```python\npyautogui.click(x=0.204, y=0.149)\n```"]),
        ("user", ["image 1932x1092 1.png"]),
    ]
    instruct = get_profile("kimi-vl")
    small = build_messages(instruct, TASK, [], shot(0))
    assert layout(small)[-1] == ("user", ["image 1204x672 None"])  # 4096-patch limit: 1196x672 padded to 1204


def test_kimi_grounding_mode():
    profile = get_profile("kimi-vl")
    assert layout(build_messages(profile, "the Save button", [], shot(0), mode="grounding")) == [
        ("system", ["You are a helpful assistant"]),
        ("user", ["Please observe the screenshot, please locate the following elements with action and point."
                  "<instruction> the Save button"]),
        ("user", ["image 1204x672 None"]),
    ]


OPENCUA_RESPONSES = [f"## Thought:\nthink {i}\n## Action:\nClick {i}.\n## Code:\n```python\n"
                     f"pyautogui.click(x=0.{i}, y=0.5)\n```" for i in range(1, 5)]


def test_opencua_prompt_last_layout():
    profile = get_profile("opencua")
    past = [Turn(shot(i), r, f"{i}.png") for i, r in enumerate(OPENCUA_RESPONSES)]
    messages = build_messages(profile, TASK, past, shot(9), screenshot_ref="now.png")
    img = "image 1932x1092"
    assert layout(messages) == [
        ("system", [profile.system_prompt]),
        ("assistant", [f"# Step 1:\n{OPENCUA_RESPONSES[0]}\n# Step 2:\n{OPENCUA_RESPONSES[1]}"]),
        ("user", [f"{img} 2.png"]),
        ("assistant", [f"# Step 3:\n{OPENCUA_RESPONSES[2]}"]),
        ("user", [f"{img} 3.png"]),
        ("assistant", [f"# Step 4:\n{OPENCUA_RESPONSES[3]}"]),
        ("user", [f"{img} now.png", profile.render_prompt(TASK)]),
    ]
    assert count_images(messages) == 3
    first = build_messages(profile, TASK, [], shot(0))
    assert layout(first) == [("system", [profile.system_prompt]),
                             ("user", ["image 1932x1092 None", profile.render_prompt(TASK)])]


def test_keep_thoughts_off_reformats_parseable_responses_only():
    profile = get_profile("ui-tars-1.5").with_overrides(keep_thoughts=False)
    grammar = get_grammar("ui-tars-1.5")
    expected = grammar.format_step(grammar.parse(UITARS_RESPONSES[0]).actions)
    assert "Thought" not in expected
    assert history_response(profile, UITARS_RESPONSES[0]) == expected
    garbage = "Thought: hmm\nAction: teleport(to='moon')"
    assert history_response(profile, garbage) == garbage


def test_language_and_mode_reach_the_prompt():
    profile = get_profile("ui-tars-1.5")
    messages = build_messages(profile, TASK, [], shot(0), mode="mobile", language="Chinese")
    assert layout(messages)[1] == ("user", [profile.render_prompt(TASK, "mobile", "Chinese")])
    with pytest.raises(ValueError, match="current screenshot"):
        build_messages(profile, TASK, [], None)  # type: ignore[arg-type]


def test_prepared_screenshots_are_reused_and_released():
    import gc
    import weakref

    from guiagent._imaging.prepared import PreparedScreenshot

    profile = get_profile("ui-tars-1.5")
    first = PreparedScreenshot.build(shot(1), profile.budget.prepare)
    past = [Turn(first, UITARS_RESPONSES[0])]
    a = build_messages(profile, TASK, past, shot(2))
    b = build_messages(profile, TASK, past, shot(3))
    image_a, image_b = a[2].content[0], b[2].content[0]
    assert isinstance(image_a, ImagePart) and image_a.image is image_b.image is first.image  # one resize
    assert image_a.prepared is first  # backends keep their encodings on it
    assert first.encoded("k", lambda im: im.size) == first.image.size and first.encodings == {"k": first.image.size}
    gone = weakref.ref(first)  # nothing else holds it (no cache by identity): it goes with the turns
    del past, a, b, image_a, image_b, first
    gc.collect()
    assert gone() is None


def test_an_unchanged_screen_shares_the_last_steps_encodings():
    from guiagent._imaging.prepared import PreparedScreenshot

    budget = get_profile("ui-tars-1.5").budget
    one = PreparedScreenshot.build(shot(1), budget.prepare)
    one.encoded("png", lambda im: b"encoded once")
    same = PreparedScreenshot.build(shot(1), budget.prepare, previous=one)  # another object, the same pixels
    assert same.image is one.image and same.encoded("png", lambda im: b"again") == b"encoded once"
    changed = PreparedScreenshot.build(shot(2), budget.prepare, previous=same)
    assert changed.image is not one.image and changed.encodings == {}


def test_forgetting_unsent_screenshots_keeps_the_messages_and_bounds_memory():
    profile = get_profile("ui-tars-1.5")  # max_images 5: 4 past screenshots are sent
    full, kept = [], []
    for i in range(9):
        turn = Turn(shot(i), UITARS_RESPONSES[i % len(UITARS_RESPONSES)], screenshot_ref=f"step_{i}.png")
        full.append(turn)
        kept.append(turn)
        forget_unsent_screenshot(kept, profile.history.max_images)
    assert [t.screenshot is not None for t in kept] == [False] * 5 + [True] * 4
    current = shot(20)
    assert layout(build_messages(profile, TASK, kept, current)) == layout(build_messages(profile, TASK, full, current))
