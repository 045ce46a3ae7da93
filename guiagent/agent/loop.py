"""The agent loop: observe -> messages -> model -> parse -> map -> hooks -> execute -> record, until a stop.

Every way off the happy path ends the run with an outcome (``guiagent.agent.result.OUTCOMES``) and a reason in
words, recorded in meta.json.

Environment errors for one action (EnvError: point off screen, window gone; UnsupportedAction: a phone action on
the desktop, a key this machine cannot send) do not crash the run: the action is marked ``error`` in its step, the
rest of that step is not run, and the next step shows the model the unchanged screen. The family prompts have no
slot for tool errors, so nothing else is fed back; ``max_env_errors`` such steps in a row end the run. An EnvError
whose ``fatal`` is true (the user moved the pointer into a corner to trip pyautogui's fail-safe) ends the run at
once. In dry-run mode nothing is executed, but an env with ``check(action)`` (``guiagent.envs.base.SupportsCheck``)
is asked whether it would accept each action, and a refusal is recorded exactly as a real run would record it.
Interactions happen in one thread; screenshots are written by the trajectory writer thread.

Settling and dry runs are env wrappers (``guiagent.agent.wrappers``); the text -> action path is
``Profile.read``; each phase of a step is timed with ``timed`` into the step record's ``latency``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import guiagent
from guiagent._imaging.prepared import PreparedScreenshot
from guiagent.actions import types as t
from guiagent.actions.jsonform import action_to_json
from guiagent.actions.types import Step
from guiagent.agent.config import MAX_MODEL_WAIT_S, AgentConfig
from guiagent.agent.hooks import ActionContext, Decision, Hooks, ask_user, decide
from guiagent.agent.outcome import judge
from guiagent.agent.ask import ask_model
from guiagent.agent.result import OUTCOMES, RunResult, RunStopped, evaluate_end_state, now_iso  # noqa: F401
from guiagent.agent.timing import timed
from guiagent.agent.trajectory import StepRecord, TrajectoryError, TrajectoryWriter, screenshot_name
from guiagent.agent.wrappers import DryRunWrapper, SettleWrapper, same_image, settle  # noqa: F401 (re-export)
from guiagent.envs.base import Env
from guiagent.errors import ActionError, EnvError
from guiagent.models.base import Model
from guiagent.models.history import Turn, build_messages, forget_unsent_screenshot
from guiagent.models.profiles import Profile


class Agent:
    """Runs one model on one environment.

    Args:
        env: anything implementing guiagent.envs.base.Env (the agent does not reset it: the caller does).
        model: anything implementing guiagent.models.base.Model.
        profile: the model family's Profile (prompt, history policy, sampling, image budget, grammar).
        config: how the loop behaves (step limit, timeouts, settling, dry run); default ``AgentConfig()``.
        hooks: Hooks instances, asked in order (see guiagent.agent.hooks).
    """

    def __init__(self, env: Env, model: Model, profile: Profile, config: AgentConfig | None = None,
                 hooks: Sequence[Hooks] = ()):
        self.env, self.model, self.profile = env, model, profile
        self.config = config or AgentConfig()
        self.hooks = list(hooks)

    def run(self, instruction: str, *, task_id: str | None = None, out_dir: str | Path | None = None,
            run_name: str | None = None, meta: dict[str, Any] | None = None,
            evaluate: Callable[[], Mapping[str, Any]] | None = None) -> RunResult:
        """Run until a stop condition.

        Args:
            instruction: the task, in words, as the model is told it.
            task_id: recorded in meta.json (e.g. a mock task's id).
            out_dir: record a run folder under it (None: record nothing).
            run_name: the run folder's name (default: a time stamp).
            meta: more fields for meta.json (e.g. the env's options, so that replay can rebuild the same env).
            evaluate: called once at the end (unless the run crashed) to judge the end state, e.g. a mock task's
                check; returns a mapping with at least ``success`` (bool), recorded as meta.json's ``evaluation``.

        Returns:
            The RunResult: outcome, reason, steps, answer, evaluation and run folder. Model errors, refused
            actions and unparsable answers end up in it rather than being raised.

        Raises:
            KeyboardInterrupt: the user interrupted the run (recorded in the run folder first).
            TrajectoryError: the run folder could not be created or written.
            Exception: a bug in the loop, an env or a hook (recorded in the run folder first).
        """
        display, cfg = self.env.display, self.config
        run_meta: dict[str, Any] = {
            "instruction": instruction, "task": task_id, "model": self.model.name, "family": self.profile.name,
            "grammar": self.profile.grammar,
            "env": {"name": self.env.name, "size": list(display.size_px), "scale": display.scale,
                    "offset": list(display.offset)},
            "config": cfg.to_json(), "started": now_iso(), "ended": None,
            "guiagent_version": guiagent.__version__, **(meta or {}),
        }
        writer = TrajectoryWriter.create(out_dir, run_meta, name=run_name) if out_dir is not None else None
        s = _RunState(instruction=instruction, writer=writer, started=time.monotonic(), evaluate=evaluate)
        s.env = DryRunWrapper(self.env) if cfg.dry_run else \
            SettleWrapper(self.env, cfg, lambda: self._time_left(s)) if cfg.settle_s or cfg.settle_stable else self.env
        for hook in self.hooks:
            hook.on_run_start(dict(run_meta))
        try:
            for index in range(cfg.max_steps):
                self._check_time(s, f"before step {index + 1}")
                self._step(s, index)
            stop = RunStopped("step_limit", f"reached the step limit of {cfg.max_steps} steps")
        except RunStopped as e:
            stop = e
        except KeyboardInterrupt:
            self._end(s, run_meta, RunStopped("interrupted", "interrupted by the user (KeyboardInterrupt)"))
            raise
        except BaseException as e:
            self._end(s, run_meta, RunStopped("error", f"unexpected error: {type(e).__name__}: {e}"))
            raise
        return self._end(s, run_meta, stop)

    # ------------------------------------------------------------------ one step

    def _step(self, s: _RunState, index: int) -> None:
        """observe -> record -> messages -> model -> parse and map -> stuck check -> execute, then record the step."""
        latency: dict[str, float] = {}
        with timed(latency, "capture"):
            try:
                observation = s.env.observe()
            except EnvError as e:
                raise RunStopped("env_error", f"could not capture the screen: {e}") from e
        if isinstance(s.env, SettleWrapper) and s.env.settle_s:  # the part of the capture spent settling
            latency["settle"], latency["capture"] = s.env.settle_s, max(0.0, latency["capture"] - s.env.settle_s)
        screenshot = observation.screenshot
        record = StepRecord(index=index, started=time.time(), ended=0.0, screenshot=None,
                            screenshot_size=screenshot.size, latency=latency)
        try:
            with timed(latency, "record"):
                if s.writer is not None:
                    record.screenshot = s.writer.add_screenshot(index, screenshot)
            ref = record.screenshot or screenshot_name(index)
            for hook in self.hooks:
                hook.on_observation(index, observation)
            frame = self.profile.frame(screenshot.size)
            record.frame = {"convention": frame.convention.value, "image_size": list(frame.image_size),
                            "content_size": list(frame.content_size)}
            with timed(latency, "prepare"):  # the screenshot is resized once here, then reused by every request
                s.prepared = PreparedScreenshot.build(screenshot, self.profile.budget.prepare, s.prepared)
                messages = build_messages(self.profile, s.model_instruction, s.turns, s.prepared, screenshot_ref=ref,
                                          mode=self.config.mode, language=self.config.language)
            step = ask_model(self.model, self.profile, self.config, self.hooks, record, messages, screenshot.size,
                             lambda where: self._check_time(s, where))
            record.thought, record.reflection = step.thought, step.reflection
            record.actions = [action_to_json(a) for a in step.actions]
            record.actions_model = [action_to_json(a) for a in step.model_actions or step.actions]
            record.status = ["not_run"] * len(step.actions)
            s.turns.append(Turn(s.prepared, step.raw, screenshot_ref=ref))
            forget_unsent_screenshot(s.turns, self.profile.history.max_images)
            self._check_time(s, f"after the model answered step {index + 1}")
            self._check_stuck(s, index, step, screenshot)
            self._execute(s, record, step, screenshot)
        finally:
            record.ended = time.time()
            s.records.append(record)
            if s.writer is not None:
                s.writer.add_step(record)
            for hook in self.hooks:
                hook.on_step_end(record)

    def _check_stuck(self, s: _RunState, index: int, step: Step, screenshot) -> None:
        k = self.config.stuck_after
        if k == 0 or all(isinstance(a, t.Wait) for a in step.actions):
            s.repeats = []
            return
        # Compare pixels only when the actions repeat: the common case costs one tuple comparison.
        if s.repeats and s.repeats[-1][0] == step.actions and same_image(s.repeats[-1][1], screenshot):
            s.repeats.append((step.actions, screenshot))
        else:
            s.repeats = [(step.actions, screenshot)]
        if len(s.repeats) >= k:
            raise RunStopped("stuck", f"the model proposed the same action {k} times in a row on an unchanged screen "
                                 f"(step {index + 1}: {action_to_json(step.actions[0])})")

    def _execute(self, s: _RunState, record: StepRecord, step: Step, screenshot) -> None:
        """Run the step's actions in order; an env refusal ends the step (the rest assumed it worked)."""
        cfg, refused = self.config, False
        record.latency["execute"] = 0.0
        for pos, (action, action_model) in enumerate(zip(step.actions, step.model_actions or step.actions)):
            if isinstance(action, t.Finished):
                record.status[pos] = "terminal"
                raise RunStopped("success", "the model said the task is finished", action.content)
            if isinstance(action, t.CallUser):
                record.status[pos] = "terminal"
                self._call_user(s, record, action)
                continue
            if isinstance(action, t.Wait):
                record.status[pos] = "waited"
                with timed(record.latency, "wait"):
                    if not cfg.dry_run:
                        asked = cfg.wait_s if action.seconds is None else min(action.seconds, MAX_MODEL_WAIT_S)
                        time.sleep(min(asked, self._time_left(s)))
                continue
            decision = decide(self.hooks, ActionContext(record.index, pos, action, action_model, screenshot,
                                                        step.thought, step.raw, cfg.dry_run))
            if decision is Decision.STOP:
                record.status[pos] = "stopped"
                raise RunStopped("stopped", f"stopped before step {record.index + 1}'s action "
                                       f"{action_to_json(action)['type']} (vetoed)")
            if decision is Decision.SKIP:
                record.status[pos] = "skipped"
                continue
            try:
                with timed(record.latency, "execute"):
                    s.env.execute(action)
            except (EnvError, ActionError) as e:  # refused (off screen, unsupported here): recorded, run goes on
                record.status[pos] = "error"
                record.errors.append(f"env: {e}")
                if isinstance(e, EnvError) and e.fatal:
                    raise RunStopped("env_error", f"the environment stopped the run at step {record.index + 1} "
                                             f"({type(e).__name__}): {e}") from e
                refused = True
                break
            record.status[pos] = "dry_run" if cfg.dry_run else "executed"
        s.env_errors = s.env_errors + 1 if refused else 0
        if s.env_errors >= cfg.max_env_errors:
            raise RunStopped("env_error", f"the environment refused an action {s.env_errors} steps in a row; "
                                     f"last: {record.errors[-1]}")

    def _call_user(self, s: _RunState, record: StepRecord, action: t.CallUser) -> None:
        question = action.content
        answer = ask_user(self.hooks, record.index, question) if s.call_user_answers < self.config.max_call_user \
            else None
        if answer is None:
            limit = s.call_user_answers and s.call_user_answers >= self.config.max_call_user
            raise RunStopped("call_user", "the model asked for the user" + (f": {question}" if question else "")
                        + (f" (already answered {s.call_user_answers} times)" if limit else ""))
        s.call_user_answers += 1
        # The family prompts have no slot for a user's reply: it goes after the instruction for the next steps.
        s.model_instruction += f"\n(Your question: {question or ''} The user answered: {answer})"
        record.errors.append(f"call_user answered: {answer}")

    # ------------------------------------------------------------------ bookkeeping

    def _time_left(self, s: _RunState) -> float:
        if self.config.timeout_s is None:
            return float("inf")
        return max(0.0, self.config.timeout_s - (time.monotonic() - s.started))

    def _check_time(self, s: _RunState, where: str) -> None:
        if self.config.timeout_s is not None and self._time_left(s) <= 0:
            raise RunStopped("timeout", f"the run took longer than {self.config.timeout_s:g} s ({where})")

    def _end(self, s: _RunState, meta: dict[str, Any], stop: RunStopped) -> RunResult:
        evaluation = evaluate_end_state(s.evaluate) if stop.outcome not in ("error", "interrupted") else None
        stop = RunStopped(*judge(stop.outcome, stop.reason, evaluation), stop.answer)
        fields = {"ended": now_iso(), "outcome": stop.outcome, "reason": stop.reason, "answer": stop.answer,
                  "steps": len(s.records), "duration_s": round(time.monotonic() - s.started, 3),
                  "evaluation": evaluation}
        meta.update(fields, finished=True)
        result = RunResult(stop.outcome, stop.reason, stop.answer, s.records,
                           s.writer.run_dir if s.writer else None, meta, evaluation)
        write_error = None
        if s.writer is not None:
            try:
                s.writer.finish(**fields)
            except TrajectoryError as e:  # still tell the hooks how the run ended, then say it was not recorded
                write_error = e
        for hook in self.hooks:
            hook.on_run_end(result)
        if write_error is not None:
            raise write_error
        return result


@dataclass
class _RunState:
    instruction: str
    writer: TrajectoryWriter | None
    started: float
    #: the env the loop talks to: the agent's, wrapped for dry runs or settling
    env: Env | None = None
    model_instruction: str = ""
    #: every past step; only the steps whose screenshot can still be sent keep it (memory stays bounded)
    turns: list = field(default_factory=list)
    records: list[StepRecord] = field(default_factory=list)
    repeats: list = field(default_factory=list)
    #: the last step's prepared screenshot (an unchanged screen reuses its encodings)
    prepared: PreparedScreenshot | None = None
    env_errors: int = 0
    call_user_answers: int = 0
    evaluate: Callable[[], Mapping[str, Any]] | None = None

    def __post_init__(self) -> None:
        self.model_instruction = self.instruction
