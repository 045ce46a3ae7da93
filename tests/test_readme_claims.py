"""README.md against the code: the package map names what exists, once; every sub-command is in it; Python code is
fenced (so tests/test_docs.py runs it and readers see it as code); every `guiagent X` command shown exists."""

from __future__ import annotations

import re
from pathlib import Path

from guiagent.cli import COMMANDS, build_parser

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


def package_map_rows() -> list[tuple[str, str]]:
    section = README.split("## Package map", 1)[1].split("\n## ", 1)[0]
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^\| `([^`]+)` \| (.*) \|$", section, re.M)]


def test_package_map_paths_exist_once() -> None:
    paths = [path for path, _ in package_map_rows()]
    assert len(paths) == len(set(paths)), f"a package-map row appears twice: {sorted(paths)}"
    for path in paths:
        assert (REPO / path).exists(), f"README's package map names {path}, which does not exist"


def test_package_map_cli_row_lists_every_sub_command() -> None:
    (what,) = [what for path, what in package_map_rows() if path == "guiagent/cli/"]
    for name in COMMANDS:
        assert (REPO / "guiagent" / "cli" / f"{name}.py").is_file()
        assert f"`{name}`" in what, f"the guiagent/cli/ row does not mention the {name} sub-command"


def outside_fences(text: str) -> list[str]:
    lines, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def test_python_code_is_fenced() -> None:
    stray = [line for line in outside_fences(README)
             if re.match(r"(from \w[\w.]* import |import \w|def \w+\(|class \w+[(:])", line)]
    assert not stray, f"Python outside a ```python fence in README.md: {stray}"


def test_commands_shown_exist_with_their_flags() -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command").choices
    blocks = re.findall(r"```bash\n(.*?)```", README, re.S)
    shown = [line.split("#")[0].strip() for block in blocks for line in block.replace("\\\n", " ").splitlines()]
    commands = [line for line in shown if line.startswith("guiagent ")]
    assert len(commands) >= 15
    for line in commands:
        words = line.split()
        assert words[1] in subparsers, f"README shows `{line}`, but there is no sub-command {words[1]!r}"
        command, rest = subparsers[words[1]], words[2:]
        nested = [a for a in command._actions if a.__class__.__name__ == "_SubParsersAction"]
        if nested:  # guiagent sandbox shell ...
            assert rest and rest[0] in nested[0].choices, f"README shows `{line}`: unknown {words[1]} action"
            command, rest = nested[0].choices[rest[0]], rest[1:]
        known = {flag for action in command._actions for flag in action.option_strings}
        for word in rest:
            flag = word.split("=", 1)[0]
            if flag.startswith("--"):
                assert flag in known, f"README shows `{line}`, but `guiagent {words[1]}` has no {flag}"
