"""Real-desktop tasks as an evaluation suite (``guiagent eval --suite desktop --env sandbox|vnc``).

    guiagent eval --suite desktop --env sandbox --workers 2 --model scripted -o results/desk
    guiagent eval --suite desktop --env vnc --vnc-endpoints host:5901,host:5902 --model openai:URL -o results/v

A task is a JSON file (the built-in ones are in ``desktop_tasks/``; ``tasks_dir`` names a folder of your own):

    {"id": "type-line", "instruction": "...", "max_steps": 6, "groups": {"skill": "type"},
     "apps": [["xterm", "-u8", "-T", "notes", "-geometry", "60x8+80+80", "-e", "tee", "notes.txt"]],
     "check": [{"file": "notes.txt", "equals": "hello sandbox\\n"}],
     "solution": [{"click": {"app": 0}}, {"type": "hello sandbox", "submit": true}, {"finished": "typed it"}]}

Everything in a task file is literal data. ``apps`` are argv lists started as they are (no shell) in the
episode's sandbox, with its temp HOME as their working directory; ``check`` entries compare files under that
HOME (``{"file": PATH, "equals"|"contains": TEXT}`` or ``{"file": PATH, "absent": true}``; paths may not leave
it), or ask that a box of the screen looks different at the end than at the start
(``{"screen_changed": [X0, Y0, X1, Y1]}``, screen pixels); ``solution`` is what the scripted model
(``--model scripted``, ``desktop_oracle.py``) does, step by step: ``{"click": {"app": I, "at": [FX, FY]}}`` (a
point of app I's window, as fractions of it) or ``{"click": {"point": [X, Y]}, "button": "right"}``,
``{"type": TEXT, "submit": BOOL}``, ``{"hotkey": [KEY, ...]}``, ``{"finished": TEXT}``. The oracle answers in
the family's own text, so an oracle run goes through the same parse -> map -> execute path as a real model.

Envs: with ``env="sandbox"`` every episode gets a fresh sandbox (its own Xvfb display, window manager, temp HOME
and processes), started in the worker and ended with the episode. Fresh per episode rather than one per worker
reset between episodes: what the tasks leave behind (files in HOME, windows, a terminal's state, a held key) is
exactly what a reset would have to undo, and a new sandbox undoes all of it by construction for about a second of
start-up. With ``env="vnc"`` worker slot i drives ``endpoints[i]`` (``WorkerEnvs``); a remote desktop's apps
and files are out of the suite's reach (it neither starts apps there nor resets the desktop between episodes),
so only tasks without ``apps`` and with screen checks alone run there: none of the built-in ones, which are
for the sandbox (``tasks()`` says so).
"""

from __future__ import annotations

import os
import shlex
import stat
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from guiagent._jsonio import loads, read_text
from guiagent.agent.evaluation.suite import (CheckOutcome, Episode, EpisodeSpec, TaskRef, WorkerContext,
                                             select_ids)
from guiagent.errors import ConfigError, EnvError

ENVS = ("sandbox", "vnc")
CHECK_KINDS = ("equals", "contains", "absent")
#: a box "changed" when at least this share of its pixels differ from the start by more than PIXEL_DIFF_MIN
#: in some channel (a typed word in a terminal changes a few percent of a line-sized box)
SCREEN_CHANGE_MIN = 0.01
PIXEL_DIFF_MIN = 24
STEP_KINDS = ("click", "type", "hotkey", "finished")
#: how long a check waits for an app to write what it was given (a terminal passes a line on asynchronously)
CHECK_SETTLE_S = 3.0
#: ... and for the screen to show it: a VNC server that polls the screen (x11vnc) can lag seconds behind
SCREEN_SETTLE_S = 15.0
#: a file check reads at most this much of the file
MAX_CHECKED_BYTES = 1 << 20
#: the largest task file of --tasks-dir read (a task is a few KB)
TASK_FILE_LIMIT = 16 << 20


