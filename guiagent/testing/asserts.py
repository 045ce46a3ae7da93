"""Assertions for agent tests, with failure messages that say what happened instead of ``assert False``.

    assert_task_passed(run)                                   # the task's check passed (else: its reasons, the steps)
    node = assert_element(desk, role="button", name="Send")   # else: the elements of that role / similar names
    assert_element_value(desk, "Hello", role="text_field", name="Subject")
    assert_screenshot(run, "tests/screens/after.png")          # the final screen matches a reference PNG
    assert_run_replays(run.run_dir)                           # the run folder loads and replays identically

Each raises ``AssertionError`` (so pytest shows the message) and returns something useful when it passes.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops

#: how many of the run's last steps a failure message shows
LAST_STEPS = 5


def assert_task_passed(subject: Any, task: Any = None) -> Any:
    """Assert that a task's check passes.

    Args:
        subject: an ``AgentRun`` (from ``run_task`` / the ``run_agent`` fixture), or a mock desktop (then the
            task is ``task``, else the desktop's own ``task``).
        task: the task whose check to apply to a desktop.

    Returns:
        The ``CheckResult``.

    Raises:
        AssertionError: naming each failed predicate, the run's outcome, its last steps and its run folder.
    """
    run = subject if hasattr(subject, "result") and hasattr(subject, "env") else None
    env = run.env if run is not None else subject
    task = task if task is not None else (run.task if run is not None else getattr(env, "task", None))
    if task is None:
        raise AssertionError("no task to check: pass task=, or run a task (run_task('task-id', ...))")
    result = task.check(env)
    if result.success:
        return result
    lines = [f"task {task.id!r} check failed:"]
    lines += [f"  {reason}" for reason in result.reasons]
    if run is not None:
        lines.append(f"run outcome: {run.outcome} after {len(run.steps)} step(s): {run.reason}")
        lines += _describe_steps(run.steps)
        if run.run_dir is not None:
            lines.append(f"run folder: {run.run_dir}  (guiagent view {run.run_dir} -o report.html)")
    raise AssertionError("\n".join(lines))


def assert_element(subject: Any, role: str | None = None, name: str | None = None, **criteria: Any) -> Any:
    """Assert that the screen has an accessible element matching role / name / other criteria.

    Args:
        subject: a mock desktop, an ``AgentRun`` or an ``A11yNode`` tree.
        role, name, criteria: as ``A11yNode.find`` (``name_contains``, ``value``, ``state``, ``within``).

    Returns:
        The front-most matching ``A11yNode``.

    Raises:
        AssertionError: listing the elements of that role and the closest names on the screen.
    """
    tree = _tree(subject)
    hits = tree.find_all(role, name, **criteria)
    if hits:
        return hits[0]
    wanted = ", ".join(f"{k}={v!r}" for k, v in dict(role=role, name=name, **criteria).items() if v is not None)
    raise AssertionError(f"no element on the screen with {wanted}\n" + _neighbours(tree, role, name))


def assert_element_value(subject: Any, expected: str | None, role: str | None = None, name: str | None = None,
                         **criteria: Any) -> Any:
    """Assert that the element matching role / name / criteria has ``value == expected``.

    Returns:
        The element (``A11yNode``).

    Raises:
        AssertionError: the element is missing, or shows its actual value next to the expected one.
    """
    node = assert_element(subject, role, name, **criteria)
    if node.value != expected:
        raise AssertionError(f"{node.role} {node.name!r} has value {node.value!r}, expected {expected!r}"
                             f"{_text_diff(node.value, expected)}")
    return node


def assert_screenshot(subject: Any, reference: str | os.PathLike, *, tolerance: float = 0.0) -> Image.Image:
    """Assert that a screenshot matches a reference PNG, pixel for pixel (or up to ``tolerance``, a fraction).

    Args:
        subject: a PIL image, an ``AgentRun`` (its final screen) or an env (its current screen).
        reference: the expected PNG. When it is missing or differs, the actual screen is written next to it as
            ``NAME.actual.png`` (and a ``NAME.diff.png`` mask) so you can look at it and, if right, accept it
            by renaming it.
        tolerance: fraction of pixels allowed to differ.

    Returns:
        The screenshot checked.

    Raises:
        AssertionError: saying how many pixels differ and where, and naming the files written.
    """
    image = _image(subject).convert("RGB")
    reference = Path(reference)
    actual = reference.with_name(reference.stem + ".actual.png")
    if not reference.is_file():
        image.save(actual)
        raise AssertionError(f"no reference image {reference}; the actual screen ({image.width}x{image.height}) was "
                             f"written to {actual}: look at it and rename it to {reference.name} to accept it")
    with Image.open(reference) as ref:
        expected = ref.convert("RGB")
    if expected.size != image.size:
        image.save(actual)
        raise AssertionError(f"screenshot is {image.width}x{image.height} pixels, reference {reference} is "
                             f"{expected.width}x{expected.height}; actual screen written to {actual}")
    mask = ImageChops.difference(expected, image).convert("L").point(lambda v: 255 if v else 0)
    differing = mask.histogram()[255]
    total = image.width * image.height
    if differing > tolerance * total:
        image.save(actual)
        diff = reference.with_name(reference.stem + ".diff.png")
        mask.save(diff)
        raise AssertionError(f"screenshot differs from {reference}: {differing} of {total} pixels "
                             f"({differing / total:.2%}, tolerance {tolerance:.2%}) in the box {mask.getbbox()} "
                             f"(x0, y0, x1, y1); actual screen written to {actual}, differing pixels to {diff}")
    return image


def assert_run_replays(run_dir: str | os.PathLike, *, tolerance: float = 0.0,
                       tasks_dir: str | os.PathLike | None = None) -> Any:
    """Assert that a run folder loads and that its actions, executed again on a fresh environment rebuilt from
    meta.json, give the recorded screenshots (``guiagent replay RUN --check --no-wait``).

    Args:
        run_dir: the run folder.
        tolerance: fraction of pixels allowed to differ per screenshot.
        tasks_dir: the folder of task files the run's task came from (a run folder's own is never read).

    Returns:
        The ``ReplayReport``.

    Raises:
        AssertionError: the folder does not load (and why), cannot be rebuilt (no task recorded), replayed
            nothing, or first differs at a step (which, and how).
    """
    from guiagent.agent.factory import env_from_meta
    from guiagent.agent.replay import replay_actions
    from guiagent.agent.trajectory import load_run
    from guiagent.errors import GuiAgentError

    try:
        run = load_run(run_dir)
    except GuiAgentError as e:
        raise AssertionError(f"run folder {run_dir} does not load: {e}") from None
    if run.problems:
        raise AssertionError(f"run folder {run_dir} is damaged: " + "; ".join(run.problems))
    env_name = (run.meta.get("env") or {}).get("name")
    if env_name == "mock" and not run.meta.get("task") and not (run.meta.get("env_options") or {}).get("task"):
        raise AssertionError(f"run {run_dir} was recorded without a task id, so its starting desktop cannot be "
                             f"rebuilt; record it with Agent.run(..., task_id=TASK) or run_task(TASK, ...)")
    if not run.steps:
        raise AssertionError(f"run {run_dir} has no steps: there is nothing to replay")
    try:
        given = {"tasks_dir": str(Path(tasks_dir).expanduser().resolve())} if tasks_dir is not None else None
        env, _ = env_from_meta(run.meta, given=given)
    except GuiAgentError as e:
        raise AssertionError(f"cannot rebuild the environment of {run_dir}: {e}") from None
    try:
        report = replay_actions(run, env, check=True, tolerance=tolerance, waits=False)
    finally:
        env.close()
    if not report.ok:
        raise AssertionError(f"replay of {run_dir}: {report.summary()}")
    return report


# ---------------------------------------------------------------- helpers

def describe_action(action: Mapping[str, Any]) -> str:
    """An action's JSON form as short text, e.g. ``click (552, 371)`` or ``type 'hello'``."""
    data = dict(action)
    kind = str(data.pop("type", "?"))
    parts = []
    for kx, ky, prefix in (("x", "y", ""), ("to_x", "to_y", "to ")):
        x, y = data.pop(kx, None), data.pop(ky, None)
        if isinstance(x, (int, float)) and isinstance(y, (int, float)):
            parts.append(f"{prefix}({x:g}, {y:g})")
    parts += [repr(v) if k in ("text", "content") else f"{k}={v!r}" for k, v in data.items()
              if v is not None and v is not False]
    return " ".join([kind, *parts])


