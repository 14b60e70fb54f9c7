"""Watch a match in the terminal as it is played, or step through a saved transcript.

On a terminal ``watch`` shows the full live layout (:mod:`arena.view.layout`); piped output, and any
match with a human at the table, prints messages line by line instead. ``replay`` steps forward and
back with keys (n/p/q) on a terminal and prints the whole transcript otherwise.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Mapping
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from arena.agents.base import Agent
from arena.agents.match import MatchResult, play
from arena.core.errors import ArenaError
from arena.core.registry import make
from arena.core.transcript import Transcript
from arena.view.games import GamePanel, Resimulation, game_panels
from arena.view.layout import WIDE, header_line, players_table, render, result_view, votes_view
from arena.view.state import ViewState, event_line, fold, steps
from arena.view.text import plain, safe

KEYS_HELP = "n next · p back · g end · 0 start · q quit"
MAX_LINE_BYTES = 4_000_000  # one transcript event (a long reply with its reasoning is a few kB)
MAX_FILE_BYTES = 256_000_000


def results_table(result: MatchResult, *, roles: bool = True) -> Table:
    """Returns, winners and invalid moves per seat (roles only when the viewer may see them)."""
    table = Table(title=plain(f"{result.env_id} · seed {result.seed}"))
    columns = ["seat", "agent", *(["role"] if roles else []), "return", "invalid moves"]
    for column in columns:
        table.add_column(column)
    for seat, value in result.returns.items():
        mark = " ★" if seat in result.winners else ""
        cells = [Text(seat), Text(safe(result.agent_names.get(seat, "")))]
        if roles:
            cells.append(Text(safe(result.roles.get(seat, ""))))
        cells += [Text(f"{value:+g}{mark}"), Text(str(result.invalid_moves.get(seat, 0)))]
        table.add_row(*cells)
    return table


def _check_player(players: list[str], as_player: str | None) -> None:
    if as_player is not None and as_player not in players:
        raise ArenaError(f"unknown player {as_player!r}; players are {', '.join(players)}")


def summary(state: ViewState, panels: list[GamePanel] | None = None) -> Group:
    """Header, players, votes, the game's panels and result: printed under a streamed log."""
    parts: list[Any] = [header_line(state), Panel(players_table(state), title="players", title_align="left")]
    votes = votes_view(state)
    if votes is not None:
        parts.append(votes)
    for extra in panels or []:
        parts.append(Panel(extra.body, title=plain(extra.title), title_align="left", expand=not extra.images))
    result = result_view(state)
    if result is not None:
        parts.append(result)
    return Group(*parts)


def watch(
    env_id: str | Any,
    agents: Mapping[str, Agent],
    *,
    seed: int | None = None,
    delay: float = 0.0,
    as_player: str | None = None,
    console: Console | None = None,
    env_kwargs: Mapping[str, object] | None = None,
    reveal: bool = False,
    live: bool | None = None,
) -> MatchResult:
    """Play a match and show it: as ``as_player`` sees it, or as a spectator (public messages only,
    everything with ``reveal``). ``env_id`` may be a built env (its transcript then survives an
    interrupt). ``live`` forces (True) or disables (False) the full-screen layout; by default it is
    used on a terminal when no human plays."""
    console = console or Console()
    env = make(env_id, **dict(env_kwargs or {})) if isinstance(env_id, str) else env_id
    raw = env.unwrapped
    _check_player(list(raw.possible_agents), as_player)
    humans = any(getattr(a, "name", "") == "human" for a in agents.values())
    use_live = live if live is not None else (console.is_terminal and not humans)

    def state() -> ViewState:
        return fold(raw.transcript, viewer=as_player, reveal=reveal)

    if use_live:
        result = _watch_live(env, agents, seed, delay, as_player, console, state, reveal)
    else:
        result = _watch_stream(env, agents, seed, delay, as_player, console, reveal)
        console.print(summary(state(), game_panels(env, viewer=as_player, reveal=reveal)))
    shown_roles = reveal or bool((raw.transcript.result or {}).get("info", {}).get("roles"))
    console.print(results_table(result, roles=shown_roles))
    return result


def _watch_stream(
    env: Any,
    agents: Mapping[str, Agent],
    seed: int | None,
    delay: float,
    viewer: str | None,
    console: Console,
    reveal: bool,
) -> MatchResult:
    raw = env.unwrapped
    shown = 0
    probe = ViewState("", None, [], viewer=viewer, reveal=reveal)

    def flush(*_: object) -> None:
        nonlocal shown
        events = raw.transcript.events
        for event in events[shown:]:
            line = event_line(event, probe)
            if line is not None:
                console.print(line)
        shown = len(events)
        if delay:
            time.sleep(delay)

    title = f"{raw.env_id}" + (f" as {viewer}" if viewer else " (spectator)")
    console.rule(Text(safe(title)))
    result = play(env, agents, seed=seed, on_step=flush)
    flush()
    return result