@dataclass(frozen=True)
class FileCheck:
    """A file under the sandbox's HOME: its text ``equals`` / ``contains`` a string, or it is ``absent``."""

    path: str
    kind: str
    text: str = ""

    def judge(self, home: Path) -> tuple[bool, str]:
        target = home / self.path
        # an app in the sandbox may have made the path a link: follow it only while it stays inside HOME
        if not target.resolve().is_relative_to(home.resolve()):
            return False, f"{self.path} points outside the sandbox's HOME; not read"
        try:
            # non-blocking: an app may have left a FIFO there, which a plain open would wait on forever
            with open(os.open(target, os.O_RDONLY | os.O_NONBLOCK), "rb") as f:
                if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                    return False, f"{self.path} is not a regular file; not read"
                content: str | None = f.read(MAX_CHECKED_BYTES).decode("utf-8", errors="replace")
        except FileNotFoundError:
            content = None
        except OSError as e:
            return False, f"{self.path}: cannot read it ({e.strerror or e})"
        if self.kind == "absent":
            return content is None, f"{self.path} is {'absent' if content is None else 'there'} (expected absent)"
        if content is None:
            return False, f"{self.path} does not exist (expected it to {self.kind.rstrip('s')} {self.text!r})"
        ok = content == self.text if self.kind == "equals" else self.text in content
        return ok, f"{self.path} holds {content[:200]!r} (expected it to {self.kind.rstrip('s')} {self.text!r})"


@dataclass(frozen=True)
class ScreenCheck:
    """A box of the screen (x0, y0, x1, y1 in screen pixels) looks different at the end than at the start."""

    box: tuple[int, int, int, int]

    def judge(self, start: Any, end: Any) -> tuple[bool, str]:
        import numpy as np

        if start is None or end is None or start.size != end.size:
            return False, f"screen box {list(self.box)}: no start and end screenshots of one size to compare"
        a = np.asarray(start.convert("RGB").crop(self.box), dtype=np.int16)
        b = np.asarray(end.convert("RGB").crop(self.box), dtype=np.int16)
        share = float((np.abs(a - b).max(axis=-1) > PIXEL_DIFF_MIN).mean()) if a.size else 0.0
        return share >= SCREEN_CHANGE_MIN, (f"screen box {list(self.box)}: {share:.1%} of its pixels changed "
                                            f"(expected at least {SCREEN_CHANGE_MIN:.0%})")


@dataclass(frozen=True)
class DesktopTask:
    """One task, read from its JSON file (see the module docstring)."""

    id: str
    instruction: str
    apps: tuple[tuple[str, ...], ...]
    checks: tuple[FileCheck | ScreenCheck, ...]
    solution: tuple[Mapping[str, Any], ...]
    max_steps: int = 10
    groups: Mapping[str, str] = field(default_factory=dict)

    @property
    def needs_sandbox(self) -> bool:
        """Apps to start or files to read: only a sandbox of the suite's own gives it that."""
        return bool(self.apps) or any(isinstance(c, FileCheck) for c in self.checks)


