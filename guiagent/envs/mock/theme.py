"""Colours and metrics of the mock desktop (one light theme and one dark theme).

Kept in one place so widgets never hard-code colours; the settings app's dark-mode switch swaps the palette.
"""

from __future__ import annotations

from dataclasses import dataclass

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Palette:
    """The colours every widget paints with; ``LIGHT`` and ``DARK`` are the two themes."""
    wallpaper_top: RGB = (38, 84, 124)
    wallpaper_bottom: RGB = (86, 140, 170)
    window_bg: RGB = (246, 246, 247)
    surface: RGB = (255, 255, 255)
    border: RGB = (176, 178, 184)
    border_light: RGB = (214, 216, 220)
    text: RGB = (28, 30, 34)
    text_muted: RGB = (110, 114, 122)
    text_disabled: RGB = (160, 163, 170)
    title_active: RGB = (222, 226, 232)
    title_inactive: RGB = (240, 241, 243)
    title_text_inactive: RGB = (130, 133, 140)
    button: RGB = (236, 237, 240)
    button_hover: RGB = (224, 228, 236)
    button_pressed: RGB = (204, 210, 222)
    button_border: RGB = (160, 164, 172)
    accent: RGB = (38, 110, 214)
    accent_hover: RGB = (28, 96, 196)
    accent_text: RGB = (255, 255, 255)
    focus_ring: RGB = (70, 140, 235)
    selection: RGB = (178, 208, 250)
    selection_inactive: RGB = (214, 218, 226)
    list_hover: RGB = (232, 238, 248)
    close_hover: RGB = (220, 52, 48)
    error: RGB = (196, 40, 36)
    success: RGB = (30, 130, 60)
    taskbar: RGB = (30, 34, 42)
    taskbar_hover: RGB = (60, 66, 80)
    taskbar_active: RGB = (78, 88, 108)
    taskbar_text: RGB = (236, 238, 242)
    menu_bg: RGB = (252, 252, 253)
    shadow: RGB = (60, 64, 72)
    caret: RGB = (0, 0, 0)
    track: RGB = (200, 204, 212)


LIGHT = Palette()
DARK = Palette(
    window_bg=(44, 46, 52), surface=(30, 32, 36), border=(86, 90, 100), border_light=(64, 68, 76),
    text=(232, 234, 238), text_muted=(160, 164, 172), text_disabled=(110, 114, 122),
    title_active=(58, 62, 72), title_inactive=(48, 50, 56), title_text_inactive=(140, 144, 152),
    button=(64, 68, 78), button_hover=(76, 82, 94), button_pressed=(92, 100, 116), button_border=(100, 106, 118),
    selection=(40, 86, 150), selection_inactive=(70, 76, 88), list_hover=(56, 62, 76), menu_bg=(50, 52, 58),
    caret=(240, 240, 240), track=(90, 96, 108),
)

# Metrics in logical points.
FONT_SIZE = 13
SMALL_FONT_SIZE = 11
TITLE_FONT_SIZE = 13
HEADING_FONT_SIZE = 18
TITLE_H = 30
TASKBAR_H = 44
MENU_BAR_H = 26
MENU_ITEM_H = 26
ROW_H = 26
FIELD_H = 28
BUTTON_H = 30
SCROLLBAR_W = 10
WHEEL_STEP = 3 * ROW_H // 2  # points scrolled per wheel notch
