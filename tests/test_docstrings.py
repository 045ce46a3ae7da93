"""Public functions, methods and classes carry a docstring, read from the source (no import needed).

"Public" means a name without a leading underscore, defined at module level or in a public class (methods of
nested public classes too), in a module whose name has no leading underscore. Functions defined inside functions
are implementation details and are not counted.

``COVERED`` lists the parts of the package where every public definition must have a docstring; ``NOT_YET``
lists the parts inside them that are still owed one. Run this file directly to print the count over the whole
package: ``python tests/test_docstrings.py``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import NamedTuple

PACKAGE = Path(__file__).resolve().parent.parent / "guiagent"

#: paths relative to the package: a folder (ending in "/") or one file
COVERED = ("agent/", "cli/", "envs/mock/", "envs/desktop/", "models/", "_imaging/", "errors.py", "testing/")
NOT_YET = ("agent/spec.py", "agent/evaluation/", "envs/mock/input.py", "envs/desktop/executor.py",
           "models/local_backend.py", "models/kimi_vl/")


class Definition(NamedTuple):
    path: str        # relative to the package, e.g. "envs/mock/fs.py"
    name: str        # dotted within the module, e.g. "FileSystem.read"
    line: int
    documented: bool


def public_definitions(source: str, path: str = "<string>") -> list[Definition]:
    """Every public function, method and class of a module's source, with whether it has a docstring.

    Args:
        source: the module's text.
        path: what ``Definition.path`` says.

    Returns:
        The definitions in source order; an empty or blank docstring counts as none.
    """
    found: list[Definition] = []

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            if node.name.startswith("_"):
                continue
            doc = ast.get_docstring(node)
            found.append(Definition(path, prefix + node.name, node.lineno, bool(doc and doc.strip())))
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")
            # a function's body is not visited: functions defined inside functions are not public API

    visit(ast.parse(source, path).body, "")
    return found


def module_paths(area: str = "") -> list[str]:
    """The package's module files under ``area`` (relative paths), private modules left out.

    A module is private when its file name or a folder above it starts with "_" (``__init__.py`` and
    ``__main__.py`` are public); ``area`` itself may be a private folder such as ``_imaging/``.
    """
    out = []
    for file in sorted(PACKAGE.rglob("*.py")):
        rel = file.relative_to(PACKAGE).as_posix()
        if not rel.startswith(area):
            continue
        inner = rel if not area else rel[len(area):] if area.endswith("/") else file.name
        parts = inner.split("/")
        if any(p.startswith("_") and p not in ("__init__.py", "__main__.py") for p in parts):
            continue
        out.append(rel)
    return out


def definitions_in(area: str = "") -> list[Definition]:
    """The public definitions of every public module under ``area``."""
    return [d for rel in module_paths(area)
            for d in public_definitions((PACKAGE / rel).read_text(encoding="utf-8"), rel)]


def owed(path: str) -> bool:
    """Whether ``path`` lies in a part of the package that is not required to be documented yet."""
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in NOT_YET)


# ---------------------------------------------------------------------------------------------- the walker


def test_walker_counts_public_definitions_and_methods_but_not_nested_functions():
    source = '''
def documented():
    """Yes."""
    def inner():
        pass

def bare():
    pass

def _private():
    pass

class Thing:
    """A thing."""
    def method(self):
        pass
    def _helper(self):
        pass
    @property
    def value(self):
        """The value."""
    class Inner:
        def deep(self):
            """Deep."""

class _Hidden:
    def method(self):
        pass

async def fetch():
    """"""
'''
    found = {d.name: d.documented for d in public_definitions(source)}
    assert found == {"documented": True, "bare": False, "Thing": True, "Thing.method": False, "Thing.value": True,
                     "Thing.Inner": False, "Thing.Inner.deep": True, "fetch": False}


def test_module_paths_leave_out_private_modules_but_accept_a_private_area():
    everything = module_paths()
    assert "errors.py" in everything and "cli/__init__.py" in everything
    assert not any(p.startswith("_imaging/") for p in everything)
    imaging = module_paths("_imaging/")
    assert imaging and all(p.startswith("_imaging/") for p in imaging)


# ---------------------------------------------------------------------------------------------- the rule


def test_every_covered_area_exists_and_has_public_definitions():
    # a renamed folder must not make the rule below pass by checking nothing
    empty = [area for area in COVERED if not [d for d in definitions_in(area) if not owed(d.path)]]
    assert not empty, f"covered areas with no public definitions (renamed or moved?): {empty}"


def test_public_definitions_in_covered_areas_have_docstrings():
    missing = [d for area in COVERED for d in definitions_in(area) if not owed(d.path) and not d.documented]
    assert not missing, (
        f"{len(missing)} public definitions without a docstring (write one: a summary line, then Args/Returns/"
        f"Raises where they apply; or make the name private with a leading underscore):\n"
        + "\n".join(f"  guiagent/{d.path}:{d.line}: {d.name}" for d in missing))


if __name__ == "__main__":
    defs = definitions_in()
    done = sum(d.documented for d in defs)
    print(f"public definitions with a docstring: {done} of {len(defs)} ({done / len(defs):.0%})")
    for area in COVERED:
        sub = [d for d in definitions_in(area) if not owed(d.path)]
        print(f"  {area:16} {sum(d.documented for d in sub)} of {len(sub)}")
    sys.exit(0)
