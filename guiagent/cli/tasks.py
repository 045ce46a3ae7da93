"""``guiagent tasks``: list the mock desktop's task suite (a table, or JSON with ``--json``).

    guiagent tasks
    guiagent tasks --app mail --difficulty hard
    guiagent tasks --tag drag --json
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table

from guiagent.cli import summary
from guiagent.errors import ConfigError

#: terminals at least this wide get the table; narrower ones one paragraph per task
WIDE = 110


def register(subparsers: Any) -> None:
    """Add the ``tasks`` sub-command (list the mock desktop's tasks) to the ``guiagent`` parser.

    Args:
        subparsers: the object ``ArgumentParser.add_subparsers`` returned.
    """
    from guiagent.envs.mock.tasks import APPS, DIFFICULTIES, TAGS

    p = subparsers.add_parser(
        "tasks", help=summary("tasks"),
        description="List the mock desktop's task suite. Run one with `guiagent run --env mock --task ID ...` or "
                    "`guiagent demo --task ID`; see its first screen with `guiagent screenshot --task ID`.")
    p.add_argument("--app", choices=APPS, help="only tasks that use this app")
    p.add_argument("--difficulty", choices=DIFFICULTIES, help="only tasks of this difficulty")
    p.add_argument("--tag", choices=TAGS, metavar="TAG", help=f"only tasks that need this skill ({', '.join(TAGS)})")
    p.add_argument("--tasks-dir", metavar="DIR", help="list (and validate) the task files in DIR instead of the "
                                                       "built-in suite (see docs/tasks.md)")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run ``guiagent tasks``: list the (filtered) tasks as a table, or as JSON with ``--json``.

    Returns:
        0, or 2 when the task files of ``--tasks-dir`` are invalid.
    """
    from guiagent.envs.mock.tasks import load_suite

    try:
        tasks = load_suite(args.tasks_dir)
    except ConfigError as e:
        Console(stderr=True, soft_wrap=True).print(f"[red]error:[/] {escape(str(e))}")
        return 2
    if args.app:
        tasks = [t for t in tasks if args.app in t.apps]
    if args.difficulty:
        tasks = [t for t in tasks if t.difficulty == args.difficulty]
    if args.tag:
        tasks = [t for t in tasks if args.tag in t.tags]
    if args.json:
        json.dump([t.to_dict() for t in tasks], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    console = Console()
    title = f"Tasks in {args.tasks_dir}" if args.tasks_dir else "Mock desktop tasks"
    colour = {"easy": "green", "medium": "yellow", "hard": "red"}
    if console.width < WIDE:
        # narrow terminals (80 columns): a four-column table leaves the instruction a sliver; one task per
        # paragraph instead, its instruction wrapped under it at full width
        console.print(f"[bold]{escape(title)} ({len(tasks)})[/]")
        for t in tasks:
            app = t.app if len(t.apps) == 1 else "+".join(t.apps)
            console.print(f"[bold]{escape(t.id)}[/]  {app}, [{colour[t.difficulty]}]{t.difficulty}[/]")
            console.print(Padding(escape(t.instruction), (0, 0, 0, 4), expand=False))
        return 0
    table = Table(title=f"{escape(title)} ({len(tasks)})", show_lines=False)
    table.add_column("id", style="bold", no_wrap=True)
    table.add_column("app", no_wrap=True)
    table.add_column("difficulty", no_wrap=True)
    table.add_column("instruction")
    for t in tasks:
        app = t.app if len(t.apps) == 1 else "+".join(t.apps)
        table.add_row(escape(t.id), app, f"[{colour[t.difficulty]}]{t.difficulty}[/]", escape(t.instruction))
    console.print(table)
    return 0
