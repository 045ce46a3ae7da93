"""``guiagent export RUN... --format sft -o data.jsonl``: recorded runs as chat-format training examples."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from guiagent.agent.trajectory import TrajectoryError
from guiagent.cli import summary
from guiagent.errors import ConfigError


def register(subparsers: Any) -> None:
    """Add the ``export`` sub-command (recorded runs as fine-tuning data) to the ``guiagent`` parser.

    Args:
        subparsers: the object ``ArgumentParser.add_subparsers`` returned.
    """
    p = subparsers.add_parser(
        "export", help=summary("export"),
        description="Write one chat example per step of each run: the messages the agent sent at that step "
                    "(system prompt, prompt, history with screenshots as file paths, following the family's "
                    "history policy) and the assistant's answer in the family's format.")
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folders")
    p.add_argument("--format", choices=("sft",), default="sft", help="output format (default sft)")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="JSON-lines file to write")
    p.add_argument("--family", metavar="F", help="format for this family instead of the recorded one: actions go "
                                                 "through its coordinate frame and grammar; actions it cannot "
                                                 "write are converted (with a warning) or their step left out")
    p.add_argument("--raw", action="store_true", help="keep the model's answers as written (default: canonical "
                                                      "format of the parsed actions)")
    p.add_argument("--success-only", action="store_true", help="skip runs whose outcome is not success (the model "
                                                               "said finished and the task check, if any, passed)")
    p.add_argument("--relative", action="store_true", help="image paths relative to the output file's folder")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run ``guiagent export``: write the runs as chat-format JSON lines and report what was left out or converted.

    Returns:
        0, or 2 when a run folder cannot be read, the family is unknown or -o names a file of a run folder.
    """
    from guiagent.agent.export import export_sft
    from guiagent.cli.argtypes import output_overwrites_run

    problem = output_overwrites_run(args.output, args.runs)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        stats = export_sft(args.runs, args.output, family=args.family, raw=args.raw,
                           success_only=args.success_only, relative=args.relative)
    except (TrajectoryError, ConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{stats.examples} examples from {stats.runs} runs written to {args.output}"
          + (f"; {stats.skipped_steps} steps left out (vetoed, refused, unparsed, unexpressible or without a usable screenshot)" if stats.skipped_steps else "")
          + (f"; {len(stats.skipped_runs)} runs skipped" if stats.skipped_runs else ""), file=sys.stderr)
    for line in stats.run_problems:
        print(f"warning: {line}", file=sys.stderr)
    if stats.converted or stats.unexpressible:
        print(f"warning: {stats.converted} examples converted to fit {args.family}'s actions, "
              f"{stats.unexpressible} steps left out because {args.family} cannot express them:", file=sys.stderr)
        for line in stats.warnings():
            print(f"  {line}", file=sys.stderr)
    return 0
