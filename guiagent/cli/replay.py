"""``guiagent replay RUN --env mock|desktop [--check]``: execute a run's recorded actions again.

With ``--check`` each new screenshot is compared with the recorded one and the first differing step is reported
(exit 1). A mock run is replayed from the same task, seed, size and scale (from its meta.json).

Replaying onto the real desktop moves the user's pointer and types on their screen, so it asks first (and refuses
without a terminal to ask on, unless ``--yes``); ``--dry-run`` lists the actions instead, and a recording made on
another env or screen size is pointed out before anything runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from guiagent.agent.factory import ENV_KINDS, env_from_meta
from guiagent.agent.trajectory import TrajectoryError, load_run
from guiagent.cli import summary
from guiagent.errors import ConfigError, GuiAgentError


def fraction(text: str) -> float:
    """argparse type for --tolerance: a number from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:  # also refuses nan, which would let every difference pass
        raise argparse.ArgumentTypeError(f"expected a fraction from 0 to 1, got {text!r}")
    return value


def register(subparsers: Any) -> None:
    """Add the ``replay`` sub-command (re-execute a recorded run's actions) to the ``guiagent`` parser.

    Args:
        subparsers: the object ``ArgumentParser.add_subparsers`` returned.
    """
    p = subparsers.add_parser(
        "replay", help=summary("replay"),
        description="Re-execute the actions a run executed (in screenshot pixels, as recorded) against a fresh "
                    "environment. For a mock run the desktop is rebuilt from the recorded task, seed, size and "
                    "scale. With --check, each step's screenshot is compared with the recorded one first and the "
                    "replay stops at the first step that differs. To feed the recorded answers through the live "
                    "loop instead, use `guiagent run --model replay:RUN`. Replaying onto --env desktop acts on "
                    "this screen: it asks first (--yes to skip the question, required without a terminal).")
    p.add_argument("run", metavar="RUN", help="run folder")
    p.add_argument("--env", type=_env_kind, metavar="{" + ",".join(ENV_KINDS) + ",vnc:HOST:PORT}",
                   help="environment (default: the one recorded; a VNC run needs --env vnc:HOST:PORT)")
    p.add_argument("--check", action="store_true", help="compare each screenshot with the recording")
    p.add_argument("--tolerance", type=fraction, default=0.0, metavar="FRACTION",
                   help="with --check: fraction of pixels allowed to differ (default 0)")
    p.add_argument("--no-wait", action="store_true", help="skip the recorded waits and settle pauses")
    p.add_argument("--dry-run", action="store_true", help="list the actions that would be executed; execute nothing")
    p.add_argument("--yes", "-y", action="store_true",
                   help="replay onto the real desktop without asking (needed when there is no terminal)")
    g = p.add_argument_group(
        "what a run folder cannot set", "A run folder is untrusted: replay takes no task folder, program, server, "
                                        "password or looser safety setting from it. Give them again here.")
    g.add_argument("--tasks-dir", metavar="DIR", help="the folder of task files the run's task came from")
    g.add_argument("--allow-hotkey", action="append", metavar="COMBO", default=[],
                   help="let the replay press a combination on the default deny list (repeatable)")
    g.add_argument("--no-failsafe", dest="failsafe", action="store_const", const=False, default=None,
                   help="turn off pyautogui's fail-safe on the real desktop")
    from guiagent.cli.sandbox import add_remote_options

    add_remote_options(p)
    p.set_defaults(func=main)


def _env_kind(text: str) -> str:
    """--env: one of ENV_KINDS, or vnc:HOST:PORT."""
    from guiagent.cli.sandbox import env_choice

    return text if text in ENV_KINDS else env_choice(text)


def given_options(args: argparse.Namespace) -> dict[str, Any]:
    """The env options the user gave on the replay command line, by ``make_env`` name (None when not given).

    Args:
        args: the parsed ``guiagent replay`` arguments.

    Returns:
        The options, for ``env_from_meta(..., given=...)``.
    """
    tasks_dir = getattr(args, "tasks_dir", None)
    return {"tasks_dir": str(Path(tasks_dir).expanduser().resolve()) if tasks_dir else None,
            "allow_hotkeys": list(args.allow_hotkey) or None, "failsafe": args.failsafe,
            "apps": list(args.sandbox_app) or None, "vnc": args.sandbox_vnc, "password_env": args.vnc_password_env,
            "timeout": args.vnc_timeout, "reconnect_s": args.vnc_reconnect, "unicode": args.vnc_unicode,
            "remote_os": args.remote_os}


def main(args: argparse.Namespace) -> int:
    """Run ``guiagent replay``: re-execute a run's actions on a fresh env and say whether the replay matched.

    Replaying onto the real desktop asks first unless ``--yes``.

    Returns:
        0 when the replay reproduced the run (or a dry run listed actions), 1 when it differed, was refused or
        declined, or there was nothing to replay, 2 for an unreadable run or bad options.
    """
    from guiagent.agent.progress import describe_action
    from guiagent.agent.replay import check_replayable, planned_actions, replay_actions, target_warnings
    from guiagent.actions.jsonform import action_to_json

    try:
        run = load_run(args.run)
        check_replayable(run, args.check)
    except TrajectoryError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    kind = args.env or (run.meta.get("env") or {}).get("name")
    plan = planned_actions(run)
    for problem in run.problems:
        print(f"note: {problem}", file=sys.stderr)
    if args.dry_run:
        for index, action in plan:
            print(f"step {index + 1}: {describe_action(action_to_json(action))}")
        print(f"dry run: {len(plan)} actions would be replayed on the {kind} env; nothing was executed",
              file=sys.stderr)
        return 0 if plan else 1
    if kind == "desktop" and not args.yes and not sys.stdin.isatty():
        print("error: replaying onto the real desktop moves the pointer and types on this screen; pass --yes to "
              "do it without a terminal to confirm on, or --dry-run to list the actions", file=sys.stderr)
        return 2
    try:
        env, _ = env_from_meta(run.meta, args.env, given=given_options(args),
                               warn=lambda line: print(f"warning: {line}", file=sys.stderr))
    except (TrajectoryError, ConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except GuiAgentError as e:
        print(f"could not start the environment: {e}", file=sys.stderr)
        return 1
    try:
        base = "vnc" if str(kind).startswith("vnc:") else kind  # the server is not part of the env kind
        for warning in target_warnings(run, base, env.display):
            print(f"warning: {warning}", file=sys.stderr)
        if kind == "desktop" and not args.yes and not _confirm(len(plan)):
            print("not replayed", file=sys.stderr)
            return 1
        report = replay_actions(run, env, check=args.check, tolerance=args.tolerance, waits=not args.no_wait)
    finally:
        env.close()
    print(report.summary())
    return 0 if report.ok else 1


def _confirm(actions: int) -> bool:
    print(f"Replay {actions} recorded actions onto this desktop (the pointer and keyboard will move)? [y/N] ",
          end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")
