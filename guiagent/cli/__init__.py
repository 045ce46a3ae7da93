"""The ``guiagent`` command line. Each sub-command lives in its own module with ``register(subparsers)``."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# Sub-command modules, in the order --help lists them.
COMMANDS = ["parse", "run", "demo", "replay", "view", "export", "tasks", "screenshot", "eval", "compare",
            "eval_grounding", "make_grounding", "train", "sandbox"]


def build_parser() -> argparse.ArgumentParser:
    """The ``guiagent`` argument parser with every sub-command of ``COMMANDS`` registered, in --help order."""
    parser = argparse.ArgumentParser(
        prog="guiagent",
        description="Multimodal GUI agents: run a model on a desktop, record, replay and inspect trajectories.",
    )
    from guiagent import __version__
    parser.add_argument("--version", action="version", version=f"guiagent {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"guiagent.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen sub-command.

    Args:
        argv: the arguments after the program name; None reads ``sys.argv``.

    Returns:
        The exit status: the sub-command's, or 2 (after printing the help) when no sub-command was given.
    """
    parser = build_parser()
    for arg in sys.argv[1:] if argv is None else argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:  # bytes the locale could not decode: they would fail later, mid-run, in a JSON file
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            parser.exit(2, f"guiagent: error: argument {shown!r} is not valid UTF-8 (instructions, task ids and "
                           f"paths must be UTF-8 text)\n")
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        # the reader went away (`guiagent tasks --json | head`): stop quietly, as Unix tools do. stdout now points
        # at /dev/null so that the interpreter's last flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + 13  # what a shell shows for a process ended by SIGPIPE
    except KeyboardInterrupt:  # commands with work to resume (run, eval) say more themselves
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
