"""Evaluation throughput: episodes per minute of ``guiagent eval`` with 1, 2 and 4 local workers and on a local Ray
instance, for the scripted model over the mock suite, with the scaling ratio against one worker.

    PYTHONPATH=. python benchmarks/eval_throughput.py [--tasks N] [--workers 1,2,4] [--no-ray] [--ray-cpus 4]
                                                      [--json FILE]

Each configuration evaluates the same episodes into a fresh results folder through ``evaluate`` (what the CLI
calls): worker start-up, the episodes, the trajectory folders and results.jsonl included. The Ray run's clock
starts after ``ray.init`` (its start-up is reported on its own); Ray declares 1 CPU per episode and the local
instance gets ``--ray-cpus`` CPUs (default 4, the most workers measured). Every run must reach 100%.

Scaling is bounded by the machine: the figures are only comparable with the CPU count and load average printed
next to them (on a machine shared with other jobs, more workers than free cores cannot help).
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
from guiagent.envs.mock.tasks import load_suite  # noqa: E402


def run(label: str, tasks: list[str], **kwargs) -> dict:
    with tempfile.TemporaryDirectory(prefix="guiagent-bench-eval-") as out:
        load_before = os.getloadavg()[0]
        t0 = time.perf_counter()
        summary = evaluate(out, model="scripted", tasks=tasks, **kwargs)
        elapsed = time.perf_counter() - t0
    if summary.success_rate != 1.0:
        raise SystemExit(f"{label}: success rate {summary.success_rate}, expected 1.0")
    return {"config": label, "episodes": summary.episodes, "seconds": round(elapsed, 2),
            "episodes_per_min": round(summary.episodes / elapsed * 60, 1), "load_before": round(load_before, 2),
            "load_after": round(os.getloadavg()[0], 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", type=int, default=0, help="first N tasks of the suite (default: all)")
    ap.add_argument("--workers", default="1,2,4", help="local worker counts (default 1,2,4)")
    ap.add_argument("--no-ray", action="store_true", help="skip the Ray run")
    ap.add_argument("--ray-cpus", type=int, default=4, help="CPUs of the local Ray instance (default 4)")
    ap.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = ap.parse_args()

    tasks = [t.id for t in load_suite()]
    if args.tasks:
        tasks = tasks[: args.tasks]
    print(f"{len(tasks)} mock tasks, scripted model; {os.cpu_count()} CPUs, load average "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    rows = []
    for n in [int(x) for x in args.workers.split(",")]:
        rows.append(run(f"{n} worker{'s' if n > 1 else ''}", tasks, workers=n))
        print(rows[-1], flush=True)
    if not args.no_ray:
        import ray

        t0 = time.perf_counter()
        ray.init(num_cpus=args.ray_cpus, include_dashboard=False, log_to_driver=False)
        ray_init = time.perf_counter() - t0
        try:
            rows.append(run(f"ray, {args.ray_cpus} CPUs", tasks, ray="auto"))
            rows[-1]["ray_init_s"] = round(ray_init, 2)
        finally:
            ray.shutdown()
        print(rows[-1], flush=True)

    base = rows[0]["episodes_per_min"]
    print(f"\n| configuration | episodes | seconds | episodes/min | vs {rows[0]['config']} | load avg before/after |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        r["scaling"] = round(r["episodes_per_min"] / base, 2)
        print(f"| {r['config']} | {r['episodes']} | {r['seconds']:.1f} | {r['episodes_per_min']:.1f} | "
              f"{r['scaling']:.2f}x | {r['load_before']:.1f} / {r['load_after']:.1f} |")
    if any("ray_init_s" in r for r in rows):
        print(f"\n(ray.init took {next(r['ray_init_s'] for r in rows if 'ray_init_s' in r):.1f} s, not counted)")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
