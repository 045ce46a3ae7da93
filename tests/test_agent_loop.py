"""The agent loop: each stop condition, parse retries, confirm and dry-run modes, hooks, env errors, settling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from agent_helpers import BoardEnv, ScriptModel, click, finished

from guiagent.actions import types as t
from guiagent.actions.types import Point, Space
from guiagent.agent.config import AgentConfig
from guiagent.agent.hooks import CallbackHooks, ConfirmHook, Decision, Hooks
from guiagent.agent.loop import Agent
from guiagent.agent.trajectory import load_run
from guiagent.errors import ConfigError, EnvError, ModelError
from guiagent.models.profiles import get_profile

PROFILE = get_profile("ui-tars-1.5")
FAST = AgentConfig(wait_s=0.0)


def screenshot_point(x: float, y: float, size=(640, 400)) -> Point:
    """Where model pixel (x, y) lands for UI-TARS-1.5 (absolute pixels of the smart_resized image)."""
    return PROFILE.frame(size).to_screenshot(Point(x, y, Space.MODEL))


def run(script, env=None, config=FAST, hooks=(), **kw):
    env = env or BoardEnv()
    model = script if isinstance(script, ScriptModel) else ScriptModel(script)
    result = Agent(env, model, PROFILE, config, hooks).run("mark the board", **kw)
    return result, env, model


def test_finished_is_success_with_the_answer_and_clicks_land_where_the_model_meant():
    result, env, _ = run([click(300, 200), finished("42")])
    assert (result.outcome, result.answer, result.success) == ("success", "42", True)
    assert env.executed == [t.Click(screenshot_point(300, 200))]
    # 640x400 is shown to UI-TARS-1.5 as 644x392: (300, 200) -> (298.14, 204.08)
    assert env.executed[0].point.x == pytest.approx(300 * 640 / 644)
    assert env.executed[0].point.y == pytest.approx(200 * 400 / 392)
    assert [s.status for s in result.steps] == [["executed"], ["terminal"]]
    assert result.steps[0].actions_model == [{"type": "click", "x": 300.0, "y": 200.0}]
    assert result.steps[0].actions == [{"type": "click", "x": 298.137, "y": 204.082}]


def test_step_limit():
    result, env, model = run(lambda n, _: click(150 + 10 * n, 100), config=AgentConfig(max_steps=4))
    assert result.outcome == "step_limit" and "4 steps" in result.reason
    assert len(result.steps) == 4 and len(env.executed) == 4 and len(model.calls) == 4


def test_stuck_same_action_on_unchanged_screen():
    # x=50 is in the dead strip: clicks there change nothing on screen
    result, env, _ = run(lambda n, _: click(50, 100), config=AgentConfig(stuck_after=3))
    assert result.outcome == "stuck" and "3 times" in result.reason
    assert len(result.steps) == 3 and len(env.executed) == 2  # the third repetition is not executed
    assert result.steps[-1].status == ["not_run"]


def test_same_action_on_a_changing_screen_is_not_stuck():
    # a live area: the first click leaves a mark, so screens 0 and 1 differ; from then on nothing changes
    result, env, _ = run(lambda n, _: click(300, 100), config=AgentConfig(stuck_after=3))
    assert result.outcome == "stuck" and len(result.steps) == 4 and len(env.executed) == 3
    result, env, _ = run(lambda n, _: click(300, 100), config=AgentConfig(stuck_after=0, max_steps=6))
    assert result.outcome == "step_limit"


def test_timeout():
    model = ScriptModel(lambda n, _: click(150 + n, 100), delay_s=0.05)
    result, env, _ = run(model, config=AgentConfig(timeout_s=0.01))
    assert result.outcome == "timeout" and "0.01 s" in result.reason
    assert env.executed == [] and result.steps[0].status == ["not_run"]


def test_parse_failure_retries_at_higher_temperature_then_succeeds():
    result, env, model = run(["I think I should click", "Action: click(start_box='oops')", click(300, 200),
                              finished()])
    assert result.success and len(env.executed) == 1
    assert [s.temperature for _, s in model.calls] == [0.0, 1.0, 1.0, 0.0]
    step = result.steps[0]
    assert [a.error is None for a in step.attempts] == [False, False, True]
    assert "oops" in step.attempts[1].error and len(step.errors) == 2
    # every try sends the same messages
    assert model.calls[0][0] == model.calls[1][0] == model.calls[2][0]


def test_parse_failure_three_times_stops_with_the_fragment_in_the_reason():
    result, env, model = run(["no action here"] * 5)
    assert result.outcome == "parse_error" and "3 tries" in result.reason and "no action here" in result.reason
    assert env.executed == [] and len(model.calls) == 3
    assert result.steps[0].actions == [] and len(result.steps[0].attempts) == 3


def test_parse_tries_is_configurable():
    result, _, model = run(["nope"] * 5, config=AgentConfig(parse_tries=1))
    assert result.outcome == "parse_error" and len(model.calls) == 1


def test_model_error_stops_the_run():
    def fail(n, _):
        raise ModelError("HTTP 503 from the server")
    result, _, _ = run(fail)
    assert result.outcome == "model_error" and "503" in result.reason


def test_call_user_without_a_callback_stops():
    result, _, _ = run([click(300, 200), "Thought: need login\nAction: call_user()"])
    assert result.outcome == "call_user" and not result.success and len(result.steps) == 2


def test_call_user_answered_by_a_hook_goes_on_and_the_model_sees_the_answer():
    answers = CallbackHooks(on_call_user=lambda step, question: "the password is hunter2")
    result, _, model = run(["Thought: need login\nAction: call_user()", click(300, 200), finished()],
                           hooks=[answers])
    assert result.success
    prompt_texts = [p.text for p in model.calls[1][0][1].content]
    assert "the password is hunter2" in prompt_texts[0]
    assert "hunter2" not in model.calls[0][0][1].content[0].text


def test_call_user_answers_are_limited():
    answers = CallbackHooks(on_call_user=lambda step, question: "keep going")
    result, _, _ = run(lambda n, _: "Action: call_user()", hooks=[answers],
                       config=AgentConfig(max_call_user=2, stuck_after=0))
    assert result.outcome == "call_user" and "already answered 2 times" in result.reason
    assert len(result.steps) == 3


def test_wait_sleeps_and_observes_again():
    env = BoardEnv()
    result, env, _ = run(["Thought: loading\nAction: wait()", "Action: wait()", "Action: wait()", "Action: wait()",
                          finished()], env=env, config=AgentConfig(wait_s=0.001, stuck_after=3))
    assert result.success  # waits never count as being stuck
    assert [s.status for s in result.steps[:4]] == [["waited"]] * 4
    assert env.observations == 1 + 5  # the reset, then one capture per step
    assert all(s.latency["wait"] >= 0.001 for s in result.steps[:4])


def test_confirm_mode_allow_skip_stop():
    answers = iter(["allow", "skip", "stop"])
    asked = []

    def ask(ctx):
        asked.append((ctx.step, ctx.action, ctx.action_model))
        return next(answers)

    result, env, _ = run([click(200, 100), click(300, 100), click(400, 100), finished()],
                         hooks=[ConfirmHook(ask)])
    assert result.outcome == "stopped" and "vetoed" in result.reason
    assert env.executed == [t.Click(screenshot_point(200, 100))]
    assert [s.status for s in result.steps] == [["executed"], ["skipped"], ["stopped"]]
    assert asked[1][1] == t.Click(screenshot_point(300, 100))
    assert asked[1][2] == t.Click(Point(300, 100, Space.MODEL))


def test_first_veto_wins_and_later_hooks_are_not_asked():
    class Veto(Hooks):
        def before_action(self, context):
            return Decision.SKIP if isinstance(context.action, t.Type) else None

    asked = []
    result, env, _ = run(["Action: type(content='secret')\n\nclick(start_box='(300,100)')", finished()],
                         hooks=[Veto(), ConfirmHook(lambda ctx: asked.append(ctx.action) or "allow")])
    assert result.success
    assert result.steps[0].status == ["skipped", "executed"]
    assert asked == [t.Click(screenshot_point(300, 100))] and env.text == ""


def test_dry_run_executes_nothing_and_records_everything():
    result, env, _ = run([click(300, 100), "Action: type(content='hello\\n')", finished("ok")],
                         config=AgentConfig(dry_run=True))
    assert result.success and env.executed == []
    assert [s.status for s in result.steps] == [["dry_run"], ["dry_run"], ["terminal"]]
    assert result.steps[1].actions == [{"type": "type", "text": "hello", "submit": True}]


def test_env_error_is_recorded_and_the_run_goes_on():
    # (700, 100) in model pixels is off the 640-wide screen (the model saw 644 px)
    result, env, _ = run([click(700, 100), click(300, 100), finished()])
    assert result.success
    assert result.steps[0].status == ["error"] and "off the" in result.steps[0].errors[0]
    assert env.executed == [t.Click(screenshot_point(300, 100))]


def test_env_error_skips_the_rest_of_its_step_and_too_many_in_a_row_stop():
    result, env, _ = run([f"Action: click(start_box='(700,{y})')\n\ntype(content='x')" for y in (10, 20, 30)],
                         config=AgentConfig(max_env_errors=3))
    assert result.outcome == "env_error" and "3 steps in a row" in result.reason
    assert [s.status for s in result.steps] == [["error", "not_run"]] * 3 and env.text == ""


class CornerStop(EnvError):
    """What the desktop's fail-safe raises, stood in for: a fatal env error."""

    fatal = True


