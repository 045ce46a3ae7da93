"""Per-action latency and capture time of the sandbox and VNC envs next to the local desktop env.

    PYTHONPATH=. .venv/bin/python benchmarks/remote_desktop.py [--repeat 30] [--sizes 1280x800,1920x1080]

For each screen size one sandbox (Xvfb + openbox + an xterm, served by x11vnc) is started, and three envs drive it:

    desktop   DesktopEnv(x_display=...): the local desktop env (mss + pyautogui), the reference
    sandbox   a SandboxEnv of its own at the same size (the same code path plus the per-action display binding)
    vnc       VncEnv over x11vnc on localhost: full framebuffer updates, RFB key/pointer events

Each action is timed ``--repeat`` times (median and 90th percentile, in ms): observe (capture), a click, a pointer
move, a one-notch scroll, typing "hello world" (11 characters) into the xterm, and a click followed by typing (what
an agent step usually is; over VNC this pays the pause that keeps x11vnc's pointer and key events in order).
Also: how long a sandbox takes to start and to end, and a VNC connection to open. Prints a Markdown table; the
ratio is the median against the desktop env's. Needs the Debian packages xvfb, openbox, x11vnc, xterm.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from guiagent.actions.types import Click, MoveTo, Point, Scroll, Type  # noqa: E402
from guiagent.envs.desktop import DesktopEnv  # noqa: E402
from guiagent.envs.sandbox import SandboxEnv  # noqa: E402
from guiagent.envs.vnc import VncEnv  # noqa: E402


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()  # warm up (first keysym bindings, first full update)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.9))]


def actions(width: int, height: int, term: tuple[int, int]) -> dict[str, Callable[[object], None]]:
    blank = Point(width - 40, height - 40)  # the desktop background: clicks there change nothing
    tx, ty = term

    def click_type(env: object) -> None:
        env.execute(Click(Point(tx, ty)))  # type: ignore[attr-defined]
        env.execute(Type("hello world"))  # type: ignore[attr-defined]

    return {
        "observe (capture)": lambda env: env.observe(),  # type: ignore[attr-defined]
        "click": lambda env: env.execute(Click(blank)),  # type: ignore[attr-defined]
        "move pointer": lambda env: env.execute(MoveTo(Point(width // 2, height // 2))),  # type: ignore[attr-defined]
        "scroll 1 notch": lambda env: env.execute(Scroll("down", blank, amount=1)),  # type: ignore[attr-defined]
        "type 11 chars": lambda env: env.execute(Type("hello world")),  # type: ignore[attr-defined]
        "click + type": click_type,
    }


def bench_size(width: int, height: int, repeat: int) -> list[str]:
    rows = []
    t0 = time.perf_counter()
    host = SandboxEnv(width, height, apps=["xterm -geometry 80x24+0+0"], vnc=True)
    start_ms = (time.perf_counter() - t0) * 1000
    box = host.sandbox
    term = (200, 150)
    t0 = time.perf_counter()
    vnc = VncEnv(f"localhost:{box.vnc_port}")
    connect_ms = (time.perf_counter() - t0) * 1000
    desktop = DesktopEnv(x_display=box.display, failsafe=False, environ=box.app_env())
    t0 = time.perf_counter()
    own = SandboxEnv(width, height, apps=["xterm -geometry 80x24+0+0"])
    own_start_ms = (time.perf_counter() - t0) * 1000
    try:
        for env in (desktop, own, vnc):
            env.observe()
            env.execute(Click(Point(*term)))  # focus the xterm
        results: dict[str, dict[str, tuple[float, float]]] = {}
        for label, act in actions(width, height, term).items():
            results[label] = {}
            for name, env in (("desktop", desktop), ("sandbox", own), ("vnc", vnc)):
                results[label][name] = timed(lambda env=env, act=act: act(env), repeat)
        for label, by_env in results.items():
            base = by_env["desktop"][0]
            cells = [f"{by_env[n][0]:.1f} / {by_env[n][1]:.1f}" for n in ("desktop", "sandbox", "vnc")]
            ratios = f"{by_env['sandbox'][0] / base:.2f} / {by_env['vnc'][0] / base:.2f}"
            rows.append(f"| {width}x{height} | {label} | {' | '.join(cells)} | {ratios} |")
    finally:
        desktop.close()
        vnc.close()
        t0 = time.perf_counter()
        own.close()
        stop_ms = (time.perf_counter() - t0) * 1000
        host.close()
    rows.append(f"| {width}x{height} | sandbox start / end (ms) | | {own_start_ms:.0f} / {stop_ms:.0f} "
                f"(with x11vnc: {start_ms:.0f}) | VNC connect {connect_ms:.0f} | |")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--sizes", default="1280x800,1920x1080")
    args = ap.parse_args()
    os.environ.setdefault("GUIAGENT_SANDBOX_DISPLAYS", "170-199")
    os.environ.setdefault("GUIAGENT_SANDBOX_VNC_PORTS", "5970-5999")
    print(f"median / p90 in ms over {args.repeat} repeats; ratio = median vs the desktop env\n")
    print("| screen | action | desktop | sandbox | vnc | ratio sandbox / vnc |")
    print("|---|---|---|---|---|---|")
    for size in args.sizes.split(","):
        w, h = (int(v) for v in size.lower().split("x"))
        for row in bench_size(w, h, args.repeat):
            print(row, flush=True)


if __name__ == "__main__":
    main()