def _describe_steps(steps: list) -> list[str]:
    if not steps:
        return ["no steps were taken"]
    lines = [f"last {min(len(steps), LAST_STEPS)} of {len(steps)} step(s):"]
    for step in steps[-LAST_STEPS:]:
        actions = "; ".join(describe_action(a) for a in (step.actions or [])) or "no action"
        thought = f"  thought: {_short(step.thought)}" if step.thought else ""
        errors = f"  errors: {'; '.join(step.errors)}" if step.errors else ""
        lines.append(f"  step {step.index + 1}: {actions}{thought}{errors}")
    return lines


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _tree(subject: Any) -> Any:
    if hasattr(subject, "find_all") and hasattr(subject, "walk"):
        return subject
    env = getattr(subject, "env", subject)
    if not hasattr(env, "accessibility_tree"):
        raise TypeError(f"expected a mock desktop, an AgentRun or an A11yNode, got {type(subject).__name__}")
    return env.accessibility_tree()


def _neighbours(tree: Any, role: str | None, name: str | None) -> str:
    nodes = [n for n in tree.walk() if n.role not in ("screen",)]
    lines = []
    if role is not None:
        same_role = [n for n in nodes if n.role == role]
        if same_role:
            names = ", ".join(sorted({repr(n.name) for n in same_role})[:20])
            lines.append(f"elements with role {role!r}: {names}")
        else:
            roles = ", ".join(sorted({n.role for n in nodes}))
            lines.append(f"no element has role {role!r}; roles on the screen: {roles}")
    if name is not None:
        by_name = {n.name: n for n in nodes if n.name}
        close = difflib.get_close_matches(name, list(by_name), n=5, cutoff=0.5)
        close += [n for n in by_name if name.lower() in n.lower() and n not in close][:5]
        if close:
            lines.append("similar names: " + ", ".join(f"{c!r} ({by_name[c].role})" for c in close))
    lines.append("(the tree as text: desk.accessibility_tree().to_text())")
    return "\n".join(lines)


def _text_diff(actual: str | None, expected: str | None) -> str:
    if not isinstance(actual, str) or not isinstance(expected, str):
        return ""
    for i, (a, b) in enumerate(zip(actual, expected)):
        if a != b:
            return f" (first difference at character {i}: {actual[i:i + 10]!r} vs {expected[i:i + 10]!r})"
    if len(actual) != len(expected):
        return f" (one is a prefix of the other: {len(actual)} vs {len(expected)} characters)"
    return ""


def _image(subject: Any) -> Image.Image:
    if isinstance(subject, Image.Image):
        return subject
    final = getattr(subject, "final_screenshot", None)
    if isinstance(final, Image.Image):
        return final
    if hasattr(subject, "observe"):
        return subject.observe().screenshot
    raise TypeError(f"expected a PIL image, an AgentRun or an env, got {type(subject).__name__}")
