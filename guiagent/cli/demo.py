"""``guiagent demo``: a mock desktop task solved end to end by the scripted model, recorded and rendered.

No model download, no network, no real desktop: it shows the whole pipeline (prompt, the family's text format,
parsing, coordinate mapping, execution, recording, the HTML report) in a few seconds.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.markup import escape

from guiagent.agent.config import AgentConfig
from guiagent.agent.factory import make_env, task_evaluator
from guiagent.agent.loop import Agent
from guiagent.agent.progress import RichProgress
from guiagent.cli import summary
from guiagent.errors import ConfigError, TrajectoryError

DEFAULT_FAMILY = "ui-tars-1.5"
#: A multi-app task (copy a note into an email and send it): it shows clicks, selection, the clipboard and typing.
DEMO_TASK = "note-to-email"


def register(subparsers: Any) -> None:
    """Add the ``demo`` sub-command (a mock task solved by the scripted model) to the ``guiagent`` parser.

    Args:
        subparsers: the object ``ArgumentParser.add_subparsers`` returned.
    """
    p = subparsers.add_parser(
        "demo", help=summary("demo"),
        description="Run one mock desktop task end to end with the built-in scripted model (it writes real model "
                    "text in the chosen family's format), record the run and write its HTML report.")
    p.add_argument("--task", metavar="ID", help=f"mock task (default {DEMO_TASK}; `guiagent tasks` lists them)")
    p.add_argument("--family", default=DEFAULT_FAMILY, metavar="F",
                   help=f"format the scripted model writes (default {DEFAULT_FAMILY})")
    p.add_argument("--out", default="runs", metavar="DIR", help="parent folder of the run folder (default ./runs)")
    p.add_argument("--quiet", action="store_true", help="only print the paths")
    p.set_defaults(func=main)



def main(args: argparse.Namespace) -> int:
    """Run ``guiagent demo``: solve one mock task with the scripted model, record the run and write its HTML report.

    Returns:
        0 when the task was solved, 1 when the run ended otherwise, 2 for an unknown task or family.
    """
    from guiagent.agent.viewer import write_report
    from guiagent.agent.spec import load_model

    console = Console(stderr=True, highlight=False, quiet=args.quiet, soft_wrap=True)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)  # --quiet hides progress, never an error
    task_id = args.task or DEMO_TASK
    env = None
    try:
        from guiagent.cli.argtypes import check_out_folder

        check_out_folder(args.out)
        env = make_env("mock", task=task_id)
        loaded = load_model("scripted", family=args.family, env=env)
    except (ConfigError, ImportError) as e:
        if env is not None:
            env.close()
        errors.print(f"[red]error:[/] {escape(str(e))}")
        return 2
    task = env.task
    try:
        console.print(f"[bold]demo:[/] {escape(task.instruction)} [dim](task {task_id}, scripted "
                      f"{loaded.profile.name} model, mock desktop)[/]")
        config = AgentConfig(max_steps=getattr(task, "max_steps", None) or 30, wait_s=0.0)
        agent = Agent(env, loaded.model, loaded.profile, config, [RichProgress(console, config.max_steps)])
        result = agent.run(task.instruction, task_id=task_id, out_dir=args.out,
                           meta={"env_options": {"seed": 0, "task": task_id}, "model_spec": "scripted"},
                           evaluate=task_evaluator(env))
    except TrajectoryError as e:
        errors.print(f"[red]could not record the run:[/] {escape(str(e))} (--out DIR)")
        return 1
    finally:
        env.close()
    report = write_report(result.run_dir)
    style = "green" if result.success else "red"
    console.print(f"[bold {style}]{result.outcome}[/] in {len(result.steps)} steps; task check "
                  f"{'passed' if result.success else 'failed'}")
    print(f"run folder: {result.run_dir}")
    print(f"report:     {report}")
    return 0 if result.success else 1
