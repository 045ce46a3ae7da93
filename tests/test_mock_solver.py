"""The scripted reference solver: it solves every task through the real parse -> map -> execute path, in several
families, sizes and HiDPI scales; and the checkers reject what an incomplete or wrong solution leaves behind."""

from __future__ import annotations

import dataclasses
import random
import re

import pytest

from guiagent.actions import types as T
from guiagent.actions.families import get_grammar
from guiagent.envs.mock import MockDesktop
from guiagent.envs.mock.scripted import ScriptedModel
from guiagent.envs.mock.tasks import get_task, load_suite
from guiagent.envs.mock.tasks.plan import compile_step
from guiagent.models.base import Model, Sampling
from guiagent.models.profiles import get_profile

SUITE = load_suite()
TASK_IDS = [t.id for t in SUITE]


def run_episode(task, family="ui-tars-1.5", width=1280, height=800, scale=1.0, plan=None, profile=None):
    """The minimal agent loop: model text -> profile.read (parse, map to the screenshot) -> env.execute."""
    desk = MockDesktop(width, height, scale, task=task)
    profile = profile or get_profile(family)
    model = ScriptedModel(desk, profile, plan=plan)
    texts = []
    for _ in range(task.max_steps):
        shot = desk.observe().screenshot
        text = model.complete([], Sampling()).text
        texts.append(text)
        for action in profile.read(text, shot.size).actions:
            if isinstance(action, (T.Finished, T.CallUser)):
                return desk, texts, type(action).__name__
            desk.execute(action)
    return desk, texts, "step_limit"


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_every_task_is_solved_by_ui_tars_15_text(task_id):
    task = get_task(task_id)
    desk, texts, outcome = run_episode(task)
    result = task.check(desk)
    assert outcome == "Finished", texts[-1]
    assert result.success, (result.reasons, texts)
    assert len(texts) <= task.max_steps
    assert all(t.startswith("Thought: ") and "\nAction: " in t for t in texts)


SAMPLE = ["files-drag-into-folder", "files-scroll-delete", "desktop-new-folder", "settings-volume-slider",
          "calc-move-window", "form-register-options", "mail-japanese", "note-to-email", "editor-copy-between-files"]


@pytest.mark.parametrize("family, width, height, scale", [
    ("kimi-vl", 1280, 800, 1.0),
    ("ui-tars-1.0", 1280, 800, 2.0),
    ("ui-tars-1.5", 1920, 1080, 1.0),
    ("ui-tars-1.5", 1280, 800, 2.0),
    ("opencua", 1440, 900, 1.5),
    ("ui-tars-2", 1920, 1080, 2.0),
])
def test_sample_tasks_in_other_families_sizes_and_scales(family, width, height, scale):
    failures = []
    for task_id in SAMPLE:
        task = get_task(task_id)
        desk, texts, outcome = run_episode(task, family, width, height, scale)
        result = task.check(desk)
        if outcome != "Finished" or not result.success:
            failures.append((task_id, outcome, result.reasons, texts[-1]))
    assert not failures


def test_calculator_tasks_survive_a_heavily_downscaled_model_image():
    """At ~3.6 screen points per model pixel, rounding alone would miss small targets; the solver checks."""
    profile = get_profile("ui-tars-1.5").with_overrides(max_pixels=100 * 28 * 28, min_pixels=4 * 28 * 28)
    frame = profile.frame((1280, 800))
    assert frame.image_size[0] < 400
    for task in SUITE:
        if task.app in ("calculator", "settings"):
            desk, texts, _outcome = run_episode(task, profile=profile)
            assert task.check(desk).success, (task.id, texts)


# ====================================================================== the text it writes


def first_answer(task_id, family, width=1280, height=800, scale=1.0):
    desk = MockDesktop(width, height, scale, task=get_task(task_id))
    profile = get_profile(family)
    return desk, profile, ScriptedModel(desk, profile).complete([], Sampling()).text


def test_ui_tars_15_text_uses_model_pixels_of_the_resized_image():
    desk, profile, text = first_answer("calc-add", "ui-tars-1.5", scale=2.0)
    m = re.fullmatch(r"Thought: I click the button '1' in the Calculator window\.\n"
                     r"Action: click\(start_box='<\|box_start\|>\((\d+),(\d+)\)<\|box_end\|>'\)", text)
    assert m, text
    model_pt = T.Point(float(m[1]), float(m[2]), T.Space.MODEL)
    frame = profile.frame(desk.display.size_px)
    assert desk.display.size_px == (2560, 1600) and frame.image_size == (2548, 1596)  # multiples of 28
    screen = desk.display.to_screen(frame.to_screenshot(model_pt))
    x, y, w, h = desk.find(role="button", name="1").bounds
    assert x <= screen.x <= x + w and y <= screen.y <= y + h
    # model pixels = screen points x HiDPI scale x (resized image / screenshot)
    assert model_pt.x == pytest.approx(screen.x * 2 * 2548 / 2560, abs=0.01)
    assert model_pt.y == pytest.approx(screen.y * 2 * 1596 / 1600, abs=0.01)


