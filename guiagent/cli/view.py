"""``guiagent view RUN [-o report.html]``: a run folder as one self-contained HTML file."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from guiagent.agent.trajectory import TrajectoryError
from guiagent.cli import summary


def register(subparsers: Any) -> None:
    """Add the ``view`` sub-command (a run as a self-contained HTML report) to the ``guiagent`` parser.

    Args:
        subparsers: the object ``ArgumentParser.add_subparsers`` returned.
    """
    p = subparsers.add_parser(
        "view", help=summary("view"),
        description="Render a recorded run as one HTML file with the screenshots embedded: instruction and "
                    "outcome, then each step with its screenshot, a marker at each click and an arrow for each "
                    "drag at the executed coordinates, the thought, the actions and the timings. Navigate with "
                    "j/k or the arrow keys. Nothing is loaded from the network.")
    p.add_argument("run", metavar="RUN", help="run folder (holds meta.json)")
    p.add_argument("-o", "--output", metavar="FILE", help="where to write (default: RUN/report.html)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run ``guiagent view``: write the run's HTML report and print its path.

    Returns:
        0, or 2 when the run folder cannot be read or -o names another file of it.
    """
    from pathlib import Path

    from guiagent.agent.trajectory import load_run
    from guiagent.agent.viewer import write_run_report
    from guiagent.cli.argtypes import output_overwrites_run

    if args.output is not None:
        problem = output_overwrites_run(args.output, [args.run], allowed=(str(Path(args.run) / "report.html"),))
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 2
    try:
        run = load_run(args.run)
        path = write_run_report(run, args.output)
    except TrajectoryError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for problem in run.problems:  # also listed in the report; said here so that a script sees them too
        print(f"warning: {problem}", file=sys.stderr)
    print(path)
    return 0
