"""A run folder as one self-contained HTML report (screenshots embedded as data URLs, no network, no files).

Markers are drawn in an SVG laid over each screenshot whose viewBox is the screenshot's size in pixels, so a
marker at (x, y) sits on screenshot pixel (x, y) at whatever size the browser displays the image: the executed
coordinates (screenshot space) are used as they are, with no scaling code in the page.
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import os
from importlib import resources
from pathlib import Path
from string import Template

import guiagent
from guiagent.agent.describe import describe_action
from guiagent.agent.outcome import check_sentence
from guiagent.agent.trajectory import Run, StepRecord, TrajectoryError, load_run, write_atomic

_POINT_TYPES = {"click", "double_click", "right_click", "scroll", "move_to", "mouse_down", "mouse_up", "long_press"}
_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}
_PHASES = ("capture", "prepare", "model", "parse", "execute", "settle", "wait", "record")


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _num(v: float) -> str:
    return f"{v:.3f}".rstrip("0").rstrip(".")


def render_html(run: Run) -> str:
    """The report for a loaded run, as one HTML string."""
    template = Template(resources.files("guiagent.agent").joinpath("viewer.html").read_text(encoding="utf-8"))
    title = f"guiagent run: {run.instruction[:80]}"
    nav = "\n".join(f'<a href="#step-{s.index}">{s.index + 1}</a>' for s in run.steps)
    steps = "\n".join(_step_html(run, s) for s in run.steps) or '<p class="missing">This run has no steps.</p>'
    return template.substitute(version=_e(guiagent.__version__), title=_e(title), header=_header_html(run),
                               nav=nav, steps=steps)


def write_report(run_path: str | os.PathLike, out: str | os.PathLike | None = None) -> Path:
    """Render the run folder at ``run_path`` to ``out`` (default: ``RUN/report.html``); returns the path."""
    return write_run_report(load_run(run_path), out)


def write_run_report(run: Run, out: str | os.PathLike | None = None) -> Path:
    """Render a loaded run to ``out`` (default: ``RUN/report.html``).

    Args:
        run: the run, from ``load_run``.
        out: the HTML file to write.

    Returns:
        The path written.

    Raises:
        TrajectoryError: the file cannot be written.
    """
    target = Path(out) if out is not None else run.path / "report.html"
    try:
        write_atomic(target, render_html(run).encode("utf-8"))
    except OSError as e:
        with contextlib.suppress(OSError):  # the same cause (a parent that is a file) can fail the clean-up too
            target.with_name(target.name + ".tmp").unlink(missing_ok=True)
        raise TrajectoryError(f"cannot write {target}: {e.strerror or e}") from e
    return target


def _header_html(run: Run) -> str:
    meta = run.meta
    outcome = run.outcome
    env = meta.get("env") or {}
    check = check_sentence(meta.get("evaluation"))
    rows = [
        ("reason", run.reason),
        ("check", check),
        ("answer", meta.get("answer")),
        ("task", meta.get("task")),
        ("model", meta.get("model")),
        ("family", meta.get("family")),
        ("environment", f"{env.get('name', '?')} {'x'.join(str(v) for v in env.get('size', []))}"
                        f" scale {env.get('scale', 1)}" if env else None),
        ("steps", len(run.steps)),
        ("started", meta.get("started")),
        ("ended", meta.get("ended")),
        ("duration", f"{meta['duration_s']:.1f} s" if isinstance(meta.get("duration_s"), (int, float)) else None),
    ]
    dl = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows if v not in (None, ""))
    problems = "".join(f"<li>{_e(p)}</li>" for p in run.problems)
    return (f'<h1>{_e(run.instruction)}</h1>\n'
            f'<span class="outcome {_e(outcome)}">{_e(outcome)}</span>\n'
            f'<dl class="meta">{dl}</dl>\n'
            + (f'<ul class="problems">{problems}</ul>\n' if problems else ""))


def _data_url(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    mime = _MIME.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _overlay(step: StepRecord) -> str:
    w, h = step.screenshot_size
    unit = max(w, h) / 100  # marker size in screenshot pixels: about 1% of the larger side
    arrow_id = f"arrow-{step.index}"
    shapes = []
    many = len(step.actions) > 1
    for n, (action, status) in enumerate(zip(step.actions, step.status or [""] * len(step.actions)), 1):
        kind = action.get("type")
        cls = "" if status in ("executed", "") else " not-executed"
        label = (f'<text x="{_num(action.get("x") or 0)}" y="{_num((action.get("y") or 0) - 1.6 * unit)}" '
                 f'font-size="{_num(1.6 * unit)}" text-anchor="middle">{n}</text>') if many else ""
        if kind == "drag":
            x1, y1, x2, y2 = (action[k] for k in ("x", "y", "to_x", "to_y"))
            shapes.append(
                f'<g class="action" data-type="drag" data-n="{n}" data-x="{x1}" data-y="{y1}" data-to-x="{x2}" '
                f'data-to-y="{y2}" data-status="{_e(status)}">'
                f'<circle class="marker start{cls}" cx="{_num(x1)}" cy="{_num(y1)}" r="{_num(unit)}"/>'
                f'<line class="drag{cls}" x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" '
                f'marker-end="url(#{arrow_id})"/>{label}</g>')
        elif kind in _POINT_TYPES and action.get("x") is not None:
            x, y = action["x"], action["y"]
            shapes.append(
                f'<g class="action" data-type="{_e(kind)}" data-n="{n}" data-x="{x}" data-y="{y}" '
                f'data-status="{_e(status)}">'
                f'<circle class="marker{cls}" cx="{_num(x)}" cy="{_num(y)}" r="{_num(unit)}"/>'
                f'<line class="cross" x1="{_num(x - 1.8 * unit)}" y1="{_num(y)}" x2="{_num(x + 1.8 * unit)}" '
                f'y2="{_num(y)}"/><line class="cross" x1="{_num(x)}" y1="{_num(y - 1.8 * unit)}" '
                f'x2="{_num(x)}" y2="{_num(y + 1.8 * unit)}"/>{label}</g>')
    defs = (f'<defs><marker id="{arrow_id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="5" '
            f'markerHeight="5" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#d92b4b"/></marker>'
            f'</defs>')
    return (f'<svg class="overlay" viewBox="0 0 {w} {h}" preserveAspectRatio="none" '
            f'xmlns="http://www.w3.org/2000/svg" aria-hidden="true">{defs}{"".join(shapes)}</svg>')


def _step_html(run: Run, step: StepRecord) -> str:
    w, h = step.screenshot_size
    url, problem = None, f"screenshot {step.screenshot or '(none)'} is missing"
    if step.screenshot:
        try:  # only a readable file inside the run folder is embedded (never a path that leads elsewhere)
            url = _data_url(run.screenshot_path(step))
        except TrajectoryError:
            problem = run.bad_screenshots.get(step.index, problem)
    if url is not None:
        shot = (f'<div class="shot"><img src="{url}" width="{w}" height="{h}" '
                f'alt="screenshot of step {step.index + 1}">{_overlay(step)}</div>')
    else:
        shot = f'<div class="missing">{_e(problem)}</div>'

    actions = []
    for n, action in enumerate(step.actions):
        status = step.status[n] if n < len(step.status) else ""
        model = step.actions_model[n] if n < len(step.actions_model) else None
        actions.append(
            f'<li><span class="action-text" title="{_e(json.dumps(action, ensure_ascii=False))}">'
            f'{_e(describe_action(action))}</span> '
            f'<span class="status {_e(status)}">{_e(status)}</span>'
            + (f'<br><small>model space: {_e(describe_action(model, exact=True))}</small>'
               if model is not None and model != action else "") + "</li>")
    timings = "".join(f'<tr><td>{p}</td><td class="ms">{step.latency[p] * 1000:.1f} ms</td></tr>'
                      for p in _PHASES if p in step.latency)
    info = []
    if step.reflection:
        info.append(f'<h3>Reflection</h3><div class="thought">{_e(step.reflection)}</div>')
    if step.thought:
        info.append(f'<h3>Thought</h3><div class="thought">{_e(step.thought)}</div>')
    info.append("<h3>Actions</h3>" + (f'<ol class="actions">{"".join(actions)}</ol>' if actions
                                      else "<p>none (the answer did not parse)</p>"))
    if step.errors:
        info.append(f'<h3>Errors</h3><div class="errors">{"<br>".join(_e(x) for x in step.errors)}</div>')
    if timings:
        info.append(f'<h3>Timings</h3><table class="timings">{timings}</table>')
    if step.response is not None:
        tries = f" ({len(step.attempts)} tries)" if len(step.attempts) > 1 else ""
        info.append(f'<details><summary>Raw response{tries}</summary><pre>{_e(step.response)}</pre></details>')
    return (f'<section class="step" id="step-{step.index}" data-index="{step.index}" tabindex="-1">'
            f'<h2>Step {step.index + 1}</h2>{shot}<div class="info">{"".join(info)}</div></section>')
