"""Monitor offsets and HiDPI scale on a real X server: an Xvfb virtual screen of 2560x1200 split into two RandR
monitors (xrandr --setmonitor), with a real Tk window placed on the second one.

    monitor 1 "A": 1280x1024 at +0+0        monitor 2 "B": 1280x800 at +1280+200

HiDPI is simulated the way macOS presents it: the monitor rectangle stays in logical points while the capture
comes back at twice the size (a Capture that upscales mss's image 2x), so the env measures scale 2.0.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from desktop_apps.fixtures import start_xvfb
from desktop_apps.xserver import TkApp, Xvfb, require, wait_for
from PIL import Image

from guiagent.actions.coords import Convention, ModelFrame, smart_resize
from guiagent.actions.types import Click, Point, Space
from guiagent.envs.desktop import DesktopEnv, Monitor, MssCapture
from guiagent.errors import EnvError

pytestmark = pytest.mark.timeout(120)

BLUE = (0x33, 0x66, 0xCC)
ORANGE = (0xFF, 0x88, 0x00)
B_OFFSET = (1280, 200)


@pytest.fixture(scope="module")
def xvfb(xauthority: str) -> Iterator[Xvfb]:
    server = start_xvfb(2560, 1200)
    try:
        xrandr = require("xrandr")
        server.run([xrandr, "--setmonitor", "A", "1280/338x1024/270+0+0", "screen"])
        server.run([xrandr, "--setmonitor", "B", "1280/338x800/211+1280+200", "none"])
        listing = server.run([xrandr, "--listmonitors"])
        assert "Monitors: 2" in listing and "+1280+200" in listing, listing
        yield server
    finally:
        server.stop()


class Upscaled:
    """mss capture, returned at ``factor`` times the size: what a Retina screen looks like to mss."""

    def __init__(self, inner: MssCapture, factor: int = 2):
        self.inner, self.factor = inner, factor

    def monitors(self) -> list[Monitor]:
        return self.inner.monitors()

    def grab(self, monitor: Monitor) -> Image.Image:
        image = self.inner.grab(monitor)
        return image.resize((image.width * self.factor, image.height * self.factor), Image.NEAREST)

    def close(self) -> None:
        self.inner.close()


def test_monitors_are_found_with_offsets(xvfb: Xvfb) -> None:
    with DesktopEnv(monitor=2, x_display=xvfb.display) as env:
        m = env.monitor
        assert (m.left, m.top, m.width, m.height) == (1280, 200, 1280, 800)
        assert env.observe().screenshot.size == (1280, 800)
        assert env.display.offset == B_OFFSET and env.display.scale == 1.0
    with DesktopEnv(monitor="all", x_display=xvfb.display) as env:
        assert env.observe().screenshot.size == (2560, 1200) and env.display.offset == (0, 0)
    with DesktopEnv(monitor=1, x_display=xvfb.display) as env:
        assert env.observe().screenshot.size == (1280, 1024)
    with pytest.raises(EnvError, match="there is no monitor 3"):
        DesktopEnv(monitor=3, x_display=xvfb.display)


def test_click_on_monitor_two_lands_at_its_offset(xvfb: Xvfb, tk_app_factory) -> None:
    app: TkApp = tk_app_factory(xvfb, geometry="700x520+1400+300")
    cx, cy = app.canvas_point(123, 45)  # root coordinates, inside monitor B
    with DesktopEnv(monitor=2, x_display=xvfb.display) as env:
        shot = env.observe().screenshot
        sx, sy = cx - B_OFFSET[0], cy - B_OFFSET[1]  # where the canvas point is in monitor 2's screenshot
        assert shot.getpixel((int(sx), int(sy))) == BLUE
        env.execute(Click(Point(sx, sy)))
        press = wait_for(lambda: app.find("press"), what="a press on the canvas")[0]
        assert (press["x"], press["y"], press["x_root"], press["y_root"]) == (123, 45, cx, cy)

        # a screen point on monitor 1 is refused by the monitor-2 env, and nothing arrives
        mark = app.mark()
        with pytest.raises(EnvError, match="outside monitor 2"):
            env.execute(Click(Point(100, 100, Space.SCREEN)))
        assert app.since(mark) == []
    # monitor 1's screenshot does not show the window (it is not on that monitor)
    with DesktopEnv(monitor=1, x_display=xvfb.display) as env:
        assert not np.all(np.asarray(env.observe().screenshot) == BLUE, axis=-1).any()
    # the whole virtual screen: screenshot pixels are root coordinates
    with DesktopEnv(monitor="all", x_display=xvfb.display) as env:
        mark = app.mark()
        env.observe()
        env.execute(Click(Point(*app.canvas_point(300, 200))))
        press = wait_for(lambda: app.since(mark, "press"), what="a press through monitor 'all'")[0]
        assert (press["x"], press["y"]) == (300, 200)


def _orange_box(image: Image.Image) -> tuple[int, int, int, int]:
    pixels = np.asarray(image)
    ys, xs = np.nonzero(np.all(pixels == ORANGE, axis=-1))
    assert xs.size, "the orange target is not in the screenshot"
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


@pytest.mark.parametrize("convention", [Convention.ABSOLUTE, Convention.RELATIVE_1000])
def test_simulated_hidpi_model_coordinate_lands_on_logical_point(xvfb: Xvfb, tk_app_factory,
                                                                 convention: Convention) -> None:
    # target: a 24x24 orange square at canvas (400, 250), in a window on monitor B
    app: TkApp = tk_app_factory(xvfb, geometry="700x520+1400+300", target="400,250,24")
    with DesktopEnv(monitor=2, x_display=xvfb.display, capture=Upscaled(MssCapture(xvfb.display))) as env:
        obs = env.observe()
        assert obs.screenshot.size == (2560, 1600)
        assert env.display.scale == 2.0 and env.display.offset == B_OFFSET
        assert env.display.size_points == (1280, 800)

        # the model sees a smart_resized screenshot and answers with a whole-number coordinate
        x0, y0, x1, y1 = _orange_box(obs.screenshot)
        assert (x1 - x0 + 1, y1 - y0 + 1) == (48, 48)  # 24 points at scale 2
        h, w = smart_resize(obs.screenshot.height, obs.screenshot.width, max_pixels=1280 * 28 * 28)
        frame = ModelFrame.resized(convention, obs.screenshot.size, (w, h))
        centre = frame.to_model(Point((x0 + x1) / 2, (y0 + y1) / 2, Space.SCREENSHOT))
        model_point = Point(round(centre.x), round(centre.y), Space.MODEL)

        env.execute(Click(frame.to_screenshot(model_point)))
        press = wait_for(lambda: app.find("press"), what="a press on the target")[0]
        assert 400 <= press["x"] < 424 and 250 <= press["y"] < 274, press
        assert abs(press["x"] - 411.5) <= 2 and abs(press["y"] - 261.5) <= 2, press


def test_explicit_scale_override(xvfb: Xvfb, tk_app_factory) -> None:
    app: TkApp = tk_app_factory(xvfb, geometry="700x520+100+100")
    with DesktopEnv(monitor=1, x_display=xvfb.display, scale=2.0) as env:
        env.observe()
        assert env.display.size_px == (1280, 1024) and env.display.size_points == (640, 512)
        cx, cy = app.canvas_point(100, 50)
        env.execute(Click(Point(cx * 2, cy * 2)))  # screenshot pixels are twice the logical points
        press = wait_for(lambda: app.find("press"), what="a press at the scaled point")[0]
        assert (press["x"], press["y"]) == (100, 50)
        assert env.check(Click(Point(1279, 1023))).point == Point(639, 511, Space.SCREEN)
        with pytest.raises(EnvError, match="outside monitor 1"):
            env.execute(Click(Point(1280, 10)))
