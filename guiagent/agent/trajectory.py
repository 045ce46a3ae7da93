"""Run folders: what the agent writes while it works, and how to read it back.

    RUN/
      meta.json          task, instruction, model, family, env, config, start/end time, outcome, reason, version
      trajectory.jsonl   one line per finished step (``StepRecord.to_json``)
      step_000.png ...   the screenshot each step saw, written before that step's line

Crash safety is the design constraint: a run killed with SIGKILL at any instant must leave a folder that loads.

- The folder appears atomically: it is built under a hidden temporary name with ``meta.json`` already inside
  (``finished: false``, outcome ``running``) and renamed into place, so a folder with the final name always has meta.
- Every file is written to ``NAME.tmp``, fsynced and ``os.replace``d; a screenshot is either complete or absent.
- Lines are appended, flushed and fsynced one at a time, each in a single write. A line only counts when it ends
  with a newline; an unterminated tail is reported as truncated and skipped by ``load_run``.
- One writer thread drains one FIFO queue of jobs (screenshots and lines, in the order the loop queued them), so a
  step's line can only reach the disk after its screenshot is durably there. The loop only enqueues, which costs
  microseconds; PNG encoding happens on the writer thread (guiagent._imaging.png: zlib and numpy release the GIL;
  only the rows that changed since the previous screenshot are compressed again). The queue is
  bounded, so a disk slower than the agent applies back-pressure instead of growing memory without limit.
- ``meta.json`` is rewritten atomically at the end with ``finished: true`` and the outcome.
"""

from __future__ import annotations

import json
import os
import queue
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from guiagent._imaging.png import PNGEncoder
from guiagent._jsonio import loads, read_bytes, read_text
from guiagent.actions.jsonform import action_from_json
from guiagent.actions.types import Action, Space
from guiagent.agent.outcome import judge
from guiagent.agent.runcheck import FieldError, check_meta, check_step, inside
from guiagent.errors import GuiAgentError, TrajectoryError

META_FILE = "meta.json"
TRAJECTORY_FILE = "trajectory.jsonl"
#: the largest meta.json read: the writer's is a few KB (task, config, outcome); 16 MiB leaves room for a huge
#: config or instruction, and still refuses a file that only a mistake or an attacker makes
META_LIMIT = 16 << 20
#: the largest trajectory.jsonl read: a step line is ~1-20 KB (thought, raw answer, actions, timings; screenshots
#: are separate files), so 1 GiB holds some 50,000+ steps, far past any real run
TRAJECTORY_LIMIT = 1 << 30
#: bumped when a field changes meaning; readers refuse newer formats
FORMAT_VERSION = 1


# ---------------------------------------------------------------- records

@dataclass
class Attempt:
    """One call to the model within a step (several when the response did not parse)."""

    response: str
    temperature: float
    latency_s: float
    error: str | None = None


