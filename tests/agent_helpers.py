"""Small, honest test doubles for the agent tests: an Env that really renders what it is told, and a model that
answers from a script. (The end-to-end tests use the mock desktop and the scripted solver instead.)"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from PIL import Image, ImageDraw

from guiagent.actions import types as t
from guiagent.actions.coords import Display
from guiagent.actions.types import Space
from guiagent.envs.base import Observation
from guiagent.errors import EnvError
from guiagent.models.base import Message, ModelResponse, Sampling


class BoardEnv:
    """A canvas: every click leaves a mark where it lands (so the screen changes), except in the "dead" strip
    ``x < dead_width`` where clicks do nothing. Typed text is drawn at the bottom. Points off the screen raise
    EnvError, as a real env would. With ``animate`` > 0, the ``animate`` captures after each executed action show
    a moving progress bar before the screen is still again."""

    name = "board"

    def __init__(self, width: int = 640, height: int = 400, scale: float = 1.0, dead_width: int = 100,
                 animate: int = 0):
        self._display = Display((width, height), scale)
        self.dead_width = dead_width
        self.animate = animate
        self.executed: list[t.Action] = []
        self.observations = 0
        self.reset()

    @property
    def display(self) -> Display:
        return self._display

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Observation:
        self.marks: list[tuple[int, int]] = []
        self.text = ""
        self.frames_left = 0
        return self.observe()

    def observe(self) -> Observation:
        self.observations += 1
        w, h = self._display.size_px
        img = Image.new("RGB", (w, h), (235, 238, 242))
        d = ImageDraw.Draw(img)
        d.rectangle([0, 0, self.dead_width - 1, h - 1], fill=(200, 200, 210))
        for x, y in self.marks:
            d.rectangle([x - 3, y - 3, x + 3, y + 3], fill=(30, 90, 200))
        d.text((self.dead_width + 4, h - 14), self.text[-60:], fill=(0, 0, 0))
        if self.frames_left:
            d.rectangle([0, 0, 20 * self.frames_left, 4], fill=(250, 0, 0))
            self.frames_left -= 1
        return Observation(img, time.time())

    def _px(self, p: t.Point) -> tuple[int, int]:
        if p.space is Space.SCREEN:
            p = self._display.to_screenshot(p)
        if not self._display.contains_screenshot_point(p):
            raise EnvError(f"point ({p.x:.1f}, {p.y:.1f}) is off the {self._display.size_px} screen")
        return int(p.x), int(p.y)

    def execute(self, action: t.Action) -> None:
        if isinstance(action, t.Click):
            x, y = self._px(action.point)
            if x >= self.dead_width and (x, y) not in self.marks:
                self.marks.append((x, y))
        elif isinstance(action, t.Drag):
            for p in (action.start, action.end):
                self._px(p)
        elif isinstance(action, t.Type):
            self.text += action.text
        elif isinstance(action, (t.Hotkey, t.Press, t.Scroll)):
            if isinstance(action, t.Scroll) and action.point is not None:
                self._px(action.point)
        else:
            raise EnvError(f"BoardEnv cannot do {type(action).__name__}")
        self.executed.append(action)
        self.frames_left = self.animate

    def close(self) -> None:
        pass


Script = Sequence[str] | Callable[[int, Sequence[Message]], str]


class ScriptModel:
    """Answers from a list (one text per call) or a function of (call number, messages); records every call."""

    name = "script"

    def __init__(self, script: Script, delay_s: float = 0.0):
        self.script = script
        self.delay_s = delay_s
        self.calls: list[tuple[list[Message], Sampling]] = []

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> ModelResponse:
        n = len(self.calls)
        self.calls.append((list(messages), sampling))
        if self.delay_s:
            time.sleep(self.delay_s)
        if callable(self.script):
            return ModelResponse(self.script(n, messages))
        if n >= len(self.script):
            raise AssertionError(f"the script has only {len(self.script)} answers; call {n + 1} was made")
        return ModelResponse(self.script[n])


def click(x: int, y: int, thought: str = "click it") -> str:
    """A UI-TARS-1.5 answer clicking model-space pixel (x, y)."""
    return f"Thought: {thought}\nAction: click(start_box='<|box_start|>({x},{y})<|box_end|>')"


def finished(content: str = "") -> str:
    return f"Thought: done\nAction: finished(content='{content}')"