def _watch_live(
    env: Any,
    agents: Mapping[str, Agent],
    seed: int | None,
    delay: float,
    viewer: str | None,
    console: Console,
    state: Any,
    reveal: bool,
) -> MatchResult:
    raw = env.unwrapped

    def view() -> Any:
        current = state()
        observation = raw.transcript.view(viewer) if viewer is not None else None
        height = console.height - 1
        rows = 12 if console.width >= WIDE else max(3, min(12, height // 4))
        panels = game_panels(env, viewer=viewer, reveal=reveal, max_rows=rows, live=True)
        return render(current, console, observation=observation, panels=panels, height=height)

    with Live(console=console, screen=True, auto_refresh=False, transient=True) as screen:

        def update(*_: object) -> None:
            screen.update(view(), refresh=True)
            if delay:
                time.sleep(delay)

        result = play(env, agents, seed=seed, on_step=update)
    final = state()
    observation = raw.transcript.view(viewer) if viewer is not None else None
    panels = game_panels(env, viewer=viewer, reveal=reveal)
    console.print(render(final, console, observation=observation, panels=panels))
    return result


def _read_keys() -> Iterator[str]:
    """Single key presses from the terminal (raw mode), or whole lines where raw mode is unavailable."""
    try:
        import termios
        import tty
    except ImportError:  # pragma: no cover - not on POSIX
        while True:
            yield (input() or "n")[:1]
    fd = sys.stdin.fileno()
    old = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        while True:
            char = sys.stdin.read(1)
            if char == "\x1b":  # arrow keys: ESC [ C / ESC [ D
                rest = sys.stdin.read(2)
                char = {"[C": "n", "[D": "p"}.get(rest, "")
            yield char
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)


def replay(
    path: str,
    *,
    as_player: str | None = None,
    console: Console | None = None,
    delay: float = 0.0,
    reveal: bool = True,
    keys: Iterator[str] | None = None,
) -> Transcript:
    """Show a saved transcript — everything (``reveal``), public messages only, or exactly what
    ``as_player`` saw. Interactive on a terminal (or when ``keys`` are given): n/→ next, p/← back,
    g end, 0 start, q quit; otherwise everything is printed."""
    console = console or Console()
    transcript = load_transcript(path)
    _check_player(list(transcript.header.get("agents", [])), as_player)
    interactive = keys is not None or (console.is_terminal and sys.stdin.isatty())
    if interactive:
        _replay_interactive(transcript, as_player, console, reveal, keys if keys is not None else _read_keys())
    else:
        _replay_print(transcript, as_player, console, reveal, delay)
    return transcript


def load_transcript(path: str, *, max_line: int = MAX_LINE_BYTES, max_total: int = MAX_FILE_BYTES) -> Transcript:
    """A transcript file read defensively: every line must be a JSON object of at most ``max_line``
    bytes and the file at most ``max_total`` (a hostile file can be neither slow nor huge to show)."""
    import json

    events: list[dict[str, Any]] = []
    total = 0
    with open(path, "rb") as fh:
        for number, line in enumerate(iter(lambda: fh.readline(max_line + 1), b""), 1):
            total += len(line)
            if len(line) > max_line:
                raise ArenaError(f"{path}:{number}: line longer than {max_line // 1_000_000} MB; not a transcript")
            if total > max_total:
                raise ArenaError(f"{path}: larger than {max_total // 1_000_000} MB; not a transcript")
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError) as err:
                raise ArenaError(f"{path}:{number}: not a JSON line ({err})") from None
            if not isinstance(event, dict) or not isinstance(event.get("event"), str):
                raise ArenaError(f"{path}:{number}: not a transcript event (a JSON object with an 'event' key)")
            problem = event_problem(event)
            if problem is not None:
                raise ArenaError(f"{path}:{number}: malformed {event['event']} event: {problem}")
            events.append(event)
    transcript = Transcript(events)
    try:
        transcript.header  # noqa: B018 - a transcript without a reset event is refused here
    except ValueError as err:
        raise ArenaError(f"{path}: {err}") from None
    return transcript


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _string_map(value: object, numbers: bool = False) -> bool:
    kinds = (int, float) if numbers else (str,)
    return isinstance(value, dict) and all(isinstance(v, kinds) and not isinstance(v, bool) for v in value.values())


