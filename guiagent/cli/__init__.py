"""The ``guiagent`` command line. Each sub-command lives in its own module with ``register(subparsers)``."""

from __future__ import annotations

import argparse
import importlib
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
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
