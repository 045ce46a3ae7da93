"""Drawing in logical points onto physical pixels, and incremental (damage-based) screen composition.

``Painter`` is the only place that multiplies by the HiDPI scale. Widgets draw in their own logical coordinates
(the painter carries the translation); the painter rounds to physical pixels.

``Compositor`` keeps one persistent canvas. Changes register *damage* rectangles (screen points); ``flush``
repaints only those rectangles, each into a scratch image cropped from the canvas, by walking the top-level layers
in z-order and painting only widgets that intersect the rectangle. A screenshot is then a plain copy of the canvas.
"""

from __future__ import annotations

import math
import sys
import weakref
from collections import deque
from typing import Callable, Iterable

from PIL import Image, ImageDraw

from guiagent.envs.mock import text as textmod
from guiagent.envs.mock.geometry import Rect
from guiagent.envs.mock.text import TextStyle

Color = tuple[int, int, int]


def _px(v: float, s: float) -> int:
    return int(math.floor(v * s + 0.5))


class Painter:
    """Draws into ``image`` whose top-left pixel is physical pixel ``origin`` of the screen.

    ``ox``/``oy`` is the current translation in logical points (the origin of the widget being painted);
    ``clip`` is the screen rectangle (points) outside which drawing does not matter.
    """

    def __init__(self, image: Image.Image, scale: float, origin: tuple[int, int], clip: Rect):
        self.image = image
        self.draw = ImageDraw.Draw(image)
        self.s = scale
        self.origin = origin
        self.clip = clip
        self.ox = 0.0
        self.oy = 0.0

    # ------------------------------------------------------------------ coordinates
    def X(self, x: float) -> int:
        """The pixel column in ``image`` of local x (translated, scaled, rounded)."""
        return _px(self.ox + x, self.s) - self.origin[0]

    def Y(self, y: float) -> int:
        """The pixel row in ``image`` of local y (translated, scaled, rounded)."""
        return _px(self.oy + y, self.s) - self.origin[1]

    def box(self, x: float, y: float, w: float, h: float) -> tuple[int, int, int, int]:
        """Inclusive physical box of the logical rectangle, as ImageDraw wants it."""
        return self.X(x), self.Y(y), self.X(x + w) - 1, self.Y(y + h) - 1

    def lw(self, width: float) -> int:
        """A line width in points as whole pixels, at least 1."""
        return max(1, _px(width, self.s))

    # ------------------------------------------------------------------ primitives
    def fill(self, x: float, y: float, w: float, h: float, color: Color) -> None:
        """Fill the local rectangle (x, y, w, h) with ``color`` (nothing when it rounds to no pixels)."""
        x0, y0, x1, y1 = self.X(x), self.Y(y), self.X(x + w), self.Y(y + h)
        if x1 > x0 and y1 > y0:
            self.image.paste(color, (x0, y0, x1, y1))

    def rect(self, x: float, y: float, w: float, h: float, fill: Color | None = None,
             outline: Color | None = None, width: float = 1, radius: float = 0) -> None:
        """Draw a rectangle, optionally with rounded corners.

        Args:
            x: left edge, local points.
            y: top edge, local points.
            w: width in points.
            h: height in points.
            fill: the inside colour, or None for none.
            outline: the border colour, or None for none.
            width: the border width in points.
            radius: the corner radius in points (0: square corners).
        """
        b = self.box(x, y, w, h)
        if b[2] < b[0] or b[3] < b[1]:
            return
        if radius > 0:
            self.draw.rounded_rectangle(b, radius=_px(radius, self.s), fill=fill, outline=outline,
                                        width=self.lw(width))
        else:
            self.draw.rectangle(b, fill=fill, outline=outline, width=self.lw(width))

    def line(self, x0: float, y0: float, x1: float, y1: float, color: Color, width: float = 1) -> None:
        """Draw a straight line from (x0, y0) to (x1, y1), ``width`` points wide."""
        self.draw.line((self.X(x0), self.Y(y0), self.X(x1), self.Y(y1)), fill=color, width=self.lw(width))

    def hline(self, x: float, y: float, w: float, color: Color, width: float = 1) -> None:
        """Draw a horizontal line ``w`` points long whose top edge is at y."""
        self.fill(x, y, w, width, color)

    def vline(self, x: float, y: float, h: float, color: Color, width: float = 1) -> None:
        """Draw a vertical line ``h`` points long whose left edge is at x."""
        self.fill(x, y, width, h, color)

    def ellipse(self, x: float, y: float, w: float, h: float, fill: Color | None = None,
                outline: Color | None = None, width: float = 1) -> None:
        """Draw the ellipse inscribed in the local rectangle (x, y, w, h), filled and/or outlined."""
        self.draw.ellipse(self.box(x, y, w, h), fill=fill, outline=outline, width=self.lw(width))

    def polygon(self, pts: Iterable[tuple[float, float]], fill: Color | None = None,
                outline: Color | None = None) -> None:
        """Draw a closed polygon through local points ``pts``, filled and/or outlined."""
        self.draw.polygon([(self.X(x), self.Y(y)) for x, y in pts], fill=fill, outline=outline)

    def polyline(self, pts: Iterable[tuple[float, float]], color: Color, width: float = 1) -> None:
        """Draw connected line segments through local points ``pts`` (round joints, e.g. tick marks)."""
        self.draw.line([(self.X(x), self.Y(y)) for x, y in pts], fill=color, width=self.lw(width), joint="curve")

    def text(self, x: float, y: float, s: str, style: TextStyle = TextStyle(), color: Color = (0, 0, 0)) -> None:
        """Draw ``s`` with the top of its line box at (x, y)."""
        if not s:
            return
        size_px = _px(style.size, self.s)
        if len(s) <= textmod.CHUNK:
            m, pad = textmod.mask(s, style.kind, size_px)
            x0, y0 = self.X(x) - pad, self.Y(y)
            self.image.paste(color, (x0, y0, x0 + m.width, y0 + m.height), m)
            return
        # chunk k starts at the sum of the widths of chunks 0..k-1, which is exactly measure(s[:32k])
        width = self.image.width
        offset = 0.0
        y0 = self.Y(y)
        for start in range(0, len(s), textmod.CHUNK):
            part = s[start:start + textmod.CHUNK]
            px = self.X(x + offset)
            if px > width:
                break
            offset += textmod.measure(part, style)
            if self.X(x + offset) + 4 < 0:
                continue
            m, pad = textmod.mask(part, style.kind, size_px)
            x0 = px - pad
            self.image.paste(color, (x0, y0, x0 + m.width, y0 + m.height), m)

    def text_in(self, x: float, y: float, w: float, h: float, s: str, style: TextStyle = TextStyle(),
                color: Color = (0, 0, 0), align: str = "left", pad: float = 0) -> None:
        """Draw ``s`` vertically centred in the box, aligned left/center/right, elided to fit."""
        if not s:
            return
        s = textmod.elide(s, w - 2 * pad, style)
        tw = textmod.measure(s, style)
        if align == "center":
            tx = x + (w - tw) / 2
        elif align == "right":
            tx = x + w - pad - tw
        else:
            tx = x + pad
        ty = y + (h - textmod.line_height(style.size)) / 2
        self.text(tx, ty, s, style, color)

    def icon(self, x: float, y: float, name: str, size: float) -> None:
        """Draw the named icon (see ``icons``) as a ``size`` point square at logical (x, y)."""
        from guiagent.envs.mock.icons import icon_image

        im = icon_image(name, _px(size, self.s))
        self.image.paste(im, (self.X(x), self.Y(y)), im)

    def backdrop(self, screen_image: Image.Image) -> None:
        """Fill this painter's whole area from a screen-sized physical image (the wallpaper)."""
        x0, y0 = self.origin
        self.image.paste(screen_image.crop((x0, y0, x0 + self.image.width, y0 + self.image.height)), (0, 0))

    # ------------------------------------------------------------------ clipping
    def sub(self, x: float, y: float, w: float, h: float) -> "Painter | None":
        """A painter clipped to the local rectangle, drawing into a crop of this image; call ``commit``."""
        r = Rect(int(math.floor(self.ox + x)), int(math.floor(self.oy + y)), int(math.ceil(w)), int(math.ceil(h)))
        r = r.intersection(self.clip)
        if r.empty:
            return None
        x0, y0 = _px(r.x, self.s), _px(r.y, self.s)
        x1, y1 = _px(r.right, self.s), _px(r.bottom, self.s)
        crop = self.image.crop((x0 - self.origin[0], y0 - self.origin[1], x1 - self.origin[0], y1 - self.origin[1]))
        p = Painter(crop, self.s, (x0, y0), r)
        p.ox, p.oy = self.ox, self.oy
        p._parent = self  # type: ignore[attr-defined]
        return p

    def commit(self) -> None:
        """Paste what this sub-painter drew back into its parent painter's image."""
        parent: Painter = self._parent  # type: ignore[attr-defined]
        parent.image.paste(self.image, (self.origin[0] - parent.origin[0], self.origin[1] - parent.origin[1]))