class TrippedBoard(BoardEnv):
    """A board whose ``trip_on``-th execute (0-based) raises a fatal error, as pyautogui's fail-safe does."""

    def __init__(self, trip_on: int):
        super().__init__()
        self.trip_on, self.calls = trip_on, 0

    def execute(self, action: t.Action) -> None:
        self.calls += 1
        if self.calls - 1 == self.trip_on:
            raise CornerStop("the pointer is in a screen corner: stopped by the user")
        super().execute(action)


class CheckedBoard(BoardEnv):
    """A board with ``check``: the same validation as execute (points on screen), and no ctrl+alt+delete."""

    def __init__(self):
        super().__init__()
        self.checked: list[t.Action] = []

    def check(self, action: t.Action) -> t.Action:
        self.checked.append(action)
        for p in t.points_of(action):
            self._px(p)
        if action == t.Hotkey(("ctrl", "alt", "delete")):
            raise EnvError("refused hotkey ctrl+alt+delete (deny list)")
        return action


def test_env_errors_are_not_fatal_unless_they_say_so():
    assert EnvError("x").fatal is False and CornerStop("x").fatal is True
    from guiagent.envs.desktop import FailSafeTriggered
    assert issubclass(FailSafeTriggered, EnvError) and FailSafeTriggered.fatal is True


