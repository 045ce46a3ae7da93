"""``guiagent run``: one task, one model, one environment, with live progress and a recorded run folder.

    guiagent run "Rename notes.txt to todo.txt" --env mock --model scripted
    guiagent run --env mock --task rename-file --model openai:http://localhost:8000/v1 --family ui-tars-1.5
    guiagent run "Open the settings" --env desktop --model openai:http://gpu:8000/v1 --confirm
    guiagent run "..." --env desktop --monitor primary --no-failsafe --deny-hotkey alt+f4 --dry-run ...

Progress goes to stderr; the run folder (and report) paths to stdout.
Exit codes: 0 the task succeeded (the model said finished, and the mock task's check agrees), 1 it did not,
2 usage error (bad option, unknown family / task / spec), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from guiagent.agent.config import AgentConfig
from guiagent.agent.factory import ENV_KINDS, make_env, task_evaluator
from guiagent.agent.hooks import ConfirmHook, Hooks
from guiagent.agent.loop import Agent, RunResult
from guiagent.agent.outcome import check_sentence
from guiagent.agent.progress import RichProgress, TerminalUser, terminal_confirm
from guiagent.cli import summary
from guiagent.cli.argtypes import check_out_folder, flags_apply, monitor_spec, positive_int, seconds
from guiagent.errors import ConfigError, GuiAgentError, TrajectoryError

EPILOG = """\
model SPEC: scripted (the mock desktop's solver), replay:RUN (a recorded run's answers),
            openai:BASE_URL (vLLM, SGLang or any OpenAI-compatible server), hf:PATH (a local checkpoint)
exit status: 0 success, 1 failure, 2 usage error, 130 interrupted
"""


def add_env_options(p: argparse.ArgumentParser) -> None:
    """Add the environment flags (``--env``, ``--task``, ``--size``, real-desktop and VNC options) to ``p``."""
    from guiagent.cli.parse import screen_size

    g = p.add_argument_group("environment")
    from guiagent.cli.sandbox import add_remote_options, env_choice

    g.add_argument("--env", type=env_choice, default="mock",
                   metavar="{" + ",".join(ENV_KINDS[:-1]) + ",vnc:HOST:PORT}",
                   help="where to act (default: mock): the mock desktop, this desktop, a disposable virtual "
                        "desktop (sandbox), or a remote one over VNC")
    g.add_argument("--task", metavar="ID", help="mock desktop task to set up and check (its instruction is used "
                                                "when INSTRUCTION is omitted)")
    g.add_argument("--tasks-dir", metavar="DIR", help="take --task from the task files (*.json) in DIR instead of "
                                                      "the built-in suite (see docs/tasks.md)")
    g.add_argument("--seed", type=int, default=None, help="mock desktop seed (default 0)")
    g.add_argument("--size", type=screen_size, metavar="WxH", help="mock desktop size in points (default 1280x800)")
    g.add_argument("--scale", type=float, help="HiDPI scale: mock screenshots are size*scale pixels; desktop: "
                                               "override the detected scale")
    from guiagent.envs.desktop.env import UNICODE_METHODS

    g = p.add_argument_group("real desktop (--env desktop)")
    g.add_argument("--monitor", type=monitor_spec, metavar="N|all|primary",
                   help="which monitor to capture and act on: 1, 2, ... (mss order), 'primary', or 'all' (or 0) "
                        "for the whole virtual screen; points outside it are refused (default 1)")
    g.add_argument("--no-failsafe", dest="failsafe", action="store_const", const=False, default=None,
                   help="turn off pyautogui's fail-safe (moving the pointer into a screen corner stops the run at "
                        "once). Only for VMs and remote screens whose pointer starts in a corner")
    g.add_argument("--unicode-method", choices=UNICODE_METHODS, default=None,
                   help="how non-ASCII text is typed: keysym (X11 only), clipboard (paste, the old clipboard is "
                        "restored), auto (keysym on X11, else clipboard; default)")
    g.add_argument("--allow-hotkey", action="append", metavar="COMBO", default=[],
                   help="let the agent press a combination on the default deny list, e.g. ctrl+alt+delete "
                        "(repeatable)")
    g.add_argument("--deny-hotkey", action="append", metavar="COMBO", default=[],
                   help="also refuse this key combination, e.g. alt+f4 (repeatable)")
    add_remote_options(p)


#: the desktop-only flags, as (attribute, flag) pairs: given with --env mock they are a usage error
DESKTOP_FLAGS = (("monitor", "--monitor"), ("failsafe", "--no-failsafe"), ("unicode_method", "--unicode-method"),
                 ("allow_hotkey", "--allow-hotkey"), ("deny_hotkey", "--deny-hotkey"))


#: the mock-only flags: given with --env desktop they are a usage error (never silently ignored)
MOCK_FLAGS = (("task", "--task"), ("seed", "--seed"), ("size", "--size"))


def env_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of ``make_env(args.env, ...)``; recorded as meta.json's env_options for replay.
    Raises ConfigError for flags that do not apply to the chosen env."""
    from guiagent.cli.sandbox import remote_env_options

    if args.env == "mock":
        remote_env_options(args, {})  # ConfigError for sandbox / VNC flags
        other, where = DESKTOP_FLAGS, "desktop"
    else:  # a sandbox is made at --size; the other desktops have the size they have
        other, where = tuple(f for f in MOCK_FLAGS if args.env != "sandbox" or f[0] != "size"), "mock"
    given = [flag for attr, flag in other if getattr(args, attr, None) not in (None, [])]
    if given:
        raise ConfigError(f"{flags_apply(given)} to --env {where} only (this run uses --env {args.env})")
    if args.env == "mock":
        width, height = args.size or (None, None)
        tasks_dir = getattr(args, "tasks_dir", None)
        tasks_dir = str(Path(tasks_dir).expanduser().resolve()) if tasks_dir else None  # replay runs elsewhere
        return {k: v for k, v in {"width": width, "height": height, "scale": args.scale,
                                  "seed": args.seed if args.seed is not None else 0,
                                  "task": args.task, "tasks_dir": tasks_dir}.items() if v is not None}
    if getattr(args, "tasks_dir", None):
        raise ConfigError("--tasks-dir applies to --env mock only")
    options: dict[str, Any] = {
        "monitor": 1 if args.monitor is None else args.monitor,
        "scale": args.scale,
        "failsafe": args.failsafe is not False,
        "unicode_method": args.unicode_method or "auto",
    }
    if args.allow_hotkey:
        options["allow_hotkeys"] = list(args.allow_hotkey)
    if args.deny_hotkey:
        options["deny_hotkeys"] = list(args.deny_hotkey)
    options = remote_env_options(args, options)  # sandbox / vnc: their own options; desktop: unchanged
    return {k: v for k, v in options.items() if v is not None}


