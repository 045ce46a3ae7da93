"""``guiagent compare RESULTS_A RESULTS_B``: per-task differences and the overall success delta (B - A) with a
paired bootstrap confidence interval over tasks.

    guiagent compare results/ui-tars-1.5 results/kimi-vl
    guiagent compare results/a results/b --json --samples 20000

Exit status: 0 compared, 2 unreadable inputs or no task in common.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from guiagent.cli import summary
from guiagent.errors import ConfigError


def fraction(text: str) -> float:
    """Argparse type for ``--confidence``: a number strictly between 0 and 1.

    Raises:
        argparse.ArgumentTypeError: not a number, or not inside (0, 1).
    """
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, e.g. 0.95, got {text!r}")
    return value


def register(subparsers: Any) -> None:
    """Add the ``compare`` sub-command (paired comparison of two eval results) to the ``guiagent`` parser.

    Args:
        subparsers: the object ``ArgumentParser.add_subparsers`` returned.
    """
    from guiagent.cli.argtypes import positive_int

    p = subparsers.add_parser(
        "compare", help=summary("compare"),
        description="Compare two results folders of `guiagent eval` task by task. Each task's success rate "
                    "(over its repeats) in A and B gives a paired difference B - A; the overall delta is their "
                    "mean over the tasks both hold, with a percentile bootstrap confidence interval from "
                    "resampling tasks. Tasks only one side holds are listed and left out.")
    p.add_argument("a", metavar="RESULTS_A", help="the baseline results folder (or its results.jsonl)")
    p.add_argument("b", metavar="RESULTS_B", help="the results folder compared with it")
    p.add_argument("--samples", type=positive_int, default=10_000, help="bootstrap resamples (default 10000)")
    p.add_argument("--confidence", type=fraction, default=0.95, help="interval confidence (default 0.95)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--all", action="store_true", help="list every task, not only those that differ")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run ``guiagent compare``: print the per-task and overall comparison of two results folders (or JSON).

    Returns:
        0, or 2 when a results folder cannot be read.
    """
    from guiagent.agent.evaluation import compare

    try:
        result = compare(args.a, args.b, samples=args.samples, confidence=args.confidence, seed=args.seed)
    except ConfigError as e:
        Console(stderr=True, soft_wrap=True, highlight=False).print(f"[red]error:[/] {escape(str(e))}")
        return 2
    if args.json:
        json.dump(result.to_json(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print_comparison(Console(highlight=False, soft_wrap=True), result, show_all=args.all)
    return 0


def _signed(value: float) -> str:
    return f"{value:+.1%}"


def print_comparison(console: Console, result: Any, *, show_all: bool = False) -> None:
    """Print a comparison as a table of tasks, the overall delta with its bootstrap interval and a verdict.

    Args:
        console: where to print.
        result: what ``guiagent.agent.evaluation.compare`` returned.
        show_all: list every task, not only those whose success rate differs.
    """
    rows = [t for t in result.tasks if show_all or t.delta != 0]
    table = Table(title=f"per task: A = {result.a}, B = {result.b}", title_justify="left")
    for name in ("task", "A", "B", "B - A"):
        table.add_column(name, justify="left" if name == "task" else "right", no_wrap=True)
    for t in rows:
        style = "green" if t.delta > 0 else "red" if t.delta < 0 else ""
        table.add_row(escape(t.task), f"{t.a:.0%} ({t.episodes_a})", f"{t.b:.0%} ({t.episodes_b})", _signed(t.delta),
                      style=style)
    same = len(result.tasks) - len(rows)
    if rows:
        console.print(table)
    if same:
        console.print(f"[dim]{same} of {len(result.tasks)} tasks have the same success rate in both"
                      f"{'' if show_all else ' (--all lists them)'}[/]")
    verdict = ("a difference" if result.significant else "no clear difference") + \
        f" at {result.confidence:.0%} confidence"
    console.print(f"[bold]{len(result.tasks)} tasks:[/] A {result.rate_a:.1%}, B {result.rate_b:.1%}, "
                  f"delta {_signed(result.delta)}, {result.confidence:.0%} CI [{_signed(result.ci[0])}, "
                  f"{_signed(result.ci[1])}] (paired bootstrap over tasks, {result.samples} samples): {verdict}")
    for side, tasks in (("A", result.only_a), ("B", result.only_b)):
        if tasks:
            console.print(f"[yellow]only in {side} (left out): {escape(', '.join(tasks))}[/]")
