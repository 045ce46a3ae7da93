"""Every Python block in README.md and docs/*.md runs, so the docs cannot drift from the code.

How a block runs:
- in a fresh namespace, in an empty working folder that links ``examples/`` (paths in the docs are written from the
  repository root); a block right after the line ``<!-- docs-test: continue -->`` continues the namespace of the
  block before it (for step-by-step pages like docs/quickstart.md);
- a block that defines ``test_`` functions is a test module: it runs under pytest with guiagent's plugin, with
  ``guiagent_tasks_dir`` set to ``examples/user_project/tasks``, and every test in it must pass;
- a block after ``<!-- docs-test: x11 -->`` drives the real desktop: it runs in a child process on a private Xvfb;
- ``http://localhost:8000/v1`` (the vLLM server the docs talk to) is served by a local stub OpenAI server whose
  model is "UI-TARS-1.5-7B" and whose answer is ``finished()``; ``/models/Kimi-VL-A3B-Instruct`` (docs/kimi-vl.md)
  becomes a tiny random checkpoint in the official layout, next to the a.png / b.png it opens. Those two are the
  only things changed in a block.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import traceback
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

from guiagent.testing.stub_openai import StubOpenAI

REPO = Path(__file__).resolve().parent.parent
DOC_FILES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SERVER_URL = "http://localhost:8000/v1"
DIRECTIVE = re.compile(r"<!--\s*docs-test:\s*([a-z0-9-]+)\s*-->")
DONE = "Thought: done\nAction: finished(content='')"
KIMI_PATH = "/models/Kimi-VL-A3B-Instruct"
PLUGIN_ARGS = () if any(ep.name == "guiagent" for ep in __import__("importlib.metadata").metadata.entry_points(
    group="pytest11")) else ("-p", "guiagent.testing.plugin")



@dataclass
class Block:
    path: Path
    line: int          # 1-based line of the opening fence
    code: str
    directive: str | None

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"

    @property
    def is_test_module(self) -> bool:
        return re.search(r"^def test_", self.code, re.M) is not None


def python_blocks(path: Path) -> list[Block]:
    """The ```python blocks of a Markdown file, with the docs-test directive on the line before each."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```python":
            start = i
            j = i + 1
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            if j == len(lines):
                raise AssertionError(f"{path.name}:{start + 1}: a ```python block is never closed")
            before = lines[start - 1] if start > 0 else ""
            match = DIRECTIVE.search(before)
            blocks.append(Block(path, start + 1, textwrap.dedent("\n".join(lines[start + 1:j])) + "\n",
                                match.group(1) if match else None))
            i = j + 1
        else:
            i += 1
    return blocks


def test_the_harness_sees_every_block():
    for path in DOC_FILES:
        text = path.read_text(encoding="utf-8")
        assert len(python_blocks(path)) == text.count("```python\n"), path
        for directive in DIRECTIVE.findall(text):
            assert directive in ("continue", "x11"), f"{path.name}: unknown docs-test directive {directive!r}"
    assert len(python_blocks(REPO / "README.md")) >= 5
    assert {p.name for p in DOC_FILES} >= {"README.md", "quickstart.md", "testing.md", "tasks.md", "mock-desktop.md"}


def tiny_kimi_checkpoint(folder: Path) -> Path:
    """A tiny Kimi-VL checkpoint and the two screenshots (a.png, b.png) docs/kimi-vl.md opens, in ``folder``."""
    from PIL import Image

    from guiagent.models.kimi_vl.testing import write_tiny_checkpoint

    for name, size in (("a.png", (320, 200)), ("b.png", (200, 320))):
        Image.new("RGB", size, (40, 90, 160)).save(folder / name)
    return write_tiny_checkpoint(folder / "Kimi-VL-A3B-Instruct")


@pytest.fixture(scope="module")
def docs_server():
    with StubOpenAI(models=("UI-TARS-1.5-7B",), default_text=DONE) as stub:
        yield stub


@pytest.fixture
def docs_folder(tmp_path, monkeypatch):
    (tmp_path / "examples").symlink_to(REPO / "examples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_python_blocks_run(path, docs_server, docs_folder, tmp_path_factory, request, monkeypatch):
    namespace: dict = {}
    test_modules: list[tuple[Block, str]] = []
    for block in python_blocks(path):
        code = block.code.replace(SERVER_URL, docs_server.url)
        if KIMI_PATH in code:  # the Kimi-VL page's checkpoint: a tiny random one in the official layout
            code = code.replace(KIMI_PATH, str(tiny_kimi_checkpoint(docs_folder)))
        if block.directive == "x11":
            run_on_xvfb(block, code, request)
            continue
        if block.is_test_module:
            test_modules.append((block, code))
            continue
        if block.directive != "continue":
            # a real module, so that classes defined in a block (dataclasses) find their module
            module = types.ModuleType(f"docs_block_{block.line}")
            monkeypatch.setitem(sys.modules, module.__name__, module)
            namespace = module.__dict__
        failure = None
        try:
            exec(compile(code, block.where, "exec"), namespace)  # noqa: S102 - our own documentation
        except BaseException:  # noqa: BLE001 - reported below, outside the handler (no chained traceback)
            failure = traceback.format_exc(limit=-3)
        if failure:
            pytest.fail(f"the Python block at {block.where} fails (line numbers count from the block's first "
                        f"line):\n{failure}", pytrace=False)
    if test_modules:
        run_as_tests(path, test_modules, tmp_path_factory.mktemp("doc_tests"))


def run_as_tests(path: Path, modules: list[tuple[Block, str]], folder: Path) -> None:
    """Run the test-module blocks of one file in one pytest session (test_docs_block_<line>.py each), in a child
    process, as a user runs them. (Not pytester: its fixture unloads, after the test, every module first imported
    during it, and modules like httpcore do not survive being imported twice in one process.)"""
    (folder / "pytest.ini").write_text(
        f"[pytest]\nguiagent_tasks_dir = {REPO / 'examples' / 'user_project' / 'tasks'}\n", encoding="utf-8")
    for block, code in modules:
        (folder / f"test_docs_block_{block.line}.py").write_text(code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
    result = subprocess.run([sys.executable, "-m", "pytest", *PLUGIN_ARGS, "-p", "no:cacheprovider", "-q"],
                            cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    if result.returncode != 0 or re.search(r"failed|error|skipped|xfail", summary):
        pytest.fail(f"tests in the Python blocks of {path.relative_to(REPO)} do not pass (test_docs_block_N.py is "
                    f"the block at line N):\n{result.stdout[-4000:]}{result.stderr[-2000:]}", pytrace=False)
    defined = sum(len(re.findall(r"^def test_", code, re.M)) for _, code in modules)
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    assert passed >= defined, result.stdout[-2000:]


def run_on_xvfb(block: Block, code: str, request: pytest.FixtureRequest) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from desktop_apps.xserver import Xvfb

    request.getfixturevalue("xauthority")
    server = Xvfb(1280, 800).start()
    try:
        env = {**server.env, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
        result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    finally:
        server.stop()
    if result.returncode != 0:
        pytest.fail(f"the Python block at {block.where} fails on Xvfb:\n{result.stderr[-3000:]}", pytrace=False)
