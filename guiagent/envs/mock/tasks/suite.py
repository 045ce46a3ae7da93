"""The mock desktop's task suite: one JSON file per task under ``data/``, loaded and validated into ``Task``.

A task file holds data only::

    {
      "id": "rename-file",                       # must equal the file name without .json
      "app": "files",                            # the main app (one of the six)
      "apps": ["files"],                         # every app the task touches (default: [app])
      "difficulty": "easy",                      # easy | medium | hard
      "instruction": "Rename notes.txt ...",
      "tags": ["right-click"],                   # skills the task needs (see TAGS)
      "initial_state": {...},                    # MockDesktop's initial_state (files, settings, mail, open ...)
      "check": [{"file_exists": "~/Documents/todo.txt"}, ...],    # predicates.py; all must hold
      "max_steps": 10,                           # step limit for agents
      "solution": [{"click": {...}}, ..., {"finished": null}]     # plan.py; the scripted solver's plan
    }

Everything is checked at load time, and errors name the file, the place in it and the valid choices.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from guiagent._jsonio import read_bytes
from guiagent.envs.mock.tasks.plan import PlanStep, compile_plan
from guiagent.envs.mock.tasks.predicates import (
    Predicate,
    compile_predicate,
    expand_path,
)
from guiagent.errors import ConfigError

APPS = ("files", "editor", "calculator", "settings", "mail", "webform")
#: the largest task file read: a task is a few KB; 16 MiB leaves room for big initial files, nothing more
TASK_FILE_LIMIT = 16 << 20
DIFFICULTIES = ("easy", "medium", "hard")
TAGS = ("click", "double-click", "right-click", "drag", "scroll", "shortcut", "typing", "non-ascii", "multi-app",
        "menu", "dialog", "dropdown", "slider", "toggle", "tabs", "window", "search", "clipboard", "validation")
TASK_KEYS = {"id", "app", "apps", "difficulty", "instruction", "tags", "initial_state", "check", "max_steps",
             "solution", "description"}
REQUIRED = ("id", "app", "difficulty", "instruction", "check", "max_steps", "solution")


@dataclass(frozen=True)
class CheckResult:
    """Whether a task's goal holds, with one line per predicate (failures first when it does not)."""

    success: bool
    reasons: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.success


@dataclass(frozen=True)
class Task:
    """One mock desktop task: instruction, initial state, success check, step limit and reference solution.

    Loaded from a JSON task file (the built-in suite or a user's folder); ``source`` is that file.
    """
    id: str
    app: str
    difficulty: str
    instruction: str
    initial_state: Mapping[str, Any]
    checks: tuple[Predicate, ...]
    max_steps: int
    solution: tuple[PlanStep, ...]
    apps: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    description: str = ""
    source: str = ""

    def check_state(self, state: Mapping[str, Any]) -> CheckResult:
        """Evaluate the task's checks on a ``MockDesktop.state()`` snapshot.

        Returns:
            Success when every check holds, with one reason per check (failures first).
        """
        results = [p(state) for p in self.checks]
        ok = all(r for r, _ in results)
        failed = [f"failed: {why}" for r, why in results if not r]
        passed = [f"ok: {why}" for r, why in results if r]
        return CheckResult(ok, failed + passed)

    def check(self, desktop: Any) -> CheckResult:
        """Check the goal on a MockDesktop (or on a ``state()`` mapping)."""
        state = desktop if isinstance(desktop, Mapping) else desktop.state()
        return self.check_state(state)

    def to_dict(self) -> dict[str, Any]:
        """The listing form (``guiagent tasks --json``)."""
        return {"id": self.id, "app": self.app, "apps": list(self.apps), "difficulty": self.difficulty,
                "instruction": self.instruction, "tags": list(self.tags), "max_steps": self.max_steps}


def parse_task(data: Any, source: str = "<task>", expect_id: str | None = None) -> Task:
    """Validate one task's data and compile its checks and solution."""
    from guiagent.envs.mock.desktop import INITIAL_STATE_KEYS

    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: a task file holds one JSON object, got {type(data).__name__}")
    unknown = set(data) - TASK_KEYS
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {sorted(unknown)}; valid keys: {', '.join(sorted(TASK_KEYS))}")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise ConfigError(f"{source}: missing key(s) {missing}")
    tid = data["id"]
    if not isinstance(tid, str) or not tid or not all(c.isalnum() or c == "-" for c in tid) or tid != tid.lower():
        raise ConfigError(f"{source}: id must be lower-case letters, digits and '-', got {tid!r}")
    if expect_id is not None and tid != expect_id:
        raise ConfigError(f"{source}: id {tid!r} does not match the file name {expect_id!r}.json")
    where = f"{source} ({tid})"

    def choice(key: str, value: Any, choices: tuple[str, ...]) -> str:
        if value not in choices:
            raise ConfigError(f"{where}: {key} must be one of {', '.join(choices)}, got {value!r}")
        return value

    app = choice("app", data["app"], APPS)
    apps = data.get("apps", [app])
    if not isinstance(apps, list) or app not in apps:
        raise ConfigError(f"{where}: apps must be a list of app ids that includes the main app {app!r}")
    apps = tuple(choice("apps", a, APPS) for a in apps)
    difficulty = choice("difficulty", data["difficulty"], DIFFICULTIES)
    tags = data.get("tags", [])
    if not isinstance(tags, list):
        raise ConfigError(f"{where}: tags must be a list")
    tags = tuple(choice("tags", t, TAGS) for t in tags)
    if len(apps) > 1 and "multi-app" not in tags:
        tags = tags + ("multi-app",)
    instruction = data["instruction"]
    if not isinstance(instruction, str) or not instruction.strip():
        raise ConfigError(f"{where}: instruction must be a non-empty string")
    init = data.get("initial_state", {})
    if not isinstance(init, Mapping):
        raise ConfigError(f"{where}: initial_state must be an object")
    bad = set(init) - INITIAL_STATE_KEYS
    if bad:
        raise ConfigError(f"{where}: unknown initial_state key(s) {sorted(bad)}; valid keys: "
                          f"{', '.join(sorted(INITIAL_STATE_KEYS))}")
    init = _expand_paths(init, where)
    max_steps = data["max_steps"]
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or not 1 <= max_steps <= 200:
        raise ConfigError(f"{where}: max_steps must be a whole number from 1 to 200, got {max_steps!r}")
    check = data["check"]
    if not isinstance(check, list) or not check:
        raise ConfigError(f"{where}: check must be a non-empty list of predicates")
    checks = tuple(compile_predicate(p, f"{where}: check[{i}]") for i, p in enumerate(check))
    solution = compile_plan(data["solution"], f"{where}: solution")
    if len(solution) > max_steps:
        raise ConfigError(f"{where}: the solution takes {len(solution)} steps, more than max_steps={max_steps}")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ConfigError(f"{where}: description must be a string")
    return Task(tid, app, difficulty, instruction, dict(init), checks, max_steps, solution, apps, tags, description,
                source)


