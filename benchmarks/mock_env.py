"""Steps per second of the mock desktop for a loop of clicks and typing, a fresh screenshot every step.

    python benchmarks/mock_env.py [--steps 3000] [--no-miniwob]

Measures 1280x800 and 1920x1080 (scale 1) and 1280x800 at scale 2, single process. Each step is one
``execute`` of a typed action followed by ``observe()`` (a new PIL image). Figures are the best of three rounds,
by wall clock and by process CPU time (the latter is steadier on a shared machine). The loop works in a mail
compose window: click a field, select all, type, click the body, type, ... When the ``miniwob`` package and
Debian's chromium + chromium-driver are installed (``pip install -e '.[bench]'``), the same run also drives
MiniWoB++'s click-button task through its gymnasium API (headless Chromium, a screenshot per step) and prints the
ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time


def mock_steps(width: int, height: int, scale: float, steps: int) -> tuple[float, dict]:
    from guiagent.actions.types import Click, Hotkey, Point, Press, Space, Type
    from guiagent.envs.mock import MockDesktop

    desk = MockDesktop(width, height, scale=scale, initial_state={"open": [{"app": "mail", "compose": {}}]})
    tree = desk.accessibility_tree()

    def at(role: str, name: str) -> Point:
        x, y = tree.find(role=role, name=name).center
        return Point(x, y, Space.SCREEN)

    to, subject, body, cc = at("text_field", "To"), at("text_field", "Subject"), at("text_area", "Body"), \
        at("text_field", "Cc")
    cycle = [Click(to), Hotkey(("ctrl", "a")), Type("bob@example.com"), Click(subject), Hotkey(("ctrl", "a")),
             Type("Quarterly numbers"), Click(body), Hotkey(("ctrl", "a")), Type("Hello Bob,\nhere are the numbers."),
             Click(cc), Type("x"), Hotkey(("ctrl", "a")), Press("backspace"), Click(body)]
    desk.observe()
    # warm-up (font caches)
    for a in cycle * 2:
        desk.execute(a)
        desk.observe()
    # best of three rounds: the machine is shared, so the fastest round is the least disturbed one
    best_wall = best_cpu = 0.0
    per_round = max(1, steps // 3)
    for r in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(per_round):
            desk.execute(cycle[(r * per_round + i) % len(cycle)])
            shot = desk.observe().screenshot
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        best_wall = max(best_wall, per_round / wall)
        best_cpu = max(best_cpu, per_round / max(cpu, 1e-9))
    assert shot.size == desk.display.size_px
    return best_wall, {"cpu": best_cpu, "partial": desk.compositor.partial_repaints,
                       "full": desk.compositor.full_repaints, "recycled": desk.compositor.recycled}


def miniwob_steps(steps: int) -> float | str:
    """Steps/s of MiniWoB++ click-button (or a reason it could not run)."""
    try:
        import gymnasium
        import miniwob  # noqa: F401
        from miniwob.action import ActionTypes
    except ImportError as e:
        return f"miniwob not installed ({e.name}); pip install miniwob"
    chrome = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chrome or not driver:
        return "chromium and chromedriver not found (apt install chromium chromium-driver)"
    os.environ.setdefault("MINIWOB_CHROME_BINARY", chrome)
    os.environ.setdefault("MINIWOB_CHROMEDRIVER", driver)
    _add_chrome_flags()
    try:
        gymnasium.register_envs(miniwob)
        env = gymnasium.make("miniwob/click-button-v1")
        try:
            obs, _ = env.reset(seed=0)
            n = 0
            t0 = time.perf_counter()
            while n < steps:
                action = env.unwrapped.create_action(ActionTypes.CLICK_COORDS, coords=[80.0, 105.0])
                obs, _reward, terminated, truncated, _info = env.step(action)
                assert obs["screenshot"].ndim == 3
                n += 1
                if terminated or truncated:
                    obs, _ = env.reset()
                    n += 1
            return n / (time.perf_counter() - t0)
        finally:
            env.close()
    except Exception as e:  # a browser that cannot start here is a reason, not a crash
        return f"MiniWoB++ could not run here: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"


def _add_chrome_flags() -> None:
    """Make miniwob's headless Chromium start inside containers (flags miniwob itself does not pass)."""
    from selenium import webdriver

    original = webdriver.ChromeOptions

    class Options(original):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            super().__init__()
            for flag in ("--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                         "--disable-dev-shm-usage"):
                self.add_argument(flag)

    webdriver.ChromeOptions = Options  # type: ignore[misc]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--miniwob-steps", type=int, default=60)
    ap.add_argument("--no-miniwob", action="store_true")
    args = ap.parse_args(argv)
    results = {}
    for w, h, s in ((1280, 800, 1.0), (1920, 1080, 1.0), (1280, 800, 2.0)):
        rate, info = mock_steps(w, h, s, args.steps)
        results[(w, h, s)] = rate
        print(f"mock desktop {w}x{h} scale {s:g}: {rate:7.0f} steps/s wall clock, {info['cpu']:7.0f} per CPU "
              f"second  ({info['partial']} partial / {info['full']} full repaints, {info['recycled']} screenshot "
              "buffers recycled)")
    target = results[(1280, 800, 1.0)]
    print(f"target >= 1200 steps/s at 1280x800: {'met' if target >= 1200 else 'NOT met'}")
    if not args.no_miniwob:
        mw = miniwob_steps(args.miniwob_steps)
        if isinstance(mw, str):
            print(f"MiniWoB++ click-button: skipped — {mw}")
        else:
            print(f"MiniWoB++ click-button: {mw:8.1f} steps/s; mock desktop at 1280x800 is {target / mw:,.0f}x "
                  "faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
