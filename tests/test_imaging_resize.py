"""The tiled, incremental image-budget resize (guiagent._imaging.resize): what the model is sent must be a pure
function of the screenshot, the same whether computed from scratch or from the previous frame."""

import random
import threading

import numpy as np
import pytest
from PIL import Image, ImageDraw

from guiagent.envs.mock import MockDesktop
from guiagent._imaging import resize
from guiagent.models.budget import ImageBudget


@pytest.fixture(autouse=True)
def _fresh():
    resize.forget()
    yield
    resize.forget()


def desktop_shot(width=480, height=360):
    env = MockDesktop(width=width, height=height, scale=1.0, seed=0)
    shot = env.observe().screenshot.convert("RGB")
    env.close()
    return shot


def noise(rng, w, h):
    return np.random.default_rng(rng.randrange(1 << 30)).integers(0, 256, (h, w, 3), dtype=np.uint8)


def edit(rng, pixels):
    """A new frame: nothing, one pixel, or a few rectangles changed (a copy; ``pixels`` is kept)."""
    out = pixels.copy()
    h, w, _ = out.shape
    kind = rng.randrange(4)
    if kind == 1:
        out[rng.randrange(h), rng.randrange(w)] ^= 0x5A
    elif kind >= 2:
        for _ in range(rng.randrange(1, 4)):
            x0, y0 = rng.randrange(w), rng.randrange(h)
            out[y0:y0 + rng.randrange(1, h // 3), x0:x0 + rng.randrange(1, w // 3)] = rng.randrange(256)
    return out


def scratch(budget, img):
    """The reference: the tiled resize of ``img`` alone, nothing remembered."""
    image, content = budget.sizes(img.size)
    return resize.tiled_resize(img, content, image)


# Budgets that scale up (1.0x-1.3x), down, far down, and pad (kimi).
BUDGETS = [
    ImageBudget("smart_resize"),                                       # 480x360 -> 476x364 (and up for 300x200)
    ImageBudget("smart_resize", min_pixels=600 * 28 * 28),             # scaled up about 1.9x
    ImageBudget("smart_resize", max_pixels=40 * 28 * 28),              # scaled down about 3x
    ImageBudget("kimi", token_limit=300),                              # down, then padded right/bottom
    ImageBudget("kimi", token_limit=300, coords_on_padded=True),
]


@pytest.mark.parametrize("size", [(480, 360), (301, 197)])
@pytest.mark.parametrize("budget", BUDGETS, ids=lambda b: f"{b.kind}-{b.min_pixels}-{b.max_pixels}-{b.token_limit}")
def test_incremental_equals_from_scratch_under_random_edits(budget, size):
    rng = random.Random(f"{size}{budget}")
    pixels = noise(rng, *size)
    for _ in range(14):
        pixels = edit(rng, pixels)
        img = Image.fromarray(pixels)
        got = budget.prepare(img)
        assert got.size == budget.sizes(size)[0]
        assert got.tobytes() == scratch(budget, img).tobytes()


def test_single_pixel_edits_around_tile_edges_follow_the_filter_reach():
    """Every pixel near a tile boundary, changed alone: only the tiles the bicubic filter reaches are recomputed,
    and that is always enough (a tile the change reaches but that is left out would make the results differ)."""
    budget = ImageBudget("smart_resize", max_pixels=120 * 28 * 28)  # 480x360 -> 364x280: scale ~1.3
    base = desktop_shot()
    content = budget.sizes(base.size)[1]
    pixels = np.asarray(base).copy()
    budget.prepare(base)
    calls = []
    real = resize._tile
    edge = round(resize.TILE * base.width / content[0])  # the first tile boundary, in source pixels
    try:
        resize._tile = lambda *a: calls.append(a[3:]) or real(*a)
        for x in range(edge - 6, edge + 7):
            for y in (0, 100, 359):
                calls.clear()
                frame = pixels.copy()
                frame[y, x] = 255 - frame[y, x]
                img = Image.fromarray(frame)
                got = budget.prepare(img)
                assert 1 <= len(calls) <= 4  # a single pixel never redoes more than the tiles around one corner
                assert got.tobytes() == scratch(budget, img).tobytes(), (x, y)
                budget.prepare(base)  # back to the base frame before the next edit
    finally:
        resize._tile = real


def test_unchanged_screenshot_returns_the_same_prepared_object():
    budget = ImageBudget("smart_resize")
    shot = desktop_shot()
    first = budget.prepare(shot)
    again = budget.prepare(shot.copy())  # another object, same pixels
    assert again is first


def test_tiles_are_within_one_level_of_one_full_resize():
    """The tiled image is not bit-identical to one Image.resize (float rounding of each tile's box in Pillow's
    filter weights), but on a screenshot no pixel is more than one level off, and few differ at all."""
    shot = desktop_shot(960, 540)
    for content in [(966, 546), (700, 392), (364, 196), (1400, 812)]:
        tiled = np.asarray(resize.tiled_resize(shot, content)).astype(int)
        full = np.asarray(shot.resize(content, Image.Resampling.BICUBIC)).astype(int)
        diff = np.abs(tiled - full)
        assert diff.max() <= 1, content
        assert (diff > 0).mean() < 0.01, content


def test_callers_cannot_change_what_the_next_frame_is_built_from():
    """Prepared images are read-only: drawing on one copies it first, so the kept frame stays exact."""
    budget = ImageBudget("smart_resize")
    rng = random.Random(3)
    pixels = noise(rng, 480, 360)
    first = budget.prepare(Image.fromarray(pixels))
    ImageDraw.Draw(first).rectangle((0, 0, 300, 300), fill=(255, 0, 0))
    first.paste((0, 255, 0), (0, 0, 50, 50))
    assert first.getpixel((10, 10)) == (0, 255, 0)  # the caller's own image did change
    for change in (lambda im: im.putpixel((5, 5), (1, 2, 3)), lambda im: im.paste((9, 9, 9), (0, 0, 4, 4)), None):
        pixels = edit(rng, pixels)
        img = Image.fromarray(pixels)
        got = budget.prepare(img)
        assert got.tobytes() == scratch(budget, img).tobytes()
        if change is not None:
            change(got)


def test_sizes_interleave_and_memory_stays_bounded():
    budget = ImageBudget("smart_resize")
    rng = random.Random(5)
    frames = {size: noise(rng, *size) for size in [(480, 360), (400, 300), (500, 280), (360, 360), (330, 250),
                                                   (600, 340)]}
    for _ in range(3):
        for size, pixels in frames.items():
            frames[size] = pixels = edit(rng, pixels)
            img = Image.fromarray(pixels)
            assert budget.prepare(img).tobytes() == scratch(budget, img).tobytes()
            assert len(resize._LAST) <= resize._KEEP


def test_threads_sharing_one_size_all_get_exact_results():
    budget = ImageBudget("smart_resize")
    failures = []

    def worker(seed):
        rng = random.Random(seed)
        pixels = noise(rng, 480, 360)
        for _ in range(8):
            pixels = edit(rng, pixels)
            img = Image.fromarray(pixels)
            if budget.prepare(img).tobytes() != scratch(budget, img).tobytes():
                failures.append(seed)

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_budget_none_and_mode_conversion():
    shot = desktop_shot().convert("RGBA")
    assert ImageBudget("none").prepare(shot.convert("RGB")).size == shot.size
    budget = ImageBudget("smart_resize")
    prepared = budget.prepare(shot)
    assert prepared.mode == "RGB" and prepared.tobytes() == scratch(budget, shot.convert("RGB")).tobytes()
    with pytest.raises(ValueError, match="RGB"):
        resize.resize(shot, (100, 100))
