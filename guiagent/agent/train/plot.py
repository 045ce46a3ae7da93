"""The loss curve as a PNG, drawn with Pillow (no plotting library needed)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from guiagent._jsonio import loads

WIDTH, HEIGHT = 800, 450
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 70, 20, 36, 46


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values (1, 2 or 5 times a power of ten apart) covering [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low]
    raw = (high - low) / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = math.ceil(low / step) * step
    ticks, value = [], start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


def plot_loss(steps: Sequence[int], losses: Sequence[float], out: str | Path, *, title: str = "training loss") -> Path:
    """Draw loss against optimizer step (a line, with a dot per step when there are few) and save it to ``out``.

    Args:
        steps: optimizer steps (x).
        losses: the loss at each step (y); non-finite values are left out.
        out: the PNG file to write (atomically: written next to it, then renamed).

    Returns:
        The path written.
    """
    points = [(s, v) for s, v in zip(steps, losses) if math.isfinite(v)]
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    x0, y0, x1, y1 = MARGIN_LEFT, MARGIN_TOP, WIDTH - MARGIN_RIGHT, HEIGHT - MARGIN_BOTTOM
    draw.text((x0, 10), title, fill="black", font=font)
    draw.rectangle([x0, y0, x1, y1], outline=(90, 90, 90))
    if points:
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        x_low, x_high = min(xs), max(xs)
        y_low, y_high = min(0.0, min(ys)), max(ys)
        if x_high == x_low:
            x_high = x_low + 1
        if y_high == y_low:
            y_high = y_low + 1
        y_high += 0.05 * (y_high - y_low)  # headroom: the first points do not sit on the frame

        def px(x: float) -> float:
            return x0 + (x - x_low) / (x_high - x_low) * (x1 - x0)

        def py(y: float) -> float:
            return y1 - (y - y_low) / (y_high - y_low) * (y1 - y0)

        for tick in nice_ticks(y_low, y_high):
            draw.line([(x0, py(tick)), (x1, py(tick))], fill=(230, 230, 230))
            draw.text((6, py(tick) - 6), f"{tick:g}", fill="black", font=font)
        for tick in nice_ticks(x_low, x_high, 8):
            if tick == int(tick):
                draw.line([(px(tick), y1), (px(tick), y1 + 4)], fill="black")
                draw.text((px(tick) - 8, y1 + 8), f"{int(tick)}", fill="black", font=font)
        line = [(px(x), py(y)) for x, y in points]
        if len(line) > 1:
            draw.line(line, fill=(31, 119, 180), width=2)
        if len(line) <= 60:
            for x, y in line:
                draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=(31, 119, 180))
        draw.text((x0 + 4, y0 + 4), f"last {ys[-1]:.4g}  min {min(ys):.4g}", fill=(60, 60, 60), font=font)
    else:
        draw.text((x0 + 10, y0 + 10), "no finite loss values yet", fill="black", font=font)
    draw.text(((x0 + x1) // 2 - 30, HEIGHT - 18), "optimizer step", fill="black", font=font)
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    image.save(tmp, format="PNG")
    tmp.replace(out)
    return out


def plot_loss_log(folder: str | Path) -> Path | None:
    """Draw ``folder/loss.jsonl`` (one JSON object per optimizer step) as ``folder/loss.png``; None without a log."""
    folder = Path(folder)
    path = folder / "loss.jsonl"
    if not path.is_file():
        return None
    steps, losses = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            data = loads(line)
            steps.append(int(data["step"]))
            losses.append(float(data["loss"]))
        except (ValueError, KeyError, TypeError):
            continue
    return plot_loss(steps, losses, folder / "loss.png")
