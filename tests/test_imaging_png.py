"""The screenshot PNG encoder (guiagent._imaging.png): valid, lossless files, the same bytes whether encoded from
scratch or from the previous frame, and about as small as Pillow's on screenshots."""

import io
import random
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from guiagent.envs.mock import MockDesktop
from guiagent._imaging import png
from guiagent._imaging.png import PNGEncoder, encode_png


def chunks(data: bytes):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        yield kind, body
        pos += 12 + length


def check_valid(data: bytes, image: Image.Image) -> None:
    """Decodes (Pillow) to exactly ``image``; every CRC holds; the zlib stream inflates with a correct Adler-32."""
    decoded = Image.open(io.BytesIO(data))
    assert decoded.mode == image.mode and decoded.size == image.size
    assert decoded.tobytes() == image.tobytes()
    parts = list(chunks(data))
    assert parts[0][0] == b"IHDR" and parts[-1][0] == b"IEND"
    raw = zlib.decompress(b"".join(body for kind, body in parts if kind == b"IDAT"))  # checks the Adler-32
    bpp = {"L": 1, "RGB": 3, "RGBA": 4}[image.mode]
    assert len(raw) == image.height * (1 + image.width * bpp)


def noise_image(rng, mode, w, h):
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    arr = np.random.default_rng(rng.randrange(1 << 30)).integers(0, 256, (h, w, channels), dtype=np.uint8)
    # repeated rows (Up), flat runs (Sub), noise and gradients (None), so that every filter gets chosen somewhere
    arr[: h // 3] = arr[0]
    arr[h // 3: 2 * h // 3, : w // 4] = 7
    arr[h // 2:, w // 2:] = (np.arange(w - w // 2, dtype=np.uint8)[None, :, None] * 3)
    return Image.fromarray(arr[..., 0] if mode == "L" else arr, mode)


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
@pytest.mark.parametrize("size", [(1, 1), (7, 3), (333, 65), (64, 97)])
def test_encode_png_is_a_valid_lossless_file(mode, size):
    image = noise_image(random.Random(f"{mode}{size}"), mode, *size)
    check_valid(encode_png(image), image)


def test_every_filter_is_used_and_rows_decode():
    image = noise_image(random.Random(1), "RGB", 200, 150)
    raw = zlib.decompress(b"".join(b for k, b in chunks(encode_png(image)) if k == b"IDAT"))
    rows = np.frombuffer(raw, np.uint8).reshape(150, 1 + 600)
    assert set(rows[:, 0].tolist()) == {0, 1, 2}


def test_other_modes_go_to_pillow():
    for image in (Image.new("P", (20, 10), 3), Image.new("1", (9, 9), 1), Image.new("I;16", (5, 4), 300)):
        decoded = Image.open(io.BytesIO(encode_png(image)))
        if image.mode == "P":  # Pillow may renumber the palette; the colours must stay
            decoded, image = decoded.convert("RGB"), image.convert("RGB")
        assert decoded.size == image.size and decoded.tobytes() == image.tobytes()


def test_adler32_combine_matches_zlib():
    rng = random.Random(2)
    for _ in range(200):
        a, b = rng.randbytes(rng.randrange(0, 3000)), rng.randbytes(rng.randrange(0, 100_000))
        assert png._adler32_combine(zlib.adler32(a), zlib.adler32(b), len(b)) == zlib.adler32(a + b)


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_incremental_encoding_equals_from_scratch(mode):
    """Random edits, including single pixels on the last row of a band (the next band's Up filter reads it)."""
    rng = random.Random(mode)
    encoder = PNGEncoder()
    image = noise_image(rng, mode, 301, 5 * png.BAND + 7)
    arr = np.asarray(image).copy()
    for step in range(24):
        arr = arr.copy()
        kind = step % 4
        if kind == 1:  # a pixel on a band's last row
            arr[png.BAND * rng.randrange(1, 5) - 1, rng.randrange(301)] ^= 0x33
        elif kind == 2:
            y, x = rng.randrange(arr.shape[0]), rng.randrange(301)
            arr[y:y + rng.randrange(1, 90), x:x + rng.randrange(1, 120)] = rng.randrange(256)
        elif kind == 3:
            arr[rng.randrange(arr.shape[0])] = rng.randrange(256)  # a whole row
        frame = Image.fromarray(arr, mode)
        data = encoder.encode(frame)
        assert data == encode_png(frame)
        check_valid(data, frame)


def test_encoder_keeps_a_bounded_number_of_sizes():
    encoder = PNGEncoder(keep=2)
    rng = random.Random(4)
    for size in [(50, 40), (60, 40), (50, 40), (70, 20), (60, 40)]:
        image = noise_image(rng, "RGB", *size)
        assert encoder.encode(image) == encode_png(image)
        assert len(encoder._last) <= 2


def test_screenshot_files_are_about_as_small_as_pillows():
    """No exhaustive filter search here: on a desktop screenshot the file must stay close to Pillow's."""
    env = MockDesktop(width=960, height=540, scale=1.0, seed=0)
    shot = env.observe().screenshot.convert("RGB")
    env.close()
    buf = io.BytesIO()
    shot.save(buf, format="PNG", compress_level=1)
    ours = encode_png(shot)
    check_valid(ours, shot)
    assert len(ours) < 1.25 * len(buf.getvalue())