class Compositor:
    """A persistent canvas plus a damage list; ``flush(paint)`` repaints the damaged rectangles."""

    def __init__(self, width: int, height: int, scale: float):
        self.width, self.height, self.scale = width, height, scale
        self.size_px = (_px(width, scale), _px(height, scale))
        self.canvas = Image.new("RGB", self.size_px, (0, 0, 0))
        self.screen = Rect(0, 0, width, height)
        self.damage: list[Rect] = [self.screen]
        self.full_repaints = 0
        self.partial_repaints = 0
        self.frame = 0
        self._log: deque[tuple[int, list[Rect]]] = deque(maxlen=16)   # (frame, rects repainted for it)
        self._pool: list[list] = []                                     # [image, frame it shows]
        self.recycled = 0

    def invalidate(self, r: Rect) -> None:
        """Add the screen rectangle ``r`` (points) to the damage to repaint at the next ``flush``.

        The part off screen is dropped; a rectangle already covered adds nothing, one that covers an earlier one
        replaces it.
        """
        r = r.intersection(self.screen)
        if r.empty:
            return
        dmg = self.damage
        for i, d in enumerate(dmg):
            if d.x <= r.x and d.y <= r.y and d.right >= r.right and d.bottom >= r.bottom:
                return
            if r.x <= d.x and r.y <= d.y and r.right >= d.right and r.bottom >= d.bottom:
                dmg[i] = r
                return
        dmg.append(r)

    def invalidate_all(self) -> None:
        """Damage the whole screen (a theme change, a reset)."""
        self.damage = [self.screen]

    def _merged(self) -> list[Rect]:
        """Coalesce damage: two rectangles merge when their union is not much larger than the two together
        (so the four thin strips of a focus frame do not grow into the whole widget); overlap between the
        rectangles that stay apart is simply painted twice."""
        rects = list(self.damage)
        changed = True
        while changed and len(rects) > 1:
            changed = False
            out: list[Rect] = []
            for r in rects:
                for i, o in enumerate(out):
                    u = o.union(r)
                    # overlapping rectangles get a little slack: their union wastes less than it seems
                    if u.w * u.h <= 1.25 * (o.w * o.h + r.w * r.h) + (64 if r.intersects(o) else 0):
                        out[i] = u
                        changed = True
                        break
                else:
                    out.append(r)
            rects = out
        if len(rects) > 24:
            u = rects[0]
            for r in rects[1:]:
                u = u.union(r)
            rects = [u]
        return rects

    def flush(self, paint: Callable[[Painter], None]) -> None:
        """Repaint every damaged rectangle with ``paint(painter)``, which paints all layers (the painter's
        ``clip`` says what matters)."""
        if not self.damage:
            return
        rects = self._merged()
        self.damage = []
        self.frame += 1
        self._log.append((self.frame, rects))
        s = self.scale
        for r in rects:
            x0, y0, x1, y1 = _px(r.x, s), _px(r.y, s), _px(r.right, s), _px(r.bottom, s)
            if x1 <= x0 or y1 <= y0:
                continue
            scratch = Image.new("RGB", (x1 - x0, y1 - y0), (0, 0, 0))
            paint(Painter(scratch, s, (x0, y0), r))
            self.canvas.paste(scratch, (x0, y0))
            if r == self.screen:
                self.full_repaints += 1
            else:
                self.partial_repaints += 1

    # ------------------------------------------------------------------ screenshots
    _RECYCLE = sys.implementation.name == "cpython"
    POOL = 3

    def snapshot(self) -> Image.Image:
        """A new, independent image of the canvas.

        Copying a whole 1280x800 frame costs 0.2-0.8 ms, more than painting a typical step. So images handed out
        earlier are kept in a small pool, and one that nobody references any more (CPython reference counts of
        the image and its pixel core show only the pool's own) is brought up to date by copying just the
        rectangles repainted since it was handed out. Callers cannot tell the difference: an image they still
        hold, or hold a weak reference to, is never touched.
        """
        if self._RECYCLE:
            for entry in self._pool:
                img = entry[0]
                # references: the pool entry, ``img`` and getrefcount's argument (3); the core: img._im + arg.
                # A weak reference means someone (a cache keyed by identity) still remembers this picture, so
                # it must never change under them either.
                if sys.getrefcount(img) <= 3 and sys.getrefcount(img.im) <= 2 and not weakref.getweakrefcount(img):
                    self._refresh(img, entry[1])
                    entry[1] = self.frame
                    self._pool.remove(entry)
                    self._pool.append(entry)
                    self.recycled += 1
                    return img
        img = self.canvas.copy()
        self._pool.append([img, self.frame])
        if len(self._pool) > self.POOL:
            self._pool.pop(0)
        return img

    def _refresh(self, img: Image.Image, shown: int) -> None:
        if shown == self.frame:
            return
        if not self._log or self._log[0][0] > shown + 1:
            img.paste(self.canvas, (0, 0))
            return
        s = self.scale
        for frame, rects in self._log:
            if frame <= shown:
                continue
            for r in rects:
                box = (_px(r.x, s), _px(r.y, s), _px(r.right, s), _px(r.bottom, s))
                img.paste(self.canvas.crop(box), box[:2])