def test_a_fatal_env_error_stops_the_run_at_once():
    # max_env_errors=3 would let two ordinary errors pass; a fatal one ends the run on the spot
    env = TrippedBoard(trip_on=1)
    result, env, model = run([click(300, 100), "Action: click(start_box='(310,100)')\n\ntype(content='x')",
                              click(320, 100), finished()], env=env, config=AgentConfig(max_env_errors=3))
    assert result.outcome == "env_error" and not result.success
    assert "CornerStop" in result.reason and "the pointer is in a screen corner" in result.reason
    assert "step 2" in result.reason  # step numbers in messages are 1-based, as in the progress output
    assert [s.status for s in result.steps] == [["executed"], ["error", "not_run"]]
    assert "screen corner" in result.steps[1].errors[-1]
    assert len(model.calls) == 2 and env.text == ""


def test_dry_run_asks_the_env_to_check_and_records_its_refusals():
    env = CheckedBoard()
    result, env, _ = run([click(700, 100),  # off the 640-wide screen
                          "Action: hotkey(key='ctrl alt delete')\n\ntype(content='x')",
                          click(300, 100), finished()], env=env, config=AgentConfig(dry_run=True))
    assert result.success and env.executed == [] and env.marks == []
    assert [s.status for s in result.steps] == [["error"], ["error", "not_run"], ["dry_run"], ["terminal"]]
    assert "off the" in result.steps[0].errors[0]
    assert "deny list" in result.steps[1].errors[0]
    assert env.checked[-1] == t.Click(screenshot_point(300, 100))


