"""The image-budget resize, tiled so that a new screenshot only costs the tiles its changes touch.

An agent sends a screenshot every step, and between two steps most of the screen stays as it was. A bicubic
resize of a whole 1920x1080 frame costs 30-60 ms; a click that repaints a button touches a few tiles of it.

The resized image is always assembled from one FIXED grid of destination tiles (``TILE`` px squares over the
content area). Each tile is ``source.resize(tile, BICUBIC, box=its source box)``: Pillow computes the filter
weights for the box against the whole source (pixels outside the box that the filter reaches are read, not
clamped), so a tile is a pure function of the screenshot, whatever came before it. What the model is sent never
depends on history: ``resize(a)`` after any other screenshot equals ``resize(a)`` from scratch, byte for byte.
The tiled image differs from one full ``Image.resize`` by at most one level in a few pixels (float rounding of
the per-tile boxes in the filter weights), which no model can tell apart.

Incremental path: per (source size, content size, output size) the last source frame's pixels (a numpy copy)
and its output are kept (a few keys, least recently used first out). For a new screenshot of the same size, a
numpy compare finds the changed rows and, per band of tiles, the changed columns; only tiles whose source region
plus the filter's reach intersects a change are resized again and pasted into a copy of the previous output.
Unchanged screenshots get the previous output object back (so encoders that cache by identity reuse it too).

Outputs are marked read-only: Pillow copies a read-only image's pixels before ``paste``/``ImageDraw``/
``putpixel`` change them, and clears the flag. A kept output whose flag is gone is not used as a base, so what a
caller draws on a prepared image never leaks into the next one.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

Size = tuple[int, int]  # (width, height)

#: Side of a destination tile. Smaller tiles redo less after a small change but cost more calls; on mock desktop
#: runs 64..128 were within noise of each other (256: slower), and from scratch the tiles cost about one full
#: resize.
TILE = 64
#: Bicubic filter support in source pixels at scale 1 (Pillow's ``bicubic_filter.support``).
_SUPPORT = 2.0
#: How many (source size, content size, output size) keys keep their last frame (each ~2 frames of memory).
_KEEP = 4


@dataclass(frozen=True)
class _Grid:
    """The fixed tiles of one resize: destination boxes, source boxes and source reach, per axis."""

    dst: tuple[tuple[int, int], ...]        # per axis: (d0, d1) destination spans
    src: tuple[tuple[float, float], ...]    # the matching source spans (the resize ``box``)
    reach: tuple[tuple[int, int], ...]      # source pixels the filter may read for that span: [r0, r1)


@lru_cache(maxsize=64)
def _axis(src_len: int, dst_len: int) -> _Grid:
    scale = src_len / dst_len
    # Pillow: support = filter support * max(scale, 1); pixel i reads [int(c - support + .5), int(c + support
    # + .5)) around its centre c. One extra pixel each side covers the rounding.
    margin = _SUPPORT * max(scale, 1.0) + 1.0
    dst, src, reach = [], [], []
    for d0 in range(0, dst_len, TILE):
        d1 = min(d0 + TILE, dst_len)
        s0, s1 = d0 * src_len / dst_len, d1 * src_len / dst_len  # exact at the far edge (Pillow checks the box)
        dst.append((d0, d1))
        src.append((s0, s1))
        reach.append((max(0, math.floor(s0 - margin)), min(src_len, math.ceil(s1 + margin))))
    return _Grid(tuple(dst), tuple(src), tuple(reach))


def _tile(source: Image.Image, gx: _Grid, gy: _Grid, i: int, j: int) -> Image.Image:
    (x0, x1), (y0, y1) = gx.dst[i], gy.dst[j]
    box = (gx.src[i][0], gy.src[j][0], gx.src[i][1], gy.src[j][1])
    return source.resize((x1 - x0, y1 - y0), Image.Resampling.BICUBIC, box=box)


def tiled_resize(source: Image.Image, content: Size, canvas: Size | None = None) -> Image.Image:
    """``source`` (RGB) resized to ``content`` tile by tile, on a black ``canvas`` (default: ``content``) at
    (0, 0). The reference result: ``resize`` always returns exactly this."""
    gx, gy = _axis(source.width, content[0]), _axis(source.height, content[1])
    out = Image.new("RGB", canvas or content, (0, 0, 0))
    for j in range(len(gy.dst)):
        for i in range(len(gx.dst)):
            out.paste(_tile(source, gx, gy, i, j), (gx.dst[i][0], gy.dst[j][0]))
    out.readonly = 1
    return out


_LAST: OrderedDict[tuple[Size, Size, Size], tuple[np.ndarray, Image.Image]] = OrderedDict()
_LOCK = threading.Lock()


def resize(source: Image.Image, content: Size, canvas: Size | None = None) -> Image.Image:
    """Exactly ``tiled_resize(source, content, canvas)``, computed from the last frame of the same size where
    there was one (only the tiles reached by changed pixels are resized again). Thread-safe."""
    if source.mode != "RGB":
        raise ValueError(f"resize expects an RGB image, got mode {source.mode!r}")
    canvas = canvas or content
    key = (source.size, content, canvas)
    pixels = np.asarray(source)  # a copy: the screenshot may be recycled or changed after we return
    with _LOCK:
        last = _LAST.get(key)
    out = _incremental(source, pixels, content, last) if last is not None else None
    if out is None:
        out = tiled_resize(source, content, canvas)
    with _LOCK:
        _LAST[key] = (pixels, out)
        _LAST.move_to_end(key)
        while len(_LAST) > _KEEP:
            _LAST.popitem(last=False)
    return out


def _incremental(source: Image.Image, pixels: np.ndarray, content: Size,
                 last: tuple[np.ndarray, Image.Image]) -> Image.Image | None:
    """The new output from the kept one, or None when the kept one cannot serve as a base."""
    before, previous = last
    # A kept output that is no longer read-only was written to (Pillow copied it and cleared the flag): the
    # pixels it holds now are someone else's drawing.
    if not previous.readonly:
        return None
    w, h = source.size
    changed = (pixels != before).reshape(h, w * 3)
    rows = np.flatnonzero(changed.any(axis=1))
    if rows.size == 0:
        return previous
    gx, gy = _axis(w, content[0]), _axis(h, content[1])
    out = previous.copy()
    if not previous.readonly:  # written to while we copied (another thread): the copy may hold that drawing
        return None
    for j, (r0, r1) in enumerate(gy.reach):
        k = np.searchsorted(rows, r0)
        if k == rows.size or rows[k] >= r1:
            continue  # no changed row within this band's reach
        cols = np.flatnonzero(changed[r0:r1].any(axis=0)) // 3
        for i, (c0, c1) in enumerate(gx.reach):
            k = np.searchsorted(cols, c0)
            if k < cols.size and cols[k] < c1:
                out.paste(_tile(source, gx, gy, i, j), (gx.dst[i][0], gy.dst[j][0]))
    out.readonly = 1
    return out


def forget() -> None:
    """Drop every kept frame (tests; or to free the memory at once)."""
    with _LOCK:
        _LAST.clear()
