"""The full match view: header (game, phase, round), players (alive/dead, roles, scores), votes, an
image, and the chat — or, for ``--as player_k``, exactly that player's observation text.

Every piece of agent text goes through ``Text`` (never markup) after :func:`arena.view.text.safe`.
Narrow terminals (< 100 columns) stack the panels; wide ones put the chat beside a sidebar.
"""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.layout import Layout
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from arena.view.games import GamePanel
from arena.view.state import ViewState
from arena.view.text import message_line, plain, safe, speaker_style

WIDE = 100


def header_line(state: ViewState, *, footer: str = "") -> Text:
    """``game · seed · phase · round · step`` and who is watching."""
    who = f"as {state.viewer}" if state.viewer else ("spectator, roles shown" if state.reveal else "spectator")
    parts = [state.env_id or "?", f"seed {state.seed}"]
    if state.phase:
        parts.append(state.phase)
    if not any(ch.isdigit() for ch in state.phase):
        parts.append(f"round {state.round}")
    parts += [f"step {state.step}/{state.steps}", who]
    line = Text(safe(" · ".join(parts)), style="bold")
    if footer:
        line.append(f"   {footer}", style="dim")
    return line


def players_table(state: ViewState, columns: int = 1) -> Table:
    """One row per player: status, role (when visible), score (when visible); ▶ marks who acts, ◀ the
    viewer, ★ the winners. ``columns`` > 1 lays the players out in that many column groups (compact
    cells: a dead player's name is struck through) so a big table fits a small screen."""
    if columns > 1:
        return _players_grid(state, columns)
    table = Table(box=None, pad_edge=False, show_edge=False, expand=False)
    table.add_column("player", no_wrap=True)
    table.add_column("status", no_wrap=True)
    if state.roles:
        table.add_column("role", no_wrap=True, overflow="ellipsis")
    table.add_column("score", justify="right", no_wrap=True)
    winners = set((state.result or {}).get("winners") or [])
    for player in state.players:
        name = _player_name(state, player)
        alive = state.alive.get(player, True)
        status = Text("alive", style="green") if alive else Text("dead", style="red strike")
        if player in winners:
            status.append(" ★", style="yellow")
        score = state.scores.get(player)
        cells: list[Text] = [name, status]
        if state.roles:
            cells.append(Text(safe(state.roles.get(player, "?"))))
        cells.append(Text("–" if score is None else f"{score:+g}"))
        table.add_row(*cells)
    return table


def _player_name(state: ViewState, player: str, *, compact: bool = False) -> Text:
    style = speaker_style(player)
    if compact and not state.alive.get(player, True):
        style += " strike dim"
    name = Text(("▶ " if player == state.acting else "  ") + safe(player), style=style)
    if compact and not state.alive.get(player, True):
        name.append(" ✝", style="red")
    if player == state.viewer:
        name.append(" ◀", style="bold")
    if compact and player in set((state.result or {}).get("winners") or []):
        name.append(" ★", style="yellow")
    return name


