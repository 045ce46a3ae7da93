"""The scripted model: a reference solver for mock desktop tasks that answers in a real model family's text.

    model = ScriptedModel(desk, get_profile("ui-tars-1.5"))
    text = model.complete(messages, Sampling()).text
    # "Thought: I click the button 'Save'.\nAction: click(start_box='<|box_start|>(402,146)<|box_end|>')"

It ignores the messages. On every call it reads the desktop's *current* accessibility tree, takes the next step of
the task's solution (``task.solution``, data in the task file, see ``tasks/plan.py``), resolves its target to a
point in SCREEN space, maps it to screenshot pixels (``env.display``) and then to the family's model space
(``profile.frame(screenshot size)``), and formats the action with the family's own grammar. A run driven by it
therefore goes through the same parse -> coordinate map -> execute path as a real model.

Coordinates are rounded the way the family writes them, so each candidate point is formatted, parsed back and
mapped back to the screen; the first one that lands inside the target is used.

Progress: a step counts as done once the desktop carried out the action emitted for it (its simulated clock moved
on). If the previous answer was not executed (a parse retry, a dry run, a refused action) the same step is
answered again. Reactive steps (scroll until visible, set a slider) look at the tree each time and end themselves.
A target hidden behind another window is first raised; one scrolled out of view is first scrolled to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from guiagent.actions import types as T
from guiagent.actions.coords import Convention
from guiagent.envs.mock.tasks.plan import MAX_SCROLLS, PlanStep, Query, app_title
from guiagent.errors import ActionError, ParseError, UnsupportedAction
from guiagent.models.base import Message, ModelResponse, Sampling

#: give up on a reactive step (slider, raising a window) after this many tries
MAX_TRIES = 25
POPUP_ROLES = ("menu", "list")


@dataclass
class Decision:
    """One answer: an action with SCREEN points (``aim`` = the rect each point must land in), and a thought."""

    action: T.Action
    thought: str
    aims: tuple[tuple[float, float, float, float] | None, ...] = ()
    advances: bool = True    # False: the step stays current (reactive steps, preparatory actions)


class SolverStuck(Exception):
    """The plan cannot continue on this screen (a target is missing); answered as call_user."""


class ScriptedModel:
    """``Model`` whose answers come from the mock task's reference solution (see the module docstring).

    Args:
        env: the MockDesktop it reads (its ``task`` supplies the plan unless ``plan`` is given).
        profile: the family profile whose grammar and coordinate frame the answers use.
        plan: compiled plan steps to follow instead of the task's solution (tests use this for partial plans).
    """

    name = "scripted"

    def __init__(self, env: Any, profile: Any, *, plan: Sequence[PlanStep] | None = None):
        from guiagent.actions.families import get_grammar

        self.env = env
        self.profile = profile
        self.grammar = get_grammar(profile.grammar)
        self._plan_override = tuple(plan) if plan is not None else None
        self._episode: tuple[Any, Any] | None = None
        self._restart()

    # ------------------------------------------------------------------ Model protocol
    def complete(self, messages: Sequence[Message], sampling: Sampling) -> ModelResponse:
        """Answer with the next step of the task's solution, written in the family's format (the messages are not read).

        A plan that cannot continue on the current screen, or a missing plan (no task with a solution), is answered
        with ``call_user`` naming the problem, so the run ends cleanly instead of raising.
        """
        decision = self.decide()
        return ModelResponse(self.render(decision))

    # ------------------------------------------------------------------ progress
    def _restart(self) -> None:
        self.index = 0
        self.tries = 0
        self._pending: tuple[int, float, bool] | None = None

    @property
    def plan(self) -> tuple[PlanStep, ...]:
        """The plan followed: the one given at construction, else the env's task solution.

        Raises:
            SolverStuck: the env has no task, or its task has no solution.
        """
        if self._plan_override is not None:
            return self._plan_override
        task = getattr(self.env, "task", None)
        if task is None or not getattr(task, "solution", None):
            raise SolverStuck("the scripted model needs a mock desktop task with a solution (run it with --task)")
        return task.solution

    def _clock(self) -> float:
        inp = getattr(self.env, "input", None)
        return float(inp.clock) if inp is not None else float(self.env.state()["time"])

    def _sync(self) -> None:
        """Notice a reset (new episode) and whether the last answer was carried out."""
        # The desktop builds a new file system on every reset. Holding the objects themselves (not their ids,
        # which a later object may reuse) makes the comparison exact.
        episode = (getattr(self.env, "fs", None), getattr(self.env, "task", None))
        if self._episode is None or episode[0] is not self._episode[0] or episode[1] is not self._episode[1]:
            self._episode = episode
            self._restart()
            return
        if self._pending is None:
            return
        index, clock, passive = self._pending
        executed = passive or self._clock() != clock or getattr(self.env, "step_seconds", 1.0) <= 0
        if executed:
            self._pending = None
            if index == self.index:
                if self._advance_pending:
                    self.index += 1
                    self.tries = 0
                else:
                    self.tries += 1

    def decide(self) -> Decision:
        """The next action toward the goal, from the current screen."""
        self._sync()
        try:
            plan = self.plan
            tree = self.env.accessibility_tree()
            while True:
                if self.index >= len(plan):
                    decision = Decision(T.Finished(None), "The task is complete.")
                    break
                step = plan[self.index]
                decision = self._step(step, tree)
                if decision is not None:
                    break
                self.index += 1      # the step needed nothing (condition false, goal already reached)
                self.tries = 0
        except SolverStuck as e:
            decision = Decision(T.CallUser(f"scripted solver stuck at step {self.index + 1}: {e}"),
                                "I cannot continue.", advances=False)
        passive = isinstance(decision.action, (T.Wait, T.Finished, T.CallUser))
        self._pending = (self.index, self._clock(), passive)
        self._advance_pending = decision.advances
        return decision

    # ------------------------------------------------------------------ steps
    def _step(self, step: PlanStep, tree: Any) -> Decision | None:
        if step.when is not None and step.when.find(tree) is None:
            return None
        if step.unless is not None and step.unless.find(tree) is not None:
            return None
        a = step.args
        k = step.kind
        if k in ("click", "double_click", "right_click"):
            _node, prep, (x, y), aim = self._locate(a["target"], tree)
            if prep is not None:
                return prep
            verb = {1: "click", 2: "double-click", 3: "triple-click"}[a["clicks"]]
            if a["button"] == "right":
                verb = "right-click"
            return Decision(T.Click(T.Point(x, y, T.Space.SCREEN), a["button"], a["clicks"]),
                            step.thought or f"I {verb} {a['target'].describe()}.", (aim,))
        if k == "type":
            text = a["text"]
            return Decision(T.Type(text, a["submit"]), step.thought or f"I type {text!r}.")
        if k == "hotkey":
            return Decision(T.Hotkey(a["keys"]), step.thought or f"I press {'+'.join(a['keys'])}.")
        if k == "press":
            return Decision(T.Press(a["keys"][0]), step.thought or f"I press {a['keys'][0]}.")
        if k == "drag":
            _start, prep, p0, aim0 = self._locate(a["start"], tree)
            if prep is not None:
                return prep
            end = a["end"].find(tree)
            if end is None:
                raise SolverStuck(f"cannot find {a['end'].describe()} to drag to")
            end_node = end[0]
            p1, aim1 = a["end"].point_in(end_node), self._aim(a["end"], end_node)
            if "occluded" in end_node.states:
                free = _free_point(end_node.bounds, _front_rects(end[1], tree), prefer=p1)
                if free is None:
                    raise SolverStuck(f"{a['end'].describe()} is covered; cannot drop there")
                p1, aim1 = free, (free[0] - 2, free[1] - 2, 4, 4)
            return Decision(T.Drag(T.Point(*p0, T.Space.SCREEN), T.Point(*p1, T.Space.SCREEN)),
                            step.thought or f"I drag {a['start'].describe()} onto {a['end'].describe()}.",
                            (aim0, aim1))
        if k == "scroll":
            return self._scroll_step(step, tree)
        if k == "slider":
            return self._slider_step(step, tree)
        if k == "finished":
            return Decision(T.Finished(a["content"]), step.thought or "The task is complete.")
        if k == "wait":
            return Decision(T.Wait(a["seconds"]), step.thought or "I wait for the screen to update.")
        raise SolverStuck(f"unknown step kind {k!r}")  # pragma: no cover - compile_step rejects these

    def _scroll_step(self, step: PlanStep, tree: Any) -> Decision | None:
        a = step.args
        until: Query | None = a["until"]
        if until is not None:
            hit = until.find(tree)
            if hit is not None and "offscreen" not in hit[0].states and _fully_inside(hit[0], hit[2]):
                return None
            if self.tries >= MAX_SCROLLS:
                raise SolverStuck(f"{until.describe()} did not scroll into view")
        found = a["target"].find(tree)
        if found is None:
            raise SolverStuck(f"cannot find {a['target'].describe()} to scroll")
        node = found[0]
        x, y = a["target"].point_in(node)
        thought = step.thought or (f"I scroll {a['direction']} in {a['target'].describe()}"
                                   + (f" to find {until.describe()}." if until else "."))
        return Decision(T.Scroll(a["direction"], T.Point(x, y, T.Space.SCREEN), a["amount"]), thought,
                        (self._aim(a["target"], node),), advances=until is None)

    def _slider_step(self, step: PlanStep, tree: Any) -> Decision | None:
        a = step.args
        node, prep, _point, _aim = self._locate(a["target"], tree)
        if prep is not None:
            return prep
        try:
            current = int(float(node.value or "0"))
        except ValueError:
            raise SolverStuck(f"{a['target'].describe()} has no numeric value ({node.value!r})") from None
        want = a["value"]
        if current == want:
            return None
        if self.tries >= MAX_TRIES:
            raise SolverStuck(f"{a['target'].describe()} stays at {current}, not {want}")
        x, y, w, h = node.bounds
        track = node.extra.get("track")
        x0, x1 = (track if track else (x + 10, x + w - 48))
        lo, hi = a["min"], a["max"]
        if self.tries == 0:
            fx = lambda v: x0 + (x1 - x0) * (v - lo) / (hi - lo)
            start = T.Point(fx(current), y + h / 2, T.Space.SCREEN)
            end = T.Point(fx(want), y + h / 2, T.Space.SCREEN)
            aim = (x, y, w, h)
            return Decision(T.Drag(start, end), step.thought or f"I drag {a['target'].describe()} to {want}.",
                            (aim, aim), advances=False)
        key = "right" if want > current else "left"
        return Decision(T.Press(key), f"{a['target'].describe().capitalize()} shows {current}; I press {key} to "
                        f"reach {want}.", advances=False)

    # ------------------------------------------------------------------ finding targets
    def _locate(self, q: Query, tree: Any) -> tuple[Any, Decision | None, tuple[float, float], tuple]:
        """Resolve ``q``: (node, preparatory decision or None, SCREEN point to act at, rect it must land in).

        A preparatory decision (close a popup, raise or restore a window, scroll) is taken first when the target
        cannot be reached yet. A target partly covered by another window is acted on where it is still visible.
        """
        found = q.find(tree)
        if found is None:
            restore = self._restore_minimized(q, tree)
            if restore is not None:
                return None, restore, (0.0, 0.0), ()
            raise SolverStuck(f"cannot find {q.describe()} on the screen")
        node, win, ancestors = found
        point, aim = q.point_in(node), self._aim(q, node)
        if self.tries >= MAX_TRIES:
            raise SolverStuck(f"{q.describe()} stays hidden")
        if "offscreen" in node.states:
            return node, self._scroll_into_view(q, node, ancestors), point, aim
        if "occluded" in node.states:
            if q.at == (0.5, 0.5) and q.offset == (0.0, 0.0) and q.part is None and not (
                    tree.children and tree.children[0].role in POPUP_ROLES):
                free = _free_point(node.bounds, _front_rects(win, tree))
                if free is not None:
                    return node, None, free, (free[0] - 2, free[1] - 2, 4, 4)
            return node, self._uncover(q, node, win, tree), point, aim
        if node.role != "screen" and q.part is None and not _fully_inside(node, ancestors):
            return node, self._scroll_into_view(q, node, ancestors), point, aim
        return node, None, point, aim

    def _restore_minimized(self, q: Query, tree: Any) -> Decision | None:
        """The target may sit in a minimized window (whose contents are not in the tree): restore the window that
        matches the query's scope, or, without a scope, the front-most minimized one."""
        scoped = q.app is not None or q.within is not None or q.within_contains is not None
        for c in tree.children:
            if c.role in ("window", "dialog") and "minimized" in c.states and (not scoped or q._scope_ok(c)):
                title = app_title(c.extra.get("app"))
                button = Query(role="button", name=title).find(_taskbar(tree)) if title else None
                if button is not None:
                    return Decision(T.Click(T.Point(*button[0].center, T.Space.SCREEN)), f"The window '{c.name}' "
                                    f"is minimized; I restore it from the taskbar.", (button[0].bounds,),
                                    advances=False)
        return None

    def _scroll_into_view(self, q: Query, node: Any, ancestors: tuple) -> Decision:
        for anc in reversed(ancestors):
            if anc.role in ("scroll_area", "list", "text_area") and "offscreen" not in anc.states:
                ax, ay, aw, ah = anc.bounds
                _nx, ny, _nw, nh = node.bounds
                direction = "down" if ny + nh / 2 > ay + ah / 2 else "up"
                point = T.Point(ax + aw / 2, ay + ah / 2, T.Space.SCREEN)
                return Decision(T.Scroll(direction, point, 2), f"{q.describe().capitalize()} is out of view; I "
                                f"scroll {direction}.", (anc.bounds,), advances=False)
        raise SolverStuck(f"{q.describe()} is out of view and nothing scrolls")

    def _uncover(self, q: Query, node: Any, win: Any, tree: Any) -> Decision:
        front = _front_rects(win, tree)
        if tree.children and tree.children[0].role in POPUP_ROLES and tree.children[0] is not win:
            return Decision(T.Press("esc"), "A menu is in the way; I close it.", advances=False)
        if win is not None and "minimized" not in win.states:
            point = _free_point(_title_rect(win), front)
            if point is not None:
                x, y = point
                return Decision(T.Click(T.Point(x, y, T.Space.SCREEN)), f"I bring the window '{win.name}' to "
                                "the front.", ((x - 2, y - 2, 4, 4),), advances=False)
        # minimize the front-most window that covers the target
        nx, ny, nw, nh = node.bounds
        for c in tree.children:
            if c is win or c.role not in ("window", "dialog") or "minimized" in c.states:
                if c is win:
                    break
                continue
            cx, cy, cw, ch = c.bounds
            if cx < nx + nw and nx < cx + cw and cy < ny + nh and ny < cy + ch:
                button = Query(role="button", name="Minimize").find(c)
                if button is not None:
                    return Decision(T.Click(T.Point(*button[0].center, T.Space.SCREEN)), f"The window '{c.name}' "
                                    "is in the way; I minimize it.", (button[0].bounds,), advances=False)
                break
        if win is None:
            return Decision(T.Hotkey(("ctrl", "d")), f"{q.describe().capitalize()} is covered by windows; I show "
                            "the desktop.", advances=False)
        title = app_title(win.extra.get("app"))
        button = Query(role="button", name=title).find(_taskbar(tree)) if title else None
        if button is None:
            raise SolverStuck(f"cannot bring the window '{win.name}' to the front")
        return Decision(T.Click(T.Point(*button[0].center, T.Space.SCREEN)), f"I switch to {title} with the "
                        "taskbar.", (button[0].bounds,), advances=False)

    @staticmethod
    def _aim(q: Query, node: Any) -> tuple[float, float, float, float]:
        x, y, w, h = node.bounds
        if q.part == "title_bar":
            from guiagent.envs.mock import theme
            return x, y, w - 140, min(h, theme.TITLE_H)
        if q.at != (0.5, 0.5) or q.offset != (0.0, 0.0):
            px, py = q.point_in(node)
            return px - 3, py - 3, 6, 6
        return x, y, w, h

    # ------------------------------------------------------------------ rendering
    def render(self, decision: Decision) -> str:
        """The decision as the family's text, points mapped SCREEN -> screenshot -> model space."""
        display = self.env.display
        frame = self.profile.frame(display.size_px)
        points = T.points_of(decision.action)
        aims = list(decision.aims) + [None] * (len(points) - len(decision.aims))
        mapped = iter([self._to_model(p, aim, display, frame) for p, aim in zip(points, aims)])
        action = T.map_points(decision.action, lambda _p: next(mapped))
        return self._format(action, decision.thought)

    def _format(self, action: T.Action, thought: str) -> str:
        try:
            return self.grammar.format_step([action], thought=thought)
        except UnsupportedAction:
            if isinstance(action, T.Scroll):  # families disagree on whether a scroll has an amount
                alt = T.Scroll(action.direction, action.point, None if action.amount else 5)
                return self.grammar.format_step([alt], thought=thought)
            if isinstance(action, T.Press):
                return self.grammar.format_step([T.Hotkey((action.key,))], thought=thought)
            raise

    def _roundtrip(self, p: T.Point) -> T.Point:
        """What the family's text for a click at ``p`` parses back to (formatting rounds coordinates)."""
        text = self.grammar.format_step([T.Click(p)])
        try:
            return T.points_of(self.grammar.parse(text).actions[0])[0]
        except (ParseError, ActionError, IndexError):  # pragma: no cover - grammars round-trip their own text
            return p

    def _to_model(self, p: T.Point, aim, display, frame) -> T.Point:
        target = frame.to_model(display.to_screenshot(p))
        if aim is None:
            return target
        unit = 1e-4 if frame.convention is Convention.RELATIVE_1 else 1.0
        ax, ay, aw, ah = aim
        margin = min(1.0, aw / 4, ah / 4)
        best: tuple[float, T.Point] | None = None
        bx, by = round(target.x / unit), round(target.y / unit)
        for r in range(4):
            for dx in range(-r, r + 1):
                for dy in range(-r, r + 1):
                    if max(abs(dx), abs(dy)) != r:
                        continue
                    cand = T.Point((bx + dx) * unit, (by + dy) * unit, T.Space.MODEL)
                    back = display.to_screen(frame.to_screenshot(self._roundtrip(cand)))
                    if ax + margin <= back.x <= ax + aw - margin and ay + margin <= back.y <= ay + ah - margin:
                        dist = (back.x - p.x) ** 2 + (back.y - p.y) ** 2
                        if best is None or dist < best[0]:
                            best = (dist, cand)
            if best is not None:
                return best[1]
        return target


