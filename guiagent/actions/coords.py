"""Every coordinate conversion in guiagent, in one module.

    model space  --(ModelFrame)-->  screenshot pixels  --(Display)-->  screen points

Model space depends on the family's convention (``Convention``): relative 0..1000, relative 0..1, or absolute
pixels of the image the model was shown. That image may be a resized screenshot (``smart_resize``) and may carry
padding on the right and bottom (Kimi-VL); ``ModelFrame`` records the image size and the part of it that holds the
screenshot (the content), so one formula covers every case:

    image_px   = x * image_w / units          (units: 1000, 1, or image_w for absolute pixels)
    screenshot = image_px * screenshot_w / content_w

Screenshot pixels are physical pixels; the input system works in logical points: divide by the HiDPI scale and
add the monitor's offset (``Display``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from enum import Enum

from guiagent.actions.types import Action, Point, Space, make_point, map_points
from guiagent.errors import ActionError, ConfigError, EnvError, ParseError

Size = tuple[int, int]  # (width, height)


class Convention(str, Enum):
    RELATIVE_1000 = "relative-1000"
    RELATIVE_1 = "relative-1"
    ABSOLUTE = "absolute"

    @property
    def units(self) -> float | None:
        """Model units per image side (1000 or 1); None for absolute pixels of the image the model saw."""
        return _UNITS.get(self)


_UNITS = {Convention.RELATIVE_1000: 1000.0, Convention.RELATIVE_1: 1.0}


# ---------------------------------------------------------------- image budgets

def smart_resize(height: int, width: int, factor: int = 28, min_pixels: int = 100 * 28 * 28,
                 max_pixels: int = 16384 * 28 * 28) -> tuple[int, int]:
    """Qwen2-VL / Qwen2.5-VL resize rule. Returns (height, width).

    Invariants: both sides are multiples of ``factor``; the area lies in [min_pixels, max_pixels]; the aspect ratio
    is kept as closely as the rounding allows. Each side is rounded to the nearest multiple of ``factor``; if the
    area is then too large both sides are scaled down and floored, if too small scaled up and ceiled.
    """
    if height <= 0 or width <= 0:
        raise ConfigError(f"image size must be positive, got {width}x{height}")
    if max(height, width) / min(height, width) > 200:
        raise ConfigError(f"aspect ratio must be under 200, got {max(height, width) / min(height, width):.1f}")
    h_bar = max(factor, round_by_factor(height, factor))
    w_bar = max(factor, round_by_factor(width, factor))
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def round_by_factor(number: float, factor: int) -> int:
    """The multiple of ``factor`` nearest to ``number`` (ties to even, as the reference ``smart_resize``)."""
    # Python's round() is banker's rounding, which is what the reference implementation uses.
    return round(number / factor) * factor


def kimi_resize(width: int, height: int, token_limit: int = 4096, patch_size: int = 14,
                merge: int = 2) -> tuple[Size, Size]:
    """Kimi-VL (MoonViT) resize rule. Returns ((content_w, content_h), (padded_w, padded_h)).

    If the patch count (w//14)*(h//14) exceeds ``token_limit``, both sides are scaled by sqrt(limit/patches) and
    truncated; then the image is padded right and bottom up to a multiple of patch_size*merge (28).
    """
    if width <= 0 or height <= 0:
        raise ConfigError(f"image size must be positive, got {width}x{height}")
    patches = (width // patch_size) * (height // patch_size)
    if patches > token_limit:
        scale = math.sqrt(token_limit / patches)
        width, height = int(width * scale), int(height * scale)
    unit = patch_size * merge
    padded = (math.ceil(width / unit) * unit, math.ceil(height / unit) * unit)
    return (width, height), padded


# ---------------------------------------------------------------- model <-> screenshot

@dataclass(frozen=True)
class ModelFrame:
    """How a model's coordinates relate to the screenshot it was shown.

    screenshot_size: the screenshot in physical pixels (W, H).
    image_size:      the image the model saw, padding included.
    content_size:    the part of image_size (top-left aligned) that holds the resized screenshot.
    """

    convention: Convention
    screenshot_size: Size
    image_size: Size
    content_size: Size

    def __post_init__(self) -> None:
        object.__setattr__(self, "convention", Convention(self.convention))
        for name in ("screenshot_size", "image_size", "content_size"):
            w, h = getattr(self, name)
            if w <= 0 or h <= 0:
                raise ConfigError(f"{name} must be positive, got {w}x{h}")
            object.__setattr__(self, name, (int(w), int(h)))

    @classmethod
    def unscaled(cls, convention: Convention, screenshot_size: Size) -> "ModelFrame":
        """The model saw the screenshot as it is."""
        return cls(convention, screenshot_size, screenshot_size, screenshot_size)

    @classmethod
    def resized(cls, convention: Convention, screenshot_size: Size, image_size: Size) -> "ModelFrame":
        """A frame for a screenshot resized to ``image_size`` without padding (the content fills the image)."""
        return cls(convention, screenshot_size, image_size, image_size)

    @functools.cached_property
    def _units(self) -> tuple[float, float]:
        """What one model unit is along x and y (computed once per frame: every mapped point needs it)."""
        u = self.convention.units
        return (u, u) if u is not None else (float(self.image_size[0]), float(self.image_size[1]))

    @functools.cached_property
    def _relative(self) -> bool:
        """Whether the convention is relative (0..1 or 0..1000), so that ``read_point`` checks the bounds."""
        return self.convention.units is not None

    @functools.cached_property
    def _factors(self) -> tuple[float, float, int, int, int, int, int, int]:
        """(units x, units y, image w, h, content w, h, screenshot w, h): what ``to_screenshot`` needs, in one
        lookup (it runs once per mapped point; the arithmetic, and so every result, is unchanged)."""
        return (*self._units, *self.image_size, *self.content_size, *self.screenshot_size)

    def to_screenshot(self, point: Point) -> Point:
        """Map a MODEL-space point to screenshot pixels.

        Raises:
            ActionError: the point is not in MODEL space.
        """
        if point.space is not _MODEL:
            _expect_space(point, _MODEL)
        ux, uy, iw, ih, cw, ch, sw, sh = self._factors
        return make_point(point.x * iw / ux * sw / cw, point.y * ih / uy * sh / ch, _SCREENSHOT)

    def read_point(self, point: Point) -> Point:
        """``to_screenshot`` for a point read from model text (``Profile.read``): under a relative convention a
        point off the image is refused first (``check_in_image``), in the same pass.

        Raises:
            ParseError: a coordinate outside 0..1 (or 0..1000) under a relative convention.
            ActionError: the point is not in MODEL space.
        """
        if point.space is not _MODEL:
            _expect_space(point, _MODEL)
        ux, uy, iw, ih, cw, ch, sw, sh = self._factors
        x, y = point.x, point.y
        if self._relative and not (0 <= x <= ux and 0 <= y <= uy):
            self.check_in_image(point)  # raises, naming the value and the range
        return make_point(x * iw / ux * sw / cw, y * ih / uy * sh / ch, _SCREENSHOT)

    def check_in_image(self, point: Point) -> Point:
        """``point`` itself, once it is known to lie in the image: 0..1 (or 0..1000) on each axis under a relative
        convention. The model saw only the image, so a point off it is a misreading (``x=5`` would land 5 screen
        widths away), not something to clamp. The bounds are exact, 0 and 1 included, with no rounding tolerance:
        Kimi-VL and OpenCUA print at most four decimals of a value in 0..1, and rounding such a value never gives
        more than 1. Absolute conventions are not checked here (their image size is the budget's business).

        Raises:
            ParseError: a coordinate outside the range; the message names the value and the range.
        """
        units = self.convention.units
        if units is not None:
            for axis, value in (("x", point.x), ("y", point.y)):
                if not 0 <= value <= units:
                    raise ParseError(f"{axis}={value:g} is outside the image: {self.convention.value} coordinates "
                                     f"must lie in 0..{units:g} (0 is the left/top edge, {units:g} the right/bottom)")
        return point

    def to_model(self, point: Point) -> Point:
        """Map a screenshot pixel to MODEL space (the inverse of ``to_screenshot``).

        Raises:
            ActionError: the point is not in SCREENSHOT space.
        """
        _expect_space(point, Space.SCREENSHOT)
        ux, uy = self._units
        (iw, ih), (cw, ch), (sw, sh) = self.image_size, self.content_size, self.screenshot_size
        return make_point(point.x * cw / sw * ux / iw, point.y * ch / sh * uy / ih, Space.MODEL)


# ---------------------------------------------------------------- screenshot <-> screen

@dataclass(frozen=True)
class Display:
    """A captured monitor.

    size_px: the screenshot size in physical pixels.
    scale:   physical pixels per logical point (2.0 on Retina, 1.5 at Windows' 150%).
    offset:  the monitor's top-left corner in the virtual screen, in logical points.
    """

    size_px: Size
    scale: float = 1.0
    offset: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise ConfigError(f"display scale must be positive, got {self.scale!r}")
        w, h = self.size_px
        if w <= 0 or h <= 0:
            raise ConfigError(f"display size must be positive, got {w}x{h}")

    @property
    def size_points(self) -> tuple[float, float]:
        """The monitor's size in logical points (``size_px / scale``)."""
        return self.size_px[0] / self.scale, self.size_px[1] / self.scale

    def to_screen(self, point: Point) -> Point:
        """Map a screenshot pixel to SCREEN points (divide by the scale, add the monitor offset); no bounds check.

        Raises:
            ActionError: the point is not in SCREENSHOT space.
        """
        _expect_space(point, Space.SCREENSHOT)
        return make_point(point.x / self.scale + self.offset[0], point.y / self.scale + self.offset[1], Space.SCREEN)

    def to_screenshot(self, point: Point) -> Point:
        """Map a SCREEN point to screenshot pixels (the inverse of ``to_screen``).

        Raises:
            ActionError: the point is not in SCREEN space.
        """
        _expect_space(point, Space.SCREEN)
        return Point((point.x - self.offset[0]) * self.scale, (point.y - self.offset[1]) * self.scale,
                     Space.SCREENSHOT)

    def contains_screenshot_point(self, point: Point) -> bool:
        """Whether a SCREENSHOT point lies on this display (ActionError for another space)."""
        _expect_space(point, Space.SCREENSHOT)
        return 0 <= point.x < self.size_px[0] and 0 <= point.y < self.size_px[1]

    def contains_screen_point(self, point: Point) -> bool:
        """Whether a SCREEN point lies on this display."""
        return self.contains_screenshot_point(self.to_screenshot(point))

    def action_to_screen(self, action: Action, *, where: str = "the screen", whole_points: bool = False) -> Action:
        """The one path from an action an env is given to the action it carries out: every point in SCREEN space.

        Every environment converts through this method, so they all refuse the same things the same way.

        Args:
            action: a typed action whose points are in SCREENSHOT space (pixels of this display's screenshot) or
                SCREEN space (logical points).
            where: how the refusal names this display ("the screen", "monitor 2").
            whole_points: round each point to whole logical points, kept on the display (what an OS input API
                takes; rounding may otherwise reach the far edge).

        Returns:
            The action with SCREEN points (the same object when it has no points).

        Raises:
            ActionError: a point in MODEL space (map it with the profile's ModelFrame first).
            EnvError: a point outside this display; nothing is converted, so nothing is sent.
        """
        (w, h), scale, (left, top) = self.size_px, self.scale, self.offset

        def convert(p: Point) -> Point:  # checks every point before the caller gets anything to send
            if p.space is Space.MODEL:
                raise ActionError(f"point ({p.x:g}, {p.y:g}) is in model space; map it to screenshot space with "
                                  f"the profile's ModelFrame before executing")
            if p.space is Space.SCREENSHOT:
                inside, screen = 0 <= p.x < w and 0 <= p.y < h, self.to_screen(p)
            else:
                inside, screen = 0 <= (p.x - left) * scale < w and 0 <= (p.y - top) * scale < h, p
            if not inside:
                pw, ph = self.size_points
                raise EnvError(f"point ({p.x:g}, {p.y:g}) in {p.space.value} space is outside {where} ({w}x{h} "
                               f"screenshot pixels = {pw:g}x{ph:g} points at scale {scale:g}, offset "
                               f"{left:g},{top:g}); nothing was sent")
            return self._whole_point(screen) if whole_points else screen

        return map_points(action, convert)

    def _whole_point(self, p: Point) -> Point:
        """``p`` (SCREEN) rounded to whole points, kept on the display."""
        left, top = self.offset
        w, h = self.size_points
        x = min(max(round(p.x), math.ceil(left)), math.ceil(left + w) - 1)
        y = min(max(round(p.y), math.ceil(top)), math.ceil(top + h) - 1)
        return Point(x, y, Space.SCREEN)


# ---------------------------------------------------------------- whole actions

def action_to_screenshot(action: Action, frame: ModelFrame) -> Action:
    """``action`` with its MODEL points mapped to screenshot pixels (ActionError for a point in another space).
    Model text goes through ``Profile.read``, which uses this mapping."""
    return map_points(action, frame.to_screenshot)


def action_to_screen(action: Action, display: Display) -> Action:
    """``action`` with its SCREENSHOT points mapped to SCREEN points, without bounds checks. Environments use
    ``Display.action_to_screen``, which also refuses points off the display and in MODEL space."""
    return map_points(action, display.to_screen)


_MODEL, _SCREENSHOT = Space.MODEL, Space.SCREENSHOT


def _expect_space(point: Point, space: Space) -> None:
    if point.space is not space:
        raise ActionError(f"expected a point in {space.value} space, got one in {point.space.value} space")
