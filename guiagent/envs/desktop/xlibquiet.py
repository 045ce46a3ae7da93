"""python-xlib's "no xauthority details" warning, once per process on stderr instead of on stdout per connection.

python-xlib prints ``Xlib.xauth: warning, no xauthority details available`` with ``print`` (to stdout) every time
it opens a connection while the Xauthority file holds no entries, which is normal under Xvfb. guiagent opens a few
connections per command (pyautogui's, the keyboard-layout check, the Unicode typer), so the line came three times
and mixed into stdout, where scripts read the run folder path. Every connection guiagent opens goes through
``quiet_xauth``: the warning is logged once to stderr, any other output passes through unchanged.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator
from typing import Any

_XAUTH_PREFIX = "Xlib.xauth: "
_said: set[str] = set()


@contextlib.contextmanager
def quiet_xauth() -> Iterator[None]:
    """Capture stdout while python-xlib connects; pass on what is not an xauth warning, say each warning once."""
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            yield
    finally:
        for line in buffer.getvalue().splitlines(keepends=True):
            if line.startswith(_XAUTH_PREFIX):
                text = line.strip()
                if text not in _said:
                    _said.add(text)
                    print(f"note: {text} (harmless under Xvfb without a cookie)", file=sys.stderr)
            else:
                sys.stdout.write(line)


def open_display(name: str | None) -> Any:
    """``Xlib.display.Display(name)``, with the xauth warning said once (see the module docstring)."""
    from Xlib import display as xdisplay

    with quiet_xauth():
        return xdisplay.Display(name)
