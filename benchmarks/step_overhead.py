"""The agent loop's own cost per step, by phase, next to the UI-TARS OSWorld reference pipeline on the same images.

    .venv/bin/python benchmarks/step_overhead.py [--steps 40] [--size 1920x1080] [--image-format png|jpeg|both]
                                                 [--tasks N]

Ours: the real Agent on the mock desktop at 1920x1080 (scale 1), recording a run folder, with a model that
answers instantly but first builds the exact request the OpenAI-compatible backend would send (image encoding
and base64 included; nothing goes over the network). Two scenarios, each for PNG and JPEG:

    static    fixed answers: clicks spread over the desktop, typing, Escape; most steps leave the screen as it
              was, so this shows the floor (unchanged screenshots reuse their resize and encoding)
    tasks     the mock desktop's reference solver on the first N tasks of the suite: every step opens, types,
              drags, so the screen changes as in a real run (the solver's own thinking is the "model" phase,
              left out of the sum)

The resize and the PNG encoding are incremental (guiagent._imaging.resize / png): the cost of a step grows with
how much of the screen changed, and the result never depends on the previous screenshot. Phases per step, from
the step records:

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
    """Answers at once, after building the OpenAI backend's request (that is the encoding cost a real run pays).
    The answers come from ``texts`` in turn, or from ``inner`` (a model, e.g. the mock's solver)."""

    name = "instant"

    def __init__(self, texts: list[str] | None, image_format: str, inner=None):
        from guiagent.models.openai_backend import OpenAIModel

        self.texts = texts
        self.inner = inner
        self.n = 0
        self.encode_s: list[float] = []
        # model name given: nothing is asked of the (unreachable) server; no request is ever sent
        self.backend = OpenAIModel("http://127.0.0.1:9/v1", "bench", image_format=image_format)

    def complete(self, messages, sampling):
        from guiagent.models.base import ModelResponse

        t0 = time.perf_counter()
        self.backend.request_payload(messages, sampling)
        self.encode_s.append(time.perf_counter() - t0)
        if self.inner is not None:
            return self.inner.complete(messages, sampling)
        text = self.texts[self.n]
        self.n += 1
        return ModelResponse(text)


def ms(values: list[float]) -> str:
    """Mean and median in milliseconds (the median is the steadier figure on a shared machine)."""
    if not values:
        return "      -         -"
    return f"{statistics.mean(values) * 1000:7.2f}   {statistics.median(values) * 1000:7.2f}"


PHASES = ("capture", "prepare", "encode", "parse", "execute", "record")


def run_ours(steps: int, size: tuple[int, int], image_format: str, family: str, out: Path, record: bool = True,
             tasks: list[str] | None = None):
    """One scenario: the fixed answers (``tasks`` None) or the mock's solver on each of ``tasks``.
    Returns (phases: name -> seconds per step, loop seconds per step, responses, one recorded run folder)."""
    from guiagent.agent.config import AgentConfig
    from guiagent.agent.loop import Agent
    from guiagent.envs.mock import MockDesktop
    from guiagent.envs.mock.scripted import ScriptedModel
    from guiagent.envs.mock.tasks import get_task
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

    profile = get_profile(family)
    phases: dict[str, list[float]] = {p: [] for p in PHASES}
    records, responses, run_dir, loop_s = [], [], None, 0.0
    ImageBudget.prepare = timed_prepare
    try:
        for task in tasks or [None]:
            env = MockDesktop(width=size[0], height=size[1], scale=1.0, seed=0,
                              task=get_task(task) if task else None)
            if task is None:
                model = InstantModel(answers(steps, *size), image_format)
                instruction = "benchmark the loop"
            else:
                model = InstantModel(None, image_format, inner=ScriptedModel(env, profile))
                instruction = env.task.instruction
            agent = Agent(env, model, profile, AgentConfig(max_steps=steps, stuck_after=0, wait_s=0.0))
            t0 = time.perf_counter()
            result = agent.run(instruction, out_dir=out if record else None)
            wall = time.perf_counter() - t0
            env.close()
            # the model phase is the request building (timed as "encode") plus, for the solver, its thinking,
            # which is not the loop's work
            thinking = sum(s.latency.get("model", 0.0) for s in result.steps) - sum(model.encode_s)
            loop_s += wall - (thinking if task is not None else 0.0)
            records += result.steps
            phases["encode"] += model.encode_s
            responses += [s.response or "" for s in result.steps]
            run_dir = run_dir or result.run_dir
    finally:
        ImageBudget.prepare = original_prepare
    for p in ("capture", "prepare", "parse", "execute", "record"):
        phases[p] = [s.latency.get(p, 0.0) for s in records]
    phases["resize"] = resize_s
    phases["step"] = [s.ended - s.started for s in records]
    return phases, loop_s / len(records), responses, run_dir


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
        # the package's parser reads start_box='(x,y)' without the box tokens the solver's answers carry
        text = text.replace("<|box_start|>", "").replace("<|box_end|>", "")
        parse_action_to_structure_output(text, 1000, image.height, image.width, "qwen25vl")
        t3 = time.perf_counter()
        times["png_capture"].append(t1 - t0)
        times["history_images"].append(t2 - t1)
        times["parse"].append(t3 - t2)
    return times


def report(title: str, results: dict[str, tuple]) -> None:
    """One table: a column pair (mean, median) per image format."""
    formats = list(results)
    print(title)
    print(f"{'phase':<10}" + "".join(f"{f + ' mean':>12}{'median':>9}" for f in formats))

    def row(name: str, per_format: list[str], note: str = "") -> None:
        print(f"{name:<10}" + "".join(f"{v:>21}" for v in per_format) + (f"   {note}" if note else ""))

    sums = {f: sum(statistics.mean(results[f][0][p]) for p in PHASES if results[f][0][p]) for f in formats}
    for name in PHASES:
        row(name, [ms(results[f][0][name]) for f in formats])
        if name == "prepare":
            row("  resize", [ms(results[f][0]["resize"]) for f in formats], "(image budget, once per screenshot)")
    row("sum", [f"{sums[f] * 1000:7.2f}" + " " * 10 for f in formats])
    row("non-image", [f"{(sums[f] - statistics.mean(results[f][0]['resize']) - statistics.mean(results[f][0]['encode'])) * 1000:7.2f}" + " " * 10 for f in formats], "(sum minus resize and encode)")
    row("step", [ms(results[f][0]["step"]) for f in formats])
    row("per step", [f"{results[f][1] * 1000:7.2f}" + " " * 10 for f in formats],
        "(whole run incl. writer flush and meta; target < 15 ms)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=40, help="steps of the static scenario (and most per task)")
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--family", default="ui-tars-1.5")
    parser.add_argument("--image-format", choices=("png", "jpeg", "both"), default="both")
    parser.add_argument("--tasks", type=int, default=6,
                        help="mock tasks for the changing-screen scenario (spread over the suite; 0: skip it)")
    parser.add_argument("--no-record", action="store_true",
                        help="run the loop without writing a run folder (shows what the writer thread costs)")
    args = parser.parse_args(argv)
    size = tuple(int(v) for v in args.size.lower().split("x"))
    formats = ("png", "jpeg") if args.image_format == "both" else (args.image_format,)
    scenarios = {"static": None}
    if args.tasks > 0:
        from guiagent.envs.mock.tasks import load_suite

        suite = [t.id for t in load_suite()]
        scenarios["tasks"] = suite[::max(1, len(suite) // args.tasks)][:args.tasks]

    for scenario, tasks in scenarios.items():
        with tempfile.TemporaryDirectory() as tmp:
            results = {}
            for fmt in formats:
                results[fmt] = run_ours(args.steps, size, fmt, args.family, Path(tmp) / fmt,
                                        record=not args.no_record, tasks=tasks)
            n = len(results[formats[0]][0]["step"])
            what = "fixed answers, mostly unchanged screen" if tasks is None else \
                f"the mock's solver on {len(tasks)} tasks ({', '.join(tasks)}), screen changing"
            print()
            report(f"guiagent loop, {args.family}, mock desktop {size[0]}x{size[1]}, {scenario}: {what}, "
                   f"{n} steps", results)
            _, _, responses, run_dir = results[formats[0]]
            if run_dir is None:
                continue  # --no-record: the reference needs the recorded screenshots
            ref = run_reference(run_dir, responses)
        ref_total = sum(statistics.mean(v) for v in ref.values())
        print(f"reference (UI-TARS OSWorld agent pipeline on the screenshots of {run_dir.name})   mean ms   median")
        for name, values in ref.items():
            print(f"{name:<15} {ms(values):>8}")
        print(f"{'per step':<15} {ref_total * 1000:8.2f}")
        print("ratio reference / guiagent per step: " +
              ", ".join(f"{fmt} {ref_total / results[fmt][1]:.1f}x" for fmt in formats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