def test_dry_run_refusals_count_like_real_ones():
    result, env, _ = run([click(700, y) for y in (10, 20)], env=CheckedBoard(),
                         config=AgentConfig(dry_run=True, max_env_errors=2))
    assert result.outcome == "env_error" and "2 steps in a row" in result.reason and env.executed == []


def test_settle_until_stable_uses_the_settled_capture_as_the_next_screenshot():
    env = BoardEnv(animate=3)
    config = AgentConfig(settle_stable=True, settle_poll_s=0.0, settle_timeout_s=5)
    result, env, model = run([click(300, 100), finished()], env=env, config=config)
    assert result.success
    # after the click: 3 animated frames, then two equal ones; the last is step 1's screenshot (no extra capture)
    assert env.observations == 1 + 1 + 5
    shown = model.calls[1][0][-1].content[0].image
    assert shown.getpixel((5, 2)) == PROFILE.budget.prepare(env.observe().screenshot).getpixel((5, 2))


def test_hooks_see_every_step_and_the_end():
    seen = []
    hooks = CallbackHooks(on_run_start=lambda meta: seen.append(("start", meta["instruction"])),
                          on_observation=lambda i, obs: seen.append(("obs", i)),
                          on_response=lambda i, text, err: seen.append(("resp", i, err is None)),
                          on_step_end=lambda rec: seen.append(("end", rec.index, rec.status)),
                          on_run_end=lambda res: seen.append(("done", res.outcome)))
    run(["bad", click(300, 100), finished()], hooks=[hooks])
    assert seen == [("start", "mark the board"), ("obs", 0), ("resp", 0, False), ("resp", 0, True),
                    ("end", 0, ["executed"]), ("obs", 1), ("resp", 1, True), ("end", 1, ["terminal"]),
                    ("done", "success")]


def test_a_failing_hook_is_recorded_and_raised(tmp_path: Path):
    def boom(record):
        raise RuntimeError("bug in my hook")
    with pytest.raises(RuntimeError, match="bug in my hook"):
        run([click(300, 100), finished()], hooks=[CallbackHooks(on_step_end=boom)], out_dir=tmp_path)
    (run_dir,) = tmp_path.iterdir()
    loaded = load_run(run_dir)
    assert loaded.finished and loaded.outcome == "error" and "bug in my hook" in loaded.reason


def test_keyboard_interrupt_is_recorded_and_raised(tmp_path: Path):
    def interrupt(n, _):
        if n == 1:
            raise KeyboardInterrupt
        return click(300, 100)
    with pytest.raises(KeyboardInterrupt):
        run(interrupt, out_dir=tmp_path)
    loaded = load_run(next(tmp_path.iterdir()))
    assert loaded.outcome == "interrupted" and len(loaded.steps) == 2


def test_recorded_run_matches_the_result(tmp_path: Path):
    result, _, _ = run([click(300, 200), "Action: hotkey(key='ctrl s')", finished("saved")], out_dir=tmp_path,
                         task_id="t-1", meta={"env_options": {"seed": 7}})
    loaded = load_run(result.run_dir)
    assert loaded.problems == []
    assert [s.to_json() for s in loaded.steps] == [json.loads(json.dumps(s.to_json())) for s in result.steps]
    meta = loaded.meta
    assert meta["instruction"] == "mark the board" and meta["task"] == "t-1" and meta["family"] == "ui-tars-1.5"
    assert meta["env"] == {"name": "board", "size": [640, 400], "scale": 1.0, "offset": [0.0, 0.0]}
    assert meta["model"] == "script" and meta["env_options"] == {"seed": 7} and meta["steps"] == 3
    assert meta["outcome"] == "success" and meta["answer"] == "saved" and meta["config"]["max_steps"] == 50
    assert meta["guiagent_version"] and meta["started"] <= meta["ended"]
    for step in loaded.steps:
        assert loaded.screenshot(step).size == (640, 400)
        assert set(step.latency) >= {"capture", "prepare", "model", "parse", "record"}
    assert loaded.steps[1].actions == [{"type": "hotkey", "keys": ["ctrl", "s"]}]


