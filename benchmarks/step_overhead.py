"""The agent loop's own cost per step, by phase, next to the UI-TARS OSWorld reference pipeline on the same images.

    .venv/bin/python benchmarks/step_overhead.py [--steps 40] [--size 1920x1080] [--image-format png|jpeg]

Ours: the real Agent on the mock desktop at 1920x1080 (scale 1), recording a run folder, with a model that
answers instantly but first builds the exact request the OpenAI-compatible backend would send (image encoding
and base64 included; nothing goes over the network). Phases per step, from the step records:

    capture   env.observe()
    prepare   build_messages: prompt, history, image budget (each screenshot is resized once, then cached)
    encode    the backend's request payload (data URLs; each image is encoded once, then cached)
    parse     the family grammar
    execute   env.execute()
    record    queueing the screenshot for the writer thread (PNG encoding happens there)
    step      wall clock from observation to the step's end; "per step" = whole run / steps (writer included)

Reference: the UI-TARS agent of OSWorld does, every step, on the same screenshots: the env's PNG encode of the
screenshot; for each of the last 5 screenshots: PNG decode, resize to the smart_resize size with PIL, convert to
RGB, PNG encode (PIL default level) + base64; then the `ui-tars` package's parse_action_to_structure_output.

Prints figures only; the target is under 15 ms per step for the loop's own work.
"""

from __future__ import annotations

import argparse
import base64
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image


def answers(n: int, width: int, height: int) -> list[str]:
    """Instant answers in UI-TARS-1.5 format: clicks spread over the screen, some typing and hotkeys."""
    out = []
    for i in range(n):
        x, y = 60 + (i * 173) % (width - 120), 60 + (i * 97) % (height - 160)
        if i % 5 == 4:
            out.append(f"Thought: type the name of step {i}.\nAction: type(content='note {i}')")
        elif i % 7 == 6:
            out.append("Thought: close the dialog.\nAction: hotkey(key='escape')")
        else:
            out.append(f"Thought: open the item at step {i} to look at it.\nAction: click(start_box='({x},{y})')")
    return out


class InstantModel:
    """Answers at once, after building the OpenAI backend's request (that is the encoding cost a real run pays)."""

    name = "instant"

    def __init__(self, texts: list[str], image_format: str):
        from guiagent.models.openai_backend import OpenAIModel

        self.texts = texts
        self.n = 0
        self.encode_s: list[float] = []
        # model name given: nothing is asked of the (unreachable) server; no request is ever sent
        self.backend = OpenAIModel("http://127.0.0.1:9/v1", "bench", image_format=image_format)

    def complete(self, messages, sampling):
        from guiagent.models.base import ModelResponse

        t0 = time.perf_counter()
        self.backend.request_payload(messages, sampling)
        self.encode_s.append(time.perf_counter() - t0)
        text = self.texts[self.n]
        self.n += 1
        return ModelResponse(text)


def ms(values: list[float]) -> str:
    """Mean and median in milliseconds (the median is the steadier figure on a shared machine)."""
    if not values:
        return "      -         -"
    return f"{statistics.mean(values) * 1000:7.2f}   {statistics.median(values) * 1000:7.2f}"


def run_ours(steps: int, size: tuple[int, int], image_format: str, family: str, out: Path, record: bool = True):
    from guiagent.agent.config import AgentConfig
    from guiagent.agent.loop import Agent
    from guiagent.envs.mock import MockDesktop
    from guiagent.models.budget import ImageBudget
    from guiagent.models.profiles import get_profile

    resize_s: list[float] = []
    original_prepare = ImageBudget.prepare

    def timed_prepare(self, screenshot):  # the image-budget resize inside "prepare", timed on its own
        t0 = time.perf_counter()
        try:
            return original_prepare(self, screenshot)
        finally:
            resize_s.append(time.perf_counter() - t0)

    ImageBudget.prepare = timed_prepare
    env = MockDesktop(width=size[0], height=size[1], scale=1.0, seed=0)
    env.reset(seed=0)
    texts = answers(steps, *size)
    model = InstantModel(texts, image_format)
    profile = get_profile(family)
    agent = Agent(env, model, profile, AgentConfig(max_steps=steps, stuck_after=0, wait_s=0.0))
    t0 = time.perf_counter()
    try:
        result = agent.run("benchmark the loop", out_dir=out if record else None)
    finally:
        ImageBudget.prepare = original_prepare
    wall = time.perf_counter() - t0
    env.close()
    phases = {p: [s.latency.get(p, 0.0) for s in result.steps] for p in
              ("capture", "prepare", "parse", "execute", "record")}
    phases["encode"] = model.encode_s
    phases["resize"] = resize_s
    # the model phase is the instant model = the encoding above; keep what is left of it as "other"
    step_wall = [s.ended - s.started for s in result.steps]
    return result, phases, step_wall, wall, texts


