"""guiagent's pytest plugin: fixtures for testing agents, prompts, parsers and serving configs offline.

pytest loads it through the ``pytest11`` entry point whenever guiagent is installed next to pytest
(``pip install 'guiagent[test]'``); ``pytest --fixtures`` lists its fixtures. See docs/testing.md.

Options: ``--guiagent-tasks-dir DIR`` or the ini setting ``guiagent_tasks_dir`` (relative to the rootdir) name a
folder of your own task files, which the fixtures then look task ids up in instead of the built-in suite.

This module imports nothing from guiagent until a fixture is used, so it costs nothing in other test suites.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TASKS_DIR_INI = "guiagent_tasks_dir"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--guiagent-tasks-dir`` and the ``guiagent_tasks_dir`` ini setting (pytest hook)."""
    group = parser.getgroup("guiagent", "guiagent test kit")
    group.addoption("--guiagent-tasks-dir", metavar="DIR", default=None,
                    help="folder of your own mock desktop task files (*.json) that the guiagent fixtures take "
                         "task ids from first (default: the ini setting guiagent_tasks_dir); other ids come from "
                         "the built-in suite")
    parser.addini(TASKS_DIR_INI, "folder of task files for the guiagent fixtures, relative to the rootdir",
                  default="")


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``mock_desktop`` marker so ``--strict-markers`` accepts it (pytest hook)."""
    config.addinivalue_line(
        "markers", "mock_desktop(task=None, width=1280, height=800, scale=1.0, initial_state=None, tasks_dir=None): "
                   "how the guiagent `mock_desktop` fixture builds its desktop")


@pytest.fixture
def guiagent_tasks_dir(request: pytest.FixtureRequest) -> Path | None:
    """The folder of your own task files (--guiagent-tasks-dir or ini guiagent_tasks_dir), or None."""
    config = request.config
    given = config.getoption("--guiagent-tasks-dir", default=None)
    if given:
        return Path(given).expanduser().resolve()
    try:
        ini = config.getini(TASKS_DIR_INI)
    except ValueError:  # the plugin was registered after the ini settings were read
        ini = ""
    if ini:
        return (Path(str(config.rootpath)) / str(ini)).resolve()
    return None


def find_task(task_id: str, tasks_dir: str | Path | None) -> Any:
    """The task ``task_id``: from ``tasks_dir`` when it has one by that id, else from the built-in suite.

    Raises:
        ConfigError: a task file in ``tasks_dir`` is invalid, or neither place has the id (close matches named).
    """
    from guiagent.envs.mock.tasks import get_task, load_suite

    if tasks_dir is None:
        return get_task(task_id)
    own = _own_tasks(Path(tasks_dir).expanduser().resolve())
    for task in own:
        if task.id == task_id:
            return task
    if any(task.id == task_id for task in load_suite()):
        return get_task(task_id)
    return get_task(task_id, tasks_dir)  # raises, naming the folder's ids


#: validated task folders, by (folder, each file's name, size and mtime): a test session checks each version once
_OWN_TASKS: dict[tuple, list[Any]] = {}


def _own_tasks(folder: Path) -> list[Any]:
    from guiagent.envs.mock.tasks import load_suite

    try:
        key = (folder, tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.json"))))
    except OSError:
        key = None
    if key is None or key not in _OWN_TASKS:
        tasks = load_suite(folder)  # validates every file of the folder (ConfigError when one is wrong)
        if key is None:
            return tasks
        _OWN_TASKS[key] = tasks
    return _OWN_TASKS[key]


@pytest.fixture
def make_mock_desktop(guiagent_tasks_dir: Path | None) -> Iterator[Any]:
    """Factory: make_mock_desktop(task=None, width=1280, height=800, scale=1.0, initial_state=None) -> MockDesktop.

    ``task`` is an id (looked up in the configured tasks folder, then in the built-in suite; ``tasks_dir=``
    overrides the folder) or a ``Task``. Every desktop made is closed after the test.
    """
    made: list[Any] = []

    def make(task: Any = None, *, width: int = 1280, height: int = 800, scale: float = 1.0,
             initial_state: dict | None = None, tasks_dir: str | Path | None = None, **options: Any) -> Any:
        from guiagent.envs.mock import MockDesktop

        if isinstance(task, str):
            task = find_task(task, tasks_dir if tasks_dir is not None else guiagent_tasks_dir)
        desk = MockDesktop(width, height, scale, task=task, initial_state=initial_state, **options)
        made.append(desk)
        return desk

    yield make
    for desk in made:
        desk.close()


@pytest.fixture
def mock_desktop(request: pytest.FixtureRequest, make_mock_desktop: Any) -> Any:
    """A fresh 1280x800 MockDesktop, closed after the test; @pytest.mark.mock_desktop(task=..., ...) configures it."""
    marker = request.node.get_closest_marker("mock_desktop")
    args = list(marker.args) if marker else []
    kwargs = dict(marker.kwargs) if marker else {}
    if getattr(request, "param", None) is not None:  # indirect parametrisation: a task id or a dict of options
        param = request.param
        kwargs.update(param if isinstance(param, dict) else {"task": param})
    return make_mock_desktop(*args, **kwargs)


@pytest.fixture
def canned_model() -> Any:
    """Factory: canned_model(answers) -> CannedModel answering from a list of texts or a function (call, messages)."""
    from guiagent.testing.models import CannedModel

    return CannedModel


@pytest.fixture
def scripted_model(make_mock_desktop: Any) -> Any:
    """Factory: scripted_model(task_or_desktop, family="ui-tars-1.5") -> the model that solves that mock task."""

    def make(task_or_desktop: Any, family: str = "ui-tars-1.5") -> Any:
        from guiagent.agent.spec import load_model

        desk = task_or_desktop
        if not hasattr(desk, "accessibility_tree"):
            desk = make_mock_desktop(task_or_desktop)
        if getattr(desk, "task", None) is None:
            raise ValueError("the scripted model solves a task: give a task id or a desktop made with a task")
        return load_model("scripted", family=family, env=desk).model

    return make


@pytest.fixture
def make_openai_stub() -> Iterator[Any]:
    """Factory: make_openai_stub(models=("stub-model",), max_images=None, api_key=None) -> a started StubOpenAI."""
    from guiagent.testing.stub_openai import StubOpenAI

    stubs: list[StubOpenAI] = []

    def make(models: tuple[str, ...] = ("stub-model",), **options: Any) -> StubOpenAI:
        stub = StubOpenAI(tuple(models), **options).start()
        stubs.append(stub)
        return stub

    yield make
    for stub in stubs:
        stub.stop()


@pytest.fixture
def openai_stub(make_openai_stub: Any) -> Any:
    """A local OpenAI-compatible server on 127.0.0.1 (scripted replies, errors, hangs; records requests); .spec."""
    return make_openai_stub()


@pytest.fixture
def run_agent(tmp_path: Path, guiagent_tasks_dir: Path | None) -> Iterator[Any]:
    """Factory: run_agent(task, model="scripted", **options) -> AgentRun (outcome, check, run_dir, env ...).

    Runs guiagent.testing.run_task with run folders under the test's tmp_path/runs; a task id is looked up in
    the configured tasks folder, then in the built-in suite. Every run's desktop is closed after the test.
    """
    from guiagent.testing.runner import run_task

    runs: list[Any] = []

    def run(task: Any = None, model: Any = "scripted", **options: Any) -> Any:
        options.setdefault("out_dir", tmp_path / "runs")
        if isinstance(task, str):
            task = find_task(task, options.pop("tasks_dir", guiagent_tasks_dir))
        result = run_task(task, model, **options)
        runs.append(result)
        return result

    yield run
    for result in runs:
        result.close()