# ====================================================================== helpers

def _fully_inside(node: Any, ancestors: tuple) -> bool:
    """Whether the node's centre lies inside every scrolling ancestor (so a click there reaches it)."""
    cx, cy = node.center
    for anc in ancestors:
        if anc.role in ("scroll_area", "list"):
            ax, ay, aw, ah = anc.bounds
            if not (ax <= cx <= ax + aw and ay <= cy <= ay + ah):
                return False
    return True


def _taskbar(tree: Any) -> Any:
    for c in tree.children:
        if c.role == "taskbar":
            return c
    return tree


def _front_rects(win: Any, tree: Any) -> list[tuple[float, float, float, float]]:
    """Bounds of the popups and windows stacked in front of ``win`` (all of them when ``win`` is None)."""
    out = []
    for c in tree.children:
        if c is win or c.role in ("taskbar", "desktop"):
            break
        if c.role in ("window", "dialog") and "minimized" in c.states:
            continue
        out.append(c.bounds)
    return out


def _title_rect(win: Any) -> tuple[float, float, float, float]:
    from guiagent.envs.mock import theme

    x, y, w, h = win.bounds
    return x + 30, y, max(1.0, w - 170), min(theme.TITLE_H, h)


def _free_point(rect, front, prefer: tuple[float, float] | None = None, step: float = 8.0
                ) -> tuple[float, float] | None:
    """A point of ``rect`` (inset by 3) outside every rect in ``front``, nearest to ``prefer`` (default: centre)."""
    x, y, w, h = rect
    px, py = prefer if prefer is not None else (x + w / 2, y + h / 2)
    best = None
    nx, ny = max(1, int((w - 6) // step) + 1), max(1, int((h - 6) // step) + 1)
    for i in range(nx):
        cx = x + 3 + min(i * step, w - 6) if w > 6 else x + w / 2
        for j in range(ny):
            cy = y + 3 + min(j * step, h - 6) if h > 6 else y + h / 2
            if any(fx - 2 <= cx <= fx + fw + 2 and fy - 2 <= cy <= fy + fh + 2 for fx, fy, fw, fh in front):
                continue
            d = (cx - px) ** 2 + (cy - py) ** 2
            if best is None or d < best[0]:
                best = (d, (cx, cy))
    return best[1] if best else None
