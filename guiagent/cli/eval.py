"""``guiagent eval``: evaluate a model on a task suite with parallel workers (or Ray), resumably.

    guiagent eval --suite mock --model scripted --workers 4 -o results/scripted
    guiagent eval --suite mock --app mail --model openai:http://gpu:8000/v1 --family ui-tars-1.5 -o results/tars
    guiagent eval --suite mock --model openai:http://gpu:8000/v1 --ray auto --workers 32 -o results/tars
    guiagent eval --suite desktop --env sandbox --model scripted --workers 2 -o results/desktop

Progress goes to stderr; the tables (or --json) to stdout.
Exit status: 0 every selected episode has a result, 1 the run could not go on, 2 usage error, 130 interrupted
(run the same command again to resume).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from guiagent.cli import summary
from guiagent.cli.argtypes import non_negative_number, positive_int, positive_number, seconds
from guiagent.errors import ConfigError, GuiAgentError

EPILOG = """\
files in RESULTS_DIR: eval.json (what was evaluated), results.jsonl (one line per episode), summary.json (the
tables as data), episodes/TASK-rN/ (each episode's run folder: guiagent view / replay / export read it).
Success means the task's own check passed on the end state, whatever the model claimed.
Resume: the same command again runs only the episodes not yet in results.jsonl; a different model or config in
the same folder is refused (--force moves the old results aside into RESULTS_DIR/superseded-TIME/).
exit status: 0 done, 1 the run could not go on, 2 usage error, 130 interrupted (resumable)
"""


def comma_list(text: str) -> list[str]:
    """Argparse type for ``--tasks``: comma-separated ids, blanks dropped.

    Raises:
        argparse.ArgumentTypeError: no id at all.
    """
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected one or more ids separated by commas")
    return items


def positive_float(text: str) -> float:
    """Argparse type: a number of seconds greater than zero.

    Raises:
        argparse.ArgumentTypeError: not a number, negative or zero.
    """
    value = seconds(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def register(subparsers: Any) -> None:
    """Add the ``eval`` sub-command (evaluate a model on a task suite) to the ``guiagent`` parser.

    Args:
        subparsers: the object ``ArgumentParser.add_subparsers`` returned.
    """
    from guiagent.agent.evaluation import suite_names
    from guiagent.agent.evaluation.runner import DEFAULT_EPISODE_TIMEOUT_S
    from guiagent.cli.model_args import add_model_arguments

    p = subparsers.add_parser(
        "eval", help=summary("eval"),
        description="Run every selected task of a suite as an episode (each in a worker process with its own "
                    "environment), judge it with the task's own check, and tabulate the success rate by app and "
                    "difficulty with 95% Wilson intervals, mean steps and time, and the failure reasons.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_argument_group("suite and selection")
    g.add_argument("--suite", default="mock", help=f"task suite (default mock; registered: {', '.join(suite_names())})")
    g.add_argument("--tasks-dir", metavar="DIR",
                   help="a folder of your own task files instead of the suite's built-in tasks (mock: see "
                        "docs/tasks.md; desktop: the JSON of docs/evaluation.md)")
    g.add_argument("--env", choices=("sandbox", "vnc"),
                   help="desktop suite: each episode on a fresh sandboxed X desktop (sandbox, default), or each "
                        "worker on its own VNC desktop from --vnc-endpoints (vnc)")
    g.add_argument("--vnc-endpoints", metavar="HOST:PORT,...|@FILE",
                   help="--env vnc: one VNC server per worker (worker i drives the i-th; at most that many "
                        "workers), comma-separated or one a line in FILE")
    sel = g.add_mutually_exclusive_group()
    sel.add_argument("--tasks", type=comma_list, metavar="ID,ID", help="only these task ids")
    sel.add_argument("--app", help="only tasks that use this app (mock: files, editor, calculator, settings, mail, "
                                   "webform)")
    g.add_argument("--difficulty", help="only tasks of this difficulty (mock: easy, medium, hard)")
    g.add_argument("--repeats", type=positive_int, default=1, metavar="K", help="episodes per task (default 1)")
    g.add_argument("--seed", type=int, default=0, help="seed of the first repeat; repeat k uses SEED+k (default 0)")
    add_model_arguments(p)
    g = p.add_argument_group("run")
    g.add_argument("--max-steps", type=positive_int, metavar="N", help="step limit (default: each task's own)")
    g.add_argument("--mode", default="computer", choices=("computer", "mobile", "grounding"),
                   help="prompt mode (default computer)")
    g.add_argument("--workers", type=positive_int, metavar="N",
                   help="worker processes (default: the CPUs, at most 4); with --ray, most episodes at once "
                        "(default: as many as the cluster's CPUs allow)")
    g.add_argument("--episode-timeout", type=positive_float, default=DEFAULT_EPISODE_TIMEOUT_S, metavar="S",
                   help=f"wall-clock limit per episode; a worker stuck past it (plus a grace period) is killed and "
                        f"the episode recorded as episode_timeout (default {DEFAULT_EPISODE_TIMEOUT_S:g})")
    g.add_argument("-o", "--out", required=True, metavar="RESULTS_DIR", help="results folder (created if needed)")
    g.add_argument("--force", action="store_true",
                   help="if RESULTS_DIR holds results of another configuration, move them aside and start over")
    g.add_argument("--json", action="store_true", help="print summary.json instead of the tables")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g = p.add_argument_group("Ray (pip install 'guiagent[ray]')")
    g.add_argument("--ray", metavar="auto|ADDRESS",
                   help="run the episodes as Ray tasks: 'auto' (RAY_ADDRESS, or the cluster `ray start` began on "
                        "this machine, else a new local instance) or a cluster address (host:6379, "
                        "ray://host:10001)")
    g.add_argument("--ray-cpus", type=positive_number, default=1.0, metavar="N", help="CPUs per episode (default 1)")
    g.add_argument("--ray-gpus", type=non_negative_number, default=0.0, metavar="N",
                   help="GPUs per episode (default 0; e.g. 1 for hf: checkpoints run in the episode's worker)")
    p.set_defaults(func=main)


def suite_options(args: argparse.Namespace) -> dict[str, Any]:
    """The suite's options from the flags: --tasks-dir (any suite that takes it), --env and --vnc-endpoints
    (the desktop suite)."""
    options: dict[str, Any] = {}
    if args.tasks_dir is not None:
        if args.suite not in ("mock", "desktop"):
            raise ConfigError(f"--tasks-dir is for the mock and desktop suites (task files); the {args.suite} "
                              f"suite has none")
        options["tasks_dir"] = args.tasks_dir
    if args.vnc_endpoints is not None and args.env != "vnc":
        raise ConfigError("--vnc-endpoints goes with --env vnc")
    if args.env is not None or args.vnc_endpoints is not None:
        if args.suite != "desktop":
            raise ConfigError(f"--env and --vnc-endpoints apply to --suite desktop (the {args.suite} suite has "
                              f"its own environment)")
        options["env"] = args.env
        if args.env == "vnc":
            if not args.vnc_endpoints:
                raise ConfigError("--env vnc needs --vnc-endpoints HOST:PORT,HOST:PORT (or @FILE): one per worker")
            options["endpoints"] = args.vnc_endpoints
    return options


def selection(args: argparse.Namespace) -> dict[str, str]:
    """The ``--app`` / ``--difficulty`` filters that were given, as the ``where`` mapping of ``evaluate``."""
    return {k: v for k, v in {"app": args.app, "difficulty": args.difficulty}.items() if v}


def eval_model(args: argparse.Namespace) -> Any:
    """The picklable model description that every eval worker loads its own model from.

    Raises:
        ConfigError: no ``--model`` was given.
    """
    from guiagent.agent.evaluation import EvalModel
    from guiagent.cli.model_args import backend_options_from_args, overrides_from_args

    if not args.model:
        raise ConfigError("no model given: pass --model SPEC (scripted, openai:URL, hf:PATH, replay:RUN)")
    return EvalModel(args.model, family=args.family, model_name=args.model_name, config=args.config,
                     overrides=overrides_from_args(args), options=backend_options_from_args(args))


def main(args: argparse.Namespace) -> int:
    """Run ``guiagent eval``: evaluate the model on the selected tasks and print the summary (or JSON).

    Returns:
        0 when the evaluation completed, 1 when it stopped early (rerunning resumes it), 2 for bad
        configuration, 130 on Ctrl-C.
    """
    from guiagent.agent.evaluation import evaluate, get_suite

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    progress = None
    try:
        suite = get_suite(args.suite, **suite_options(args))
        model = eval_model(args)
        from guiagent.cli.model_args import check_mode

        check_mode(args)
        resources = {"num_cpus": args.ray_cpus, **({"num_gpus": args.ray_gpus} if args.ray_gpus else {})}
        progress = RichEvalProgress(err, disable=args.quiet)
        summary = evaluate(args.out, suite=suite, model=model, tasks=args.tasks, where=selection(args),
                           repeats=args.repeats, seed=args.seed, max_steps=args.max_steps, mode=args.mode,
                           workers=args.workers, episode_timeout_s=args.episode_timeout, ray=args.ray,
                           ray_resources=resources if args.ray else None, force=args.force, progress=progress)
    except ConfigError as e:
        _stop(progress)
        err.print(f"[red]error:[/] {escape(str(e))}")
        return 2
    except GuiAgentError as e:
        _stop(progress)
        err.print(f"[red]evaluation stopped:[/] {escape(str(e))}\n[dim]the episodes that finished are in "
                  f"{escape(str(args.out))}; run the same command again to resume[/]")
        return 1
    except KeyboardInterrupt:
        _stop(progress)
        err.print(f"[red]interrupted[/]: the finished episodes are in {escape(str(args.out))}; run the same "
                  f"command again to resume")
        return 130
    _stop(progress)
    if args.json:
        json.dump(summary.to_json(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print_summary(Console(highlight=False, soft_wrap=True), summary)
    return 0


def _stop(progress: RichEvalProgress | None) -> None:
    if progress is not None:
        progress.stop()


class RichEvalProgress:
    """A rich progress bar: episodes done of the selection, with the running success rate."""

    def __init__(self, console: Console, disable: bool = False):
        self.bar = Progress(TextColumn("[bold]eval[/]"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("eta"),
                            TimeRemainingColumn(), console=console, disable=disable, transient=False)
        self.done = self.ok = 0
        self.task = None

    def start(self, total: int, done: Sequence[Any]) -> None:
        """Show the bar; episodes already done (when resuming) count as progress and in the success rate.

        Args:
            total: episodes in the whole selection.
            done: results of the episodes already finished.
        """
        self.done, self.ok = len(done), sum(r.success for r in done)
        self.task = self.bar.add_task("eval", total=total, completed=self.done, rate=self._rate())
        self.bar.start()

    def episode_done(self, result: Any) -> None:
        """Advance the bar by one episode and update the running success rate."""
        self.done += 1
        self.ok += int(result.success)
        self.bar.update(self.task, advance=1, rate=self._rate())

    def _rate(self) -> str:
        if not self.done:
            return "success -"
        return f"success {self.ok}/{self.done} ({self.ok / self.done:.0%})"

    def stop(self) -> None:
        """Stop drawing the bar (the last state stays on screen)."""
        if self.task is not None:  # a bar never started would still print an empty line above the error
            self.bar.stop()


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _ci(ci: Sequence[float] | None) -> str:
    return "-" if not ci else f"{ci[0] * 100:.1f}-{ci[1] * 100:.1f}%"


def _num(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:.1f}{unit}"


def print_summary(console: Console, summary: Any) -> None:
    """The success table (overall, then each group), and the failures by kind."""
    table = Table(title=f"{summary.suite} suite, model {summary.model} ({summary.family})", title_justify="left")
    for name, justify in (("group", "left"), ("episodes", "right"), ("ok", "right"), ("rate", "right"),
                          ("95% CI", "right"), ("steps", "right"), ("time", "right")):
        table.add_column(name, justify=justify, no_wrap=True)

    def row(label: str, s: Any, style: str = "") -> None:
        table.add_row(label, str(s.episodes), str(s.successes), _pct(s.success_rate), _ci(s.ci95),
                      _num(s.mean_steps), _num(s.mean_time_s, " s"), style=style)

    for group, rows in summary.groups.items():
        for label, stats in rows.items():
            row(f"{group}: {escape(label)}", stats)
        table.add_section()
    row("all", summary.overall, "bold")
    console.print(table)
    if summary.failures:
        failures = Table(title="failures", title_justify="left")
        failures.add_column("kind", no_wrap=True)
        failures.add_column("episodes", justify="right")
        failures.add_column("tasks")
        failures.add_column("most common reason")
        for f in summary.failures:
            tasks = ", ".join(f.tasks[:6]) + (f" (+{len(f.tasks) - 6})" if len(f.tasks) > 6 else "")
            reason, count = f.reasons[0] if f.reasons else ("", 0)
            failures.add_row(f.kind, str(f.count), escape(tasks), escape(f"{reason[:160]} (x{count})"))
        console.print(failures)
    if not summary.complete:
        console.print(f"[yellow]{summary.pending} selected episodes have no result yet: run the same command "
                      f"again to finish[/]")
    console.print(f"[dim]95% CI: Wilson score interval; steps, time: means per episode. Results: "
                  f"{escape(str(summary.results_dir))}[/]")
