"""``guiagent make-grounding``: a ScreenSpot-format grounding dataset made offline from the mock desktop.

    guiagent make-grounding --suite mock -o data/mock-grounding
    guiagent eval-grounding data/mock-grounding --model scripted -o results/mock-grounding
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from guiagent.cli import summary
from guiagent.cli.argtypes import positive_int
from guiagent.errors import ConfigError, GuiAgentError


def register(subparsers: Any) -> None:
    """Add the ``make-grounding`` sub-command to ``subparsers`` (the parser of the ``guiagent`` command)."""
    p = subparsers.add_parser(
        "make-grounding", help=summary("make_grounding"),
        description="Render mock desktop screens (every app, several sizes and HiDPI scales, with menus open and "
                    "windows stacked) and write ScreenSpot-format annotations of elements picked from the "
                    "accessibility tree (types text, icon, field, menu item), the images, and each screen's "
                    "element tree (trees/: what `--model scripted` answers from).")
    p.add_argument("--suite", default="mock", choices=["mock"], help="where the screens come from (mock)")
    p.add_argument("--screens", type=positive_int, default=48, metavar="N", help="screens to render (default 48)")
    p.add_argument("--per-screen", type=positive_int, default=6, metavar="K",
                   help="most elements asked about per screen (default 6)")
    p.add_argument("--seed", type=int, default=0, help="picks elements and menu positions (default 0)")
    p.add_argument("-o", "--out", required=True, metavar="DIR", help="output folder (new or empty)")
    p.add_argument("--force", action="store_true",
                   help="write into a folder that is not empty (its old dataset stays until the new one is done)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run ``guiagent make-grounding`` with parsed arguments: render mock screens and write the dataset.

    Returns:
        The exit status: 0 written, 1 the dataset could not be written, 2 bad input (one line on stderr),
        130 interrupted (Ctrl-C or SIGTERM). Unless it is 0, nothing was written: OUT is as it was.
    """
    from guiagent.agent.grounding.mock_data import ANNOTATION_FILE, make_mock_grounding

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    bar = Progress(TextColumn("[bold]screens[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=err, disable=args.quiet)
    task = bar.add_task("screens", total=args.screens)

    def progress(done: int, _total: int) -> None:
        if not bar.live.is_started:  # started at the first screen, so a usage error comes alone, on one line
            bar.start()
        bar.update(task, completed=done)

    existed = Path(args.out).expanduser().exists()
    try:
        try:
            with _sigterm_as_interrupt():
                made = make_mock_grounding(args.out, screens=args.screens, per_screen=args.per_screen,
                                           seed=args.seed, force=args.force, progress=progress)
        finally:
            if bar.live.is_started:
                bar.stop()
    except ConfigError as e:
        err.print(f"[red]error:[/] {escape(str(e))}")
        return 2
    except GuiAgentError as e:
        err.print(f"[red]error:[/] {escape(str(e))}")
        return 1
    except KeyboardInterrupt:
        state = "is as it was" if existed else "was not made"
        err.print(f"interrupted: nothing was written ({escape(args.out)} {state}); run the command again to "
                  f"make the dataset")
        return 130
    types = ", ".join(f"{k} {v}" for k, v in sorted(made.by_type.items()))
    print(f"{made.samples} samples on {made.screens} screens ({types}) -> {made.folder / ANNOTATION_FILE}")
    return 0


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM (``timeout``, a job scheduler) like Ctrl-C while the dataset is made, so that the partial
    build is removed either way. Outside the main thread, where handlers cannot be set, it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