def parse_task(data: Any, where: str) -> DesktopTask:
    """A task from its JSON data; ConfigError naming the file and the field for anything malformed."""
    def bad(what: str) -> ConfigError:
        return ConfigError(f"desktop task {where}: {what}")

    if not isinstance(data, dict):
        raise bad("the file must hold one JSON object")
    unknown = set(data) - {"id", "instruction", "apps", "check", "solution", "max_steps", "groups"}
    if unknown:
        raise bad(f"unknown field(s) {sorted(unknown)}")
    tid, instruction = data.get("id"), data.get("instruction")
    if not isinstance(tid, str) or not tid.strip() or not all(c.isalnum() or c in "._-" for c in tid):
        raise bad(f"id must be a non-empty name of letters, digits, '.', '_' or '-', got {tid!r}")
    if not isinstance(instruction, str) or not instruction.strip():
        raise bad("instruction must be a non-empty string")
    apps = data.get("apps", [])
    if not isinstance(apps, list) or not all(
            isinstance(a, list) and a and all(isinstance(x, str) and x for x in a) for a in apps):
        raise bad("apps must be a list of argv lists of non-empty strings, e.g. [[\"xterm\", \"-e\", \"tee\", "
                  "\"out.txt\"]]")
    if any("\0" in x for a in apps for x in a):
        raise bad("apps: an argument holds a NUL character, which no program can be given")
    checks = []
    for entry in _list(data.get("check", []), "check", bad):
        if isinstance(entry, dict) and set(entry) == {"screen_changed"}:
            box = entry["screen_changed"]
            if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, int) and not isinstance(v, bool)
                                                                   and v >= 0 for v in box)
                    and box[0] < box[2] and box[1] < box[3]):
                raise bad(f"screen_changed needs a box [X0, Y0, X1, Y1] of whole pixels, got {box!r}")
            checks.append(ScreenCheck(tuple(box)))  # type: ignore[arg-type]
            continue
        if not isinstance(entry, dict) or set(entry) - {"file", *CHECK_KINDS} or \
                len(set(entry) & set(CHECK_KINDS)) != 1:
            raise bad(f"each check is {{\"file\": PATH, \"equals\"|\"contains\": TEXT}} or {{\"file\": PATH, "
                      f"\"absent\": true}}, got {entry!r}")
        path = entry.get("file")
        parts = PurePosixPath(path).parts if isinstance(path, str) else ()
        if "\0" in (path if isinstance(path, str) else ""):
            raise bad(f"check file {path!r} holds a NUL character")
        if not parts or PurePosixPath(path).is_absolute() or ".." in parts or "\\" in path:
            raise bad(f"check file must be a relative path inside the sandbox's HOME, got {path!r}")
        kind = next(k for k in CHECK_KINDS if k in entry)
        text = entry[kind]
        if (kind == "absent" and text is not True) or (kind != "absent" and not isinstance(text, str)):
            raise bad(f"check {kind!r} needs {'true' if kind == 'absent' else 'a string'}, got {text!r}")
        checks.append(FileCheck(path, kind, "" if kind == "absent" else text))
    if not checks:
        raise bad("check must name at least one file or screen box to judge the end state by")
    solution = tuple(_step(s, len(apps), bad) for s in _list(data.get("solution", []), "solution", bad))
    max_steps = data.get("max_steps", 10)
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or not 1 <= max_steps <= 200:
        raise bad(f"max_steps must be a whole number from 1 to 200, got {max_steps!r}")
    groups = data.get("groups", {})
    if not isinstance(groups, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in groups.items()):
        raise bad("groups must map names to strings, e.g. {\"skill\": \"type\"}")
    return DesktopTask(tid, instruction, tuple(tuple(a) for a in apps), tuple(checks), solution, max_steps,
                       dict(groups))


def _list(value: Any, name: str, bad: Any) -> list:
    if not isinstance(value, list):
        raise bad(f"{name} must be a list")
    return value


def _step(step: Any, n_apps: int, bad: Any) -> Mapping[str, Any]:
    kinds = set(step) & set(STEP_KINDS) if isinstance(step, dict) else set()
    if len(kinds) != 1:
        raise bad(f"each solution step has one of {', '.join(STEP_KINDS)}, got {step!r}")
    kind = kinds.pop()
    value = step[kind]
    if kind == "click":
        app = value.get("app") if isinstance(value, dict) else None
        at = value.get("at", [0.5, 0.5]) if isinstance(value, dict) else None
        point = value.get("point") if isinstance(value, dict) else None
        on_app = not isinstance(app, bool) and isinstance(app, int) and 0 <= app < n_apps and \
            isinstance(at, list) and len(at) == 2 and all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in at)
        on_point = app is None and isinstance(point, list) and len(point) == 2 and \
            all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in point)
        if not (on_app or on_point) or step.get("button", "left") not in ("left", "right", "middle"):
            raise bad(f"a click step is {{\"click\": {{\"app\": INDEX, \"at\": [FX, FY]}}}} (a point of the app's "
                      f"window, as fractions of it) or {{\"click\": {{\"point\": [X, Y]}}}}, with an optional "
                      f"\"button\": left|right|middle; got {step!r}")
    elif kind == "type" and not (isinstance(value, str) and isinstance(step.get("submit", False), bool)):
        raise bad(f"a type step is {{\"type\": TEXT, \"submit\": BOOL}}, got {step!r}")
    elif kind == "hotkey" and not (isinstance(value, list) and value and all(isinstance(k, str) for k in value)):
        raise bad(f"a hotkey step is {{\"hotkey\": [KEY, ...]}}, got {step!r}")
    elif kind == "finished" and not (value is None or isinstance(value, str)):
        raise bad(f"a finished step is {{\"finished\": TEXT}}, got {step!r}")
    return dict(step)


