"""The desktop suite's scripted model: plays a task's known solution, answering in a real family's text.

    model = DesktopOracle(env, get_profile("ui-tars-1.5"), task.solution, windows)
    model.complete(messages, Sampling()).text
    # "Thought: I click the window of app 0.\\nAction: click(start_box='<|box_start|>(378,113)<|box_end|>')"

Each call answers the next solution step. A click's target is a point of an app's window, found on the X server
when the step comes (the window's position as the window manager placed it), and mapped SCREEN -> screenshot
(``env.display``) -> the family's model space (``profile.frame``) before it is formatted with the family's
grammar. The agent loop then parses that text and maps it back, exactly as it does a real model's answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from guiagent.actions import types as T
from guiagent.errors import EnvError
from guiagent.models.base import Message, ModelResponse, Sampling


class DesktopOracle:
    """``Model`` answering a desktop task's ``solution`` steps in order (then ``finished``).

    Args:
        env: the episode's SandboxEnv (its ``display`` maps points; its sandbox finds windows).
        profile: the family whose grammar and coordinate frame the answers use.
        solution: the task's steps (``desktop_suite`` checked their shape).
        windows: the X window id of each app, in the task's ``apps`` order.
    """

    name = "scripted"

    def __init__(self, env: Any, profile: Any, solution: Sequence[Mapping[str, Any]], windows: Sequence[int]):
        from guiagent.actions.families import get_grammar

        self.env, self.profile, self.windows = env, profile, list(windows)
        self.grammar = get_grammar(profile.grammar)
        self.steps = list(solution)
        self.index = 0

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> ModelResponse:
        step = self.steps[self.index] if self.index < len(self.steps) else {"finished": "done"}
        self.index += 1
        action, thought = self._action(step)
        return ModelResponse(self.grammar.format_step([action], thought=thought))

    def _action(self, step: Mapping[str, Any]) -> tuple[T.Action, str]:
        if "click" in step:
            button = step.get("button", "left")
            if "point" in step["click"]:
                x, y = step["click"]["point"]
                return T.Click(self._to_model(T.Point(x, y, T.Space.SCREEN)), button), f"I {button}-click there."
            app = step["click"]["app"]
            fx, fy = step["click"].get("at", (0.5, 0.5))
            x, y, w, h = self.window_rect(self.windows[app])
            point = self._to_model(T.Point(x + fx * w, y + fy * h, T.Space.SCREEN))
            return T.Click(point, button), f"I click the window of app {app}."
        if "type" in step:
            return T.Type(step["type"], bool(step.get("submit", False))), "I type the text."
        if "hotkey" in step:
            return T.Hotkey(tuple(step["hotkey"])), f"I press {'+'.join(step['hotkey'])}."
        return T.Finished(step.get("finished")), "The task is done."

    def _to_model(self, p: T.Point) -> T.Point:
        display = self.env.display
        return self.profile.frame(display.size_px).to_model(display.to_screenshot(p))

    def window_rect(self, window: int) -> tuple[int, int, int, int]:
        """(x, y, width, height) of a top-level window's inside, in screen pixels."""
        conn = self.env.sandbox._x()
        try:
            win = conn.create_resource_object("window", window)
            geometry = win.get_geometry()
            origin = win.translate_coords(conn.screen().root, 0, 0)
        except Exception as e:  # noqa: BLE001 - Xlib's errors have no common base worth naming
            raise EnvError(f"the oracle cannot find window {window:#x}: {e}") from e
        finally:
            conn.close()
        return -origin.x, -origin.y, geometry.width, geometry.height
