"""The agent loop: observe -> messages -> model -> parse -> map -> hooks -> execute -> record, until a stop.

Every way off the happy path ends the run with an outcome and a reason in words, recorded in meta.json:

    success       the model said finished (its content is the answer)
    call_user     the model asked for the user and no callback answered (or answered max_call_user times)
    step_limit    AgentConfig.max_steps steps were taken
    stuck         the same actions proposed stuck_after times in a row on an unchanged screen
    timeout       AgentConfig.timeout_s elapsed
    parse_error   parse_tries answers in a row did not parse
    model_error   the model backend failed (ModelError)
    env_error     the screen could not be captured, a fatal EnvError (the desktop's fail-safe), or
                  max_env_errors steps in a row had an action refused
    stopped       a hook (or the confirming user) said stop
    interrupted   KeyboardInterrupt (re-raised after recording)
    error         an unexpected exception (re-raised after recording)

Environment errors for one action (EnvError: point off screen, window gone; UnsupportedAction: a phone action on
the desktop, a key this machine cannot send) do not crash the run: the action is marked ``error`` in its step, the
rest of that step is not run, and the next step shows the model the unchanged screen. The family prompts have no
slot for tool errors, so nothing else is fed back; ``max_env_errors`` such steps in a row end the run. An EnvError
whose ``fatal`` is true (the user moved the pointer into a corner to trip pyautogui's fail-safe) ends the run at
once. In dry-run mode nothing is executed, but an env with ``check(action)`` (``guiagent.envs.base.SupportsCheck``)
is asked whether it would accept each action, and a refusal is recorded exactly as a real run would record it.
Interactions happen in one thread; screenshots are written by the trajectory writer thread.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops

import guiagent
from guiagent.actions import types as t
from guiagent.actions.coords import action_to_screenshot
from guiagent.actions.jsonform import action_to_json
from guiagent.actions.types import Step
from guiagent.agent.config import AgentConfig
from guiagent.agent.hooks import ActionContext, Decision, Hooks, decide
from guiagent.agent.trajectory import (
    Attempt,
    StepRecord,
    TrajectoryError,
    TrajectoryWriter,
    screenshot_name,
)
from guiagent.envs.base import Env, Observation
from guiagent.errors import ActionError, EnvError, ModelError, ParseError
from guiagent.models.base import Model, Sampling
from guiagent.models.history import Turn, build_messages, forget_unsent_screenshot
from guiagent.models.profiles import Profile

OUTCOMES = ("success", "call_user", "step_limit", "stuck", "timeout", "parse_error", "model_error", "env_error",
            "stopped", "interrupted", "error")


@dataclass
class RunResult:
    outcome: str
    reason: str
    answer: str | None
    steps: list[StepRecord]
    run_dir: Path | None
    meta: dict[str, Any] = field(default_factory=dict)
    #: what the ``evaluate`` callback of ``Agent.run`` returned (e.g. a mock task's check), if one was given
    evaluation: dict[str, Any] | None = None

    @property
    def success(self) -> bool:
        """The model said finished, and the evaluation (when there is one) agrees."""
        if self.outcome != "success":
            return False
        return self.evaluation is None or bool(self.evaluation.get("success"))


class _Stop(Exception):
    """Ends the run; raised from anywhere inside a step, after which the step is still recorded."""

    def __init__(self, outcome: str, reason: str, answer: str | None = None):
        super().__init__(reason)
        self.outcome, self.reason, self.answer = outcome, reason, answer


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def same_image(a: Image.Image, b: Image.Image) -> bool:
    """Pixel-exact equality, computed in C (no Python-level copies of the pixel data)."""
    if a is b:
        return True
    if a.size != b.size or a.mode != b.mode:
        return False
    return ImageChops.difference(a, b).getbbox() is None


def settle(env: Env, config: AgentConfig, time_left: float = float("inf")) -> Observation | None:
    """Wait for the screen to settle after actions: ``settle_s``, then (with ``settle_stable``) capture until two
    consecutive screenshots match or ``settle_timeout_s`` passes. Returns the last capture, if any was taken.
    Capture errors propagate as EnvError."""
    if config.settle_s:
        time.sleep(min(config.settle_s, time_left))
    if not config.settle_stable:
        return None
    deadline = time.monotonic() + min(config.settle_timeout_s, time_left)
    previous = env.observe()
    while time.monotonic() < deadline:
        time.sleep(config.settle_poll_s)
        current = env.observe()
        if same_image(previous.screenshot, current.screenshot):
            return current
        previous = current
    return previous


class Agent:
    """Runs one model on one environment.

    env      anything implementing guiagent.envs.base.Env (the agent does not reset it: the caller does)
    model    anything implementing guiagent.models.base.Model
    profile  the model family's Profile (prompt, history policy, sampling, image budget, grammar)
    hooks    Hooks instances, asked in order (see guiagent.agent.hooks)
    """

    def __init__(self, env: Env, model: Model, profile: Profile, config: AgentConfig | None = None,
                 hooks: Sequence[Hooks] = ()):
        self.env = env
        self.model = model
        self.profile = profile
        self.config = config or AgentConfig()
        self.hooks = list(hooks)
        self.grammar = profile.parser()

    # ------------------------------------------------------------------ public

    def run(self, instruction: str, *, task_id: str | None = None, out_dir: str | Path | None = None,
            run_name: str | None = None, meta: dict[str, Any] | None = None,
            evaluate: Callable[[], Mapping[str, Any]] | None = None) -> RunResult:
        """Run until a stop condition; returns the outcome. With ``out_dir``, records a run folder under it.

        ``meta`` adds fields to meta.json (e.g. the env's options, so that replay can rebuild the same env).
        ``evaluate`` is called once at the end (unless the run crashed) to judge the end state, e.g. a mock task's
        check; it returns a mapping with at least ``success`` (bool), recorded as meta.json's ``evaluation``.
        """
        display = self.env.display
        run_meta: dict[str, Any] = {
            "instruction": instruction,
            "task": task_id,
            "model": getattr(self.model, "name", type(self.model).__name__),
            "family": self.profile.name,
            "grammar": self.profile.grammar,
            "env": {"name": getattr(self.env, "name", type(self.env).__name__), "size": list(display.size_px),
                    "scale": display.scale, "offset": list(display.offset)},
            "config": self.config.to_json(),
            "started": _now_iso(),
            "ended": None,
            "guiagent_version": guiagent.__version__,
            **(meta or {}),
        }
        writer = TrajectoryWriter.create(out_dir, run_meta, name=run_name) if out_dir is not None else None
        state = _RunState(instruction=instruction, writer=writer, started=time.monotonic(), evaluate=evaluate)
        for hook in self.hooks:
            hook.on_run_start(dict(run_meta))

        stop: _Stop
        try:
            self._loop(state)
            stop = _Stop("step_limit", f"reached the step limit of {self.config.max_steps} steps")
        except _Stop as s:
            stop = s
        except KeyboardInterrupt:
            self._end(state, run_meta, _Stop("interrupted", "interrupted by the user (KeyboardInterrupt)"))
            raise
        except BaseException as e:
            self._end(state, run_meta, _Stop("error", f"unexpected error: {type(e).__name__}: {e}"))
            raise
        return self._end(state, run_meta, stop)

    # ------------------------------------------------------------------ the loop

    def _loop(self, s: _RunState) -> None:
        for index in range(self.config.max_steps):
            self._check_time(s, f"before step {index}")
            if s.pending is not None:  # the settle loop's last capture is this step's screenshot
                observation, s.pending, s.capture_s = s.pending, None, 0.0
            else:
                observation = self._observe(s)
            record = StepRecord(index=index, started=time.time(), ended=0.0, screenshot=None,
                                screenshot_size=observation.screenshot.size)
            record.latency["capture"] = s.capture_s
            try:
                self._step(s, record, observation)
            finally:
                self._finish_step(s, record)

    def _observe(self, s: _RunState) -> Observation:
        t0 = time.perf_counter()
        try:
            obs = self.env.observe()
        except EnvError as e:
            raise _Stop("env_error", f"could not capture the screen: {e}") from e
        s.capture_s = time.perf_counter() - t0
        return obs

    def _step(self, s: _RunState, record: StepRecord, observation: Observation) -> None:
        screenshot = observation.screenshot
        t0 = time.perf_counter()
        if s.writer is not None:
            record.screenshot = s.writer.add_screenshot(record.index, screenshot)
        ref = record.screenshot or screenshot_name(record.index)
        record.latency["record"] = time.perf_counter() - t0
        for hook in self.hooks:
            hook.on_observation(record.index, observation)

        frame = self.profile.frame(screenshot.size)
        record.frame = {"convention": frame.convention.value, "image_size": list(frame.image_size),
                        "content_size": list(frame.content_size)}
        t0 = time.perf_counter()
        messages = build_messages(self.profile, s.model_instruction, s.turns, screenshot, screenshot_ref=ref,
                                  mode=self.config.mode, language=self.config.language)
        record.latency["prepare"] = time.perf_counter() - t0

        parsed = self._ask(s, record, messages)

        actions_model = list(parsed.actions)
        try:
            actions = [action_to_screenshot(a, frame) for a in actions_model]
        except ActionError as e:  # a grammar that produced points outside MODEL space: a bug worth a clear stop
            raise _Stop("parse_error", f"step {record.index}: could not map the model's coordinates: {e}") from e
        record.thought, record.reflection = parsed.thought, parsed.reflection
        record.actions = [action_to_json(a) for a in actions]
        record.actions_model = [action_to_json(a) for a in actions_model]
        record.status = ["not_run"] * len(actions)
        s.turns.append(Turn(screenshot, parsed.raw, screenshot_ref=ref))
        forget_unsent_screenshot(s.turns, self.profile.history.max_images)
        self._check_time(s, f"after the model answered step {record.index}")

        self._check_stuck(s, record, screenshot)
        self._execute(s, record, actions, actions_model, screenshot, parsed)

    def _ask(self, s: _RunState, record: StepRecord, messages) -> Step:
        """Call the model until an answer parses into at least one action, at most parse_tries times."""
        base = self.config.sampling or getattr(self.profile, "sampling", None) or Sampling()
        retry = replace(base, temperature=getattr(self.profile, "retry_temperature", 1.0))
        last_error = ""
        for attempt in range(self.config.parse_tries):
            sampling = base if attempt == 0 else retry
            t0 = time.perf_counter()
            try:
                response = self.model.complete(messages, sampling)
            except ModelError as e:
                record.latency["model"] = record.latency.get("model", 0.0) + time.perf_counter() - t0
                record.errors.append(f"model: {e}")
                raise _Stop("model_error", f"the model failed at step {record.index}: {e}") from e
            model_s = time.perf_counter() - t0
            record.latency["model"] = record.latency.get("model", 0.0) + model_s
            record.response = response.text
            t0 = time.perf_counter()
            error = None
            try:
                parsed = self.grammar.parse(response.text)
                if not parsed.actions:
                    raise ParseError("the answer holds no action", response.text)
            except (ParseError, ActionError) as e:
                error = str(e)
            record.latency["parse"] = record.latency.get("parse", 0.0) + time.perf_counter() - t0
            record.attempts.append(Attempt(response.text, sampling.temperature, model_s, error))
            for hook in self.hooks:
                hook.on_response(record.index, response.text, error)
            if error is None:
                return parsed
            last_error = error
            record.errors.append(f"parse (try {attempt + 1}): {error}")
            self._check_time(s, f"while parsing step {record.index}'s answer (try {attempt + 1}: {error})")
        raise _Stop("parse_error", f"the model's answer did not parse in {self.config.parse_tries} "
                                   f"tries at step {record.index}: {last_error}")

    def _check_stuck(self, s: _RunState, record: StepRecord, screenshot: Image.Image) -> None:
        k = self.config.stuck_after
        if k == 0 or all(a["type"] == "wait" for a in record.actions):
            s.repeats = []
            return
        key = json.dumps(record.actions, sort_keys=True)
        # Compare pixels only when the actions repeat: the common case costs one string comparison.
        if s.repeats and s.repeats[-1][0] == key and same_image(s.repeats[-1][1], screenshot):
            s.repeats.append((key, screenshot))
        else:
            s.repeats = [(key, screenshot)]
        if len(s.repeats) >= k:
            raise _Stop("stuck", f"the model proposed the same action {k} times in a row on an unchanged screen "
                                 f"(step {record.index}: {record.actions[0]})")

    def _execute(self, s: _RunState, record: StepRecord, actions: list, actions_model: list,
                 screenshot: Image.Image, parsed: Step) -> None:
        cfg = self.config
        changed = False
        env_error = False
        execute_s = 0.0
        for pos, (action, action_model) in enumerate(zip(actions, actions_model)):
            if isinstance(action, t.Finished):
                record.status[pos] = "terminal"
                raise _Stop("success", "the model said the task is finished", action.content)
            if isinstance(action, t.CallUser):
                record.status[pos] = "terminal"
                self._call_user(s, record, action)
                continue
            if isinstance(action, t.Wait):
                record.status[pos] = "waited"
                seconds = cfg.wait_s if action.seconds is None else action.seconds
                t0 = time.perf_counter()
                if not cfg.dry_run:
                    time.sleep(min(seconds, self._time_left(s)))
                record.latency["wait"] = record.latency.get("wait", 0.0) + time.perf_counter() - t0
                continue
            context = ActionContext(record.index, pos, action, action_model, screenshot, parsed.thought,
                                    parsed.raw, cfg.dry_run)
            decision = decide(self.hooks, context)
            if decision is Decision.STOP:
                record.status[pos] = "stopped"
                raise _Stop("stopped", f"stopped before step {record.index}'s action "
                                       f"{action_to_json(action)['type']} (vetoed)")
            if decision is Decision.SKIP:
                record.status[pos] = "skipped"
                continue
            check = getattr(self.env, "check", None) if cfg.dry_run else None
            t0 = time.perf_counter()
            try:
                if cfg.dry_run:
                    if callable(check):  # the env's own validation, without input: surfaces its refusals
                        check(action)
                else:
                    self.env.execute(action)
            except (EnvError, ActionError) as e:  # refused (off screen, unsupported here): recorded, run goes on
                record.status[pos] = "error"
                record.errors.append(f"env: {e}")
                if isinstance(e, EnvError) and e.fatal:
                    raise _Stop("env_error", f"the environment stopped the run at step {record.index} "
                                             f"({type(e).__name__}): {e}") from e
                env_error = True
                break  # the rest of the step assumed this action worked
            finally:
                execute_s += time.perf_counter() - t0
            if cfg.dry_run:
                record.status[pos] = "dry_run"
                continue
            record.status[pos] = "executed"
            changed = True
        record.latency["execute"] = execute_s

        s.env_errors = s.env_errors + 1 if env_error else 0
        if s.env_errors >= cfg.max_env_errors:
            raise _Stop("env_error", f"the environment refused an action {s.env_errors} steps in a row; "
                                     f"last: {record.errors[-1]}")
        if changed:
            self._settle(s, record)

    def _call_user(self, s: _RunState, record: StepRecord, action: t.CallUser) -> None:
        question = action.content
        answer = None
        if s.call_user_answers < self.config.max_call_user:
            for hook in self.hooks:
                answer = hook.on_call_user(record.index, question)
                if answer is not None:
                    break
        if answer is None:
            limit = s.call_user_answers and s.call_user_answers >= self.config.max_call_user
            raise _Stop("call_user", "the model asked for the user" + (f": {question}" if question else "")
                        + (f" (already answered {s.call_user_answers} times)" if limit else ""))
        s.call_user_answers += 1
        # The family prompts have no slot for a user's reply: it goes after the instruction for the next steps.
        s.model_instruction += f"\n(Your question: {question or ''} The user answered: {answer})"
        record.errors.append(f"call_user answered: {answer}")

    def _settle(self, s: _RunState, record: StepRecord) -> None:
        t0 = time.perf_counter()
        try:
            last = settle(self.env, self.config, self._time_left(s))
        except EnvError as e:
            raise _Stop("env_error", f"could not capture the screen after step {record.index}: {e}") from e
        if last is not None:
            s.pending, s.capture_s = last, 0.0
        record.latency["settle"] = time.perf_counter() - t0

    # ------------------------------------------------------------------ bookkeeping

    def _time_left(self, s: _RunState) -> float:
        if self.config.timeout_s is None:
            return float("inf")
        return max(0.0, self.config.timeout_s - (time.monotonic() - s.started))

    def _check_time(self, s: _RunState, where: str) -> None:
        if self.config.timeout_s is not None and self._time_left(s) <= 0:
            raise _Stop("timeout", f"the run took longer than {self.config.timeout_s:g} s ({where})")

    def _finish_step(self, s: _RunState, record: StepRecord) -> None:
        record.ended = time.time()
        s.records.append(record)
        if s.writer is not None:
            s.writer.add_step(record)
        for hook in self.hooks:
            hook.on_step_end(record)

    def _end(self, s: _RunState, meta: dict[str, Any], stop: _Stop) -> RunResult:
        evaluation = None
        if s.evaluate is not None and stop.outcome not in ("error", "interrupted"):
            try:
                evaluation = dict(s.evaluate())
            except Exception as e:  # noqa: BLE001 - a failing check is a failed evaluation, recorded as such
                evaluation = {"success": False, "error": f"{type(e).__name__}: {e}"}
        fields = {"ended": _now_iso(), "outcome": stop.outcome, "reason": stop.reason, "answer": stop.answer,
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
    model_instruction: str = ""
    #: every past step; only the steps whose screenshot can still be sent keep it (memory stays bounded)
    turns: list = field(default_factory=list)
    records: list[StepRecord] = field(default_factory=list)
    pending: Observation | None = None
    capture_s: float = 0.0
    repeats: list = field(default_factory=list)
    env_errors: int = 0
    call_user_answers: int = 0
    evaluate: Callable[[], Mapping[str, Any]] | None = None

    def __post_init__(self) -> None:
        self.model_instruction = self.instruction
