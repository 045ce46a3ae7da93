"""`guiagent parse` end to end, as a user runs it: a real subprocess, exit codes, stdout JSON."""

import json
import subprocess
import sys

import pytest

UI_TARS = "Thought: open the file menu\nAction: click(start_box='<|box_start|>(100,200)<|box_end|>')"


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "guiagent", "parse", *args], input=stdin, capture_output=True,
                          text=True, encoding="utf-8", timeout=60)


def test_text_argument_prints_actions_in_screen_pixels():
    r = run("--family", "ui-tars-1.5", "--screen", "1920x1080", UI_TARS)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"actions": [{"type": "click", "x": 99.379, "y": 197.802}]}


def test_text_from_stdin_and_unicode_output():
    text = "## Code:\n```python\npyautogui.click(x=0.5, y=0.25)\npyautogui.write('你好\\n')\n```"
    r = run("--family", "kimi-vl", "--screen", "2560x1440", stdin=text)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"actions": [{"type": "click", "x": 1280.0, "y": 360.0},
                                                {"type": "type", "text": "你好", "submit": True}]}


def test_parse_failure_exits_1_and_quotes_the_fragment():
    r = run("--family", "ui-tars-1.0", "--screen", "1280x800", "Thought: x\nAction: explode(start_box='(1,2)')")
    assert r.returncode == 1
    assert r.stdout == ""
    assert "ParseError" in r.stderr and "explode(start_box='(1,2)')" in r.stderr


def test_jsonl_mode_answers_every_line_and_exits_1_when_any_fails():
    lines = [json.dumps({"text": "Action: click(start_box='(500,500)')"}), "",
             json.dumps({"text": "nonsense"}), "not json", json.dumps({"no_text": 1}),
             json.dumps({"text": "Action: finished(content='好')"})]
    r = run("--family", "ui-tars-1.0", "--screen", "1000x600", "--jsonl", stdin="\n".join(lines) + "\n")
    assert r.returncode == 1
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(out) == 5  # the blank line is skipped
    assert out[0] == {"actions": [{"type": "click", "x": 500.0, "y": 300.0}]}
    assert set(out[1]) == {"error"} and "nonsense" in out[1]["error"]
    assert out[2]["error"].startswith("line 4: not JSON")
    assert out[3]["error"].startswith("line 5: expected an object")
    assert out[4] == {"actions": [{"type": "finished", "content": "好"}]}


def test_jsonl_mode_exits_0_when_all_parse():
    lines = [json.dumps({"text": t}) for t in ["<seed:tool_call>\n<function=wait>\n</function>\n</seed:tool_call>",
                                                 "Action: scroll(point='<point>100 900</point>', direction='up')"]]
    r = run("--family", "ui-tars-2", "--screen", "1920x1080", "--jsonl", stdin="\n".join(lines))
    assert r.returncode == 0, r.stderr
    assert [json.loads(line) for line in r.stdout.splitlines()] == [
        {"actions": [{"type": "wait", "seconds": None}]},
        {"actions": [{"type": "scroll", "x": 192.0, "y": 972.0, "direction": "up"}]}]


@pytest.mark.parametrize("args,message", [
    (["--family", "ui-tars-1.5", "--screen", "1920", "x"], "WIDTHxHEIGHT"),
    (["--family", "ui-tars-1.5", "--screen", "0x1080", "x"], "WIDTHxHEIGHT"),
    (["--family", "ui-tars-9", "--screen", "1920x1080", "x"], "ui-tars-1.5"),
    (["--family", "ui-tars-1.5", "--screen", "30000x100", "x"], "aspect ratio"),
    (["--family", "ui-tars-1.5", "--screen", "1920x1080", "--jsonl", "x"], "not both"),
    (["--screen", "1920x1080", "x"], "--family"),
])
def test_usage_errors_exit_2_with_a_clear_message(args, message):
    r = run(*args)
    assert r.returncode == 2
    assert message in r.stderr
    assert r.stdout == ""


def test_help_explains_the_command():
    r = run("--help")
    assert r.returncode == 0
    for words in ("--family", "--screen", "--jsonl", "exit status", "kimi-vl", "opencua"):
        assert words in r.stdout


def test_jsonl_stream_goes_on_after_a_huge_integer():
    lines = [json.dumps({"text": "pyautogui.click(x=" + "9" * 400 + ", y=1)"}),
             json.dumps({"text": "pyautogui.scroll(" + "9" * 309 + ")"}),
             json.dumps({"text": "pyautogui.click(x=0.5, y=0.5)"})]
    r = run("--family", "opencua", "--screen", "1000x600", "--jsonl", stdin="\n".join(lines) + "\n")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(out) == 3
    assert "number out of range" in out[0]["error"] and "number out of range" in out[1]["error"]
    assert out[2] == {"actions": [{"type": "click", "x": 500.0, "y": 300.0}]}