def run_reference(run_dir: Path, texts: list[str], history_n: int = 5):
    from ui_tars.action_parser import parse_action_to_structure_output, smart_resize

    from guiagent.agent.trajectory import load_run

    run = load_run(run_dir)
    screenshots = [run.screenshot(s).convert("RGB") for s in run.steps]
    times = {"png_capture": [], "history_images": [], "parse": []}
    history: list[bytes] = []
    for image, text in zip(screenshots, texts):
        t0 = time.perf_counter()
        buf = io.BytesIO()
        image.save(buf, format="PNG")  # the env hands the agent PNG bytes
        history.append(buf.getvalue())
        history = history[-history_n:]
        t1 = time.perf_counter()
        for data in history:
            img = Image.open(io.BytesIO(data))
            h, w = smart_resize(img.height, img.width, factor=28, min_pixels=100 * 28 * 28,
                                max_pixels=16384 * 28 * 28)
            img = img.resize((w, h))
            if img.mode != "RGB":
                img = img.convert("RGB")
            out = io.BytesIO()
            img.save(out, format="PNG")
            base64.b64encode(out.getvalue()).decode()
        t2 = time.perf_counter()
        parse_action_to_structure_output(text, 1000, image.height, image.width, "qwen25vl")
        t3 = time.perf_counter()
        times["png_capture"].append(t1 - t0)
        times["history_images"].append(t2 - t1)
        times["parse"].append(t3 - t2)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--family", default="ui-tars-1.5")
    parser.add_argument("--image-format", choices=("png", "jpeg"), default="png")
    parser.add_argument("--no-record", action="store_true",
                        help="run the loop without writing a run folder (shows what the writer thread costs)")
    args = parser.parse_args(argv)
    size = tuple(int(v) for v in args.size.lower().split("x"))

    with tempfile.TemporaryDirectory() as tmp:
        result, phases, step_wall, wall, texts = run_ours(args.steps, size, args.image_format, args.family,
                                                          Path(tmp), record=not args.no_record)
        n = len(result.steps)
        print(f"guiagent loop, {args.family}, mock desktop {size[0]}x{size[1]}, {n} steps "
              f"({result.outcome}), image format {args.image_format}")
        print(f"{'phase':<10} {'mean ms':>8} {'median':>9}")
        total = 0.0
        for name in ("capture", "prepare", "encode", "parse", "execute", "record"):
            print(f"{name:<10} {ms(phases[name]):>8}")
            total += statistics.mean(phases[name]) if phases[name] else 0.0
            if name == "prepare":
                print(f"{'  resize':<10} {ms(phases['resize']):>8}   (image budget, once per screenshot)")
        print(f"{'sum':<10} {total * 1000:8.2f}")
        image_work = statistics.mean(phases["resize"]) + statistics.mean(phases["encode"])
        print(f"{'non-image':<10} {(total - image_work) * 1000:8.2f}   (sum minus resize and encode)")
        print(f"{'step':<10} {ms(step_wall):>8}")
        per_step = wall / n
        print(f"{'per step':<10} {per_step * 1000:8.2f}   (whole run incl. writer flush and meta; target < 15 ms)")

        if result.run_dir is None:
            return 0  # --no-record: the reference needs the recorded screenshots
        ref = run_reference(result.run_dir, texts)
    ref_total = sum(statistics.mean(v) for v in ref.values())
    print()
    print("reference (UI-TARS OSWorld agent pipeline on the same screenshots)      mean ms    median")
    for name, values in ref.items():
        print(f"{name:<15} {ms(values):>8}")
    print(f"{'per step':<15} {ref_total * 1000:8.2f}")
    print()
    print(f"ratio reference / guiagent per step: {ref_total / per_step:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