def test_bad_config_is_refused():
    for bad in ({"max_steps": 0}, {"stuck_after": 1}, {"wait_s": -1}, {"timeout_s": float("nan")},
                {"parse_tries": True}):
        with pytest.raises(ConfigError):
            AgentConfig(**bad)


def test_evaluation_is_recorded_and_decides_success(tmp_path: Path):
    result, _, _ = run([click(300, 100), finished()], out_dir=tmp_path,
                       evaluate=lambda: {"success": False, "reasons": ["the file was not saved"]})
    assert result.outcome == "check_failed" and not result.success  # success means the check passed too
    assert load_run(result.run_dir).meta["evaluation"] == {"success": False, "reasons": ["the file was not saved"]}
    board = BoardEnv()
    result, _, _ = run([click(300, 100), finished()], env=board, evaluate=lambda: {"success": len(board.marks) == 1})
    assert result.success
    result, _, _ = run([finished()], env=BoardEnv(), evaluate=lambda: {"success": len(board.marks) == 0})
    assert result.outcome == "check_failed" and not result.success
    result, _, _ = run([finished()], evaluate=lambda: 1 / 0)
    assert not result.success and "ZeroDivisionError" in result.evaluation["error"]
    assert result.outcome == "check_failed" and "ZeroDivisionError" in result.reason


def test_a_recording_failure_stops_the_run_loudly(tmp_path: Path):
    from guiagent.agent.trajectory import TrajectoryError

    def block_step_1(meta):
        (run_dir,) = tmp_path.iterdir()
        (run_dir / "step_001.png.tmp").mkdir()  # writing step 1's screenshot fails, even as root

    ended = []
    hooks = CallbackHooks(on_run_start=block_step_1, on_run_end=lambda r: ended.append(r.outcome))
    with pytest.raises(TrajectoryError, match="could not write the run folder"):
        run(lambda n, _: click(150 + 10 * n, 100), hooks=[hooks], out_dir=tmp_path,
            config=AgentConfig(max_steps=20))
    assert ended == ["error"]
    loaded = load_run(next(tmp_path.iterdir()))
    assert [s.index for s in loaded.steps] == [0] and not loaded.finished


def test_an_action_the_env_cannot_express_is_refused_not_fatal():
    # open_app is a phone action: the board env raises EnvError, a desktop raises UnsupportedAction
    from guiagent.errors import UnsupportedAction

    class Desktopish(BoardEnv):
        def execute(self, action):
            if isinstance(action, t.OpenApp):
                raise UnsupportedAction("OpenApp is a phone action")
            super().execute(action)

    result, env, _ = run(["Action: open_app(app_name='Mail')", click(300, 100), finished()], env=Desktopish())
    assert result.success and result.steps[0].status == ["error"]
    assert "phone action" in result.steps[0].errors[0] and len(env.executed) == 1


def test_timeout_covers_parsing_and_parse_retries():
    # Every answer fails to parse; the run's time is up during the first try, so it ends as a timeout there
    # instead of asking the model again (and again) and reporting a parse error long after the limit.
    model = ScriptModel(lambda n, _: "Action: click(start_box='(" + " " * 3000 + "x')", delay_s=0.05)
    result, env, _ = run(model, config=AgentConfig(timeout_s=0.03, parse_tries=5))
    assert result.outcome == "timeout" and "while parsing step 1" in result.reason, result.reason
    assert len(model.calls) == 1 and env.executed == []
