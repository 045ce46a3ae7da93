"""Terminal front-ends for a run: live progress with ``rich``, and the interactive confirm / call_user prompts."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from rich.console import Console
from rich.markup import escape

from guiagent.actions.jsonform import action_to_json
from guiagent.agent.describe import describe_action
from guiagent.agent.hooks import ActionContext, Decision, Hooks
from guiagent.agent.trajectory import StepRecord

_STATUS_STYLE = {"executed": "green", "terminal": "green", "waited": "cyan", "dry_run": "yellow",
                 "skipped": "yellow", "stopped": "red", "error": "red", "not_run": "dim"}


class RichProgress(Hooks):
    """Prints each step as it ends (number, thought, actions with their status, model time), and a spinner while
    the model thinks."""

    def __init__(self, console: Console | None = None, max_steps: int | None = None):
        self.console = console or Console(stderr=True, highlight=False)
        self.max_steps = max_steps
        self._status = None

    def _stop_spinner(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def on_observation(self, step: int, observation) -> None:
        """Start the "waiting for the model" spinner (only on a terminal)."""
        total = f"/{self.max_steps}" if self.max_steps else ""
        if self.console.is_terminal:
            self._status = self.console.status(f"step {step + 1}{total}: waiting for the model...")
            self._status.start()

    def on_response(self, step: int, response: str, error: str | None) -> None:
        """Stop the spinner; print a one-line warning when the answer did not parse and is asked again."""
        self._stop_spinner()
        if error:
            self.console.print(f"[yellow]  step {step + 1}: answer did not parse ({escape(error[:160])}); "
                               f"asking again[/]")

    def before_action(self, context: ActionContext) -> Decision | None:
        """Stop the spinner so a confirmation prompt is not drawn over; never vetoes (returns None)."""
        self._stop_spinner()
        return None

    def on_step_end(self, record: StepRecord) -> None:
        """Print the finished step: number, model time, thought (shortened), each action with its status, errors."""
        self._stop_spinner()
        model_s = record.latency.get("model", 0.0)
        self.console.print(f"[bold]step {record.index + 1}[/]  [dim]{model_s:.1f} s[/]")
        if record.thought:
            thought = " ".join(record.thought.split())
            self.console.print(f"  [italic]{escape(thought[:300])}[/]")
        for action, status in zip(record.actions, record.status):
            style = _STATUS_STYLE.get(status, "white")
            self.console.print(f"  [{style}]{escape(describe_action(action))}[/] [dim]({status})[/]")
        for err in record.errors:
            if err.startswith("parse (try "):
                continue  # already printed by on_response as the answer came in: each parse error once
            self.console.print(f"  [red]{escape(err)}[/]")

    def on_run_end(self, result) -> None:
        """Stop the spinner if one is still running."""
        self._stop_spinner()


def terminal_confirm(stream_in: TextIO | None = None, console: Console | None = None
                     ) -> Callable[[ActionContext], Decision]:
    """An ``ask`` function for ConfirmHook that shows the action and reads allow / skip / stop from the terminal."""
    console = console or Console(stderr=True, highlight=False)
    stream_in = stream_in or sys.stdin

    def ask(ctx: ActionContext) -> Decision:
        console.print(f"[bold yellow]step {ctx.step + 1}:[/] {escape(describe_action(action_to_json(ctx.action)))}"
                      + (" [dim](dry run)[/]" if ctx.dry_run else ""))
        while True:
            console.print(escape("  [a]llow, [s]kip or s[t]op? "), end="")
            line = stream_in.readline()
            if not line:  # end of input: stop rather than guess
                return Decision.STOP
            answer = line.strip().lower()
            for decision, keys in ((Decision.ALLOW, ("a", "allow", "y", "yes", "")),
                                   (Decision.SKIP, ("s", "skip", "n", "no")), (Decision.STOP, ("t", "stop", "q"))):
                if answer in keys:
                    return decision

    return ask


class TerminalUser(Hooks):
    """Answers ``call_user`` by asking on the terminal; an empty answer (or end of input) ends the run."""

    def __init__(self, stream_in: TextIO | None = None, console: Console | None = None):
        self.stream_in = stream_in or sys.stdin
        self.console = console or Console(stderr=True, highlight=False)

    def on_call_user(self, step: int, question: str | None) -> str | None:
        """Show the model's question and read the user's answer, one line, from ``stream_in``.

        Returns:
            The answer with surrounding whitespace removed, or None for an empty line (which ends the run).
        """
        self.console.print("[bold magenta]The model asks for you[/]" + (f": {escape(question)}" if question else ""))
        self.console.print("  your answer (empty to stop the run): ", end="")
        line = self.stream_in.readline()
        return line.strip() or None
