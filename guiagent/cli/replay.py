"""``guiagent replay RUN --env mock|desktop [--check]``: execute a run's recorded actions again.

With ``--check`` each new screenshot is compared with the recorded one and the first differing step is reported
(exit 1). A mock run is replayed from the same task, seed, size and scale (from its meta.json).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from guiagent.agent.factory import ENV_KINDS, env_from_meta
from guiagent.agent.trajectory import TrajectoryError, load_run
from guiagent.errors import ConfigError, GuiAgentError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "replay", help="execute a recorded run's actions again, optionally checking every screenshot",
        description="Re-execute the actions a run executed (in screenshot pixels, as recorded) against a fresh "
                    "environment. For a mock run the desktop is rebuilt from the recorded task, seed, size and "
                    "scale. With --check, each step's screenshot is compared with the recorded one first and the "
                    "replay stops at the first step that differs. To feed the recorded answers through the live "
                    "loop instead, use `guiagent run --model replay:RUN`.")
    p.add_argument("run", metavar="RUN", help="run folder")
    p.add_argument("--env", choices=ENV_KINDS, help="environment (default: the one recorded)")
    p.add_argument("--check", action="store_true", help="compare each screenshot with the recording")
    p.add_argument("--tolerance", type=float, default=0.0, metavar="FRACTION",
                   help="with --check: fraction of pixels allowed to differ (default 0)")
    p.add_argument("--no-wait", action="store_true", help="skip the recorded waits and settle pauses")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from guiagent.agent.replay import replay_actions

    try:
        run = load_run(args.run)
        env, _ = env_from_meta(run.meta, args.env)
    except (TrajectoryError, ConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except GuiAgentError as e:
        print(f"could not start the environment: {e}", file=sys.stderr)
        return 1
    try:
        if run.problems:
            for problem in run.problems:
                print(f"note: {problem}", file=sys.stderr)
        report = replay_actions(run, env, check=args.check, tolerance=args.tolerance, waits=not args.no_wait)
    finally:
        env.close()
    print(report.summary())
    return 0 if report.ok else 1
