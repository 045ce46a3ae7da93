"""argparse types shared by the sub-commands (one module, so that no command imports another's module)."""

from __future__ import annotations

import argparse
from pathlib import Path


def positive_int(text: str) -> int:
    """argparse type: a whole number > 0."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def _finite(text: str, *, above_zero: bool, expected: str) -> float:
    """``text`` as a finite number >= 0 (> 0 with ``above_zero``); ArgumentTypeError "expected EXPECTED"."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (0 < value if above_zero else 0 <= value) or not value < float("inf"):  # NaN fails both tests
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def seconds(text: str) -> float:
    """argparse type: a finite number of seconds >= 0."""
    return _finite(text, above_zero=False, expected="a number of seconds >= 0")


def positive_seconds(text: str) -> float:
    """argparse type: a finite number of seconds > 0 (a timeout, a duration)."""
    return _finite(text, above_zero=True, expected="a positive number of seconds")


def non_negative_number(text: str) -> float:
    """argparse type: a finite number >= 0 (a resource share such as --ray-gpus 0.5).

    Raises:
        argparse.ArgumentTypeError: not a number, negative, infinite or NaN.
    """
    return _finite(text, above_zero=False, expected="a number >= 0")


def positive_number(text: str) -> float:
    """argparse type: a finite number > 0 (a resource share such as --ray-cpus 0.5).

    Raises:
        argparse.ArgumentTypeError: not a number, zero, negative, infinite or NaN.
    """
    return _finite(text, above_zero=True, expected="a number > 0")


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


def flags_apply(flags: list[str]) -> str:
    """``"--monitor applies"`` / ``"--monitor, --seed apply"``: the start of a "flags given for another env"
    message, with the verb agreeing with the number of flags."""
    return f"{', '.join(flags)} {'applies' if len(flags) == 1 else 'apply'}"


def check_out_folder(path: str | Path, flag: str = "--out") -> None:
    """Refuse an output folder that cannot be made because a file is in the way (the path itself, or a folder
    above it), before any work starts.

    Args:
        path: the folder the command will create (or write into).
        flag: the flag that named it, for the message.

    Raises:
        ConfigError: ``path`` or one of its parents is something other than a folder.
    """
    from guiagent.errors import ConfigError

    here = Path(path).expanduser()
    for folder in (here, *here.parents):
        if folder.is_dir():
            return
        if folder.exists() or folder.is_symlink():
            what = "is a file" if folder == here else f"is under {folder}, which is a file"
            raise ConfigError(f"{flag} {path} {what}, not a folder: give a folder (or a path where one can be made)")
