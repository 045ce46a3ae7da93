"""Integer rectangles in logical points (the mock desktop's layout unit).

Layout, hit testing, damage tracking and the accessibility tree all use ``Rect``; only the painter converts to
physical pixels (see ``render.Painter``), so HiDPI never leaks into widget code.
"""

from __future__ import annotations

from typing import NamedTuple


class Rect(NamedTuple):
    """An integer rectangle in points: top-left (x, y), width and height; right and bottom are exclusive."""
    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        """The first x to the right of the rectangle."""
        return self.x + self.w

    @property
    def bottom(self) -> int:
        """The first y below the rectangle."""
        return self.y + self.h

    @property
    def center(self) -> tuple[float, float]:
        """The centre point (may be fractional)."""
        return self.x + self.w / 2, self.y + self.h / 2

    @property
    def empty(self) -> bool:
        """True when the rectangle has no area."""
        return self.w <= 0 or self.h <= 0

    def contains(self, px: float, py: float) -> bool:
        """True when point (px, py) lies inside (the right and bottom edges excluded)."""
        return self.x <= px < self.x + self.w and self.y <= py < self.y + self.h

    def intersects(self, o: "Rect") -> bool:
        """True when the two rectangles overlap with a positive area."""
        return self.x < o.x + o.w and o.x < self.x + self.w and self.y < o.y + o.h and o.y < self.y + self.h

    def intersection(self, o: "Rect") -> "Rect":
        """The overlap of the two rectangles (empty, with zero width or height, when they do not overlap)."""
        x0, y0 = max(self.x, o.x), max(self.y, o.y)
        x1, y1 = min(self.right, o.right), min(self.bottom, o.bottom)
        return Rect(x0, y0, max(0, x1 - x0), max(0, y1 - y0))

    def union(self, o: "Rect") -> "Rect":
        """The smallest rectangle holding both (an empty rectangle is ignored)."""
        if self.empty:
            return o
        if o.empty:
            return self
        x0, y0 = min(self.x, o.x), min(self.y, o.y)
        return Rect(x0, y0, max(self.right, o.right) - x0, max(self.bottom, o.bottom) - y0)

    def as_list(self) -> list[int]:
        """``[x, y, w, h]``, the form ``state()`` and the accessibility tree use."""
        return [self.x, self.y, self.w, self.h]