def event_problem(event: dict[str, Any]) -> str | None:
    """What is wrong with the fields the viewer reads from one event, or None: a hand-edited transcript is
    refused with the line and the field named, not a ``KeyError`` from deep in the drawing code."""
    kind = event["event"]
    if kind == "reset":
        if not _strings(event.get("agents", [])):
            return "'agents' must be a list of player names"
        if not _string_map(event.get("headers", {})) or not isinstance(event.get("roles", {}), dict):
            return "'headers' must map players to text and 'roles' players to roles"
    elif kind == "message":
        if not isinstance(event.get("sender"), str) or not isinstance(event.get("text"), str):
            return "'sender' and 'text' must be strings"
        if event.get("to") is not None and not _strings(event["to"]):
            return "'to' must be null (everyone) or a list of player names"
        if not isinstance(event.get("phase", ""), str) or not isinstance(event.get("kind", ""), str):
            return "'phase' and 'kind' must be strings"
    elif kind in ("prompt", "action", "eliminated"):
        if not isinstance(event.get("agent"), str):
            return "'agent' must be a player name"
        if kind == "prompt" and not isinstance(event.get("text"), str):
            return "'text' must be a string"
    elif kind == "reward":
        value = event.get("value", 0.0)
        if not isinstance(event.get("agent"), str) or not isinstance(value, int | float) or isinstance(value, bool):
            return "'agent' must be a string and 'value' a number"
    elif kind == "end":
        if not _string_map(event.get("returns") or {}, numbers=True):
            return "'returns' must map players to numbers"
        if not _strings(event.get("winners") or []) or not isinstance(event.get("info") or {}, dict):
            return "'winners' must be a list of player names and 'info' an object"
        if not isinstance((event.get("info") or {}).get("roles") or {}, dict):
            return "'info.roles' must map players to roles"
    return None


def replay_frame(
    transcript: Transcript,
    upto: int,
    as_player: str | None,
    reveal: bool,
    console: Console,
    *,
    game: Resimulation | None = None,
    **kw: Any,
) -> Any:
    """The view after the first ``upto`` events (what the interactive replay shows at that step), with
    the game's panels when ``game`` can rebuild its state."""
    state = fold(transcript, upto, viewer=as_player, reveal=reveal)
    observation = transcript.view(as_player, upto) if as_player is not None else None
    height = kw.get("height")
    rows = 12 if height is None or console.width >= WIDE else max(3, min(12, height // 4))
    env = game.at(upto) if game is not None else None
    panels = game_panels(env, viewer=as_player, reveal=reveal, max_rows=rows, live=height is not None)
    return render(state, console, observation=observation, panels=panels, **kw)


def _replay_interactive(
    transcript: Transcript, as_player: str | None, console: Console, reveal: bool, keys: Iterator[str]
) -> None:
    stops = steps(transcript, viewer=as_player, reveal=reveal)
    game = Resimulation(transcript)
    index = 0
    with console.screen(hide_cursor=True) as screen:
        while True:
            footer = f"{index + 1}/{len(stops)} · {KEYS_HELP}"
            frame = replay_frame(
                transcript,
                stops[index],
                as_player,
                reveal,
                console,
                game=game,
                height=console.height - 1,
                footer=footer,
            )
            screen.update(frame)
            key = next(keys, "q").lower()
            if key == "q":
                break
            if key in ("n", " ", "j", "\r", "\n"):
                index = min(index + 1, len(stops) - 1)
            elif key in ("p", "k", "b"):
                index = max(index - 1, 0)
            elif key == "g":
                index = len(stops) - 1
            elif key == "0":
                index = 0
    console.print(replay_frame(transcript, stops[index], as_player, reveal, console, game=game))


def _replay_print(transcript: Transcript, as_player: str | None, console: Console, reveal: bool, delay: float) -> None:
    header = transcript.header
    console.rule(Text(safe(f"replay: {header.get('env_id', '?')} · seed {header.get('seed')}")))
    if as_player is not None:
        console.print(Text(safe(header["headers"].get(as_player, "")), style="dim"))
    probe = ViewState("", None, [], viewer=as_player, reveal=reveal)
    for event in transcript.events:
        line = event_line(event, probe)
        if line is not None:
            console.print(line)
            if delay:
                time.sleep(delay)
    state = fold(transcript, viewer=as_player, reveal=reveal)
    env = Resimulation(transcript).at(len(transcript.events))
    console.print(summary(state, game_panels(env, viewer=as_player, reveal=reveal)))
    result = transcript.result
    if result is not None:
        returns = ", ".join(f"{safe(k)} {float(v):+g}" for k, v in (result.get("returns") or {}).items())
        console.print(Text(safe(f"returns: {returns}")))