@pytest.mark.parametrize("family, pattern", [
    ("kimi-vl", r"## Action:\n.*\n## Code:\n```python\npyautogui\.click\(x=0\.\d+, y=0\.\d+\)\n```"),
    ("ui-tars-1.0", r"Thought: .*\nAction: click\(start_box='<\|box_start\|>\(\d{1,3},\d{1,3}\)<\|box_end\|>'\)"),
    ("opencua", r"## Thought:\n.*\n\n## Action:\n.*\n\n## Code:\n```python\npyautogui\.click\(x=0\.\d+, y=0\.\d+\)\n```"),
])
def test_other_families_write_their_own_syntax(family, pattern):
    _, _, text = first_answer("calc-add", family)
    if not re.fullmatch(pattern, text, re.DOTALL):
        # The exact layout belongs to the grammar; what matters is that the family parses it to a click
        step = get_grammar(get_profile(family).grammar).parse(text)
        assert isinstance(step.actions[0], T.Click), text
        assert re.search(r"x=0\.\d+|\(\d{1,3},\d{1,3}\)", text), text


def test_relative_coordinates_are_in_range():
    for family, limit in (("kimi-vl", 1.0), ("ui-tars-1.0", 1000.0), ("ui-tars-2", 1000.0)):
        _, texts, _ = run_episode(get_task("files-drag-to-desktop"), family)
        step = get_grammar(get_profile(family).grammar).parse(texts[0])
        drag = step.actions[0]
        assert isinstance(drag, T.Drag)
        for p in (drag.start, drag.end):
            assert 0 <= p.x <= limit and 0 <= p.y <= limit


def test_scripted_model_is_a_model():
    desk = MockDesktop(task=get_task("calc-add"))
    model = ScriptedModel(desk, get_profile("ui-tars-1.5"))
    assert isinstance(model, Model) and model.name == "scripted"


# ====================================================================== progress, retries, resets


def test_unexecuted_answer_is_repeated_and_reset_restarts():
    task = get_task("calc-add")
    desk = MockDesktop(task=task)
    profile = get_profile("ui-tars-1.5")
    model = ScriptedModel(desk, profile)
    first = model.complete([], Sampling()).text
    assert model.complete([], Sampling()).text == first  # a parse retry or a dry run: same step again
    desk.execute(profile.read(first, desk.display.size_px).actions[0])
    second = model.complete([], Sampling()).text
    assert second != first and "button '2'" in second
    desk.reset()
    assert model.complete([], Sampling()).text == first  # a new episode starts the plan again


def test_missing_target_asks_the_user():
    task = get_task("calc-add")
    desk = MockDesktop(task=task, initial_state={})  # no calculator window
    text = ScriptedModel(desk, get_profile("ui-tars-1.5")).complete([], Sampling()).text
    step = get_grammar("ui-tars-1.5").parse(text)
    assert isinstance(step.actions[0], T.CallUser)
    assert "cannot find the button '1' in the Calculator window" in step.actions[0].content


def test_minimized_window_is_restored_from_the_taskbar():
    task = get_task("settings-wifi-off")
    desk = MockDesktop(task=task, initial_state={"open": ["settings", "calculator"]})
    settings = next(w for w in desk.wm.windows if getattr(w.app, "app_id", "") == "settings")
    desk.wm.minimize(settings)
    texts = []
    model = ScriptedModel(desk, get_profile("ui-tars-1.5"))
    profile = get_profile("ui-tars-1.5")
    for _ in range(6):
        text = model.complete([], Sampling()).text
        texts.append(text)
        action = profile.read(text, desk.display.size_px).actions[0]
        if isinstance(action, T.Finished):
            break
        desk.execute(action)
    assert "minimized; I restore it from the taskbar" in texts[0]
    assert task.check(desk).success, texts