def error_console() -> Console:
    """Where errors go: stderr, even with --quiet (which silences progress, not failures)."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def register(subparsers: Any) -> None:
    """Add the ``run`` sub-command (run a model on a task, recording the run) to the ``guiagent`` parser.

    Args:
        subparsers: the object ``ArgumentParser.add_subparsers`` returned.
    """
    p = subparsers.add_parser(
        "run", help=summary("run"),
        description="Run the agent loop: screenshot -> model -> parse -> map coordinates -> execute, until the "
                    "model says finished or a limit stops it. Every run is recorded in a folder under --out "
                    "(meta.json, trajectory.jsonl, screenshots) that `guiagent view`, `replay` and `export` read.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("instruction", nargs="?", metavar="INSTRUCTION", help="what to do (optional with --task)")
    from guiagent.cli.model_args import add_model_arguments

    add_model_arguments(p)
    p.add_argument("--mode", default="computer", choices=("computer", "mobile", "grounding"),
                   help="prompt mode (default computer)")
    add_env_options(p)
    g = p.add_argument_group("loop")
    g.add_argument("--max-steps", type=positive_int, metavar="N",
                   help="step limit (default: the mock task's, else 50)")
    g.add_argument("--timeout", type=seconds, metavar="S", help="wall-clock limit for the run")
    g.add_argument("--wait", type=seconds, default=5.0, metavar="S", help="how long wait() sleeps (default 5)")
    g.add_argument("--settle", type=seconds, default=None, metavar="S",
                   help="pause after each action (default: 0 on mock, 0.5 on desktop)")
    g.add_argument("--settle-stable", action="store_true",
                   help="after each action, wait until two screenshots in a row match (at most 2 s)")
    g.add_argument("--confirm", action="store_true", help="ask before each action: allow, skip or stop")
    g.add_argument("--dry-run", action="store_true", help="record what would be done, execute nothing (the env still checks each action: "
                        "off-screen points and denied keys are recorded as errors)")
    g = p.add_argument_group("output")
    g.add_argument("--out", default="runs", metavar="DIR", help="parent folder of run folders (default ./runs)")
    g.add_argument("--no-record", action="store_true", help="do not write a run folder")
    g.add_argument("--report", action="store_true", help="also write RUN/report.html")
    g.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run ``guiagent run``: build the environment from the flags (and ``--config``), then run the agent on it.

    Returns:
        0 when the run succeeded, 1 when it ended otherwise or the env or model could not start, 2 for bad
        flags or configuration, 130 on Ctrl-C.
    """
    console = Console(stderr=True, highlight=False, quiet=args.quiet, soft_wrap=True)
    if args.confirm and not sys.stdin.isatty():
        error_console().print("[red]--confirm needs an interactive terminal to ask on[/]", style=None)
        return 2
    try:
        if getattr(args, "config", None):  # the [run] and [env] tables of --config; flags win
            from guiagent.cli.runconfig import apply_run_config
            from guiagent.models.config import load_config

            apply_run_config(args, load_config(args.config), args.config)
        from guiagent.cli.model_args import check_mode

        check_mode(args)
        if args.instruction is not None and not args.instruction.strip():
            raise ConfigError("the INSTRUCTION is blank: say what to do (or leave it out and give a mock --task)")
        if args.no_record and args.report:
            raise ConfigError("--report writes RUN/report.html into the run folder, which --no-record does not "
                              "write: drop one of them")
        if not args.no_record:
            check_out_folder(args.out)
        options = env_options(args)
        env = make_env(args.env, **options)
    except ConfigError as e:
        error_console().print(f"[red]error:[/] {escape(str(e))}")
        return 2
    except GuiAgentError as e:
        error_console().print(f"[red]could not start the {args.env} environment:[/] {escape(str(e))}")
        return 1
    try:
        return run_with_env(args, env, console, options)
    finally:
        env.close()


