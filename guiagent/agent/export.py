"""Recorded runs as chat-format fine-tuning examples (one JSON line per step).

Each example is the exact message list the agent would send at that step (``guiagent.models.history
.build_messages``: the family's system prompt, prompt, history policy) followed by the assistant's answer::

    {"messages": [{"role": "system", "content": [{"type": "text", "text": "You are a helpful assistant."}]},
                  {"role": "user", "content": [{"type": "text", "text": "You are a GUI agent. ..."}]},
                  {"role": "user", "content": [{"type": "image", "image": "/runs/r1/step_000.png"}]},
                  {"role": "assistant", "content": [{"type": "text", "text": "Thought: ...\\nAction: ..."}]},
                  ...],
     "images": ["/runs/r1/step_000.png", ...],
     "meta": {"run": "/runs/r1", "step": 1, "family": "ui-tars-1.5", "outcome": "success",
              "image_sizes": [[1932, 1092], ...]}}

Images are referenced by the path of the recorded screenshot (full size); ``image_sizes`` gives the size the model
saw after the family's image budget, which the training pipeline's processor reproduces from the file.
The assistant text is the family's canonical format of the recorded actions (``grammar.format_step`` on the
model-space actions and the thought), so one run exports the same way whatever noise the model wrote; ``raw=True``
keeps the responses exactly as the model wrote them instead. Exported for another family (``family=``), the
actions go through that family's coordinate frame and grammar (``guiagent.agent.retarget``): actions it cannot
write are converted where a faithful equivalent exists, and steps it cannot express at all are left out; both are
counted in ``ExportStats``.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guiagent.agent.retarget import retarget_step
from guiagent.agent.trajectory import Run, StepRecord, load_run
from guiagent.errors import ConfigError, UnsupportedAction
from guiagent.models.base import ImagePart, Message, TextPart
from guiagent.models.profiles import Profile, get_profile

#: a step is exported only if every one of its actions ended in one of these states
EXPORTABLE = frozenset({"executed", "terminal", "waited", "dry_run"})


@dataclass
class ExportStats:
    """What an export did: runs and examples written, and what was skipped or converted on the way."""
    runs: int = 0
    examples: int = 0
    skipped_runs: list[str] = field(default_factory=list)
    skipped_steps: int = 0
    #: examples whose actions were changed to fit the target family's grammar
    converted: int = 0
    #: steps left out because the target family cannot express one of their actions
    unexpressible: int = 0
    #: what was converted or could not be expressed, with how often
    notes: Counter = field(default_factory=Counter)
    #: damage found in the run folders (a step line that is not valid, a truncated last line), each naming its run
    run_problems: list[str] = field(default_factory=list)

    def warnings(self) -> list[str]:
        """One line per kind of conversion or unexpressible action, with its count."""
        return [f"{note} ({count}x)" for note, count in sorted(self.notes.items())]


def assistant_text(profile: Profile, step: StepRecord, raw: bool = False) -> str:
    """What the assistant says at ``step`` in the training data (in ``profile``'s grammar and coordinate frame).

    Raises:
        UnsupportedAction: the family cannot express one of the step's actions.
    """
    if raw:
        return step.response or ""
    retargeted = retarget_step(step, profile)
    if retargeted.text is None:
        raise UnsupportedAction(retargeted.unexpressible or f"{profile.name} cannot express step {step.index + 1}")
    return retargeted.text


def _message_json(message: Message, image_root: Path | None) -> tuple[dict[str, Any], list[str], list[list[int]]]:
    parts, images, sizes = [], [], []
    for part in message.content:
        if isinstance(part, TextPart):
            parts.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            ref = part.ref or ""
            if image_root is not None and ref:
                ref = os.path.relpath(ref, image_root)
            parts.append({"type": "image", "image": ref})
            images.append(ref)
            sizes.append(list(part.image.size))
    return {"role": message.role, "content": parts}, images, sizes


def step_examples(run: Run, profile: Profile | None = None, *, raw: bool = False,
                  image_root: str | os.PathLike | None = None,
                  stats: ExportStats | None = None) -> Iterator[dict[str, Any]]:
    """One example per exportable step of ``run`` (see the module docstring for the form).

    Conversions to fit ``profile``'s grammar, and steps it cannot express (left out), are counted in ``stats``.
    """
    from guiagent.models.history import Turn, build_messages, forget_unsent_screenshot

    profile = profile or profile_for(run)
    root = Path(image_root).resolve() if image_root is not None else None
    config = run.meta.get("config") or {}
    turns: list[Turn] = []
    for step in run.steps:
        if not step.actions_model or not step.screenshot or step.index in run.bad_screenshots:
            continue  # an answer that never parsed, or no usable screenshot: nothing to learn from
        path = str(run.screenshot_path(step).resolve())
        screenshot = run.screenshot(step)
        if raw:
            target: str | None = step.response or ""
            history = target
        else:
            retargeted = retarget_step(step, profile)
            target, history = retargeted.text, retargeted.history_text
            if stats is not None and all(s in EXPORTABLE for s in step.status):
                stats.notes.update(retargeted.conversions)
                stats.converted += bool(retargeted.conversions and target is not None)
                if target is None:
                    stats.unexpressible += 1
                    stats.notes[retargeted.unexpressible or "unexpressible action"] += 1
        if target is not None and all(s in EXPORTABLE for s in step.status):
            messages = build_messages(profile, run.instruction, turns, screenshot, screenshot_ref=path,
                                      mode=config.get("mode") or "computer", language=config.get("language"))
            out_messages, images, sizes = [], [], []
            for m in messages:
                data, refs, dims = _message_json(m, root)
                out_messages.append(data)
                images += refs
                sizes += dims
            out_messages.append({"role": "assistant", "content": [{"type": "text", "text": target}]})
            yield {"messages": out_messages, "images": images,
                   "meta": {"run": str(run.path), "step": step.index, "family": profile.name,
                            "outcome": run.outcome, "image_sizes": sizes}}
        turns.append(Turn(screenshot, history, screenshot_ref=path))
        forget_unsent_screenshot(turns, profile.history.max_images)


def profile_for(run: Run) -> Profile:
    """The profile of the model family that recorded ``run``, read from its ``meta.json``.

    Args:
        run: a loaded run.

    Returns:
        The family's profile.

    Raises:
        ConfigError: the run's meta names no family (the caller must then pass one explicitly), or an unknown one.
    """
    family = run.meta.get("family")
    if not family:
        raise ConfigError(f"{run.path}/meta.json names no model family; pass it with --family")
    return get_profile(family)


def export_sft(runs: Iterable[str | os.PathLike], out: str | os.PathLike, *, family: str | None = None,
               raw: bool = False, success_only: bool = False, relative: bool = False) -> ExportStats:
    """Write one JSON line per exportable step of every run to ``out``. ``relative`` writes image paths relative
    to the output file's folder. Runs that did not succeed are skipped with ``success_only``."""
    out = Path(out)
    stats = ExportStats()
    profile = get_profile(family) if family else None
    tmp = out.with_name(out.name + ".tmp")
    try:
        f = open(tmp, "w", encoding="utf-8")  # noqa: SIM115 - closed below, and removed on any failure
    except OSError as e:
        raise ConfigError(f"cannot write {out}: {e.strerror or e}") from e
    try:
        with f:
            for path in runs:
                _export_run(f, load_run(path), profile, stats, raw=raw, success_only=success_only,
                            image_root=out.parent if relative else None)
        try:
            os.replace(tmp, out)
        except OSError as e:  # e.g. the output path is a folder
            raise ConfigError(f"cannot write {out}: {e.strerror or e}") from e
    except BaseException:
        tmp.unlink(missing_ok=True)  # a failed export leaves nothing behind: no partial file, no *.tmp
        raise
    return stats


def _export_run(f, run: Run, profile: Profile | None, stats: ExportStats, *, raw: bool, success_only: bool,
                image_root: Path | None) -> None:
    if raw and profile is not None and run.meta.get("family") not in (None, profile.name):
        raise ConfigError(f"raw answers are in the recorded family's format ({run.meta.get('family')}); "
                          f"they cannot be exported as {profile.name}: drop --raw or --family")
    if success_only and run.outcome != "success":
        stats.skipped_runs.append(f"{run.path}: outcome {run.outcome}")
        return
    stats.runs += 1
    stats.run_problems += [f"{run.path}: {problem}" for problem in run.problems]
    exported = 0
    for example in step_examples(run, profile, raw=raw, image_root=image_root, stats=stats):
        f.write(json.dumps(example, ensure_ascii=False) + "\n")
        exported += 1
    stats.examples += exported
    stats.skipped_steps += sum(1 for s in run.steps if s.actions_model) - exported
