"""``guiagent screenshot``: write the mock desktop's screen as a PNG (a task's first screen, or the empty desktop).

    guiagent screenshot --task rename-file -o rename.png
    guiagent screenshot --task mail-reply -o mail.png --size 1920x1080 --scale 2
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from guiagent.cli import summary
from guiagent.errors import ConfigError, EnvError


#: file name suffix -> Pillow format of the written screenshot
_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0.25 <= value <= 4:
        raise argparse.ArgumentTypeError(f"scale must be a number from 0.25 to 4, got {text!r}")
    return value


def register(subparsers: Any) -> None:
    """Add the ``screenshot`` sub-command (a mock task's first screen as a PNG) to the ``guiagent`` parser.

    Args:
        subparsers: the object ``ArgumentParser.add_subparsers`` returned.
    """
    from guiagent.cli.parse import screen_size

    p = subparsers.add_parser(
        "screenshot", help=summary("screenshot"),
        description="Render the mock desktop as a task starts (or the empty desktop without --task) and write it "
                    "as a PNG. The image is size x scale pixels.")
    p.add_argument("--task", metavar="ID", help="mock task whose initial screen to render (`guiagent tasks` lists them)")
    p.add_argument("--tasks-dir", metavar="DIR", help="take --task from the task files in DIR instead of the "
                                                       "built-in suite")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write the image (.png, or .jpg / .jpeg for JPEG)")
    p.add_argument("--size", type=screen_size, default=(1280, 800), metavar="WxH",
                   help="desktop size in points (default 1280x800)")
    p.add_argument("--scale", type=_scale, default=1.0, help="HiDPI scale (default 1; 2 doubles the pixels)")
    p.add_argument("--seed", type=int, default=0, help="desktop seed (default 0)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run ``guiagent screenshot``: render the mock desktop as the task starts and write it as a PNG.

    Returns:
        0, or 2 for an unknown task, a bad size or an unwritable output path.
    """
    from guiagent.agent.factory import get_mock_task
    from guiagent.envs.mock import MockDesktop

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    out = Path(args.output).expanduser()
    image_format = _FORMATS.get(out.suffix.lower())
    if image_format is None:
        err.print(f"[red]error:[/] -o {escape(args.output)}: the file name must end in .png, .jpg or .jpeg (the "
                  f"format is taken from it)")
        return 2
    try:
        if args.tasks_dir and not args.task:
            raise ConfigError("--tasks-dir needs --task ID (the task whose first screen to render)")
        task = get_mock_task(args.task, args.tasks_dir) if args.task else None
        width, height = args.size
        desk = MockDesktop(width, height, args.scale, seed=args.seed, task=task)
    except (ConfigError, EnvError) as e:
        err.print(f"[red]error:[/] {escape(str(e))}")
        return 2
    shot = desk.observe().screenshot
    desk.close()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        shot.convert("RGB").save(out, format=image_format)
    except OSError as e:
        err.print(f"[red]error:[/] cannot write {escape(str(out))}: {escape(str(e))}")
        return 2
    what = f"task {args.task}" if args.task else "the empty desktop"
    err.print(f"wrote {escape(str(out))} ({shot.size[0]}x{shot.size[1]} pixels, {what})")
    return 0
