"""The mock desktop's narrow core: widgets, apps and the desktop's parts depend on the Protocols in
``guiagent.envs.mock.services``, not on MockDesktop; the package has no import cycle; a widget runs on a tiny fake."""

from __future__ import annotations

import ast
from pathlib import Path

from guiagent.envs.mock import MockDesktop
from guiagent.envs.mock.services import AppHost, DesktopCore, WidgetHost
from guiagent.envs.mock.widgets.base import KeyEvent, MouseEvent, Widget
from guiagent.envs.mock.widgets.textedit import TextField

PACKAGE = Path(__file__).resolve().parent.parent / "guiagent"


def import_graph() -> dict[str, set[str]]:
    """module -> the guiagent modules it imports (every import, TYPE_CHECKING and function-level ones too)."""
    files = {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): p
             for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                candidates = [[a.name] for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package
                    for _ in range(node.level - 1):
                        anchor = anchor.rpartition(".")[0]
                    base = f"{anchor}.{base}" if base else anchor
                candidates = [[f"{base}.{a.name}", base] for a in node.names]
            else:
                continue
            for options in candidates:  # "from pkg import module" names the module, else the package
                hit = next((c for c in options if c in files), None)
                if hit is not None and hit != name:
                    targets.add(hit)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_anywhere_in_the_layers():
    # the top-level facade (guiagent/__init__.py) names everything for type checkers; the layers must not loop
    graph = {m: {t for t in ts if t != "guiagent"} for m, ts in import_graph().items() if m != "guiagent"}
    assert cycles(graph) == []


def test_the_reader_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_only_the_assembly_modules_import_mock_desktop():
    importers = {m for m, ts in import_graph().items() if "guiagent.envs.mock.desktop" in ts}
    # the package itself, the gym adapter, the task suite (its list of initial-state keys) and the check of
    # hand-written task files (it sets their initial state up on a desktop) build or read it
    assert importers <= {"guiagent.envs.mock", "guiagent.envs.mock.gym", "guiagent.envs.mock.tasks.suite",
                         "guiagent.envs.mock.tasks.validate"}, importers


def test_mock_desktop_provides_every_service():
    d = MockDesktop()
    assert isinstance(d, WidgetHost) and isinstance(d, AppHost) and isinstance(d, DesktopCore)
    app = d.app("editor")
    assert (app.wm, app.fs, app.mail) == (d.wm, d.fs, d.mail)  # handed to the app, not reached through it


# ---------------------------------------------------------------- a widget on a tiny fake host

class FakeHost:
    """Just the WidgetHost services a text field uses: clipboard, palette, repaints, context menus."""

    palette = None
    input = None
    height = 600

    def __init__(self):
        self.clipboard = ""
        self.menus: list[list[str]] = []
        self.removed: list[Widget] = []
        self.compositor = self
        self.invalidated = 0
        self.focus: Widget | None = None

    def invalidate(self, rect) -> None:  # the compositor's one method widgets call
        self.invalidated += 1

    def focus_widget(self):
        return self.focus

    def open_popup(self, popup) -> None: ...
    def close_popups(self, top_only: bool = False) -> None: ...
    def start_drag(self, source, payload, label: str = "") -> None: ...

    def open_context_menu(self, entries, x, y, owner=None):
        self.menus.append([e.label for e in entries if e.enabled])

    def widget_removed(self, w) -> None:
        self.removed.append(w)

    widget_hidden = widget_removed


def test_a_text_field_copies_and_pastes_through_its_host():
    host = FakeHost()
    assert isinstance(host, WidgetHost)
    top = Widget("window", (0, 0, 400, 300))
    top.desktop_ref = host
    field = top.add(TextField("name", "hello world", (10, 10, 200, 24)))
    assert field.on_key(KeyEvent.from_combo("ctrl+a")) and field.on_key(KeyEvent.from_combo("ctrl+c"))
    assert host.clipboard == "hello world"
    field.on_key(KeyEvent.from_combo("end"))
    field.on_key(KeyEvent.from_combo("ctrl+v"))
    assert field.text == "hello worldhello world" and host.invalidated > 0
    field.on_context_menu(MouseEvent(20, 20, "right"))
    assert host.menus == [["Paste", "-", "Select All"]]  # nothing selected: no Cut or Copy
    top.remove(field)
    assert host.removed == [field]
