"""Reading JSON that comes from outside the program: checkpoint configs, run folders, exports, task files.

``json.loads`` fails in more ways than ``ValueError``: text nested thousands of levels deep raises
``RecursionError``, and valid JSON of the wrong shape (a list where an object belongs) fails later with an
``AttributeError`` far from the file. Here both are a ``ValueError`` whose message says what is wrong ("not
valid JSON: ...", "not a JSON object (found a list)"), so a reader needs one ``except (OSError, ValueError)`` and
``f"{file}: {exc}"`` to turn every bad file into a one-line error.

Files from folders the program does not own (run folders, results folders, task folders) are read through
``read_text`` / ``open_checked``: only a regular file, no bigger than a limit the caller names, and, when the
caller names the folder, only one whose real location (links followed) is inside it. A link to ``/dev/zero`` or a
FIFO is refused instead of filling memory or waiting forever, and a link to ``/etc/passwd`` is not read.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, BinaryIO

#: Largest config file (config.json, adapter_config.json...) ``read_object`` reads: they are a few KB
MAX_CONFIG_BYTES = 16 << 20

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"))


def loads(text: str | bytes) -> Any:
    """Parse JSON text.

    Args:
        text: the JSON document.

    Returns:
        The decoded value.

    Raises:
        ValueError: malformed JSON, or JSON nested too deeply to decode ("not valid JSON: ...").
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("not valid JSON: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8
        raise ValueError(f"not valid JSON: {exc}") from None


def read_object(path: str | Path, *, limit: int = MAX_CONFIG_BYTES) -> dict[str, Any]:
    """The JSON object in the file ``path`` (read with ``read_text``: a regular file of at most ``limit`` bytes).

    Args:
        path: the file (UTF-8).
        limit: the largest size in bytes accepted (default: ``MAX_CONFIG_BYTES``, for a config file).

    Returns:
        The decoded object.

    Raises:
        OSError: the file is missing or unreadable.
        ValueError: not a regular file, too big, not UTF-8, malformed or too deeply nested JSON ("not valid JSON:
            ..."), or a JSON value that is not an object ("not a JSON object (found a list)").
    """
    data = loads(read_text(path, limit=limit))
    if not isinstance(data, dict):
        kind = {list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(type(data), "a number")
        raise ValueError(f"not a JSON object (found {kind})")
    return data


def open_checked(path: str | Path, *, limit: int, inside: str | Path | None = None) -> BinaryIO:
    """Open a file from a folder the program does not own, for reading bytes.

    The file is opened without blocking (a FIFO cannot hang the caller) and checked on the open descriptor, so a
    file swapped in between the check and the open is checked too.

    Args:
        path: the file.
        limit: the largest size in bytes accepted.
        inside: when given, the folder the file's real location (links followed) must be in.

    Returns:
        The open file (binary, positioned at the start); the caller closes it.

    Raises:
        OSError: the file is missing (FileNotFoundError, also for a dangling link) or cannot be opened.
        ValueError: it is not a regular file, it leads outside ``inside``, or it is bigger than ``limit``.
    """
    real = _resolve(Path(path))
    if inside is not None and not real.is_relative_to(_resolve(Path(inside))):
        raise ValueError(f"it is a link leading outside {inside}")
    # O_NOFOLLOW: ``real`` has no links left in it; one that appears now is refused rather than followed
    fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    try:
        _check_regular(os.fstat(fd), limit)
    except ValueError:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def read_text(path: str | Path, *, limit: int, inside: str | Path | None = None) -> str:
    """The UTF-8 text of a file from a folder the program does not own (see ``open_checked``).

    Args:
        path: the file.
        limit: the largest size in bytes accepted; at most ``limit + 1`` bytes are ever read, so a file that
            grows while it is read is refused too.
        inside: when given, the folder the file's real location (links followed) must be in.

    Returns:
        The file's text.

    Raises:
        OSError: the file is missing (FileNotFoundError) or unreadable.
        ValueError: not a regular file, a link leading outside ``inside``, bigger than ``limit``, or not UTF-8.
    """
    data = read_bytes(path, limit=limit, inside=inside)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def read_bytes(path: str | Path, *, limit: int, inside: str | Path | None = None) -> bytes:
    """The bytes of a file from a folder the program does not own (see ``open_checked``).

    Args:
        path: the file.
        limit: the largest size in bytes accepted; at most ``limit + 1`` bytes are ever read.
        inside: when given, the folder the file's real location (links followed) must be in.

    Returns:
        The file's bytes.

    Raises:
        OSError: the file is missing (FileNotFoundError) or unreadable.
        ValueError: not a regular file, a link leading outside ``inside``, or bigger than ``limit`` (also when it
            grew past it while it was read).
    """
    with open_checked(path, limit=limit, inside=inside) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"it grew past the limit of {limit} bytes while it was read")
    return data


def _resolve(path: Path) -> Path:
    """``path`` with every link followed; OSError when it (or a link in it) leads nowhere or loops."""
    try:
        return path.resolve(strict=True)
    except RuntimeError as exc:  # a link loop, on Python before 3.13
        raise OSError(f"{path}: {exc}") from None


def _check_regular(info: os.stat_result, limit: int) -> None:
    """ValueError unless ``info`` is of a regular file of at most ``limit`` bytes."""
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "something else")
        raise ValueError(f"not a regular file (it is {kind})")
    if info.st_size > limit:
        raise ValueError(f"it is {info.st_size} bytes; the limit is {limit}")
