"""Long inputs shaped to make a naive parser take super-linear time, shared by tests/test_grammar_linear.py and
benchmarks/parse_scaling.py.

Each shape is a function of a size ``n`` returning model text of about ``n`` characters. They were collected
from the slow cases found so far (a box string full of blanks took cubic time in a regex; a closing code fence
after a blank run, unclosed ``<gui_think>`` tags and many keyword arguments took quadratic time) and from the
constructs every scanner has: repeated openers with no closer, long runs of one character class next to
another, deep nesting, many separators.
"""

from __future__ import annotations

from typing import Callable


def _rep(piece: str, n: int) -> str:
    return piece * max(1, n // len(piece))


SHAPES: dict[str, Callable[[int], str]] = {
    "box: digit then blanks": lambda n: "Action: click(start_box='1" + " " * n + "x')",
    "box: blanks": lambda n: "Action: click(start_box='" + " " * n + "x')",
    "box: blanks inside parens": lambda n: "Action: click(start_box='(1" + " " * n + "2)')",
    "box: comma blanks": lambda n: "Action: click(start_box='(1" + _rep(" ,", n) + "x)')",
    "box: long digits": lambda n: "Action: click(start_box='(" + "1" * n + ",1)')",
    "box: box tokens": lambda n: "Action: click(start_box='" + _rep("<|box_start|>", n) + "(1,2)')",
    "fence: blanks before the end": lambda n: "```\nAction: click(start_box='(1,2)')\n" + " " * n + "x",
    "fence: many fences": lambda n: _rep("```\n", n) + "Action: wait()",
    "gui_think: unclosed openers": lambda n: _rep("<gui_think>", n) + "Action: wait()",
    "gui_think: closers only": lambda n: _rep("</gui_think>", n) + "Action: wait()",
    "tool_call: openers": lambda n: _rep("<seed:tool_call>", n),
    "tool_call: functions": lambda n: "<seed:tool_call>" + _rep("<function=click>", n),
    "tool_call: parameters": lambda n: "<seed:tool_call><function=click>" + _rep("<parameter=point>", n),
    "headers: Thought lines": lambda n: _rep("Thought:\n", n) + "Action: wait()",
    "headers: Action labels": lambda n: "Action: " + _rep("Action: ", n) + "wait()",
    "headers: blanks after Action": lambda n: "Action:" + " " * n + "wait()",
    "thought then action on one line": lambda n: "Thought: " + "a" * n + " Action: wait()",
    "calls: many keyword arguments": lambda n: "Action: click(" + "".join(f"k{i}=1, " for i in range(n // 8)) + ")",
    "calls: many waits": lambda n: "Action: " + _rep("wait()\n", n),
    "calls: nested lists": lambda n: "Action: click(start_box=" + _rep("[", n) + ")",
    "calls: open parens": lambda n: "Action: " + _rep("click(", n),
    "strings: quote blank runs": lambda n: "Action: type(content='" + _rep("' ", n) + "')",
    "strings: backslashes": lambda n: "Action: type(content='" + "\\" * n + "')",
    "strings: triple quotes": lambda n: "Action: type(content='''" + _rep("\\'''", n),
    "strings: unterminated quotes": lambda n: "Action: " + _rep("type(content='", n),
    "numbers: long float": lambda n: "pyautogui.click(x=0." + "1" * n + ", y=1)",
    "numbers: signs": lambda n: "pyautogui.scroll(" + "-" * n + "1)",
    "special tokens after the action": lambda n: "Action: wait()" + _rep("<|im_end|>", n),
    "special tokens interleaved": lambda n: "Action: wait()" + _rep("<|im_end|>\n", n),
    "pycode: fences": lambda n: _rep("```", n),
    "pycode: fence languages": lambda n: "```" + "a" * (n // 2) + " " * (n // 2),
    "pycode: Code headers": lambda n: _rep("## Code:\n", n),
    "pycode: think markers": lambda n: _rep("◁think▷", n) + "pyautogui.click(x=0.1, y=0.2)",
    "pycode: comment lines": lambda n: "pyautogui.click(x=0.1, y=0.2)\n" + _rep("#\n", n),
    "pycode: import lines": lambda n: _rep("import pyautogui, time\n", n) + "pyautogui.click(x=0.1, y=0.2)",
    "pycode: hotkey keys": lambda n: "pyautogui.hotkey(" + _rep("'a', ", n) + ")",
    "omni: unclosed think": lambda n: _rep("<think>", n) + "<computer_env>Action: wait()</computer_env>",
    "omni: unclosed computer_env": lambda n: "<think>x</think>" + _rep("<computer_env>", n),
    "omni: unclosed answer": lambda n: _rep("<answer>", n),
    "O1: unclosed Thought": lambda n: _rep("<Thought>", n) + "Action: wait()",
    "O1: Output closers": lambda n: "Action: wait()" + _rep("</Output>", n),
}


def best_time(fn: Callable[[], object], repeats: int = 3) -> float:
    """The shortest of ``repeats`` timings of ``fn()`` (the machine is shared: the minimum is the least noisy)."""
    import gc
    import time

    best = float("inf")
    enabled = gc.isenabled()
    gc.disable()  # a collection landing in one run would be noise, not the parser's cost
    try:
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
    finally:
        if enabled:
            gc.enable()
    return best


def growth(parse: Callable[[str], object], shape: Callable[[int], str], n: int) -> tuple[float, float]:
    """Seconds to parse the shape at size ``n`` and at size ``4 n`` (errors count as parses: they are results).

    A linear parser takes about 4 times as long on the larger input; a quadratic one 16 times.
    """
    def run(text: str) -> Callable[[], None]:
        def once() -> None:
            try:
                parse(text)
            except Exception as e:  # noqa: BLE001 - the caller checks the exception type separately
                if type(e).__name__ != "ParseError":
                    raise
        return once

    small, large = shape(n), shape(4 * n)
    return best_time(run(small)), best_time(run(large))
