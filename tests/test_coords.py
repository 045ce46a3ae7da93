import math

import pytest

from guiagent.actions import Click, Drag, Point, Space
from guiagent.actions.coords import (Convention, Display, ModelFrame, action_to_screen, action_to_screenshot,
                                     kimi_resize, smart_resize)
from guiagent.errors import ActionError
from guiagent.models.budget import ImageBudget


@pytest.mark.parametrize("size,expected", [
    ((1920, 1080), (1932, 1092)), ((2560, 1440), (2548, 1428)),
    ((3840, 2160), (3836, 2156)), ((5120, 2880), (4760, 2688)),
])
def test_smart_resize_reference_vectors(size, expected):
    w, h = size
    rh, rw = smart_resize(h, w)
    assert (rw, rh) == expected


def test_smart_resize_small_image_is_scaled_up_to_min_pixels():
    h, w = smart_resize(50, 80)
    assert h % 28 == 0 and w % 28 == 0 and h * w >= 100 * 28 * 28


def test_smart_resize_rejects_extreme_aspect():
    with pytest.raises(ValueError, match="aspect"):
        smart_resize(10, 5000)


def test_ui_tars_15_point_maps_to_reference_screen_point():
    frame = ImageBudget("smart_resize").frame(Convention.ABSOLUTE, (1920, 1080))
    p = frame.to_screenshot(Point(100, 200, Space.MODEL))
    assert (round(p.x, 3), round(p.y, 3)) == (99.379, 197.802)


def test_relative_1000_reference_example():
    frame = ModelFrame.unscaled(Convention.RELATIVE_1000, (1920, 1080))
    p = frame.to_screenshot(Point(235, 512, Space.MODEL))
    assert (round(p.x), round(p.y)) == (451, 553)


def test_kimi_resize_reference_example():
    assert kimi_resize(1920, 1080) == ((1196, 672), (1204, 672))


@pytest.mark.parametrize("padded", [False, True])
def test_kimi_relative_coordinates_original_vs_padded(padded):
    frame = ImageBudget("kimi", coords_on_padded=padded).frame(Convention.RELATIVE_1, (1920, 1080))
    p = frame.to_screenshot(Point(0.5, 0.5, Space.MODEL))
    if padded:
        assert p.x == pytest.approx(0.5 * 1204 * 1920 / 1196)
    else:
        assert (p.x, p.y) == pytest.approx((960, 540))


@pytest.mark.parametrize("convention", list(Convention))
@pytest.mark.parametrize("budget", [ImageBudget("none"), ImageBudget("smart_resize"), ImageBudget("kimi"),
                                    ImageBudget("kimi", coords_on_padded=True)])
def test_model_screenshot_round_trip(convention, budget):
    frame = budget.frame(convention, (2560, 1440))
    p = Point(1234.5, 777.25, Space.SCREENSHOT)
    back = frame.to_screenshot(frame.to_model(p))
    assert (back.x, back.y) == pytest.approx((p.x, p.y))


@pytest.mark.parametrize("scale", [1.0, 1.5, 2.0])
def test_display_scale_and_offset(scale):
    display = Display((int(1920 * scale), int(1080 * scale)), scale, offset=(1920, 0))
    p = display.to_screen(Point(300 * scale, 200 * scale, Space.SCREENSHOT))
    assert (p.x, p.y) == pytest.approx((2220, 200))
    assert display.to_screenshot(p) == Point(300 * scale, 200 * scale, Space.SCREENSHOT)


def test_whole_action_conversion_keeps_other_fields():
    frame = ModelFrame.unscaled(Convention.RELATIVE_1000, (1000, 500))
    act = action_to_screenshot(Click(Point(500, 500, Space.MODEL), "right", 1), frame)
    assert act == Click(Point(500, 250, Space.SCREENSHOT), "right", 1)
    drag = action_to_screen(Drag(Point(10, 10), Point(20, 20)), Display((100, 100), 2.0))
    assert drag == Drag(Point(5, 5, Space.SCREEN), Point(10, 10, Space.SCREEN))


def test_wrong_space_is_refused():
    frame = ModelFrame.unscaled(Convention.RELATIVE_1000, (1000, 500))
    with pytest.raises(ActionError, match="model space"):
        frame.to_screenshot(Point(1, 1, Space.SCREENSHOT))


def test_non_finite_points_are_refused():
    with pytest.raises(ActionError):
        Point(math.nan, 1)
    with pytest.raises(ActionError):
        Point(math.inf, 1)
