"""Gymnasium adapter for the mock desktop tasks.

    import gymnasium as gym
    import guiagent.envs.mock.gym                      # registers the environments
    env = gym.make("guiagent/Mock-rename-file-v0")     # one task
    env = gym.make("guiagent/Mock-v0")                 # a task drawn from the suite by the reset seed
    obs, info = env.reset(seed=0)                      # obs = {"screenshot": HxWx3 uint8, "instruction": str}
    obs, reward, terminated, truncated, info = env.step(
        "Thought: ...\\nAction: click(start_box='<|box_start|>(402,146)<|box_end|>')")

(``gym.make("guiagent.envs.mock.gym:guiagent/Mock-v0")`` imports this module itself.)

Actions are model text (parsed with the grammar of ``family``, default ui-tars-1.5, coordinates in that family's
model space for the current screenshot), a parsed ``Step``, or typed actions (one or a list; points in SCREENSHOT or
SCREEN space, or MODEL space for ``family``). The action space is a ``Text`` space for the model-text form.

Reward is 1.0 on the step where the task's checker first succeeds (the episode then terminates), else 0.0. A
``finished`` or ``call_user`` action also terminates. The episode is truncated at the task's step limit. ``info``
holds the task id, the checker's verdict and reasons, the executed actions (JSON form), and ``parse_error`` /
``env_error`` when the action text did not parse or the desktop refused an action (the step still counts).

Vector envs: ``info["instruction"]`` repeats the task's instruction on every reset and step, because
``gymnasium.vector.AsyncVectorEnv`` with its default ``shared_memory=True`` reads ``Text`` observations from shared
memory once, when it is built, and then returns that stale value (``obs["instruction"]`` is only right with
``shared_memory=False``, or in ``SyncVectorEnv``); ``info`` travels through a pipe and is always current.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any, ClassVar

try:
    import gymnasium
except ImportError as _exc:  # the adapter is an optional extra
    raise ImportError("the mock desktop's Gymnasium adapter needs gymnasium: pip install 'guiagent[gym]'") from _exc
import numpy as np
from gymnasium import spaces

from guiagent.actions import types as T
from guiagent.actions.jsonform import action_to_json
from guiagent.envs.mock.desktop import MockDesktop
from guiagent.envs.mock.tasks import Task, get_task, load_suite
from guiagent.errors import ActionError, ConfigError, EnvError, ParseError

ENV_PREFIX = "guiagent/Mock"
MAX_INSTRUCTION = 1000
MAX_ACTION_TEXT = 4096
_BASE_CHARS = string.ascii_letters + string.digits + string.punctuation + " \n\t"


#: non-ASCII characters of the families' markup (Kimi-VL's thinking markers) and of the desktop's window titles
_MARKUP_CHARS = "◁▷—…"


def instruction_charset(tasks: Sequence[Task]) -> frozenset[str]:
    """Characters an instruction may hold: printable ASCII plus every character the suite's instructions use."""
    chars = set(_BASE_CHARS)
    for t in tasks:
        chars.update(t.instruction)
    return frozenset(chars)


def action_charset(tasks: Sequence[Task]) -> frozenset[str]:
    """Characters of the action text space: printable ASCII, the families' markup, and everything the tasks'
    instructions and solutions mention (typed text, widget names), so reference answers lie in the space.
    ``step`` accepts text with any other character too; the space is what sampling draws from."""
    import json

    chars = set(_BASE_CHARS + _MARKUP_CHARS)
    for t in tasks:
        chars.update(t.instruction)
        for s in t.solution:
            chars.update(json.dumps(s.spec, ensure_ascii=False))
    return frozenset(chars)