def load_tasks(tasks_dir: str | None = None) -> list[DesktopTask]:
    """The built-in tasks, or every ``*.json`` task of ``tasks_dir``, sorted by id.

    Raises:
        ConfigError: the folder is missing or empty, a file is malformed, two tasks share an id.
    """
    path: Path | None = None  # the user's folder, whose files are read with care
    if tasks_dir is None:
        folder = resources.files("guiagent.agent.evaluation") / "desktop_tasks"
        files = sorted((f for f in folder.iterdir() if f.name.endswith(".json")), key=lambda f: f.name)
    else:
        path = Path(tasks_dir).expanduser()
        if not path.is_dir():
            raise ConfigError(f"--tasks-dir {tasks_dir}: not a folder of desktop task files (*.json)")
        files = sorted(path.glob("*.json"))
        if not files:
            raise ConfigError(f"--tasks-dir {tasks_dir}: no *.json task files in it")
    tasks: dict[str, DesktopTask] = {}
    for f in files:
        try:
            # the user's folder may hold links to devices or to files elsewhere: only its own regular files are read
            text = f.read_text(encoding="utf-8") if path is None else read_text(f, limit=TASK_FILE_LIMIT, inside=path)
            data = loads(text)
        except OSError as e:
            raise ConfigError(f"desktop task {f.name}: not readable ({e})") from e
        except ValueError as e:
            raise ConfigError(f"desktop task {f.name}: {e}") from None
        task = parse_task(data, f.name)
        if task.id in tasks:
            raise ConfigError(f"desktop task {f.name}: id {task.id!r} is used twice")
        tasks[task.id] = task
    return [tasks[k] for k in sorted(tasks)]


