"""``guiagent parse``: model text -> typed actions as JSON, in pixels of a given screen.

    guiagent parse --family ui-tars-1.5 --size 1920x1080 "Thought: ...
    Action: click(start_box='(100,200)')"
    {"actions": [{"type": "click", "x": 99.379, "y": 197.802}]}

Exit codes: 0 every input parsed, 1 some input did not parse, 2 usage error (bad --size, unknown family, ...).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any, TextIO

from guiagent._jsonio import loads
from guiagent.actions.families.literals import MAX_TEXT
from guiagent.actions.jsonform import action_to_json
from guiagent.cli import summary
from guiagent.errors import ConfigError, GuiAgentError
from guiagent.models.profiles import PROFILES, Profile, get_profile

_SIZE = re.compile(r"\s*([0-9]{1,6})\s*[xX×*]\s*([0-9]{1,6})\s*")

EPILOG = """\
examples:
  guiagent parse --family ui-tars-1.5 --size 1920x1080 "Thought: open the menu
  Action: click(start_box='<|box_start|>(100,200)<|box_end|>')"

  echo "pyautogui.click(x=0.5, y=0.25)" | guiagent parse --family kimi-vl --size 2560x1440

  printf '%s\\n' '{"text": "Action: wait()"}' '{"text": "nonsense"}' \\
      | guiagent parse --family ui-tars-1.0 --size 1280x800 --jsonl

output: {"actions": [...]} with coordinates in pixels of the given screen, rounded to 3 decimals;
with --jsonl one line per input line, {"actions": [...]} or {"error": "..."}.
exit status: 0 all inputs parsed, 1 at least one did not, 2 usage error.
"""


def screen_size(text: str) -> tuple[int, int]:
    """argparse type for --size: 'WxH' with positive integers."""
    m = _SIZE.fullmatch(text)
    if not m or int(m.group(1)) <= 0 or int(m.group(2)) <= 0:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT in pixels, such as 1920x1080, got {text!r}")
    return int(m.group(1)), int(m.group(2))


def family(name: str) -> Profile:
    """argparse type for --family: a profile name."""
    try:
        return get_profile(name)
    except ConfigError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def register(subparsers: Any) -> None:
    """Add the ``parse`` sub-command (model text to actions in screen pixels) to the ``guiagent`` parser.

    Args:
        subparsers: the object ``ArgumentParser.add_subparsers`` returned.
    """
    p = subparsers.add_parser(
        "parse",
        help=summary("parse"),
        description="Parse one model response (or JSON lines of them) with the family's grammar and print the "
                    "actions as JSON, with coordinates mapped from the model's image space to pixels of the "
                    "given screen (e.g. through smart_resize for ui-tars-1.5). Nothing in the text is executed.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--family", required=True, type=family, metavar="FAMILY",
                   help=f"model family: {', '.join(PROFILES)}")
    p.add_argument("--size", "--screen", dest="screen", required=True, type=screen_size, metavar="WxH",
                   help="size of the screenshot the model saw, in pixels, e.g. 1920x1080 (--size, as in the other "
                        "commands; --screen is the old name)")
    p.add_argument("--jsonl", action="store_true",
                   help='read JSON lines {"text": ...} from stdin, write one JSON line per input')
    p.add_argument("text", nargs="?", metavar="TEXT",
                   help="the model's response; read from stdin when omitted")
    p.set_defaults(func=run)


def parse_to_json(profile: Profile, screen: tuple[int, int], text: str) -> list[dict[str, Any]]:
    """Parse ``text`` and return the actions' JSON form in pixels of a ``screen``-sized screenshot.

    Raises:
        ParseError: text off the family's grammar; ActionError: an action with invalid fields.
    """
    return list(map(action_to_json, profile.read(text, screen).actions))


def run(args: argparse.Namespace, stdin: TextIO | None = None, stdout: TextIO | None = None,
        stderr: TextIO | None = None) -> int:
    """Run ``guiagent parse``: parse one response (or JSON lines of them) and print the actions as JSON.

    Args:
        args: the parsed command line.
        stdin: where to read the text when it is not an argument (default ``sys.stdin``).
        stdout: where the JSON goes (default ``sys.stdout``).
        stderr: where errors go (default ``sys.stderr``).

    Returns:
        0 when the text parsed (with --jsonl: every line), 1 when it did not (the error names what was wrong), 2
        for bad arguments such as a screen size the family's image budget cannot handle.
    """
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    try:
        args.family.frame(args.screen)
    except ValueError as e:  # e.g. an aspect ratio the family's image budget cannot handle
        print(f"guiagent parse: error: --screen {args.screen[0]}x{args.screen[1]}: {e}", file=stderr)
        return 2
    if args.jsonl:
        if args.text is not None:
            print("guiagent parse: error: give TEXT or --jsonl (which reads stdin), not both", file=stderr)
            return 2
        return _run_jsonl(args.family, args.screen, stdin, stdout)
    text = args.text
    if text is None:
        if stdin.isatty():
            print("guiagent parse: error: give the model's TEXT as an argument or pipe it on stdin", file=stderr)
            return 2
        text = stdin.read(MAX_TEXT + 1)  # bounded: `guiagent parse < /dev/zero` must not eat all memory
        if len(text) > MAX_TEXT:
            print(f"guiagent parse: ParseError: the input is longer than the {MAX_TEXT}-character limit of a "
                  f"model response", file=stderr)
            return 1
    try:
        actions = parse_to_json(args.family, args.screen, text)
    except GuiAgentError as e:
        print(f"guiagent parse: {type(e).__name__}: {e}", file=stderr)
        return 1
    stdout.write(json.dumps({"actions": actions}, ensure_ascii=False) + "\n")
    return 0


#: Longest JSON line read whole: the longest response with every character escaped (\uXXXX), and some room.
LINE_LIMIT = 6 * MAX_TEXT + 1024


def _bounded_lines(stdin: TextIO):
    """(number, line) for each input line; line is None for a line over LINE_LIMIT (skipped a chunk at a time,
    so an endless line costs no memory)."""
    number = 0
    while line := stdin.readline(LINE_LIMIT + 1):
        number += 1
        if len(line) > LINE_LIMIT and not line.endswith("\n"):
            while (rest := stdin.readline(LINE_LIMIT)) and not rest.endswith("\n"):
                pass
            yield number, None
        else:
            yield number, line


def _run_jsonl(profile: Profile, screen: tuple[int, int], stdin: TextIO, stdout: TextIO) -> int:
    status = 0
    for number, line in _bounded_lines(stdin):
        if line is None:
            status = 1
            stdout.write(json.dumps({"error": f"line {number}: longer than {LINE_LIMIT} characters"}) + "\n")
            stdout.flush()
            continue
        if not line.strip():
            continue
        try:
            record = loads(line)
        except ValueError as e:  # malformed, or nested too deeply
            out: dict[str, Any] = {"error": f"line {number}: not JSON ({str(e).removeprefix('not valid JSON: ')})"}
        else:
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                out = {"error": f'line {number}: expected an object {{"text": "..."}}'}
            else:
                try:
                    out = {"actions": parse_to_json(profile, screen, record["text"])}
                except GuiAgentError as e:
                    out = {"error": str(e)}
        if "error" in out:
            status = 1
        stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        stdout.flush()
    return status