class MockTaskEnv(gymnasium.Env):
    """One mock desktop task (``task``) or the whole suite sampled on each reset (``task=None``).

    Args:
        task: a task id or Task; None samples from ``tasks`` (default: the suite) with the reset seed, unless
            ``reset(options={"task": id})`` picks one.
        family: the model family whose grammar reads text actions and whose frame maps MODEL points.
        width, height, scale: the desktop size in points and its HiDPI scale (screenshots are size x scale).
        render_mode: None or "rgb_array" (the current screenshot).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, task: str | Task | None = None, *, tasks: Sequence[str] | None = None,
                 family: str = "ui-tars-1.5", width: int = 1280, height: int = 800, scale: float = 1.0,
                 render_mode: str | None = None, max_action_length: int = MAX_ACTION_TEXT):
        from guiagent.actions.families import get_grammar
        from guiagent.models.profiles import get_profile

        if render_mode not in (None, "rgb_array"):
            raise ConfigError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.render_mode = render_mode
        suite = load_suite()
        if isinstance(task, str):
            task = get_task(task)
        self.fixed_task: Task | None = task
        self.pool: list[Task] = [get_task(t) for t in tasks] if tasks else suite
        if not self.pool:
            raise ConfigError("the task pool is empty")
        self.profile = get_profile(family)
        self.grammar = get_grammar(self.profile.grammar)
        self.task: Task = task or self.pool[0]
        self.desktop = MockDesktop(width, height, scale, task=self.task)
        w, h = self.desktop.display.size_px
        known = suite + self.pool + ([task] if task else [])
        # Character sets are given in sorted order: a Text space numbers its characters in the order it is given
        # them, and vector envs pass text between processes as those numbers, so the order must not depend on
        # each process's string hashing (a set's order does, and the instruction came out garbled).
        charset = "".join(sorted(instruction_charset(known)))
        self.observation_space = spaces.Dict({
            "screenshot": spaces.Box(0, 255, (h, w, 3), np.uint8),
            "instruction": spaces.Text(MAX_INSTRUCTION, min_length=1, charset=charset),
        })
        self.action_space = spaces.Text(max_action_length, min_length=0,
                                        charset="".join(sorted(action_charset(known))))
        self.steps = 0
        self.done = False

    # ------------------------------------------------------------------ gymnasium API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start an episode: pick the task and rebuild the desktop in its initial state.

        Args:
            seed: seeds the task sampling (when no task is fixed) and the desktop.
            options: ``{"task": id or Task}`` to play that task this episode.

        Returns:
            ``(observation, info)``: the screenshot array and instruction; info names the task, its step limit,
            the family and the instruction.

        Raises:
            ConfigError: an unknown option or task id.
        """
        super().reset(seed=seed)
        options = dict(options or {})
        if "task" in options:
            chosen = options.pop("task")
            self.task = get_task(chosen) if isinstance(chosen, str) else chosen
        elif self.fixed_task is not None:
            self.task = self.fixed_task
        else:
            self.task = self.pool[int(self.np_random.integers(len(self.pool)))]
        if options:
            raise ConfigError(f"unknown reset option(s) {sorted(options)}; the only option is 'task'")
        self.desktop.reset(seed=seed, options={"task": self.task})
        self.steps = 0
        self.done = False
        return self._obs(), {"task": self.task.id, "max_steps": self.task.max_steps, "family": self.profile.name,
                             "instruction": self.task.instruction}

    def step(self, action: Any):
        """Execute one action (model text in the family's format, a Step, or a typed action) and check the task.

        Text that does not parse, or an action the desktop refuses, is reported in ``info`` (``parse_error``,
        ``env_error``) instead of raising, as a model's mistake is part of the episode.

        Args:
            action: the action in any form the env accepts.

        Returns:
            ``(observation, reward, terminated, truncated, info)``: reward 1.0 once the task's check passes;
            terminated on success or a terminal action (finished, call_user); truncated at the task's step limit.

        Raises:
            EnvError: the episode is over (call ``reset``).
        """
        if self.done:
            raise EnvError("the episode is over; call reset() before step()")
        self.steps += 1
        info: dict[str, Any] = {"task": self.task.id, "step": self.steps, "instruction": self.task.instruction}
        terminal = False
        actions: list[T.Action] = []
        try:
            actions = self._actions(action)
        except (ParseError, ActionError) as e:
            info["parse_error"] = str(e)
        executed = []
        for a in actions:
            if isinstance(a, T.TERMINAL_ACTIONS):
                terminal = True
                info["answer"] = a.content
                executed.append(action_to_json(a))
                break
            try:
                self.desktop.execute(a)
            except (EnvError, ActionError) as e:
                info["env_error"] = str(e)
                break
            executed.append(action_to_json(a))
        info["actions"] = executed
        result = self.task.check(self.desktop)
        info["success"], info["reasons"] = result.success, list(result.reasons)
        reward = 1.0 if result.success else 0.0
        terminated = terminal or result.success
        truncated = not terminated and self.steps >= self.task.max_steps
        self.done = terminated or truncated
        return self._obs(), reward, terminated, truncated, info

    def render(self):
        """The current screenshot as an RGB uint8 array with ``render_mode="rgb_array"``; else None."""
        if self.render_mode == "rgb_array":
            return np.asarray(self.desktop.observe().screenshot, dtype=np.uint8)
        return None

    def close(self) -> None:
        """Close the desktop."""
        self.desktop.close()

    # ------------------------------------------------------------------ helpers
    def _obs(self) -> dict[str, Any]:
        shot = self.desktop.observe().screenshot  # already RGB: the compositor paints an RGB canvas
        return {"screenshot": np.asarray(shot, dtype=np.uint8), "instruction": self.task.instruction}

    def _actions(self, action: Any) -> list[T.Action]:
        """Typed actions in SCREENSHOT or SCREEN space from any accepted action form."""
        if isinstance(action, (np.str_, bytes)):
            try:
                action = action.decode("utf-8") if isinstance(action, bytes) else str(action)
            except UnicodeDecodeError as e:
                raise ParseError(f"the action bytes are not UTF-8 text ({e.reason} at byte {e.start})") from None
        if isinstance(action, str):
            step = self.profile.read(action, self.desktop.display.size_px)
            if not step.actions:
                raise ParseError("the text holds no action", action)
            return list(step.actions)
        if isinstance(action, T.Step):
            step = action
        elif isinstance(action, T.ACTION_CLASSES):
            step = T.Step((action,), "")
        elif isinstance(action, (list, tuple)) and all(isinstance(a, T.ACTION_CLASSES) for a in action):
            step = T.Step(tuple(action), "")
        else:
            raise ActionError(f"an action must be model text, a Step or guiagent actions, got {action!r}")
        return list(self.profile.to_screenshot(step, self.desktop.display.size_px).actions)


# ====================================================================== registration

def env_id(task_id: str | None = None) -> str:
    """The gymnasium id of one task (``guiagent/Mock-<task>-v0``), or of the sampled suite without ``task_id``."""
    return f"{ENV_PREFIX}-{task_id}-v0" if task_id else f"{ENV_PREFIX}-v0"


def register_envs() -> list[str]:
    """Register ``guiagent/Mock-<task-id>-v0`` for every task and ``guiagent/Mock-v0`` (idempotent)."""
    ids = []
    for task_id in [None] + [t.id for t in load_suite()]:
        eid = env_id(task_id)
        if eid not in gymnasium.registry:
            gymnasium.register(id=eid, entry_point="guiagent.envs.mock.gym:MockTaskEnv",
                               kwargs={"task": task_id} if task_id else {})
        ids.append(eid)
    return ids


ENV_IDS = register_envs()
