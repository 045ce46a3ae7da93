"""How much the OpenAI-compatible backend adds to a step, against a local stub server (no model, no network).

For 1920x1080 screenshots and the UI-TARS-1.5 profile (5 images per request: 4 past + the current one), PNG vs
JPEG, it prints:

    prepare ms     budget.prepare (smart_resize to 1932x1092) of one new screenshot
    encode ms      encoding one prepared screenshot as a data URL
    request KB     size of a 5-image request body
    cold step ms   build_messages + complete when every screenshot is new (first step after a restart)
    warm step ms   the agent loop's steady state: past screenshots reused (prepared and encoded once), one new
    req/s          1000 / warm step ms, one client, sequential
    added ms       warm step minus a text-only request (the HTTP round trip itself)

    python benchmarks/http_backend.py [--iterations 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from stub_openai import StubOpenAI  # noqa: E402

from guiagent.models.base import Message  # noqa: E402
from guiagent.models.history import Turn, build_messages  # noqa: E402
from guiagent.models.openai_backend import OpenAIModel, RetryPolicy, encode_image  # noqa: E402
from guiagent.models.profiles import get_profile  # noqa: E402

REPLY = "Thought: open the folder\nAction: click(start_box='<|box_start|>(235,512)<|box_end|>')"


def desktop(seed: int) -> Image.Image:
    """A deterministic desktop-like 1920x1080 screenshot: flat colours, windows, lots of small text."""
    img = Image.new("RGB", (1920, 1080), (32, 78, 120))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 1040, 1920, 1080), fill=(24, 24, 28))
    for w in range(3):
        x0, y0 = 120 + 420 * w + seed * 7 % 50, 90 + 110 * w
        draw.rectangle((x0, y0, x0 + 900, y0 + 620), fill=(245, 245, 245), outline=(90, 90, 90))
        draw.rectangle((x0, y0, x0 + 900, y0 + 32), fill=(220, 222, 226))
        draw.text((x0 + 12, y0 + 9), f"Window {w} - document {seed}.txt", fill=(20, 20, 20))
        for line in range(30):
            draw.text((x0 + 16, y0 + 48 + 18 * line), f"{line:02d} The quick brown fox {seed * 31 + line} jumps "
                      f"over the lazy dog; total = {seed * line * 17 % 9973}", fill=(40, 40, 40))
    return img


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def run(fmt: str, iterations: int) -> dict[str, float]:
    profile = get_profile("ui-tars-1.5")
    with StubOpenAI(default_text=REPLY, decode_images=False) as stub:
        model = OpenAIModel(stub.url, "stub-model", image_format=fmt, jpeg_quality=90,
                            retry=RetryPolicy(retries=0))
        text_only = [Message.text("user", "ping")]
        base = []
        for _ in range(max(20, iterations)):
            t0 = time.perf_counter()
            model.complete(text_only, profile.sampling)
            base.append(time.perf_counter() - t0)

        shots = [desktop(i) for i in range(iterations + 5)]
        prep, enc = [], []
        for s in shots[:iterations]:
            t0 = time.perf_counter()
            prepared = profile.budget.prepare(s)
            prep.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            encode_image(prepared, fmt, 90)
            enc.append(time.perf_counter() - t0)

        def step(past_shots: list[Image.Image], current: Image.Image) -> float:
            past = [Turn(s, REPLY) for s in past_shots]
            t0 = time.perf_counter()
            model.complete(build_messages(profile, "Open the Downloads folder", past, current), profile.sampling)
            return time.perf_counter() - t0

        cold = []
        for i in range(iterations):
            fresh = [s.copy() for s in shots[i:i + 5]]  # new objects: nothing cached
            cold.append(step(fresh[:4], fresh[4]))
        stub.requests.clear()
        warm = []
        history = shots[:4]
        for i in range(iterations):
            current = shots[4 + i]
            warm.append(step(history[-4:], current))
            history.append(current)
        step(history[-4:], desktop(999))
        request_bytes = len(json.dumps(stub.requests[-1].body).encode())
    warm_ms = median_ms(warm)
    return {"prepare": median_ms(prep), "encode": median_ms(enc), "kb": request_bytes / 1024,
            "cold": median_ms(cold), "warm": warm_ms, "rps": 1000 / warm_ms, "base": median_ms(base),
            "added": warm_ms - median_ms(base)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=20)
    args = parser.parse_args()
    rows = {fmt: run(fmt, args.iterations) for fmt in ("png", "jpeg")}
    print("OpenAI-compatible backend vs local stub: 1920x1080 screenshots, ui-tars-1.5 (5 images/request), "
          f"median of {args.iterations}")
    header = f"{'format':<7}{'prepare ms':>11}{'encode ms':>11}{'request KB':>12}{'cold step ms':>14}" \
             f"{'warm step ms':>14}{'req/s':>8}{'added ms':>10}"
    print(header)
    print("-" * len(header))
    for fmt, r in rows.items():
        print(f"{fmt:<7}{r['prepare']:>11.1f}{r['encode']:>11.1f}{r['kb']:>12.0f}{r['cold']:>14.1f}"
              f"{r['warm']:>14.1f}{r['rps']:>8.1f}{r['added']:>10.1f}")
    print(f"text-only round trip (HTTP + JSON, no images): {rows['png']['base']:.1f} ms")


if __name__ == "__main__":
    main()
