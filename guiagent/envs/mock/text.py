"""Text measuring and rasterising with the bundled TrueType fonts.

Why a module of its own: text is the most expensive thing the mock desktop draws (a Pillow ``draw.text`` call costs
about 0.1 ms), so every rendered string is cached as an 8-bit mask and pasted (about 0.01 ms). Measuring always
uses the font at its logical size, so layout (caret positions, column widths) does not depend on the HiDPI scale;
rasterising uses the font at ``size * scale`` physical pixels.

Characters in CJK blocks are drawn with the bundled Droid Sans Fallback subset, everything else with DejaVu Sans.
The layout engine is Pillow's BASIC one, so output does not depend on whether libraqm is installed.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = Path(__file__).parent / "fonts"
FONT_FILES = {
    "sans": "DejaVuSans.ttf",
    "bold": "DejaVuSans-Bold.ttf",
    "mono": "DejaVuSansMono.ttf",
    "cjk": "DroidSansFallback-CJK-subset.ttf",
}

_CJK_RANGES = (
    (0x1100, 0x11FF), (0x2E80, 0x2FDF), (0x3000, 0x303F), (0x3040, 0x30FF), (0x3100, 0x31FF),
    (0x3200, 0x33FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xA960, 0xA97F), (0xAC00, 0xD7FF),
    (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF),
)


class TextStyle(NamedTuple):
    """A font: ``kind`` is "sans", "bold" or "mono"; ``size`` in logical points."""
    kind: str = "sans"   # "sans", "bold" or "mono"
    size: int = 13       # logical points


def is_cjk(ch: str) -> bool:
    """True for a Hangul, kana, CJK ideograph or full-width character (drawn with the bundled CJK font)."""
    o = ord(ch)
    if o < 0x1100:
        return False
    return any(a <= o <= b for a, b in _CJK_RANGES)


@lru_cache(maxsize=None)
def font(kind: str, size_px: int) -> ImageFont.FreeTypeFont:
    """The font ``kind`` at ``size_px`` pixels (cached: loading a face costs about a millisecond)."""
    return ImageFont.truetype(str(FONT_DIR / FONT_FILES[kind]), max(1, size_px),
                              layout_engine=ImageFont.Layout.BASIC)


def runs(text: str, kind: str) -> list[tuple[str, str]]:
    """Split ``text`` into (font kind, substring) runs: CJK characters go to the fallback font."""
    if text.isascii():
        return [(kind, text)]
    out: list[tuple[str, str]] = []
    cur_kind, start = None, 0
    for i, ch in enumerate(text):
        k = "cjk" if is_cjk(ch) else kind
        if k != cur_kind:
            if cur_kind is not None:
                out.append((cur_kind, text[start:i]))
            cur_kind, start = k, i
    if cur_kind is not None:
        out.append((cur_kind, text[start:]))
    return out


@lru_cache(maxsize=64)
def line_metrics(size_px: int) -> tuple[int, int]:
    """(ascent, descent) in pixels of a line at ``size_px``, the max over the primary and CJK fonts, so the
    height of a line never depends on its content."""
    a1, d1 = font("sans", size_px).getmetrics()
    a2, d2 = font("cjk", size_px).getmetrics()
    return max(a1, a2), max(d1, d2)


def line_height(size: int) -> int:
    """Height in logical points of one line of text at ``size``."""
    a, d = line_metrics(size)
    return a + d


_WIDTH_CACHE: dict[tuple[str, str, int], float] = {}


#: Long strings are measured and drawn in chunks of this many characters, so that typing at the end of a long
#: line re-measures and re-rasterises one chunk, not the whole line (kerning across a chunk seam is dropped).
CHUNK = 32


#: strings up to this length are cached whole; longer ones are summed from their (cached) chunks
_WHOLE_CACHE_LIMIT = 1024


def _measure_short(text: str, style: TextStyle) -> float:
    key = (text, style.kind, style.size)
    w = _WIDTH_CACHE.get(key)
    if w is None:
        if len(_WIDTH_CACHE) > 50000:
            _WIDTH_CACHE.clear()
        w = sum(font(k, style.size).getlength(part) for k, part in runs(text, style.kind))
        _WIDTH_CACHE[key] = w
    return w


def measure(text: str, style: TextStyle = TextStyle()) -> float:
    """Advance width of ``text`` in logical points.

    Text longer than ``CHUNK`` is the sum of its ``CHUNK``-character chunks, each measured once and cached, in a
    loop (a line of any length costs len/CHUNK cache look-ups; no recursion, so no depth limit).
    """
    if len(text) <= CHUNK:
        return _measure_short(text, style)
    key = (text, style.kind, style.size)
    w = _WIDTH_CACHE.get(key)
    if w is None:
        w = sum(_measure_short(text[i:i + CHUNK], style) for i in range(0, len(text), CHUNK))
        if len(text) <= _WHOLE_CACHE_LIMIT:
            _WIDTH_CACHE[key] = w
    return w


def index_at(text: str, x: float, style: TextStyle = TextStyle()) -> int:
    """Caret index closest to logical x offset ``x`` within ``text``."""
    if x <= 0 or not text:
        return 0
    if x >= measure(text, style):
        return len(text)
    # binary search for the last caret position at or left of x, then pick the nearer neighbour
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(text[:mid], style) <= x:
            lo = mid
        else:
            hi = mid - 1
    left = measure(text[:lo], style)
    right = measure(text[:lo + 1], style)
    return lo if x - left <= right - x else lo + 1


def elide(text: str, max_width: float, style: TextStyle = TextStyle()) -> str:
    """``text`` shortened with an ellipsis so that it fits ``max_width`` points."""
    if measure(text, style) <= max_width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(text[:mid] + "…", style) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + "…"


_PAD = 2
_MASKS: OrderedDict[tuple[str, str, int], tuple[Image.Image, int]] = OrderedDict()
_MASK_LIMIT = 6000


def mask(text: str, kind: str, size_px: int) -> tuple[Image.Image, int]:
    """An "L" mask of ``text`` at ``size_px`` pixels with its line box top at y=0, and the x padding (pixels) to
    subtract from the pen position when pasting. Cached (LRU)."""
    key = (text, kind, size_px)
    hit = _MASKS.get(key)
    if hit is not None:
        _MASKS.move_to_end(key)
        return hit
    asc, desc = line_metrics(size_px)
    parts = runs(text, kind)
    width = sum(font(k, size_px).getlength(p) for k, p in parts)
    im = Image.new("L", (int(math.ceil(width)) + 2 * _PAD + 1, asc + desc), 0)
    draw = ImageDraw.Draw(im)
    x = float(_PAD)
    for k, part in parts:
        f = font(k, size_px)
        draw.text((x, asc), part, font=f, fill=255, anchor="ls")
        x += f.getlength(part)
    _MASKS[key] = (im, _PAD)
    if len(_MASKS) > _MASK_LIMIT:
        _MASKS.popitem(last=False)
    return im, _PAD


def wrap(text: str, max_width: float, style: TextStyle = TextStyle()) -> list[str]:
    """Greedy word wrap of one paragraph into lines no wider than ``max_width`` (long words are split)."""
    if not text:
        return [""]
    lines: list[str] = []
    cur = ""
    for word in text.split(" "):
        cand = word if not cur else cur + " " + word
        if measure(cand, style) <= max_width:
            cur = cand
            continue
        if cur:
            lines.append(cur)
        cur = word
        while measure(cur, style) > max_width and len(cur) > 1:
            cut = max(1, index_at(cur, max_width, style))
            lines.append(cur[:cut])
            cur = cur[cut:]
    lines.append(cur)
    return lines
