"""Same-process A/B of the parse path: this checkout against another commit, on the corpus rows.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/parse_ab.py [--base 6545f4a] [--rounds 200] [--reps 4]

A shared machine's load changes from one second to the next, so timings from two processes (or two runs) cannot be
compared. This script imports both versions of ``guiagent`` into one process (the other commit from a ``git
archive`` copy in a temporary folder, each version keeping its own modules) and times them alternately, many short
rounds, in CPU time (``time.process_time``) with the garbage collector off, and prints the median per row.

What is timed per row is what ``guiagent parse`` does: text -> typed actions -> screenshot pixels -> JSON
(``guiagent.cli.parse.parse_to_json``). For a commit whose ``parse_to_json`` still took ``(grammar, frame,
text)``, the grammar and frame are looked up once per family and screen size, as its benchmark did.
Rows: tests/corpus/<family>.jsonl of this checkout for the UI-TARS, Kimi-VL and OpenCUA families.
Prints figures only.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import inspect
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
FAMILIES = ["ui-tars-1.0", "ui-tars-1.5", "ui-tars-2", "kimi-vl", "opencua"]

Call = tuple[Callable[..., Any], tuple[Any, ...]]


def load_rows() -> list[tuple[str, tuple[int, int], str]]:
    rows = []
    for family in FAMILIES:
        with open(ROOT / "tests" / "corpus" / f"{family}.jsonl", encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    row = json.loads(line)
                    rows.append((family, tuple(row["screen"]), row["text"]))
    return rows


def import_version(root: Path) -> dict[str, ModuleType]:
    """Import ``guiagent`` from ``root`` afresh; returns its modules (to put back in sys.modules while it runs)."""
    for name in [n for n in sys.modules if n == "guiagent" or n.startswith("guiagent.")]:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        importlib.import_module("guiagent.cli.parse")
        importlib.import_module("guiagent.models.profiles")
    finally:
        sys.path.remove(str(root))
    return {n: m for n, m in sys.modules.items() if n == "guiagent" or n.startswith("guiagent.")}


def calls_for(modules: dict[str, ModuleType], rows: list[tuple[str, tuple[int, int], str]]) -> list[Call]:
    parse_to_json = modules["guiagent.cli.parse"].parse_to_json
    get_profile = modules["guiagent.models.profiles"].get_profile
    old_api = next(iter(inspect.signature(parse_to_json).parameters)) == "grammar"
    cached: dict[tuple[str, tuple[int, int]], tuple[Any, Any]] = {}
    calls: list[Call] = []
    for family, screen, text in rows:
        profile = get_profile(family)
        if old_api:
            key = (family, screen)
            if key not in cached:
                cached[key] = (profile.parser(), profile.frame(screen))
            calls.append((parse_to_json, (*cached[key], text)))
        else:
            calls.append((parse_to_json, (profile, screen, text)))
    return calls


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="6545f4a", help="commit to compare with (default: 6545f4a)")
    ap.add_argument("--rounds", type=int, default=200, help="alternating rounds (default 200)")
    ap.add_argument("--reps", type=int, default=4, help="passes over the rows per round and version (default 4)")
    args = ap.parse_args()
    rows = load_rows()
    with tempfile.TemporaryDirectory(prefix="parse_ab_") as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.base], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        versions = {args.base: import_version(Path(tmp)), "this checkout": import_version(ROOT)}
        calls, results = {}, {}
        for name, mods in versions.items():
            sys.modules.update(mods)  # functions that import lazily must find their own version's modules
            calls[name] = calls_for(mods, rows)
            results[name] = [fn(*a) for fn, a in calls[name]]
        differ = sum(a != b for a, b in zip(*results.values()))
        times: dict[str, list[float]] = {name: [] for name in versions}
        gc.disable()
        try:
            for r in range(args.rounds):
                for name in (list(versions) if r % 2 == 0 else list(versions)[::-1]):
                    sys.modules.update(versions[name])
                    todo = calls[name]
                    start = time.process_time()
                    for _ in range(args.reps):
                        for fn, a in todo:
                            fn(*a)
                    times[name].append((time.process_time() - start) / (args.reps * len(todo)) * 1e6)
                gc.collect()
        finally:
            gc.enable()
    base = statistics.median(times[args.base])
    print(f"{len(rows)} rows, {args.rounds} alternating rounds x {args.reps} passes, CPU time per row (median)")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:14s} {median:8.2f} us   x{median / base:.3f}")
    if differ:
        print(f"  ({differ} rows give different JSON in the two versions)")


if __name__ == "__main__":
    main()
