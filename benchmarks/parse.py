"""Parse throughput and success rate, side by side with the `ui-tars` PyPI package, on the same corpus.

    .venv/bin/python benchmarks/parse.py [--seconds 2]

Corpus: tests/corpus/<family>.jsonl — real-format outputs with the exact expected actions in screen pixels.
Both parsers get the UI-TARS rows (ui-tars-1.0, ui-tars-1.5, ui-tars-2); the `ui-tars` package has no parser for
Kimi-VL or OpenCUA code, so those rows are ours only and listed apart.

    ours    guiagent grammar parse + mapping every point to screen pixels (profile ModelFrame)
    theirs  ui_tars.action_parser.parse_action_to_structure_output(text, 1000, H, W, model_type) — its output is
            normalized 0..1 boxes, so it includes the coordinate scaling too; model_type "qwen25vl" for
            ui-tars-1.5 (absolute on smart_resize), "qwen2vl" (relative 0..1000) otherwise

Both are called the same way, once per row, inside one loop per round; the package prints on failures, so stdout
goes to /dev/null around whole loops (not around each call, which would time the redirection too).

``--against COMMIT`` (default: 6545f4a, the last commit before the issue-11 parser work; ``none`` to skip) also
times the same UI-TARS rows in that commit and in this checkout in one process (``benchmarks/parse_ab.py``), so
a slowdown of the common inputs shows as a ratio above 1.

"parsed" = returned without an exception; "correct" = same number of actions, every point within 0.01 px of
the expected screen pixels, typed text equal (the package keeps a trailing "\\n" in content: counted as submit).
``type(content=..., start_box=...)`` comes back from the package as one type action, so the click on the box
is lost: counted wrong.
Prints figures only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from guiagent.cli.parse import parse_to_json
from guiagent.models.profiles import get_profile

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus"
UI_TARS = ["ui-tars-1.0", "ui-tars-1.5", "ui-tars-2"]
OTHERS = ["kimi-vl", "opencua"]


def load(families: list[str]) -> list[dict[str, Any]]:
    rows = []
    for family in families:
        with open(CORPUS / f"{family}.jsonl", encoding="utf-8") as f:
            rows += [{**(row := json.loads(line)), "family": family, "screen": tuple(row["screen"])}
                     for line in f if line.strip()]
    return rows


# ---------------------------------------------------------------- ours

_PROFILES: dict[str, Any] = {}


def ours(row: dict[str, Any]) -> list[dict[str, Any]]:
    """Parse, map to screen pixels, JSON form (what ``guiagent parse`` prints), through ``Profile.read`` as the
    agent does (the profile is looked up once per family; it keeps the frame of each screen size)."""
    profile = _PROFILES.get(row["family"])
    if profile is None:
        profile = _PROFILES[row["family"]] = get_profile(row["family"])
    return parse_to_json(profile, row["screen"], row["text"])


def ours_correct(row: dict[str, Any], result: list[dict[str, Any]]) -> bool:
    return result == row["actions"]


# ---------------------------------------------------------------- theirs

def theirs_fn() -> Callable[[dict[str, Any]], Any] | None:
    try:
        from ui_tars.action_parser import parse_action_to_structure_output
    except ImportError:
        return None

    def parse(row: dict[str, Any]) -> Any:
        w, h = row["screen"]
        model_type = "qwen25vl" if row["family"] == "ui-tars-1.5" else "qwen2vl"
        return parse_action_to_structure_output(row["text"], 1000, h, w, model_type)
    return parse


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Send stdout to /dev/null (around a whole loop, see the module docstring)."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield


def _their_points(inputs: dict[str, Any], w: int, h: int) -> list[tuple[float, float]]:
    points = []
    for key in ("start_box", "end_box"):
        if key in inputs:
            box = json.loads(inputs[key])
            points.append(((box[0] + box[2]) / 2 * w, (box[1] + box[3]) / 2 * h))
    return points


def theirs_correct(row: dict[str, Any], result: Any) -> bool:
    """Compare what the package returns with the expected screen actions (points and typed text)."""
    w, h = row["screen"]
    expected = [a for a in row["actions"]]
    # The package returns one entry per call; type(content, start_box) is one call that we split in two.
    if len(result) != len(expected):
        return False
    for got, want in zip(result, expected):
        inputs = got.get("action_inputs", {})
        try:
            points = _their_points(inputs, w, h)
        except (ValueError, TypeError, IndexError):
            return False
        want_points = [(want[k], want[k.replace("x", "y")]) for k in ("x", "to_x")
                       if want.get(k) is not None]
        if len(points) != len(want_points) or any(
                not math.isclose(a, b, abs_tol=0.01) for p, q in zip(points, want_points) for a, b in zip(p, q)):
            return False
        if want["type"] == "type":
            content = inputs.get("content", "")
            if content != want["text"] + ("\n" if want["submit"] else ""):
                return False
    return True


# ---------------------------------------------------------------- measuring

def run_all(fn: Callable[[dict[str, Any]], Any], rows: list[dict[str, Any]]) -> list[tuple[Any, str | None]]:
    out = []
    with quiet():
        for row in rows:
            try:
                out.append((fn(row), None))
            except Exception as e:  # the other package raises anything (ValueError, AssertionError, SyntaxError...)
                out.append((None, f"{type(e).__name__}: {str(e).splitlines()[0][:70] if str(e) else ''}"))
    return out


def throughput(fns: dict[str, Callable[[dict[str, Any]], Any]], rows: list[dict[str, Any]],
               seconds: float) -> dict[str, float]:
    """Parses per second of each function over ``rows`` (failures included).

    The machine is shared, so the parsers are timed in alternating rounds and each keeps its best round.
    """
    def once(fn: Callable[[dict[str, Any]], Any], repeats: int) -> float:
        with quiet():
            start = time.perf_counter()
            for _ in range(repeats):
                for row in rows:
                    try:
                        fn(row)
                    except Exception:
                        pass
            return time.perf_counter() - start

    repeats = {}
    for name, fn in fns.items():  # calibrate: one round of each lasts about seconds / 10
        n = 1
        while once(fn, n) < seconds / 10 and n < 1 << 20:
            n *= 2
        repeats[name] = n
    best = {name: math.inf for name in fns}
    for _ in range(5):
        for name, fn in fns.items():
            best[name] = min(best[name], once(fn, repeats[name]) / repeats[name])
    return {name: len(rows) / best[name] for name in fns}


def against(commit: str, rounds: int) -> None:
    """Print the same-process comparison of the UI-TARS rows with ``commit`` (see ``parse_ab.compare``)."""
    import subprocess

    import parse_ab  # benchmarks/ is on sys.path when this file runs as a script

    print()
    print(f"this checkout against {commit} on the same {len(load(UI_TARS))} UI-TARS rows, one process, "
          f"{rounds} alternating rounds (fastest round per row):")
    try:
        table = parse_ab.compare(commit, parse_ab.load_rows(UI_TARS), rounds)
    except (subprocess.CalledProcessError, OSError):
        print(f"  {commit} is not a commit of this checkout (a shallow clone, or no git?): skipped")
        return
    parse_ab.print_table(table, commit)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="time budget per throughput measurement")
    ap.add_argument("--against", default="6545f4a", metavar="COMMIT",
                    help="also compare with this commit in one process ('none' to skip; default 6545f4a)")
    ap.add_argument("--rounds", type=int, default=300, help="alternating rounds of --against (default 300)")
    args = ap.parse_args()
    try:
        report(args)
    finally:
        if args.against != "none":
            against(args.against, args.rounds)


def report(args: argparse.Namespace) -> None:
    """Correctness and throughput of guiagent and of the ui-tars package on the corpus."""

    rows = load(UI_TARS)
    theirs = theirs_fn()
    our_results = run_all(ours, rows)
    our_ok = sum(err is None for _, err in our_results)
    our_correct = sum(err is None and ours_correct(r, res) for r, (res, err) in zip(rows, our_results))

    counts = ", ".join(f"{f}: {sum(r['family'] == f for r in rows)}" for f in UI_TARS)
    print(f"corpus: {len(rows)} UI-TARS outputs ({counts})")
    print()
    print(f"{'parser':<28}{'parsed':>10}{'correct':>10}{'parses/s':>12}")
    if theirs is None:
        print(f"{'guiagent':<28}{our_ok:>6}/{len(rows):<3}{our_correct:>6}/{len(rows):<3}"
              f"{throughput({'ours': ours}, rows, args.seconds)['ours']:>12,.0f}")
        print("ui-tars package not installed: pip install ui-tars")
        return
    their_results = run_all(theirs, rows)
    their_ok = sum(err is None for _, err in their_results)
    their_correct = sum(err is None and theirs_correct(r, res) for r, (res, err) in zip(rows, their_results))
    speed = throughput({"ours": ours, "theirs": theirs}, rows, args.seconds)
    our_speed, their_speed = speed["ours"], speed["theirs"]
    print(f"{'guiagent':<28}{our_ok:>6}/{len(rows):<3}{our_correct:>6}/{len(rows):<3}{our_speed:>12,.0f}")
    print(f"{'ui-tars (PyPI)':<28}{their_ok:>6}/{len(rows):<3}{their_correct:>6}/{len(rows):<3}{their_speed:>12,.0f}")
    print(f"{'ratio guiagent / ui-tars':<28}{'':>10}{'':>10}{our_speed / their_speed:>11.2f}x")
    both = [r for r, (res, err) in zip(rows, their_results) if err is None and theirs_correct(r, res)]
    speed = throughput({"ours": ours, "theirs": theirs}, both, args.seconds)
    ours_both, theirs_both = speed["ours"], speed["theirs"]
    print(f"only the {len(both)} inputs both get right: guiagent {ours_both:,.0f} parses/s, ui-tars "
          f"{theirs_both:,.0f} parses/s, ratio {ours_both / theirs_both:.2f}x")

    print()
    print("inputs the ui-tars package fails on (exception) or gets wrong:")
    for row, (res, err) in zip(rows, their_results):
        if err is not None:
            print(f"  {row['id']:<16} raises {err}   [{row['source']}]")
        elif not theirs_correct(row, res):
            print(f"  {row['id']:<16} wrong result   [{row['source']}]")

    others = load(OTHERS)
    other_results = run_all(ours, others)
    ok = sum(err is None and ours_correct(r, res) for r, (res, err) in zip(others, other_results))
    print()
    print(f"Kimi-VL / OpenCUA rows (no parser in the ui-tars package): guiagent correct on {ok}/{len(others)}, "
          f"{throughput({'ours': ours}, others, args.seconds)['ours']:,.0f} parses/s")


if __name__ == "__main__":
    main()