@dataclass
class StepRecord:
    """One line of ``trajectory.jsonl``.

    ``actions`` are in screenshot pixels (what was executed), ``actions_model`` the same actions in the model's own
    space (what it wrote); both in the JSON form of ``guiagent.actions.jsonform``. ``status`` has one entry per
    action: executed, dry_run, skipped, stopped, error, not_run, waited or terminal (finished / call_user).
    ``latency`` holds seconds per phase: capture, prepare, model, parse, execute, settle, wait.
    """

    index: int
    started: float
    ended: float
    screenshot: str | None
    screenshot_size: tuple[int, int]
    response: str | None = None
    thought: str | None = None
    reflection: str | None = None
    actions: list[dict[str, Any]] = field(default_factory=list)
    actions_model: list[dict[str, Any]] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    latency: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    #: the model frame: convention, image_size, content_size (how actions_model maps to actions)
    frame: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The record as the JSON object written to one line of ``trajectory.jsonl`` (latencies rounded to 1 µs)."""
        out = asdict(self)
        out["screenshot_size"] = list(self.screenshot_size)
        out["latency"] = {k: round(v, 6) for k, v in self.latency.items()}
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StepRecord:
        """Rebuild a record from one ``trajectory.jsonl`` line; keys this version does not know are ignored.

        Args:
            data: the decoded JSON object.

        Returns:
            The record.

        Raises:
            TypeError: a field this record requires is missing, or an attempt has unknown keys.
        """
        data = dict(data)
        data["screenshot_size"] = tuple(data.get("screenshot_size") or (0, 0))
        data["attempts"] = [Attempt(**a) for a in data.get("attempts") or []]
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def typed_actions(self, space: Space = Space.SCREENSHOT) -> list[Action]:
        """The recorded actions as typed actions (screenshot pixels, or the model's space)."""
        source = self.actions if space is Space.SCREENSHOT else self.actions_model
        return [action_from_json(a, space) for a in source]

    @property
    def executed_actions(self) -> list[tuple[Action, str]]:
        """(action in screenshot pixels, status) pairs, in order."""
        return list(zip(self.typed_actions(), self.status))


# ---------------------------------------------------------------- writing

def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # platforms without directory fds (Windows): nothing to sync
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file, or the new one complete, never a part."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _json_bytes(data: Any, indent: int | None = None) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=indent, allow_nan=False).encode("utf-8")


def screenshot_name(index: int) -> str:
    """The file name of step ``index``'s screenshot inside a run folder (``step_007.png``)."""
    return f"step_{index:03d}.png"


def _slug(text: str, limit: int = 40) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return slug[:limit].strip("-") or "run"


class TrajectoryWriter:
    """Writes one run folder. Create with ``TrajectoryWriter.create``; call ``finish`` once at the end.

    The loop calls ``add_screenshot`` when a step observes and ``add_step`` when the step ends; both only queue
    work. ``flush`` blocks until everything queued is on disk. Errors on the writer thread (disk full, permission)
    are raised as TrajectoryError from the next call, so a run never continues silently unrecorded.
    """

    def __init__(self, run_dir: Path, meta: dict[str, Any], *, queue_size: int = 8, png_level: int = 1):
        self.run_dir = Path(run_dir)
        self.meta = dict(meta)
        self._png = PNGEncoder(level=png_level)  # consecutive screenshots: only changed rows deflated again
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, queue_size))
        self._error: BaseException | None = None
        self._closed = False
        self._lines = open(self.run_dir / TRAJECTORY_FILE, "ab")  # noqa: SIM115 - open for the writer's lifetime
        self._thread = threading.Thread(target=self._work, name=f"trajectory-writer:{self.run_dir.name}",
                                        daemon=True)
        self._thread.start()

    @classmethod
    def create(cls, parent: str | os.PathLike, meta: dict[str, Any], *, name: str | None = None,
               **options: Any) -> TrajectoryWriter:
        """Make a new run folder under ``parent`` (created if needed) holding ``meta.json``; return its writer.

        The folder is named ``name`` or ``YYYYmmdd-HHMMSS-<slug of task or instruction>``, with ``-2``, ``-3``...
        appended when taken.
        """
        parent = Path(parent)
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError as e:
            raise TrajectoryError(f"cannot make the runs folder {parent}: it is a file, not a folder") from e
        except OSError as e:
            raise TrajectoryError(f"cannot make the runs folder {parent}: {e.strerror or e}") from e
        base = name or f"{time.strftime('%Y%m%d-%H%M%S')}-{_slug(str(meta.get('task') or meta.get('instruction') or ''))}"
        meta = {"format": FORMAT_VERSION, "finished": False, "outcome": "running", "reason": None, **meta}
        staging = parent / f".{base}.{os.getpid()}.{threading.get_ident()}.partial"
        try:
            staging.mkdir()
        except OSError as e:
            raise TrajectoryError(f"cannot write a run folder in {parent}: {e.strerror or e}") from e
        try:
            write_atomic(staging / META_FILE, _json_bytes(meta, indent=2))
            (staging / TRAJECTORY_FILE).touch()
            for n in range(1, 10_000):
                target = parent / (base if n == 1 else f"{base}-{n}")
                if target.exists():
                    continue
                try:
                    os.rename(staging, target)  # fails if target appeared meanwhile and is not empty
                except OSError:
                    continue
                _fsync_dir(parent)
                return cls(target, meta, **options)
            raise TrajectoryError(f"could not find a free run folder name for {base!r} in {parent}")
        except BaseException:
            _remove_tree(staging)
            raise

    # ------------------------------------------------ queueing (loop thread)

    def add_screenshot(self, index: int, image: Image.Image) -> str:
        """Queue the screenshot of step ``index``; returns its file name. The image must not change afterwards."""
        name = screenshot_name(index)
        self._put(("image", name, image))
        return name

    def add_step(self, record: StepRecord) -> None:
        """Queue one trajectory line; it is written after every screenshot queued before it."""
        self._put(("line", _json_bytes(record.to_json()) + b"\n"))

    def flush(self) -> None:
        """Block until all queued screenshots and lines are durably on disk."""
        done = threading.Event()
        self._put(("mark", done))
        while not done.wait(0.05):
            if not self._thread.is_alive():
                break
        self._raise_if_failed()

    def update_meta(self, **fields: Any) -> None:
        """Rewrite meta.json atomically with ``fields`` changed (after everything queued so far)."""
        self.meta.update(fields)
        self._put(("meta", _json_bytes(self.meta, indent=2)))

    def finish(self, **fields: Any) -> None:
        """Write everything pending, then meta.json with ``finished: true`` and ``fields``; stop the thread."""
        if self._closed:
            return
        self.update_meta(finished=True, **fields)
        self.close()

    def close(self) -> None:
        """Drain the queue and stop the writer thread (meta stays as it is). Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._thread.is_alive():
            self._queue.put(("stop",))
            self._thread.join()
        self._lines.close()
        self._raise_if_failed()

    def _put(self, job: tuple) -> None:
        self._raise_if_failed()
        if self._closed:
            raise TrajectoryError(f"the trajectory writer for {self.run_dir} is closed")
        self._queue.put(job)

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise TrajectoryError(f"could not write the run folder {self.run_dir}: {self._error}") from self._error

    # ------------------------------------------------ writer thread

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            kind = job[0]
            if kind == "stop":
                return
            if kind == "mark":
                job[1].set()
                continue
            if self._error is not None:
                continue  # keep draining so the loop never blocks on a full queue; the error is reported
            try:
                if kind == "image":
                    self._write_image(job[1], job[2])
                elif kind == "line":
                    self._lines.write(job[1])
                    self._lines.flush()
                    os.fsync(self._lines.fileno())
                elif kind == "meta":
                    write_atomic(self.run_dir / META_FILE, job[1])
            except BaseException as e:  # noqa: BLE001 - reported to the loop thread
                self._error = e

    def _write_image(self, name: str, image: Image.Image) -> None:
        write_atomic(self.run_dir / name, self._png.encode(image))


def _remove_tree(path: Path) -> None:
    if not path.exists():
        return
    for child in path.iterdir():
        child.unlink()
    path.rmdir()


# ---------------------------------------------------------------- reading

@dataclass
class Run:
    """A loaded run folder.

    ``problems`` lists everything that was not as a finished run leaves it (truncated last line, missing end
    state, unreadable lines, missing screenshots), in words; ``truncated`` says whether the last line was cut off.
    """

    path: Path
    meta: dict[str, Any]
    steps: list[StepRecord]
    truncated: bool = False
    problems: list[str] = field(default_factory=list)
    #: lines of trajectory.jsonl that were not JSON and were skipped (a replay would miss their steps)
    skipped_lines: int = 0
    #: step index -> why its screenshot cannot be used (missing, unreadable, not the recorded size)
    bad_screenshots: dict[int, str] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        """True once the run ended and its ``meta.json`` was finalised (False for a run cut off by a crash)."""
        return bool(self.meta.get("finished"))

    @property
    def outcome(self) -> str:
        """How the run ended; ``success`` only if the task check passed too (``guiagent.agent.outcome``)."""
        if not self.finished:
            return "incomplete"
        return judge(self.meta.get("outcome") or "unknown", None, self.meta.get("evaluation"))[0]

    @property
    def reason(self) -> str | None:
        """Why the run ended, in words, taking the task check into account (see ``judge``); None if not recorded."""
        return judge(self.meta.get("outcome") or "unknown", self.meta.get("reason"), self.meta.get("evaluation"))[1]

    @property
    def instruction(self) -> str:
        """The task instruction the agent was given (empty when the meta has none)."""
        return self.meta.get("instruction") or ""

    def screenshot_path(self, step: StepRecord) -> Path:
        """The file of the step's screenshot, inside the run folder. Raises TrajectoryError when there is none
        that can be used (see ``bad_screenshots``)."""
        if not step.screenshot:
            raise TrajectoryError(f"step {step.index + 1} of {self.path} has no screenshot")
        if step.index in self.bad_screenshots:
            raise TrajectoryError(f"{self.path}: {self.bad_screenshots[step.index]}")
        path = inside(self.path, step.screenshot)
        if path is None:
            raise TrajectoryError(f"{self.path}: step {step.index + 1}: screenshot {step.screenshot} is missing")
        return path

    def screenshot(self, step: StepRecord) -> Image.Image:
        """The screenshot step ``step`` saw, decoded (RGB or RGBA as recorded). Raises TrajectoryError when it
        cannot be read."""
        path = self.screenshot_path(step)
        try:
            with Image.open(path) as img:
                img.load()
                return img
        except Exception as e:  # noqa: BLE001 - PIL raises many kinds for damaged files
            raise TrajectoryError(f"{path}: the screenshot of step {step.index + 1} cannot be read ({e})") from e

    def __iter__(self) -> Iterator[StepRecord]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)


def load_run(path: str | os.PathLike) -> Run:
    """Read a run folder, tolerating what a crash leaves behind (see ``Run.problems``).

    Args:
        path: the run folder (it holds meta.json).

    Returns:
        The run: its meta, its steps and the problems found in them.

    Raises:
        TrajectoryError: the folder is not a run at all (no readable meta.json), has a newer format, or its
            trajectory.jsonl cannot be read.
    """
    path = Path(path)
    meta_path = path / META_FILE
    if not os.path.lexists(meta_path):  # a link to a device or elsewhere is named below, not called missing
        raise TrajectoryError(f"{path} is not a run folder: it has no {META_FILE}")
    try:
        meta = loads(read_text(meta_path, limit=META_LIMIT, inside=path))
    except OSError as e:
        raise TrajectoryError(f"cannot read {meta_path}: {e.strerror or e}") from e
    except ValueError as e:
        raise TrajectoryError(f"cannot read {meta_path}: {e}") from None
    try:
        check_meta(meta)
    except FieldError as e:
        raise TrajectoryError(f"{meta_path}: {e}") from None
    if meta.get("format", 1) > FORMAT_VERSION:
        raise TrajectoryError(f"{path} was written by a newer guiagent (format {meta['format']}); upgrade to read it")

    run = Run(path, meta, [])
    if not meta.get("finished"):
        run.problems.append("the run did not finish (meta.json has no end state): it was killed or is still running")

    lines_path = path / TRAJECTORY_FILE
    try:
        data = read_bytes(lines_path, limit=TRAJECTORY_LIMIT, inside=path)
    except FileNotFoundError:
        data = b""
        run.problems.append(f"{TRAJECTORY_FILE} is missing")
    except OSError as e:
        raise TrajectoryError(f"cannot read {lines_path}: {e.strerror or e}") from e
    except ValueError as e:
        raise TrajectoryError(f"cannot read {lines_path}: {e}") from None
    lines = data.split(b"\n")
    tail = lines.pop()  # empty when the file ends with a newline
    if tail:
        run.truncated = True
        run.problems.append(f"the last line of {TRAJECTORY_FILE} is truncated ({len(tail)} bytes); skipped")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data_line = loads(line)
        except ValueError as e:
            run.problems.append(f"line {number} of {TRAJECTORY_FILE} is not a valid step ({e}); skipped")
            run.skipped_lines += 1
            continue
        try:
            check_step(data_line)
            step = StepRecord.from_json(data_line)
        except (FieldError, TypeError) as e:
            raise TrajectoryError(f"{lines_path} line {number}: {e}") from None
        run.steps.append(step)
        _check_screenshot(run, step)
    return run


def _check_screenshot(run: Run, step: StepRecord) -> None:
    """Note (in ``run.bad_screenshots`` and ``run.problems``) a screenshot that is missing, not a readable image
    or not the size the step recorded. Reads the image header only."""
    if not step.screenshot:
        return
    problem = None
    file = inside(run.path, step.screenshot)
    if file is None:
        problem = f"step {step.index + 1}: screenshot {step.screenshot} is missing"
    else:
        try:
            with Image.open(file) as img:
                size = img.size
        except Exception as e:  # noqa: BLE001 - PIL raises many kinds for damaged files
            problem = f"step {step.index + 1}: screenshot {step.screenshot} is not a readable image ({e})"
        else:
            if tuple(size) != tuple(step.screenshot_size):
                problem = (f"step {step.index + 1}: screenshot {step.screenshot} is {size[0]}x{size[1]}, the step "
                           f"recorded {step.screenshot_size[0]}x{step.screenshot_size[1]}")
    if problem is not None:
        run.bad_screenshots[step.index] = problem
        run.problems.append(problem)