def _expand_paths(init: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Task files may write paths as ``~/Documents/x.txt``; the desktop wants absolute paths."""
    out = dict(init)
    if isinstance(out.get("files"), Mapping):
        out["files"] = {expand_path(p, f"{where}: initial_state.files"): c for p, c in out["files"].items()}
    if isinstance(out.get("dirs"), list):
        out["dirs"] = [expand_path(p, f"{where}: initial_state.dirs") for p in out["dirs"]]
    if isinstance(out.get("trash"), list):
        out["trash"] = [{**t, "path": expand_path(t.get("path"), f"{where}: initial_state.trash")}
                        if isinstance(t, Mapping) else t for t in out["trash"]]
    if isinstance(out.get("open"), list):
        out["open"] = [{**o, "path": expand_path(o["path"], f"{where}: initial_state.open")}
                       if isinstance(o, Mapping) and isinstance(o.get("path"), str) and o["path"] != "trash://"
                       else o for o in out["open"]]
    return out


def load_task_file(path: str | Path, *, check_setup: bool = True, inside: str | Path | None = None) -> Task:
    """Load and validate one task file. With ``check_setup`` (the default for files users write) its initial
    state is also built on a mock desktop, and a check that already passes there is refused
    (``validate.check_task_setup``). With ``inside`` (a task folder), a file whose links lead outside it is
    refused; a file that is not a regular one or is over ``TASK_FILE_LIMIT`` always is."""
    path = Path(path)
    try:
        raw = read_bytes(path, limit=TASK_FILE_LIMIT, inside=inside)
    except (OSError, ValueError) as e:
        raise ConfigError(f"cannot read task file {path}: {e}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start}); save the task file as UTF-8 "
                          f"JSON") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid JSON: nested too deeply") from None
    task = parse_task(data, str(path), expect_id=path.stem)
    if check_setup:
        from guiagent.envs.mock.tasks.validate import check_task_setup
        check_task_setup(task)
    return task


def load_suite(folder: str | Path | None = None) -> list[Task]:
    """All tasks (the built-in suite, or every ``*.json`` in ``folder``, which replaces it), sorted by app order,
    difficulty, id. A folder's tasks are checked on the desktop too (``validate.check_task_setup``)."""
    if folder is None:
        return list(_builtin_suite())
    return _load_folder(Path(folder).expanduser())


def _load_folder(folder: Path, check_setup: bool = True) -> list[Task]:
    if not folder.is_dir():
        raise ConfigError(f"task folder {folder} is not a folder" if folder.exists()
                          else f"task folder {folder} does not exist")
    tasks = [load_task_file(p, check_setup=check_setup, inside=folder) for p in sorted(folder.glob("*.json"))]
    if not tasks:
        raise ConfigError(f"task folder {folder} holds no *.json task files")
    seen: dict[str, str] = {}
    for t in tasks:
        if t.id in seen:
            raise ConfigError(f"task id {t.id!r} is used twice: {seen[t.id]} and {t.source}")
        seen[t.id] = t.source
    return sorted(tasks, key=lambda t: (APPS.index(t.app), DIFFICULTIES.index(t.difficulty), t.id))


@lru_cache(maxsize=1)
def _builtin_suite() -> tuple[Task, ...]:
    folder = resources.files("guiagent.envs.mock.tasks") / "data"
    return tuple(_load_folder(Path(str(folder)), check_setup=False))  # the tests check the built-in setups


def get_task(task_id: str, folder: str | Path | None = None) -> Task:
    """The task called ``task_id``; ConfigError listing close matches (or all ids) when there is none."""
    tasks = load_suite(folder)
    for t in tasks:
        if t.id == task_id:
            return t
    ids = [t.id for t in tasks]
    close = difflib.get_close_matches(str(task_id), ids, n=5, cutoff=0.5)
    if folder is not None:
        hint = f"did you mean: {', '.join(close)}" if close else f"it has: {', '.join(ids)}"
        raise ConfigError(f"unknown task {task_id!r} in {folder}; {hint}")
    if close:
        raise ConfigError(f"unknown mock task {task_id!r}; did you mean: {', '.join(close)}? "
                          f"(`guiagent tasks` lists all {len(ids)})")
    raise ConfigError(f"unknown mock task {task_id!r}; the suite has: {', '.join(ids)}")
