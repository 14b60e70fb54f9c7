"""Watch a match in the terminal as it is played, or replay a saved transcript."""

from __future__ import annotations

import time
from collections.abc import Mapping

from rich.console import Console
from rich.table import Table

from arena.agents.base import Agent
from arena.agents.match import MatchResult, play
from arena.core.registry import make
from arena.core.transcript import Transcript
from arena.view.text import message_line


def results_table(result: MatchResult) -> Table:
    table = Table(title=f"{result.env_id} · seed {result.seed}")
    for column in ("seat", "agent", "role", "return", "invalid moves"):
        table.add_column(column)
    for seat, value in result.returns.items():
        mark = " 🏆" if seat in result.winners else ""
        table.add_row(
            seat,
            result.agent_names.get(seat, ""),
            result.roles.get(seat, ""),
            f"{value:+g}{mark}",
            str(result.invalid_moves.get(seat, 0)),
        )
    return table


def watch(
    env_id: str,
    agents: Mapping[str, Agent],
    *,
    seed: int | None = None,
    delay: float = 0.0,
    as_player: str | None = None,
    console: Console | None = None,
    env_kwargs: Mapping[str, object] | None = None,
) -> MatchResult:
    """Play a match, printing each message as it appears: everything (spectator) or only what
    ``as_player`` sees."""
    console = console or Console()
    env = make(env_id, **dict(env_kwargs or {}))
    shown = 0

    def flush(*_: object) -> None:
        nonlocal shown
        messages = env.unwrapped.log.messages
        for message in messages[shown:]:
            if as_player is None or message.visible_to(as_player):
                console.print(message_line(message, show_recipients=as_player is None))
        shown = len(messages)
        if delay:
            time.sleep(delay)

    console.rule(f"{env_id}" + (f" as {as_player}" if as_player else " (spectator)"))
    result = play(env, agents, seed=seed, on_step=flush)
    flush()
    console.print(results_table(result))
    return result


def replay(
    path: str, *, as_player: str | None = None, console: Console | None = None, delay: float = 0.0
) -> Transcript:
    """Print a saved transcript: everything, or exactly what ``as_player`` saw."""
    console = console or Console()
    transcript = Transcript.load(path)
    header = transcript.header
    console.rule(f"replay: {header.get('env_id', '?')} · seed {header.get('seed')}")
    if as_player is not None:
        if as_player not in header["agents"]:
            from arena.core.errors import ArenaError

            raise ArenaError(f"unknown player {as_player!r}; players are {', '.join(header['agents'])}")
        console.print(transcript.header["headers"][as_player], markup=False, style="dim")
    for message in transcript.messages():
        if as_player is None or message.visible_to(as_player):
            console.print(message_line(message, show_recipients=as_player is None))
            if delay:
                time.sleep(delay)
    result = transcript.result
    if result is not None:
        console.print(f"returns: {result.get('returns')}", markup=False)
    return transcript
