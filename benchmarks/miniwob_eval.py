"""MiniWoB throughput: episodes per minute of ``guiagent eval --suite miniwob`` with 1 and 2 local workers, for the
DOM-reading oracle (``--model scripted``) on its five tasks, with the scaling ratio against one worker.

    PYTHONPATH=. python benchmarks/miniwob_eval.py [--repeats 4] [--workers 1,2] [--json FILE]

Each configuration evaluates the same episodes (5 tasks x --repeats seeds) into a fresh results folder through
``evaluate`` (what the CLI calls). Two rates are reported: ``episodes_per_min`` over the whole call (worker and
Chromium start-up, about 3 s per worker, included) and ``steady_episodes_per_min`` from the first episode's start
to the last one's end, from results.jsonl (start-up excluded). Every run must reach 100%.

Each worker runs its own headless Chromium, so scaling is bounded by free cores: compare the figures only with the
CPU count and load average printed next to them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from guiagent.agent.evaluation import evaluate  # noqa: E402
from guiagent.envs.miniwob import ORACLE_TASKS  # noqa: E402


def run(workers: int, repeats: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="guiagent-bench-miniwob-") as out:
        load_before = os.getloadavg()[0]
        t0 = time.perf_counter()
        summary = evaluate(out, suite="miniwob", model="scripted", tasks=list(ORACLE_TASKS), repeats=repeats,
                           workers=workers)
        elapsed = time.perf_counter() - t0
        lines = [json.loads(x) for x in (Path(out) / "results.jsonl").read_text().splitlines()]
    if summary.success_rate != 1.0:
        raise SystemExit(f"{workers} workers: success rate {summary.success_rate}, expected 1.0")
    span = max(r["ended"] for r in lines) - min(r["started"] for r in lines)
    return {"workers": workers, "episodes": summary.episodes, "seconds": round(elapsed, 2),
            "episodes_per_min": round(summary.episodes / elapsed * 60, 1),
            "steady_episodes_per_min": round(summary.episodes / span * 60, 1),
            "mean_episode_s": round(sum(r["timings"]["total_s"] for r in lines) / len(lines), 3),
            "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=4, help="seeds per task (default 4: 20 episodes)")
    ap.add_argument("--workers", default="1,2", help="local worker counts (default 1,2)")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()
    rows = [run(int(w), args.repeats) for w in args.workers.split(",")]
    base = rows[0]["episodes_per_min"]
    for r in rows:
        r["speedup_vs_first"] = round(r["episodes_per_min"] / base, 2)
    print(f"cpus {os.cpu_count()}")
    print(f"{'workers':>7} {'episodes':>8} {'seconds':>8} {'ep/min':>8} {'steady':>8} {'ep s':>6} {'x':>5} "
          f"{'load':>10}")
    for r in rows:
        print(f"{r['workers']:>7} {r['episodes']:>8} {r['seconds']:>8} {r['episodes_per_min']:>8} "
              f"{r['steady_episodes_per_min']:>8} {r['mean_episode_s']:>6} {r['speedup_vs_first']:>5} "
              f"{r['load_before']:>4}->{r['load_after']:<4}")
    if args.json:
        Path(args.json).write_text(json.dumps({"cpus": os.cpu_count(), "runs": rows}, indent=2))


if __name__ == "__main__":
    main()