@dataclass(frozen=True)
class DesktopSuite:
    """Real-desktop tasks on a sandbox per episode, or on worker i's own VNC endpoint.

    Args:
        env: "sandbox" or "vnc".
        endpoints: for "vnc": one "HOST:PORT" per worker ("h:p,h:p", a list, or "@FILE").
        tasks_dir: a folder of desktop task files to use instead of the built-in ones.
        width, height: the sandbox's screen size.
    """

    env: str = "sandbox"
    endpoints: tuple[str, ...] | str = ()
    tasks_dir: str | None = None
    width: int = 1280
    height: int = 800

    name: ClassVar[str] = "desktop"
    group_by: ClassVar[tuple[str, ...]] = ("skill",)

    def __post_init__(self) -> None:
        if self.env not in ENVS:
            raise ConfigError(f"the desktop suite runs on --env sandbox or --env vnc, got {self.env!r}")
        if self.env == "vnc" or self.endpoints:
            # checked and normalised here, in the parent: a bad list is a usage error before any worker starts
            object.__setattr__(self, "endpoints", self.worker_envs().endpoints)

    def worker_envs(self) -> Any:
        """The per-worker env factory (``WorkerEnvs``): a new sandbox per call, or worker i's endpoint."""
        from guiagent.envs.sandbox.workers import WorkerEnvs

        if self.env == "sandbox":
            return WorkerEnvs.parse("sandbox", {"width": self.width, "height": self.height}, self.endpoints or None)
        return WorkerEnvs.parse("vnc", {}, self.endpoints or None)

    @property
    def max_workers(self) -> int | None:
        """VNC: one worker per endpoint; sandbox: no limit but the machine's."""
        return len(self.endpoints) if self.env == "vnc" else None

    def options(self) -> dict[str, Any]:
        # the endpoints are where it runs, not what is evaluated: a resume may use other machines
        out: dict[str, Any] = {"env": self.env}
        if self.env == "sandbox":
            out.update(width=self.width, height=self.height)
        if self.tasks_dir is not None:
            out["tasks_dir"] = self.tasks_dir
        return out

    def tasks(self, ids: Sequence[str] | None = None, where: Mapping[str, str] | None = None) -> list[TaskRef]:
        if where:
            raise ConfigError(f"the desktop suite has no filter {sorted(where)}; select tasks with --tasks ID,ID")
        tasks = load_tasks(self.tasks_dir)
        if ids:
            selected, missing = select_ids(tasks, ids)
            if missing:
                raise ConfigError(f"unknown desktop task(s) {', '.join(missing)}; the tasks are: "
                                  f"{', '.join(t.id for t in tasks)}")
            tasks = selected
        if self.env == "vnc":
            local = [t.id for t in tasks if t.needs_sandbox]
            if local:
                raise ConfigError(f"desktop task(s) {', '.join(local)} start apps or read files, which the suite can "
                                  f"only do in a sandbox of its own: run them with --env sandbox")
        return [TaskRef(t.id, {"skill": "other", **t.groups}, t.max_steps) for t in tasks]

    def build(self, spec: EpisodeSpec, worker: WorkerContext) -> Episode:
        task = {t.id: t for t in load_tasks(self.tasks_dir)}.get(spec.task)
        if task is None:
            raise ConfigError(f"desktop task {spec.task!r} is gone from its folder")
        factory = worker.resource(("desktop-envs", self.env, self.endpoints), self.worker_envs)
        env = factory(worker.slot)
        try:
            windows = [_start_app(env, argv) for argv in task.apps]
            start = env.observe().screenshot if any(isinstance(c, ScreenCheck) for c in task.checks) else None
        except BaseException:
            env.close()
            raise
        home = Path(env.home) if hasattr(env, "home") else None

        def oracle(profile: Any) -> Any:
            from guiagent.agent.evaluation.desktop_oracle import DesktopOracle

            return DesktopOracle(env, profile, task.solution, windows)

        env.scripted_model = oracle  # what --model scripted plays: this task's solution (agent.spec)

        def check() -> CheckOutcome:
            return judge(task.checks, home, env, start)

        if self.env == "sandbox":
            env_options: dict[str, Any] = {"width": self.width, "height": self.height,
                                           "apps": [shlex.join(a) for a in task.apps]}
            info = {"screen": env.sandbox.display}
        else:
            env_options = {"server": env.server}
            info = {"screen": f"vnc:{env.server}", "worker_slot": worker.slot}
        # a terminal redraws asynchronously: a short wait keeps screenshots in step with the actions
        return Episode(env, task.instruction, check, task.max_steps, env_options, {"wait_s": 0.3}, info=info)


def _start_app(env: Any, argv: Sequence[str]) -> int:
    """Start one app in the env's sandbox; returns the id of the window it showed (the oracle clicks it)."""
    box = getattr(env, "sandbox", None)
    if box is None:
        raise EnvError("apps can only be started in a sandbox")
    before = box.windows()
    env.start_app(list(argv))
    new = box.windows() - before
    if not new:
        raise EnvError(f"{argv[0]} showed no window")
    return min(new)


def judge(checks: Sequence[FileCheck | ScreenCheck], home: Path | None, env: Any, start: Any) -> CheckOutcome:
    """Every check on the files under ``home`` and the env's screen against ``start``, retried for a short while
    (apps write and redraw asynchronously)."""
    screen = any(isinstance(c, ScreenCheck) for c in checks)
    deadline = time.monotonic() + (SCREEN_SETTLE_S if screen else CHECK_SETTLE_S)
    while True:
        end = env.observe().screenshot if screen else None
        verdicts = [c.judge(start, end) if isinstance(c, ScreenCheck) else
                    c.judge(home) if home is not None else (False, "this env has no HOME the suite can read")
                    for c in checks]
        if all(ok for ok, _ in verdicts) or time.monotonic() > deadline:
            failed = [why for ok, why in verdicts if not ok]
            return CheckOutcome(not failed, tuple(failed or [why for _, why in verdicts]))
        time.sleep(0.2 if screen else 0.1)