def test_the_solver_round_trips_points_into_small_targets():
    """Candidates are formatted, parsed and mapped back; the chosen one lands inside the aim rectangle."""
    desk = MockDesktop(task=get_task("calc-add"))
    profile = get_profile("ui-tars-1.5").with_overrides(max_pixels=100 * 28 * 28, min_pixels=4 * 28 * 28)
    model = ScriptedModel(desk, profile)
    display, frame = desk.display, profile.frame(desk.display.size_px)
    rng = random.Random(7)
    naive_misses = 0
    for _ in range(200):
        ax, ay = rng.uniform(0, 1200), rng.uniform(0, 720)
        aim = (ax, ay, 7.0, 7.0)
        p = T.Point(ax + rng.uniform(0, 7), ay + rng.uniform(0, 7), T.Space.SCREEN)  # anywhere in the rect
        chosen = model._to_model(p, aim, display, frame)
        back = display.to_screen(frame.to_screenshot(model._roundtrip(chosen)))
        assert ax <= back.x <= ax + 7 and ay <= back.y <= ay + 7
        naive = model._roundtrip(frame.to_model(display.to_screenshot(p)))
        nb = display.to_screen(frame.to_screenshot(naive))
        naive_misses += not (ax <= nb.x <= ax + 7 and ay <= nb.y <= ay + 7)
    assert naive_misses > 10  # plain rounding would have missed; the check is doing work


# ====================================================================== checkers reject wrong end states


def last_action_index(task):
    return max(i for i, s in enumerate(task.solution) if s.kind not in ("finished", "wait"))


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_checker_rejects_a_solution_missing_its_last_step(task_id):
    task = get_task(task_id)
    cut = last_action_index(task)
    plan = task.solution[:cut] + (compile_step({"finished": None}, "cut"),)
    desk, texts, outcome = run_episode(task, plan=plan)
    assert outcome == "Finished", texts
    result = task.check(desk)
    assert not result.success, f"{task_id} passes without its step {task.solution[cut].spec}"
    assert result.reasons[0].startswith("failed: ")


TYPED = [t.id for t in SUITE if any(s.kind == "type" for s in t.solution)]


@pytest.mark.parametrize("task_id", TYPED)
def test_checker_rejects_different_typed_values(task_id):
    task = get_task(task_id)
    plan = tuple(dataclasses.replace(s, args={**s.args, "text": "7" + s.args["text"]}) if s.kind == "type" else s
                 for s in task.solution)
    desk, texts, _outcome = run_episode(task, plan=plan)
    result = task.check(desk)
    assert not result.success, f"{task_id} accepts mistyped values: {texts}"


def test_checker_rejects_the_wrong_slider_value_and_wrong_choice():
    task = get_task("settings-volume-slider")
    plan = (compile_step({"slider": {"target": {"role": "slider", "name": "Volume"}, "value": 35}}, "s"),
            compile_step({"finished": None}, "f"))
    desk, _, _ = run_episode(task, plan=plan)
    assert desk.state()["settings"]["volume"] == 35
    assert task.check(desk).reasons[0] == "failed: setting volume is 35, expected 30"
    task = get_task("settings-language-dropdown")
    plan = tuple(compile_step(s, "x") for s in (
        {"click": {"role": "tab", "name": "System"}}, {"click": {"role": "combo_box", "name": "Language"}},
        {"click": {"role": "list_item", "name": "Deutsch"}}, {"finished": None}))
    desk, _, _ = run_episode(task, plan=plan)
    assert not task.check(desk).success and desk.state()["settings"]["language"] == "Deutsch"


# ====================================================================== through the agent loop


def test_one_task_through_the_agent_loop(tmp_path):
    from guiagent.agent.config import AgentConfig
    from guiagent.agent.loop import Agent
    from guiagent.agent.trajectory import load_run

    task = get_task("note-to-email")
    desk = MockDesktop(scale=2.0, task=task)
    profile = get_profile("ui-tars-1.5")
    agent = Agent(desk, ScriptedModel(desk, profile), profile, AgentConfig(max_steps=task.max_steps, wait_s=0.0))
    result = agent.run(task.instruction, task_id=task.id, out_dir=tmp_path)
    assert result.outcome == "success", result.reason
    assert task.check(desk).success
    run = load_run(result.run_dir)
    assert len(run.steps) == len(result.steps) >= 10


def test_without_a_task_the_model_asks_for_one():
    desk = MockDesktop()
    text = ScriptedModel(desk, get_profile("ui-tars-1.5")).complete([], Sampling()).text
    action = get_grammar("ui-tars-1.5").parse(text).actions[0]
    assert isinstance(action, T.CallUser) and "needs a mock desktop task" in action.content
