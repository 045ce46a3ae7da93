"""Procedurally drawn icons (no image files): app icons, file-type icons and a few toolbar glyphs.

Each icon is drawn on a 64-unit grid at 4x the requested pixel size and downsampled, so edges are antialiased at
any HiDPI scale. Results are cached per (name, size).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

from PIL import Image, ImageDraw

_SS = 4  # supersampling factor


class _Pen:
    """Draws on the 64-unit grid."""

    def __init__(self, px: int):
        self.k = px * _SS / 64.0
        self.im = Image.new("RGBA", (px * _SS, px * _SS), (0, 0, 0, 0))
        self.d = ImageDraw.Draw(self.im)

    def _b(self, x0, y0, x1, y1):
        k = self.k
        return (x0 * k, y0 * k, x1 * k - 1, y1 * k - 1)

    def rect(self, x0, y0, x1, y1, fill=None, outline=None, width=2, radius=0):
        self.d.rounded_rectangle(self._b(x0, y0, x1, y1), radius=radius * self.k, fill=fill, outline=outline,
                                 width=max(1, int(width * self.k)))

    def ellipse(self, x0, y0, x1, y1, fill=None, outline=None, width=2):
        self.d.ellipse(self._b(x0, y0, x1, y1), fill=fill, outline=outline, width=max(1, int(width * self.k)))

    def poly(self, pts, fill=None, outline=None):
        self.d.polygon([(x * self.k, y * self.k) for x, y in pts], fill=fill, outline=outline)

    def line(self, pts, fill, width=3):
        self.d.line([(x * self.k, y * self.k) for x, y in pts], fill=fill, width=max(1, int(width * self.k)),
                    joint="curve")


def _folder(p: _Pen, tint=(240, 190, 60)):
    dark = tuple(int(c * 0.8) for c in tint)
    p.poly([(4, 14), (24, 14), (30, 20), (60, 20), (60, 54), (4, 54)], fill=dark)
    p.rect(4, 22, 60, 56, fill=tint, radius=4)


def _file(p: _Pen, lines=True):
    p.poly([(12, 4), (42, 4), (54, 16), (54, 60), (12, 60)], fill=(250, 250, 252), outline=(150, 154, 162))
    p.poly([(42, 4), (42, 16), (54, 16)], fill=(210, 214, 222), outline=(150, 154, 162))
    if lines:
        for y in (26, 34, 42, 50):
            p.line([(19, y), (47, y)], (150, 160, 178), 2.5)


def _editor(p: _Pen):
    p.rect(8, 4, 50, 60, fill=(255, 255, 255), outline=(60, 110, 200), width=3, radius=4)
    for y in (16, 24, 32, 40):
        p.line([(15, y), (42, y)], (120, 140, 180), 2.5)
    p.poly([(40, 50), (58, 24), (63, 28), (45, 54), (38, 56)], fill=(240, 150, 40), outline=(150, 80, 20))


def _files(p: _Pen):
    _folder(p, (80, 150, 230))
    p.rect(22, 34, 42, 38, fill=(255, 255, 255), radius=1)


def _calculator(p: _Pen):
    p.rect(12, 4, 52, 60, fill=(70, 76, 88), radius=6)
    p.rect(17, 9, 47, 22, fill=(200, 230, 200), radius=2)
    for r in range(3):
        for c in range(3):
            x, y = 17 + c * 11, 27 + r * 10
            p.rect(x, y, x + 8, y + 7, fill=(240, 150, 50) if c == 2 else (220, 222, 228), radius=1.5)


def _settings(p: _Pen):
    import math

    pts = []
    for i in range(16):
        a = i * math.pi / 8
        r = 28 if i % 2 == 0 else 21
        pts.append((32 + r * math.cos(a), 32 + r * math.sin(a)))
    p.poly(pts, fill=(110, 118, 132))
    p.ellipse(16, 16, 48, 48, fill=(110, 118, 132))
    p.ellipse(24, 24, 40, 40, fill=(235, 237, 240))


def _mail(p: _Pen):
    p.rect(4, 12, 60, 52, fill=(255, 255, 255), outline=(60, 120, 210), width=3, radius=4)
    p.line([(6, 15), (32, 36), (58, 15)], (60, 120, 210), 3)


def _webform(p: _Pen):
    p.ellipse(6, 6, 58, 58, fill=(70, 150, 220))
    p.ellipse(6, 6, 58, 58, outline=(255, 255, 255), width=2.5)
    p.ellipse(20, 6, 44, 58, outline=(255, 255, 255), width=2.5)
    p.line([(6, 32), (58, 32)], (255, 255, 255), 2.5)
    p.line([(11, 20), (53, 20)], (255, 255, 255), 2.5)
    p.line([(11, 44), (53, 44)], (255, 255, 255), 2.5)


def _trash(p: _Pen, full=False):
    p.rect(10, 10, 54, 16, fill=(150, 156, 168), radius=2)
    p.rect(26, 4, 38, 10, outline=(150, 156, 168), width=3, radius=2)
    p.poly([(14, 18), (50, 18), (46, 60), (18, 60)], fill=(190, 196, 206))
    for x in (24, 32, 40):
        p.line([(x, 24), (x, 54)], (130, 136, 148), 3)
    if full:
        p.rect(16, 14, 48, 20, fill=(240, 240, 240))


def _glyph(kind: str) -> Callable[[_Pen], None]:
    col = (70, 76, 88)

    def draw(p: _Pen):
        if kind == "up":
            p.line([(32, 52), (32, 14)], col, 5)
            p.line([(16, 30), (32, 14), (48, 30)], col, 5)
        elif kind == "back":
            p.line([(52, 32), (14, 32)], col, 5)
            p.line([(30, 16), (14, 32), (30, 48)], col, 5)
        elif kind == "forward":
            p.line([(12, 32), (50, 32)], col, 5)
            p.line([(34, 16), (50, 32), (34, 48)], col, 5)
        elif kind == "search":
            p.ellipse(10, 10, 42, 42, outline=col, width=5)
            p.line([(38, 38), (54, 54)], col, 6)
        elif kind == "plus":
            p.line([(32, 12), (32, 52)], col, 5)
            p.line([(12, 32), (52, 32)], col, 5)
        elif kind == "compose":
            p.rect(8, 14, 46, 56, outline=col, width=4, radius=3)
            p.poly([(30, 40), (52, 10), (58, 15), (36, 45), (28, 47)], fill=(60, 120, 210))
        elif kind == "refresh":
            p.d.arc(p._b(12, 12, 52, 52), 40, 330, fill=col, width=int(5 * p.k))
            p.poly([(44, 6), (56, 20), (40, 24)], fill=col)
        elif kind == "home":
            p.poly([(32, 8), (58, 32), (50, 32), (50, 56), (14, 56), (14, 32), (6, 32)], fill=col)
        elif kind == "inbox":
            p.rect(8, 12, 56, 52, outline=col, width=4, radius=4)
            p.line([(8, 36), (22, 36), (26, 42), (38, 42), (42, 36), (56, 36)], col, 4)
        elif kind == "sent":
            p.poly([(6, 30), (58, 8), (44, 56), (32, 38)], fill=col)
        elif kind == "drafts":
            _file(p, lines=True)
        elif kind == "lock":
            p.rect(14, 28, 50, 56, fill=col, radius=4)
            p.rect(20, 8, 44, 36, outline=col, width=5, radius=10)
        elif kind == "check":
            p.line([(12, 34), (26, 48), (52, 18)], (30, 130, 60), 7)
        elif kind == "warning":
            p.poly([(32, 6), (60, 56), (4, 56)], fill=(236, 170, 40))
            p.line([(32, 22), (32, 40)], (255, 255, 255), 6)
            p.ellipse(29, 45, 35, 51, fill=(255, 255, 255))
        elif kind == "info":
            p.ellipse(4, 4, 60, 60, fill=(60, 120, 210))
            p.line([(32, 28), (32, 48)], (255, 255, 255), 6)
            p.ellipse(29, 15, 35, 21, fill=(255, 255, 255))
    return draw


_ICONS: dict[str, Callable[[_Pen], None]] = {
    "folder": _folder, "file": _file, "editor": _editor, "files": _files, "calculator": _calculator,
    "settings": _settings, "mail": _mail, "webform": _webform, "trash": _trash,
    "trash_full": lambda p: _trash(p, True), "desktop": lambda p: _folder(p, (120, 170, 120)),
}
for _g in ("up", "back", "forward", "search", "plus", "compose", "refresh", "home", "inbox", "sent", "drafts",
           "lock", "check", "warning", "info"):
    _ICONS[_g] = _glyph(_g)

@lru_cache(maxsize=512)
def icon_image(name: str, px: int) -> Image.Image:
    """The RGBA icon ``name`` at ``px`` x ``px`` pixels. Unknown names draw a blank document."""
    px = max(4, px)
    pen = _Pen(px)
    _ICONS.get(name, _file)(pen)
    return pen.im.resize((px, px), Image.LANCZOS)
