"""`guiagent parse` reads a bounded amount: input longer than any model response is refused without reading it all
(`guiagent parse < /dev/zero` used to end in a MemoryError traceback); an over-long --jsonl line is one error line
and the lines after it are still answered."""

from __future__ import annotations

import io
import json

from guiagent.actions.families.literals import MAX_TEXT
from guiagent.cli import build_parser
from guiagent.cli.parse import LINE_LIMIT, run


class CountingReader(io.StringIO):
    """A stdin that says how many characters were asked for in one read."""

    largest = 0

    def read(self, size: int | None = -1) -> str:
        self.largest = max(self.largest, size if size is not None and size >= 0 else 10**18)
        return super().read(size)

    def readline(self, size: int | None = -1) -> str:
        self.largest = max(self.largest, size if size is not None and size >= 0 else 10**18)
        return super().readline(size)


def args_for(*extra: str):
    return build_parser().parse_args(["parse", "--family", "ui-tars-1.5", "--size", "1920x1080", *extra])


def test_stdin_longer_than_a_response_is_refused_with_a_bounded_read() -> None:
    stdin, out, err = CountingReader("\0" * (MAX_TEXT * 3)), io.StringIO(), io.StringIO()
    assert run(args_for(), stdin=stdin, stdout=out, stderr=err) == 1
    assert "longer than" in err.getvalue() and out.getvalue() == ""
    assert stdin.largest <= MAX_TEXT + 1


def test_stdin_within_the_limit_still_parses() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert run(args_for(), stdin=CountingReader("Action: wait()"), stdout=out, stderr=err) == 0
    assert json.loads(out.getvalue()) == {"actions": [{"type": "wait", "seconds": None}]}


def test_an_over_long_jsonl_line_is_one_error_and_the_next_lines_are_answered() -> None:
    good = json.dumps({"text": "Action: wait()"})
    stdin = CountingReader(f"{good}\n{'x' * (LINE_LIMIT * 2 + 5)}\n{good}\n")
    out = io.StringIO()
    assert run(args_for("--jsonl"), stdin=stdin, stdout=out, stderr=io.StringIO()) == 1
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [("error" in a) for a in answers] == [False, True, False]
    assert answers[1]["error"].startswith("line 2: longer than")
    assert stdin.largest <= LINE_LIMIT + 1


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path) -> None:
    """`guiagent parse --jsonl < big | head -1`: no BrokenPipeError traceback, the shell's SIGPIPE status."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    lines = tmp_path / "in.jsonl"
    lines.write_text((json.dumps({"text": "Action: wait()"}) + "\n") * 20_000)   # ~1 MB of answers
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    with lines.open("rb") as stdin:
        proc = subprocess.Popen([sys.executable, "-m", "guiagent", "parse", "--jsonl", "--family", "ui-tars-1.5",
                                 "--size", "1920x1080"], stdin=stdin, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env)
        assert proc.stdout.readline().startswith(b'{"actions"')
        proc.stdout.close()                            # what `head -1` does
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=60) == 141
    assert "Traceback" not in err and "BrokenPipe" not in err
