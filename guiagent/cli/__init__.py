"""The ``guiagent`` command line. Each sub-command lives in its own module with ``register(subparsers)``."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# Sub-command modules, in the order --help lists them.
COMMANDS = ["parse", "run", "demo", "replay", "view", "export", "tasks", "screenshot", "eval", "compare",
            "eval_grounding", "make_grounding", "train", "sandbox"]

# Module -> (the name it registers, its line in `guiagent --help`). Kept here, and read by each module's register
# (``summary``), so that `guiagent --help`, and a command, import no other sub-command's module (each pulls in its
# part of the package: all of them took about a second). tests/test_cli_lazy.py checks the modules use them.
SUMMARIES: dict[str, tuple[str, str]] = {
    "parse": ("parse", "parse model output into actions (JSON, screen pixels)"),
    "run": ("run", "run a model on a task, with live progress, recording a run folder"),
    "demo": ("demo", "solve a mock desktop task with the scripted model; write the run and its HTML report"),
    "replay": ("replay", "execute a recorded run's actions again, optionally checking every screenshot"),
    "view": ("view", "write a run folder as one self-contained HTML report"),
    "export": ("export", "turn recorded runs into fine-tuning data (chat-format JSON lines)"),
    "tasks": ("tasks", "list the mock desktop's tasks (id, app, difficulty, instruction)"),
    "screenshot": ("screenshot", "write a mock desktop task's first screen as a PNG or JPEG"),
    "eval": ("eval", "evaluate a model on a task suite: parallel workers or Ray, resumable, success by group"),
    "compare": ("compare", "compare two eval results: per-task deltas, overall delta with a paired bootstrap CI"),
    "eval_grounding": ("eval-grounding", "grounding accuracy on ScreenSpot-format data (click accuracy by type "
                                         "and split, box AP/mAP)"),
    "make_grounding": ("make-grounding", "make a ScreenSpot-format grounding dataset from the mock desktop"),
    "train": ("train", "fine-tune a local Qwen2.5-VL-architecture checkpoint on recorded runs (SFT, full or LoRA)"),
    "sandbox": ("sandbox", "start a disposable virtual desktop to look at (Linux)"),
}


def summary(module: str) -> str:
    """The --help line of the sub-command in ``guiagent.cli.<module>`` (what its ``register`` passes as help)."""
    return SUMMARIES[module][1]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``guiagent`` argument parser, sub-commands in --help order.

    Args:
        command: the sub-command to build in full (its module is imported and registers its arguments); the others
            are listed by name and help line only. None builds every one in full; a name that is not a
            sub-command builds none (enough for ``guiagent --help`` and for argparse to refuse the name).

    Returns:
        The parser.
    """
    parser = argparse.ArgumentParser(
        prog="guiagent",
        description="Multimodal GUI agents: run a model on a desktop, record, replay and inspect trajectories.",
    )
    from guiagent import __version__
    parser.add_argument("--version", action="version", version=f"guiagent {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        name, summary = SUMMARIES[module]
        if command is None or command == name:
            importlib.import_module(f"guiagent.cli.{module}").register(sub)
        else:
            sub.add_parser(name, help=summary)
    return parser


def _command_in(argv: list[str]) -> str:
    """The sub-command named in ``argv``: its first word that is not an option (the top level has no option
    that takes a value); "" when there is none."""
    return next((arg for arg in argv if not arg.startswith("-")), "")


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen sub-command.

    Args:
        argv: the arguments after the program name; None reads ``sys.argv``.

    Returns:
        The exit status: the sub-command's, or 2 (after printing the help) when no sub-command was given.
    """
    words = sys.argv[1:] if argv is None else argv
    parser = build_parser(_command_in(words))
    for arg in words:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:  # bytes the locale could not decode: they would fail later, mid-run, in a JSON file
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            parser.exit(2, f"guiagent: error: argument {shown!r} is not valid UTF-8 (instructions, task ids and "
                           f"paths must be UTF-8 text)\n")
    args, extra = parser.parse_known_args(words)
    if extra:  # refused by the sub-command's parser, so that the usage shown is the sub-command's own
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        sub.choices.get(getattr(args, "command", None) or "", parser).error(
            f"unrecognized arguments: {' '.join(extra)}")
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
