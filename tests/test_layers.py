"""The layer rule, read from the source: actions <- models <- envs <- agent <- cli; a layer imports only below it.

Every import counts, also one inside a function (a lazy import is still a dependency). ``errors`` and the private
``_jsonio`` (JSON from outside) and ``_imaging`` (resize, PNG, prepared screenshots) are the floor everyone may use; ``guiagent/__init__.py`` (the
public API) and ``__main__`` sit above everything.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "guiagent"
#: bottom to top
LAYERS = ("errors", "_jsonio", "_imaging", "actions", "models", "envs", "agent", "cli")
RANK = {name: rank for rank, name in enumerate(LAYERS)}


def layer_of(module: str) -> str | None:
    """The layer of a dotted guiagent module name (``guiagent.agent.spec`` -> ``models``), else None."""
    parts = module.split(".")
    if parts[0] != "guiagent" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in RANK else None


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) of every import in a file, relative ones resolved against its package."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            if base == "guiagent":  # from guiagent import models
                found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, base))
    return found


def layer_violations() -> list[str]:
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        own = layer_of(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts))
        if own is None:
            continue
        for line, module in imported_modules(path):
            target = layer_of(module)
            if target is not None and RANK[target] > RANK[own]:
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line} ({own}) imports {module} ({target})")
    return bad


def test_layers_import_only_downwards():
    bad = layer_violations()
    assert not bad, "a lower layer imports an upper one:\n" + "\n".join(bad)


@pytest.mark.parametrize("layer", LAYERS[:-1])
def test_every_layer_exists(layer):
    # guards the test itself: a renamed layer would make the rule vacuous
    assert (PACKAGE / layer).is_dir() or (PACKAGE / f"{layer}.py").is_file()


def test_the_reader_sees_lazy_and_relative_imports(tmp_path, monkeypatch):
    pkg = tmp_path / "guiagent" / "models"
    pkg.mkdir(parents=True)
    (pkg / "x.py").write_text("def f():\n    from guiagent.envs.mock import MockDesktop\n"
                              "from ..agent import loop\nimport guiagent.cli.run\nfrom guiagent import envs\n"
                              "from guiagent.actions import types\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "guiagent")
    bad = layer_violations()
    assert len(bad) == 4 and all(b.startswith("guiagent/models/x.py") for b in bad), bad
