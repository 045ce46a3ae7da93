"""``guiagent eval-grounding``: click accuracy (and box AP/mAP) of a model on ScreenSpot-format data.

    guiagent eval-grounding data/ScreenSpot-v2 --model openai:http://gpu:8000/v1 --family ui-tars-1.5 \\
        --workers 8 -o results/ss2
    guiagent make-grounding --suite mock -o data/mock-grounding
    guiagent eval-grounding data/mock-grounding --model scripted -o results/mock-grounding
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from guiagent.cli import summary
from guiagent.cli.argtypes import positive_int
from guiagent.errors import ConfigError, GuiAgentError

EPILOG = """\
DATA: a ScreenSpot / ScreenSpot-v2 annotation file (bbox as x, y, w, h) or folder of them, or a ScreenSpot-Pro
folder (annotations/*.json, bbox as x1, y1, x2, y2, with img_size); images are found next to the annotations
(images/, screenspot_imgs/) unless --images names the folder.
Each sample is asked with the family's grounding prompt and answered in its grammar. click accuracy: the predicted
point (a box's centre) inside the target box. For answers that are boxes: AP at IoU 0.5 and mAP over IoU
0.5:0.95 (all-point interpolated precision-recall, ranked by the model's confidence where given, else by order).
files in OUT: grounding.json, predictions.jsonl (one line per sample), summary.json. The same command again
resumes. exit status: 0 done, 1 the run could not go on, 2 usage error, 130 interrupted (resumable)
"""


def register(subparsers: Any) -> None:
    """Add the ``eval-grounding`` sub-command to ``subparsers`` (the parser of the ``guiagent`` command)."""
    from guiagent.cli.model_args import add_model_arguments

    p = subparsers.add_parser(
        "eval-grounding", help=summary("eval_grounding"),
        description="Ask a model to locate the element each instruction names, on ScreenSpot / ScreenSpot-v2 / "
                    "ScreenSpot-Pro annotations, and score the answers.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", metavar="DATA", help="annotation file or folder")
    p.add_argument("--images", metavar="DIR", help="the image folder (default: next to the annotations)")
    add_model_arguments(p)
    g = p.add_argument_group("run")
    g.add_argument("--workers", type=positive_int, default=4, metavar="N", help="requests at once (default 4)")
    g.add_argument("--limit", type=positive_int, metavar="N", help="only the first N samples")
    g.add_argument("-o", "--out", required=True, metavar="OUT", help="results folder (created if needed)")
    g.add_argument("--force", action="store_true", help="start over in a folder that holds other results")
    g.add_argument("--json", action="store_true", help="print summary.json instead of the tables")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run ``guiagent eval-grounding`` with parsed arguments: ask the model about every sample, write the results.

    Returns:
        The exit status: 0 done, 1 the run could not go on (the model failed), 2 bad input (one line on stderr),
        130 interrupted (the folder resumes with the same command).
    """
    from guiagent.agent.grounding.evaluate import evaluate_grounding, load_grounding_model
    from guiagent.cli.model_args import backend_options_from_args, overrides_from_args

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    bar = Progress(TextColumn("[bold]grounding[/]"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[acc]}"), TimeElapsedColumn(), TimeRemainingColumn(), console=err,
                   disable=args.quiet)
    state = {"task": None, "hits": 0, "seen": 0}

    def stop_bar() -> None:
        if state["task"] is not None:  # a bar never started would still print an empty line above an error
            bar.stop()

    def progress(done: int, total: int, record: dict[str, Any] | None) -> None:
        if state["task"] is None:
            state["task"] = bar.add_task("g", total=total, completed=done, acc="")
            bar.start()
        if record is not None:
            state["seen"] += 1
            state["hits"] += bool(record.get("hit"))
        acc = f"acc {state['hits'] / state['seen']:.1%}" if state["seen"] else ""
        bar.update(state["task"], completed=done, acc=acc)

    try:
        if not args.model:
            raise ConfigError("no model given: pass --model SPEC (openai:URL, hf:PATH, scripted)")
        overrides = overrides_from_args(args)
        options = backend_options_from_args(args)

        def load():
            return load_grounding_model(args.model, family=args.family, model_name=args.model_name,
                                        config=args.config, overrides=overrides or None, **options)

        summary = evaluate_grounding(args.data, args.out, load, images=args.images, workers=args.workers,
                                     limit=args.limit, force=args.force, progress=progress)
    except ConfigError as e:
        stop_bar()
        err.print(f"[red]error:[/] {escape(str(e))}")
        return 2
    except GuiAgentError as e:
        stop_bar()
        err.print(f"[red]grounding evaluation stopped:[/] {escape(str(e))}")
        return 1
    except KeyboardInterrupt:
        stop_bar()
        err.print(f"[red]interrupted[/]: the answers so far are in {escape(str(args.out))}; run the same command "
                  f"again to resume")
        return 130
    stop_bar()
    if args.json:
        json.dump(summary, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print_summary(Console(highlight=False, soft_wrap=True), summary)
    return 0


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1%}"


def print_summary(console: Console, s: dict[str, Any]) -> None:
    """Click accuracy by split x type, type, split and source; then the box metrics."""
    table = Table(title=f"grounding, model {s['model'].get('spec')} ({s['family']})", title_justify="left")
    for name, justify in (("group", "left"), ("samples", "right"), ("hits", "right"), ("click acc", "right")):
        table.add_column(name, justify=justify, no_wrap=True)
    for key, label in (("by_split_type", "split/type"), ("by_type", "type"), ("by_split", "split"),
                       ("by_source", "source")):
        for name, c in s[key].items():
            table.add_row(f"{label}: {escape(name)}", str(c["samples"]), str(c["hits"]), _pct(c["accuracy"]))
        table.add_section()
    table.add_row("all", str(s["samples"]), str(s["hits"]), _pct(s["click_accuracy"]), style="bold")
    console.print(table)
    if s.get("box_predictions"):
        console.print(f"boxes: {s['box_predictions']} of {s['samples']} answers; AP@0.5 {s['ap50']:.3f}, "
                      f"mAP@0.5:0.95 {s['map']:.3f}")
    if s.get("unparsed") or s.get("model_errors") or s.get("image_errors"):
        console.print(f"[yellow]{s['unparsed']} answers without a usable point, {s['model_errors']} model errors, "
                      f"{s.get('image_errors', 0)} images that could not be read (each a miss; see "
                      f"predictions.jsonl)[/]")
    if not s.get("complete", True):
        console.print("[yellow]not every sample has an answer: run the same command again to finish[/]")
