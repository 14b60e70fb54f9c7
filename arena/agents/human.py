"""``HumanAgent``: a person at the terminal types each move.

Typing slips are not the game's business: an empty line, or on a turn with a fixed list of legal moves
anything outside it, is answered with a hint and a new prompt, so the game's invalid-move rule (meant
for agents) never spends a retry on them. ``4`` is accepted for the legal move ``[4]``. End of input
(Ctrl-D) or Ctrl-C leaves the game with a ``KeyboardInterrupt`` that the CLI reports in one line.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.markup import escape

from arena.agents.base import BaseAgent, Info, Observation


class HumanAgent(BaseAgent):
    """Shows the observation and reads lines until one is a move. ``input_fn``/``console`` are injectable."""

    name = "human"

    def __init__(
        self, input_fn: Callable[[str], str] | None = None, console: Console | None = None, seed: int | None = None
    ):
        self.input_fn = input_fn
        self.console = console or Console()

    def act(self, observation: Observation, info: Info) -> str:
        self.console.rule("your turn")
        self.console.print(escape(observation["text"]))
        legal = [str(a) for a in info.get("legal_actions") or []]
        if legal:
            self.console.print("[bold]legal:[/bold] " + escape(" ".join(legal)))
        if info.get("invalid_move"):
            self.console.print("[red]invalid:[/red] " + escape(str(info["invalid_move"])))
        while True:
            try:
                line = (self.input_fn or input)("> ")
            except EOFError:
                raise KeyboardInterrupt("end of input") from None
            move = _match_legal(line, legal) if legal else line.strip() or None
            if move is not None:
                return move
            hint = f"type one of: {' '.join(legal)}" if legal else "type your move (an empty line is not one)"
            self.console.print(f"[yellow]{escape(hint)}[/yellow]")


def _match_legal(line: str, legal: list[str]) -> str | None:
    """The legal move ``line`` names: exactly, ignoring case and surrounding space, or without brackets."""
    typed = line.strip().lower()
    if not typed:
        return None
    for move in legal:
        plain = move.strip().lower()
        if typed in (plain, plain.strip("[]").strip()) or f"[{typed}]" == plain:
            return move
    return None
