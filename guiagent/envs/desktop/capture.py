"""Screen capture with mss: which monitor, where it sits, and how its pixels relate to input points.

mss describes every monitor as a rectangle in the coordinates the input system uses (logical points: pixels on
X11 and on DPI-aware Windows, points on macOS) and returns captures in physical pixels. So for the captured
monitor:

    offset = (left, top) of its rectangle           logical points, may be negative left of/above the primary
    scale  = captured image width / rectangle width  2.0 on a Retina display, 1.0 on X11

which is exactly what ``guiagent.actions.coords.Display`` needs. A ``scale`` given by the user overrides the
measured one (for remote or scaled sessions where the two sizes disagree with what the input system expects).

Monitor selection follows mss: index 1.. is a single monitor in mss's order, "all" (or 0) is the bounding box of
every monitor, and "primary" is the one the OS marks primary (falling back to index 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from PIL import Image

from guiagent.actions.coords import Display
from guiagent.errors import ConfigError, EnvError

MonitorSpec = int | str


@dataclass(frozen=True)
class Monitor:
    """A monitor rectangle in logical points, as the input system sees it."""

    index: int          # mss index: 0 is "all monitors", 1.. single monitors
    left: int
    top: int
    width: int
    height: int
    primary: bool = False
    name: str | None = None

    def as_mss(self) -> dict[str, int]:
        """The rectangle in the dict form ``mss.grab`` takes."""
        return {"left": self.left, "top": self.top, "width": self.width, "height": self.height}


class Capture(Protocol):
    """The process boundary for screenshots (mss in real use; anything with these two methods in tests)."""

    def monitors(self) -> Sequence[Monitor]:
        """Index 0: the bounding box of every monitor; 1..: each monitor."""
        ...

    def grab(self, monitor: Monitor) -> Image.Image:
        """An RGB image of ``monitor`` in physical pixels."""
        ...

    def close(self) -> None:
        """Release the capture backend (its display connection). Safe to call twice."""
        ...


class MssCapture:
    """Capture through mss. ``x_display`` picks the X display on Linux (default: $DISPLAY)."""

    def __init__(self, x_display: str | None = None):
        try:
            import mss
        except ImportError as e:
            raise EnvError("the real desktop needs mss and pyautogui: pip install 'guiagent[desktop]'") from e
        factory = getattr(mss, "MSS", None) or mss.mss
        kwargs: dict[str, Any] = {"display": x_display} if x_display else {}
        try:
            self._sct = factory(**kwargs)
        except Exception as e:  # mss raises ScreenShotError (and ctypes errors) for an unreachable display
            raise EnvError(f"cannot open the screen for capture{f' on {x_display}' if x_display else ''}: {e}") from e

    def monitors(self) -> list[Monitor]:
        """mss's monitors: index 0 the whole virtual screen, then each monitor in mss order."""
        out = []
        for i, m in enumerate(self._sct.monitors):
            out.append(Monitor(i, int(m["left"]), int(m["top"]), int(m["width"]), int(m["height"]),
                               bool(m.get("is_primary", False)), m.get("name") or m.get("output")))
        return out

    def grab(self, monitor: Monitor) -> Image.Image:
        """An RGB screenshot of ``monitor`` in physical pixels.

        Raises:
            EnvError: mss could not capture (no display, or a monitor that went away).
        """
        try:
            shot = self._sct.grab(monitor.as_mss())
        except Exception as e:
            raise EnvError(f"screen capture of monitor {monitor.index} failed: {e}") from e
        return Image.frombytes("RGB", shot.size, shot.bgra, "raw", "BGRX")

    def close(self) -> None:
        """Close the mss handle. Safe to call twice."""
        sct, self._sct = getattr(self, "_sct", None), None
        if sct is not None:
            sct.close()


def select_monitor(monitors: Sequence[Monitor], spec: MonitorSpec) -> Monitor:
    """The monitor ``spec`` names: an index (1.. one monitor, 0 all), "all", or "primary"."""
    if not monitors:
        raise EnvError("the capture backend reports no monitors at all")
    singles = list(monitors[1:])
    if isinstance(spec, str):
        word = spec.strip().lower()
        if word == "all":
            return monitors[0]
        if word == "primary":
            return next((m for m in singles if m.primary), singles[0] if singles else monitors[0])
        if word.isdigit():
            spec = int(word)
        else:
            raise ConfigError(f"monitor must be an index 1..{len(singles)}, 'all' or 'primary', got {spec!r}")
    if isinstance(spec, bool) or not isinstance(spec, int):
        raise ConfigError(f"monitor must be an index, 'all' or 'primary', got {spec!r}")
    if not 0 <= spec < len(monitors):
        listing = ", ".join(f"{m.index}: {m.width}x{m.height}+{m.left}+{m.top}" for m in singles)
        raise EnvError(f"there is no monitor {spec}; this screen has {len(singles)} ({listing}) plus 0/'all'")
    return monitors[spec]


def display_for(monitor: Monitor, image_size: tuple[int, int], scale: float | None = None) -> Display:
    """The Display of a capture of ``monitor`` that came back as ``image_size`` physical pixels."""
    width, height = image_size
    if scale is None:
        scale = width / monitor.width
        other = height / monitor.height
        if not math.isclose(scale, other, rel_tol=0.01):
            raise EnvError(f"capture of monitor {monitor.index} is {width}x{height} pixels for a "
                           f"{monitor.width}x{monitor.height}-point monitor: the two axes scale differently "
                           f"({scale:.3f} vs {other:.3f}); pass scale= explicitly")
    elif isinstance(scale, bool) or not isinstance(scale, (int, float)) or not (math.isfinite(scale) and scale > 0):
        raise ConfigError(f"scale must be a positive number, got {scale!r}")
    return Display((width, height), float(scale), (float(monitor.left), float(monitor.top)))
