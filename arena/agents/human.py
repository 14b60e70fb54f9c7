"""``HumanAgent``: a person at the terminal types each move."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.markup import escape

from arena.agents.base import BaseAgent, Info, Observation


class HumanAgent(BaseAgent):
    """Shows the observation and reads one line. ``input_fn``/``console`` are injectable for tests."""

    name = "human"

    def __init__(
        self, input_fn: Callable[[str], str] | None = None, console: Console | None = None, seed: int | None = None
    ):
        self.input_fn = input_fn
        self.console = console or Console()

    def act(self, observation: Observation, info: Info) -> str:
        self.console.rule("your turn")
        self.console.print(escape(observation["text"]))
        legal = info.get("legal_actions")
        if legal:
            self.console.print("[bold]legal:[/bold] " + escape(" ".join(legal)))
        if info.get("invalid_move"):
            self.console.print("[red]invalid:[/red] " + escape(str(info["invalid_move"])))
        try:
            return (self.input_fn or input)("> ")
        except EOFError:
            return ""
