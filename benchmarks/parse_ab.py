"""Same-process A/B of the parse path: this checkout against another commit, on the corpus rows, by family.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/parse_ab.py [--base 6545f4a] [--rounds 300]

A shared machine's speed changes from one second to the next, so timings from two processes (or two runs) cannot
be compared. This script imports both versions of ``guiagent`` into one process (the other commit from a ``git
archive`` copy in a temporary folder, each version keeping its own modules) and times them in alternating rounds,
with the garbage collector off. In each round every row is parsed three times in a row by one version, then by the
other. The figure kept for a row is its fastest such round: interference from other processes only ever adds
time, so the minimum over many rounds is the most repeatable estimate of a row's own cost (two runs agree within
about 2%, where medians of whole passes moved by 5-10%). A family's figure is the mean of its rows.

What is timed per row is what ``guiagent parse`` does: text -> typed actions -> screenshot pixels -> JSON
(``guiagent.cli.parse.parse_to_json``). For a commit whose ``parse_to_json`` still took ``(grammar, frame,
text)``, the grammar and frame are looked up once per family and screen size, as its benchmark did (so the other
version pays for the lookups and the base does not).
Rows: tests/corpus/<family>.jsonl of this checkout (UI-TARS, Kimi-VL, OpenCUA). ``benchmarks/parse.py --against``
prints the same comparison for the UI-TARS rows. Prints figures only.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import inspect
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
FAMILIES = ["ui-tars-1.0", "ui-tars-1.5", "ui-tars-2", "kimi-vl", "opencua"]
#: the last commit before the issue-11 parser work: what "no slowdown" is measured against
BEFORE_PARSER_WORK = "6545f4a"

Row = tuple[str, tuple[int, int], str]
Call = tuple[Callable[..., Any], tuple[Any, ...]]


def load_rows(families: list[str] = FAMILIES) -> list[Row]:
    """(family, screen size, text) of every corpus row of ``families``."""
    rows = []
    for family in families:
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


def calls_for(modules: dict[str, ModuleType], rows: list[Row]) -> list[Call]:
    """One ``(parse_to_json, args)`` per row for the version in ``modules``."""
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


def compare(base: str, rows: list[Row], rounds: int) -> dict[str, dict[str, float]]:
    """Time ``rows`` in the ``base`` commit and in this checkout, alternately.

    Args:
        base: a commit of this repository.
        rows: the rows to time.
        rounds: alternating rounds (each version parses every row three times per round).

    Returns:
        ``{family: {"base": us, "this": us, "rows": n, "differ": k}}``, microseconds per parse (mean over the
        family's rows of each row's fastest round); ``differ`` counts rows whose JSON differs between versions.

    Raises:
        subprocess.CalledProcessError: ``base`` is not a commit of this repository.
    """
    with tempfile.TemporaryDirectory(prefix="parse_ab_") as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", base], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        versions = {"base": import_version(Path(tmp)), "this": import_version(ROOT)}
        calls, results = {}, {}
        for name, mods in versions.items():
            sys.modules.update(mods)  # functions that import lazily must find their own version's modules
            calls[name] = calls_for(mods, rows)
            results[name] = [fn(*a) for fn, a in calls[name]]
        best = {name: [float("inf")] * len(rows) for name in versions}
        clock = time.perf_counter
        gc.disable()
        try:
            for r in range(rounds):
                for name in (list(versions) if r % 2 == 0 else list(versions)[::-1]):
                    sys.modules.update(versions[name])
                    fastest = best[name]
                    for i, (fn, a) in enumerate(calls[name]):
                        start = clock()
                        fn(*a)
                        fn(*a)
                        fn(*a)
                        took = clock() - start
                        if took < fastest[i]:
                            fastest[i] = took
                if r % 20 == 19:
                    gc.collect()
        finally:
            gc.enable()
    table: dict[str, dict[str, float]] = {}
    for i, (family, _, _) in enumerate(rows):
        entry = table.setdefault(family, {"base": 0.0, "this": 0.0, "rows": 0, "differ": 0})
        entry["base"] += best["base"][i] / 3 * 1e6
        entry["this"] += best["this"][i] / 3 * 1e6
        entry["rows"] += 1
        entry["differ"] += results["base"][i] != results["this"][i]
    for entry in table.values():
        entry["base"] /= entry["rows"]
        entry["this"] /= entry["rows"]
    return table


def print_table(table: dict[str, dict[str, float]], base: str) -> None:
    """Per family: rows, microseconds per parse in ``base`` and in this checkout, and their ratio."""
    print(f"{'family':<14}{'rows':>5}{base:>12}{'this checkout':>15}{'ratio':>8}")
    total_base = total_this = total_rows = 0.0
    for family, e in table.items():
        note = f"   ({int(e['differ'])} with different JSON)" if e["differ"] else ""
        print(f"{family:<14}{int(e['rows']):>5}{e['base']:>9.2f} us{e['this']:>12.2f} us"
              f"{e['this'] / e['base']:>8.3f}{note}")
        total_base += e["base"] * e["rows"]
        total_this += e["this"] * e["rows"]
        total_rows += e["rows"]
    print(f"{'all':<14}{int(total_rows):>5}{total_base / total_rows:>9.2f} us{total_this / total_rows:>12.2f} us"
          f"{total_this / total_base:>8.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default=BEFORE_PARSER_WORK, help=f"commit to compare with (default: {BEFORE_PARSER_WORK})")
    ap.add_argument("--rounds", type=int, default=300, help="alternating rounds (default 300)")
    args = ap.parse_args()
    rows = load_rows()
    print(f"{len(rows)} rows, {args.rounds} alternating rounds, parse -> screenshot pixels -> JSON, "
          "fastest round per row")
    print_table(compare(args.base, rows, args.rounds), args.base)


if __name__ == "__main__":
    main()
