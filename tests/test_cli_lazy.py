"""The command line imports only what the chosen sub-command needs: `guiagent --help` imports no sub-command module
(importing them all took about a second), and a command imports its own module and no other's."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from guiagent.cli import COMMANDS, SUMMARIES, build_parser

REPO = Path(__file__).resolve().parent.parent


def _modules_after(argv: list[str]) -> set[str]:
    """The guiagent.cli.* sub-command modules (and numpy) imported by running ``guiagent ARGV`` in a fresh
    interpreter."""
    code = ("import sys, json\nfrom guiagent.cli import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('guiagent.cli.') or m == 'numpy')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_each_module_registers_its_name_and_summary() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    registered = [(action.dest, action.help) for action in sub._choices_actions]
    assert registered == [SUMMARIES[module] for module in COMMANDS]


def test_help_lists_every_command_without_importing_one(capsys) -> None:
    assert _modules_after(["--help"]) == set()
    with pytest.raises(SystemExit):
        build_parser("").parse_args(["--help"])
    shown = capsys.readouterr().out
    assert all(name in shown and summary.split()[0] in shown for name, summary in SUMMARIES.values())


def test_a_command_imports_its_module_only(tmp_path: Path) -> None:
    imported = _modules_after(["tasks", "--json"])
    assert "guiagent.cli.tasks" in imported
    assert not {f"guiagent.cli.{m}" for m in COMMANDS if m != "tasks"} & imported


def test_an_unknown_command_is_refused_with_the_list(capsys) -> None:
    from guiagent.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["evall"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'evall'" in err and "eval-grounding" in err


def test_extra_arguments_are_refused_with_the_sub_commands_usage(capsys) -> None:
    from guiagent.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["view", "run-a", "run-b"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: guiagent view") and "unrecognized arguments: run-b" in err
