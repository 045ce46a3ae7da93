"""Training examples from recorded runs and SFT exports, laid out exactly as the agent lays out a request.

Both sources go through one path. A run folder becomes export examples with ``guiagent.agent.export
.step_examples`` (which calls ``guiagent.models.history.build_messages``, the function the agent loop calls at
every step); an export file already holds them. Each example is then turned back into ``Message`` objects whose
images are the recorded screenshots passed through the training profile's image budget, i.e. the very images the
model is sent at inference, and the assistant answer that ends the example becomes the training target.

Coordinates in the answers are in the model image of the recording. When the convention is absolute pixels
(UI-TARS-1.5, Qwen2.5-VL), an image budget other than the recorded one would teach clicks on the wrong spot, so a
mismatch is an error that says which budget to use.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from guiagent._jsonio import loads, read_text
from guiagent.actions.coords import Convention
from guiagent.agent.trajectory import META_FILE, Run, TrajectoryError, load_run
from guiagent.errors import ConfigError
from guiagent.models.base import ImagePart, Message, TextPart
from guiagent.models.profiles import Profile

#: the largest ``guiagent export`` file read: a line (one step, images by reference) is a few KB, so 1 GiB is
#: hundreds of thousands of examples; split a bigger export into several files
EXPORT_LIMIT = 1 << 30


@dataclass(frozen=True)
class TrainExample:
    """One step to learn: the request as the agent sends it, and the answer to produce."""

    messages: tuple[Message, ...]
    target: str
    #: where it came from, e.g. "runs/r1 step 2" (for error messages and the training record)
    source: str


@dataclass
class DataStats:
    """What the loader took and what it left out, in words."""

    runs: int = 0
    exports: int = 0
    examples: int = 0
    skipped: list[str] = field(default_factory=list)


def is_success(meta: dict[str, Any]) -> bool:
    """Whether a run (or an exported example's meta) counts as a success: the recorded task check when there is
    one (a mock task's ``evaluation``, or an explicit ``success`` field), else the outcome the agent recorded."""
    if isinstance(meta.get("success"), bool):
        return meta["success"]
    evaluation = meta.get("evaluation")
    if isinstance(evaluation, dict) and isinstance(evaluation.get("success"), bool):
        return evaluation["success"]
    return meta.get("outcome") == "success"


def find_sources(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Expand the command line's inputs: a run folder, a folder of run folders (one level), or a ``.jsonl``
    export. Raises ConfigError for anything else."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_file():
            out.append(path)
        elif (path / META_FILE).is_file():
            out.append(path)
        elif path.is_dir():
            runs = sorted(p for p in path.iterdir()
                          if p.is_dir() and not p.name.startswith(".") and (p / META_FILE).is_file())
            if not runs:
                raise ConfigError(f"{path} holds no run folders (folders with {META_FILE}) and is not one itself")
            out.extend(runs)
        else:
            raise ConfigError(f"{path} does not exist; give run folders, folders of runs or .jsonl exports")
    if not out:
        raise ConfigError("no training data given")
    return out


def load_examples(paths: Iterable[str | os.PathLike], profile: Profile, *, success_only: bool = True,
                  raw: bool = False) -> tuple[list[TrainExample], DataStats]:
    """Every trainable step of the given runs and exports, in a stable order.

    Args:
        paths: run folders, folders of runs, and ``.jsonl`` files written by ``guiagent export``.
        profile: the profile the model will run with (prompt, history policy, image budget).
        success_only: leave out runs whose task did not succeed (see ``is_success``).
        raw: train on the answers as the model wrote them instead of their canonical format (runs only).

    Returns:
        (examples, stats).

    Raises:
        ConfigError: unreadable inputs, or data recorded with an image budget the profile does not reproduce.
    """
    stats = DataStats()
    examples: list[TrainExample] = []
    for source in find_sources(paths):
        if source.is_dir():
            examples.extend(_run_examples(source, profile, success_only, raw, stats))
        else:
            examples.extend(_export_examples(source, profile, success_only, stats))
    stats.examples = len(examples)
    return examples, stats


def _run_examples(path: Path, profile: Profile, success_only: bool, raw: bool,
                  stats: DataStats) -> Iterator[TrainExample]:
    from guiagent.agent.export import step_examples

    try:
        run = load_run(path)
    except TrajectoryError as exc:
        raise ConfigError(str(exc)) from exc
    if not run.finished:
        stats.skipped.append(f"{path}: the run did not finish")
        return
    if success_only and not is_success(run.meta):
        stats.skipped.append(f"{path}: not a success (outcome {run.outcome})")
        return
    family = run.meta.get("family")
    if family and family != profile.name and profile.grammar != _recorded_grammar(family):
        raise ConfigError(f"{path} was recorded with family {family!r}, whose answers the {profile.name!r} grammar "
                          f"does not read; train with --family {family}")
    _check_frames(run, profile)
    stats.runs += 1
    for example in step_examples(run, profile, raw=raw):
        yield _from_export(example, path.parent, profile, f"{path} step {example['meta']['step']}")


def _recorded_grammar(family: str) -> str | None:
    from guiagent.models.profiles import PROFILES

    recorded = PROFILES.get(family)
    return recorded.grammar if recorded is not None else None


def _check_frames(run: Run, profile: Profile) -> None:
    """The answers' coordinates must mean the same thing in the training profile's model image."""
    for step in run.steps:
        frame = step.frame
        if not frame or not step.actions_model:
            continue
        mine = profile.frame(tuple(step.screenshot_size))
        if frame.get("convention") != mine.convention.value:
            raise ConfigError(f"{run.path} step {step.index}: recorded in the {frame.get('convention')!r} "
                              f"coordinate convention, the profile writes {mine.convention.value!r}")
        if mine.convention is Convention.ABSOLUTE and list(frame.get("image_size") or ()) != list(mine.image_size):
            raise ConfigError(_budget_mismatch(f"{run.path} step {step.index}", frame.get("image_size"),
                                               mine.image_size, profile))


def _budget_mismatch(where: str, recorded: Any, mine: Any, profile: Profile) -> str:
    return (f"{where}: the model saw a {_size(recorded)} image, but profile {profile.name!r} makes "
            f"{_size(mine)} (budget {profile.budget.min_pixels}..{profile.budget.max_pixels} pixels); the answers "
            f"hold pixel coordinates of the recorded image, so train with the recording's --min-pixels/--max-pixels")


def _size(size: Any) -> str:
    try:
        w, h = size
        return f"{w}x{h}"
    except (TypeError, ValueError):
        return repr(size)


def _export_examples(path: Path, profile: Profile, success_only: bool, stats: DataStats) -> Iterator[TrainExample]:
    try:
        lines = read_text(path, limit=EXPORT_LIMIT).splitlines()
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    stats.exports += 1
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            example = loads(line)
        except ValueError as exc:
            raise ConfigError(f"{path} line {number} is not JSON ({exc}); is it a `guiagent export` file?") from None
        if not isinstance(example, dict) or not isinstance(example.get("messages"), list):
            raise ConfigError(f"{path} line {number} has no 'messages' list; is it a `guiagent export` file?")
        meta = example.get("meta") if isinstance(example.get("meta"), dict) else {}
        if success_only and not is_success(meta):
            stats.skipped.append(f"{path} line {number}: not a success (outcome {meta.get('outcome')})")
            continue
        yield _from_export(example, path.parent, profile, f"{path} line {number}")


def _from_export(example: dict[str, Any], root: Path, profile: Profile, where: str) -> TrainExample:
    """An export example (JSON form) as Message objects with budgeted images, and its target answer."""
    raw_messages = example["messages"]
    if not all(isinstance(m, dict) for m in raw_messages):
        raise ConfigError(f"{where}: each message must be an object with a role and a content list")
    if not raw_messages or raw_messages[-1].get("role") != "assistant":
        raise ConfigError(f"{where}: the last message must be the assistant's answer")
    meta = example.get("meta") or {}
    sizes = meta.get("image_sizes") or [] if isinstance(meta, dict) else None
    if not isinstance(sizes, list) or not all(
            isinstance(s, list) and len(s) == 2 and all(isinstance(v, int) for v in s) for s in sizes):
        raise ConfigError(f"{where}: meta.image_sizes must be a list of [width, height] pairs")
    messages: list[Message] = []
    image_index = 0
    for raw in raw_messages[:-1]:
        role = raw.get("role")
        if role not in ("system", "user", "assistant") or not isinstance(raw.get("content"), list):
            raise ConfigError(f"{where}: a message with role {role!r} and no content list")
        parts = []
        for part in raw["content"]:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text" and isinstance(part.get("text"), str):
                parts.append(TextPart(part["text"]))
            elif kind == "image" and isinstance(part.get("image"), str):
                recorded = sizes[image_index] if image_index < len(sizes) else None
                parts.append(_image_part(part["image"], root, profile, recorded, where))
                image_index += 1
            else:
                raise ConfigError(f"{where}: unknown message part {part!r}")
        messages.append(Message(role, tuple(parts)))
    answer = raw_messages[-1].get("content") or []
    if not isinstance(answer, list) or not all(isinstance(p, dict) and isinstance(p.get("text", ""), str)
                                               for p in answer):
        raise ConfigError(f"{where}: the assistant's answer must be a list of text parts")
    target = "".join(p.get("text", "") for p in answer)
    if not target.strip():
        raise ConfigError(f"{where}: the assistant's answer is empty")
    return TrainExample(tuple(messages), target, where)


def _image_part(ref: str, root: Path, profile: Profile, recorded: Any, where: str) -> ImagePart:
    if "\0" in ref:
        raise ConfigError(f"{where}: screenshot {ref!r} is not a file name")
    path = Path(ref)
    if not path.is_absolute():
        path = root / path
    real = path.resolve()
    # an export names images next to it, or the screenshots of recorded runs (`guiagent export` writes their
    # absolute paths): anything else is a file the data has no business reading
    if not (real.is_relative_to(root.resolve()) or (real.parent / META_FILE).is_file()):
        raise ConfigError(f"{where}: screenshot {ref} is outside {root} and not in a run folder; not read")
    if not real.is_file():  # a FIFO or a device would block or never end
        raise ConfigError(f"{where}: screenshot {path} is not a regular file")
    try:
        with Image.open(path) as img:
            img.load()
    except (OSError, Image.DecompressionBombError) as exc:
        raise ConfigError(f"{where}: cannot read screenshot {path}: {exc}") from None
    prepared = profile.budget.prepare(img)
    if recorded and profile.convention is Convention.ABSOLUTE and list(recorded) != list(prepared.size):
        raise ConfigError(_budget_mismatch(where, recorded, prepared.size, profile))
    return ImagePart(prepared, ref=str(path))