def run_with_env(args: argparse.Namespace, env, console: Console, options: dict[str, Any]) -> int:
    """The run itself, on an env built from ``options`` (recorded as meta.json's env_options)."""
    from guiagent.cli.model_args import load_model_from_args

    instruction = args.instruction
    task = getattr(env, "task", None)
    if (args.model or "").strip() == "scripted" and task is None:
        error_console().print("[red]error:[/] --model scripted plays a mock task's solution: give --task ID "
                              "(`guiagent tasks` lists them)")
        return 2
    if not instruction:
        instruction = getattr(task, "instruction", None)
        if not instruction:
            error_console().print("[red]error:[/] give an INSTRUCTION (or a mock --task that has one)")
            return 2
    try:
        loaded = load_model_from_args(args, env=env)
        loaded.profile.prompt(args.mode)  # a guessed family: its mode checked before the run starts
    except ConfigError as e:
        error_console().print(f"[red]error:[/] {escape(str(e))}")
        return 2
    except GuiAgentError as e:
        error_console().print(f"[red]could not load the model:[/] {escape(str(e))}")
        return 1
    settle = args.settle if args.settle is not None else (0.0 if args.env == "mock" else 0.5)
    max_steps = args.max_steps or getattr(task, "max_steps", None) or 50
    config = AgentConfig(max_steps=max_steps, timeout_s=args.timeout, wait_s=args.wait, settle_s=settle,
                         settle_stable=args.settle_stable, dry_run=args.dry_run, mode=args.mode)
    hooks: list[Hooks] = [RichProgress(console, max_steps)]
    if args.confirm:
        hooks.append(ConfirmHook(terminal_confirm(console=console)))
    if sys.stdin.isatty():
        hooks.append(TerminalUser(console=console))

    profile = loaded.profile
    guessed = " (guessed from the model name)" if loaded.family_guessed else ""
    console.print(f"[bold]{escape(instruction)}[/]\n[dim]model {escape(loaded.model.name)}, family "
                  f"{profile.name}{guessed}, env {args.env} {'x'.join(map(str, env.display.size_px))}"
                  f"{', dry run' if args.dry_run else ''}[/]")
    agent = Agent(env, loaded.model, profile, config, hooks)
    try:
        result = agent.run(instruction, task_id=args.task, out_dir=None if args.no_record else args.out,
                           meta={"env_options": options, "model_spec": args.model},
                           evaluate=task_evaluator(env))
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]")
        return 130
    except TrajectoryError as e:
        error_console().print(f"[red]could not record the run:[/] {escape(str(e))} (--out DIR, or --no-record)")
        return 1
    report = None
    if args.report and result.run_dir is not None:
        from guiagent.agent.viewer import write_report
        report = write_report(result.run_dir)
    print_result(console, result, report)
    return 0 if result.success else 1


def print_result(console: Console, result: RunResult, report: Path | None = None) -> None:
    """Print how a run ended (outcome, reason, answer, task check), and the run folder and report paths on stdout.

    Args:
        console: where the human-readable lines go.
        result: the finished run.
        report: the HTML report written for it, if any.
    """
    style = "green" if result.success else "red"
    console.print(f"[bold {style}]{result.outcome}[/] after {len(result.steps)} steps: {escape(result.reason)}")
    if result.answer:
        console.print(f"answer: {escape(result.answer)}")
    if result.evaluation is not None and result.outcome != "check_failed":  # check_failed's reason says it
        console.print(escape(check_sentence(result.evaluation) or ""))
    # the paths go to stdout (even with --quiet), so scripts can pick them up
    if result.run_dir is not None:
        print(f"run folder: {result.run_dir}")
    if report is not None:
        print(f"report:     {report}")