def _players_grid(state: ViewState, columns: int) -> Table:
    per = -(-len(state.players) // columns)
    grid = Table.grid(padding=(0, 2))
    for _ in range(columns):
        grid.add_column(no_wrap=True, overflow="ellipsis")
    cells = []
    for player in state.players:
        cell = _player_name(state, player, compact=True)
        if state.roles:
            cell.append(" " + safe(state.roles.get(player, "?")), style="")
        score = state.scores.get(player)
        if score is not None:
            cell.append(f" {score:+g}", style="dim")
        cells.append(cell)
    for row in range(per):
        grid.add_row(*[cells[c * per + row] if c * per + row < len(cells) else Text("") for c in range(columns)])
    return grid


def players_view(state: ViewState, max_rows: int | None, width: int) -> Table:
    """The players table, in as many column groups as it takes to stay within ``max_rows`` rows (and
    as many as fit ``width``)."""
    if max_rows is None or len(state.players) + 1 <= max_rows:
        return players_table(state)
    cell = max(len(p) for p in state.players) + 4 + (max((len(r) for r in state.roles.values()), default=0) + 1)
    cell += 4 if state.scores else 0
    fits = max(1, (width + 2) // (cell + 2))
    columns = min(fits, -(-len(state.players) // max(max_rows, 1)))
    return players_table(state, columns=max(columns, 2 if fits >= 2 else 1))


def votes_view(state: ViewState, *, compact: bool = False) -> RenderableType | None:
    """The latest ballot tallied (target: count, then who voted), or None when no votes are known.
    ``compact``: one line of counts, no voters and no frame (small screens)."""
    if not state.votes:
        return None
    if compact:
        line = Text(safe(f"votes ({state.vote_phase}): ") if state.vote_phase else "votes: ", style="bold yellow")
        for k, (target, count) in enumerate(state.tally):
            line.append((" · " if k else "") + safe(target), style=speaker_style(target))
            line.append(f" {count}", style="bold")
        line.no_wrap, line.overflow = True, "ellipsis"
        return line
    text = Text()
    for target, count in state.tally:
        voters = sorted(v for v, t in state.votes.items() if t == target)
        text.append(f"{safe(target)}", style=speaker_style(target) if target.startswith("player") else "bold")
        text.append(f" {count}  ", style="bold")
        text.append(safe(", ".join(voters)) + "\n", style="dim")
    text.rstrip()
    title = plain(f"votes ({state.vote_phase})" if state.vote_phase else "votes")
    return Panel(text, title=title, title_align="left", border_style="yellow")


def result_view(state: ViewState) -> Text | None:
    """``Game over: reason`` and the winners, once the episode has ended."""
    if state.result is None:
        return None
    text = Text("Game over: ", style="bold")
    text.append(safe(state.result.get("reason", "")))
    winners = state.result.get("winners") or []
    text.append(f"  winners: {safe(', '.join(winners)) if winners else 'none'}", style="yellow")
    return text


def chat_lines(state: ViewState) -> list[Text]:
    """The visible messages, coloured by speaker (recipients shown to spectators)."""
    return [message_line(m, show_recipients=state.viewer is None) for m in state.messages]


def observation_lines(text: str) -> list[Text]:
    """A player's observation text as plain ``Text`` lines."""
    return [Text(safe(line)) for line in text.splitlines()]


def tail(lines: list[Text], console: Console, width: int, height: int) -> list[Text]:
    """The last lines that fit ``height`` rows once wrapped to ``width`` columns."""
    kept: list[Text] = []
    used = 0
    for line in reversed(lines):
        rows = max(1, len(line.wrap(console, max(width, 1))))
        if used + rows > height and kept:
            break
        kept.append(line)
        used += rows
    return kept[::-1]


def render(
    state: ViewState,
    console: Console,
    *,
    observation: str | None = None,
    panels: list[GamePanel] | None = None,
    height: int | None = None,
    footer: str = "",
    max_lines: int = 40,
) -> RenderableType:
    """The whole view. ``observation`` (a player's text) replaces the chat; ``panels`` are the game's own
    (a board, images). ``height`` None gives a natural-height group (for printing), else a layout
    exactly ``height`` rows tall (for live screens): then the side never takes more than about half the
    rows, so the chat keeps room even with 16 players on 80×24."""
    width = console.width
    wide = width >= WIDE
    lines = observation_lines(observation) if observation is not None else chat_lines(state)
    title = plain(f"what {state.viewer} sees" if observation is not None else "chat")
    side_width = width * 2 // 5 if wide else width
    budget = None if height is None else max(4, (height if wide else height // 2) - 3)
    compact = budget is not None and not wide
    players = players_view(state, budget, side_width - 4)
    side: list[RenderableType] = [Panel(players, title="players", title_align="left")]
    votes = votes_view(state, compact=compact)
    if votes is not None:
        side.append(votes)
    for extra in panels or []:
        side.append(Panel(extra.body, title=plain(extra.title), title_align="left", expand=not extra.images))
    top = header_line(state, footer=footer if height is None else "")
    result = result_view(state)
    bottom = [r for r in (result, Text(safe(footer), style="dim") if footer else None) if r is not None]
    if not wide and votes is not None and not compact:  # players and votes side by side save rows
        side = [_pair(side[0], votes), *side[2:]]
    chat_width = (width * 3 // 5 if wide else width) - 4
    if height is None:
        shown = tail(lines, console, chat_width, max_lines)
        chat = Panel(Group(*shown) if shown else Text(""), title=title, title_align="left")
        body: list[RenderableType] = [top, *side, chat] if not wide else [top, _row(chat, Group(*side))]
        return Group(*body, *([result] if result else []))
    side_group = Group(*side)
    side_height = sum(len(console.render_lines(p, console.options.update(width=width))) for p in side)
    bottom_rows = sum(len(line.wrap(console, width)) for line in bottom)
    chat_height = height - 1 - bottom_rows - (0 if wide else side_height) - 2
    shown = tail(lines, console, chat_width, max(chat_height, 1))
    chat = Panel(Group(*shown) if shown else Text(""), title=title, title_align="left")
    layout = Layout()
    parts = [Layout(top, name="header", size=1)]
    if wide:
        main = Layout(name="main")
        main.split_row(Layout(chat, name="chat", ratio=3), Layout(side_group, name="side", ratio=2))
        parts.append(main)
    else:
        parts += [Layout(side_group, name="side", size=side_height), Layout(chat, name="chat")]
    parts += [Layout(line, name=f"bottom{i}", size=len(line.wrap(console, width))) for i, line in enumerate(bottom)]
    layout.split_column(*parts)
    return layout


def _pair(left: RenderableType, right: RenderableType) -> Table:
    grid = Table.grid(expand=True)
    grid.add_column(ratio=11)
    grid.add_column(ratio=9)
    grid.add_row(left, right)
    return grid


def _row(left: RenderableType, right: RenderableType) -> Table:
    grid = Table.grid(expand=True)
    grid.add_column(ratio=3)
    grid.add_column(ratio=2)
    grid.add_row(left, right)
    return grid
