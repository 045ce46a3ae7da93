"""argparse types shared by the sub-commands (one module, so that no command imports another's module)."""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """argparse type: a whole number > 0."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def seconds(text: str) -> float:
    """argparse type: a finite number of seconds >= 0."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return value


def monitor_spec(text: str) -> int | str:
    """--monitor: a whole number >= 0, 'all' or 'primary' (DesktopEnv's monitor argument)."""
    word = text.strip().lower()
    if word in ("all", "primary"):
        return word
    if word.isdigit():
        return int(word)
    raise argparse.ArgumentTypeError(f"expected a monitor number, 'all' or 'primary', got {text!r}")


def output_overwrites_run(output: str, runs: list[str], allowed: tuple[str, ...] = ()) -> str | None:
    """Why writing ``output`` would destroy part of a recorded run, or None when it would not.

    Args:
        output: the -o path the user gave.
        runs: the run folders the command reads.
        allowed: paths that may be overwritten all the same (view's own RUN/report.html).

    Returns:
        A one-line message when ``output`` resolves to an existing file inside one of ``runs`` (through any
        symlinks), else None.
    """
    from pathlib import Path

    try:
        target = Path(output).expanduser().resolve()
        if not target.is_file() or any(target == Path(a).expanduser().resolve() and not Path(a).is_symlink()
                                       for a in allowed):
            return None
        for run in runs:
            folder = Path(run).expanduser().resolve()
            if folder in target.parents:
                return (f"{output} is a file of the run folder {run}; writing there would destroy the recording: "
                        f"choose another -o path")
    except (OSError, RuntimeError):  # a symlink loop or an unreadable path: the write itself reports it
        return None
    return None
