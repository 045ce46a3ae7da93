"""The MiniWoB task names available (the task pages shipped in the ``miniwob`` package)."""

from __future__ import annotations

import functools
from pathlib import Path

from guiagent.errors import ConfigError

#: tasks the DOM-reading oracle solves (``oracle.py``): the suite's default selection
ORACLE_TASKS = ("click-button", "click-link", "enter-text", "focus-text", "click-checkboxes")


@functools.lru_cache(maxsize=1)
def all_task_names() -> tuple[str, ...]:
    """Every MiniWoB task page in the installed package (FlightWoB tasks not included).

    Raises:
        ConfigError: the miniwob package is not installed.
    """
    try:
        import miniwob
    except ImportError as e:
        raise ConfigError("the MiniWoB suite needs the miniwob package: pip install 'guiagent[miniwob]'") from e
    folder = Path(miniwob.__file__).parent / "html" / "miniwob"
    return tuple(sorted(p.stem for p in folder.glob("*.html")))
