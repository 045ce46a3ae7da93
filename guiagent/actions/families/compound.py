"""Compound actions in families that spell them as several calls, read back as one action.

Text families have no single call for a click or scroll with modifier keys held, or for a drag along several
points; they write them the way a script would, and ``merge`` reads such a run back as the one action the
formatter wrote it from (so each formatter stays the inverse of its parser):

    key_down(m1) ... key_down(mk)  click/scroll  key_up(mk) ... key_up(m1)   ->  Click/Scroll(modifiers=(m1..mk))
    mouse_down(p, b)  move_to(q1) ... move_to(qn)  mouse_up(None or qn, b)    ->  Drag(p, qn, b, via=(q1..qn-1))

A run that does not match exactly (a held key released out of order, a non-modifier key, a release at another
point, another action in between) is left as the separate actions it is: they mean the same on screen.
One pass over the actions: linear time.
"""

from __future__ import annotations

from guiagent.actions import types as t
from guiagent.actions.keys import MODIFIERS
from guiagent.actions.types import Action


def merge(actions: list[Action]) -> list[Action]:
    """``actions`` with every modifier-held click/scroll and every multi-point drag run read as one action."""
    for a in actions:  # a plain loop: the usual answer has nothing to merge and must not pay for a generator
        if type(a) is t.KeyDown or type(a) is t.MouseDown:
            break
    else:
        return actions
    out: list[Action] = []
    i, n = 0, len(actions)
    while i < n:
        a = actions[i]
        if isinstance(a, t.KeyDown) and a.key in MODIFIERS:
            j = i
            while j < n and isinstance(actions[j], t.KeyDown) and actions[j].key in MODIFIERS:  # type: ignore
                j += 1
            run = tuple(actions[k].key for k in range(i, j))  # type: ignore[attr-defined]
            # the keys held for the click: the longest tail of the run released right after it (at most one of
            # each modifier, so at most len(MODIFIERS) tails are tried: linear time)
            for size in range(min(len(run), len(MODIFIERS)), 0, -1):
                merged = _held(actions, j, run[len(run) - size:])
                if merged is not None:
                    out += actions[i:j - size]
                    out.append(merged)
                    i = j + 1 + size
                    break
            else:
                out += actions[i:j]
                i = j
            continue
        if isinstance(a, t.MouseDown) and a.point is not None and a.button in t.DRAG_BUTTONS:
            j = i + 1
            while j < n and isinstance(actions[j], t.MoveTo):
                j += 1
            up = actions[j] if j < n else None
            moves = [m.point for m in actions[i + 1:j]]  # type: ignore[attr-defined]
            if moves and isinstance(up, t.MouseUp) and up.button == a.button \
                    and (up.point is None or up.point == moves[-1]) and len(moves) - 1 <= t.MAX_VIA:
                out.append(t.Drag(a.point, moves[-1], a.button, tuple(moves[:-1])))
                i = j + 1
                continue
        out.append(a)
        i += 1
    return out


def _held(actions: list[Action], j: int, held: tuple[str, ...]) -> Action | None:
    """The click or scroll at ``j`` with ``held`` as its modifiers, if the keys are released right after it in
    reverse order; None otherwise."""
    if len(set(held)) != len(held) or j >= len(actions):
        return None
    target = actions[j]
    if not isinstance(target, (t.Click, t.Scroll)) or target.modifiers:
        return None
    ups = actions[j + 1:j + 1 + len(held)]
    if len(ups) != len(held) or any(not isinstance(u, t.KeyUp) or u.key != k for u, k in zip(ups, reversed(held))):
        return None
    if isinstance(target, t.Click):
        return t.Click(target.point, target.button, target.clicks, held)
    return t.Scroll(target.direction, target.point, target.amount, held)


def normalize(actions: list[Action]) -> list[Action]:
    """One spelling for action lists that mean the same: every compound action split, then merged again."""
    return merge([plain for a in actions for plain in split(a)])


def split(action: Action) -> list[Action]:
    """The inverse of ``merge`` for one action: the plain actions a family without modifiers or via points
    writes it as (the action itself when it needs no splitting)."""
    if isinstance(action, (t.Click, t.Scroll)) and action.modifiers:
        plain = (t.Click(action.point, action.button, action.clicks) if isinstance(action, t.Click)
                 else t.Scroll(action.direction, action.point, action.amount))
        return ([t.KeyDown(k) for k in action.modifiers] + [plain]
                + [t.KeyUp(k) for k in reversed(action.modifiers)])
    if isinstance(action, t.Drag) and action.via:
        return ([t.MouseDown(action.start, action.button)] + [t.MoveTo(p) for p in (*action.via, action.end)]
                + [t.MouseUp(None, action.button)])
    return [action]
