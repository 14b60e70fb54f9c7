"""Game-specific spectator panels, for what the chat alone shows badly: the TicTacToe board, the visual
spy images, the household task and room.

Panels are drawn from the game's live state. ``watch`` passes its env; ``replay`` rebuilds the env at
any step from the transcript (:class:`Resimulation`: same game, kwargs and seed, the recorded actions
stepped in again; games are deterministic given their seed). Secrecy follows the viewer: a player sees
only its own image, a plain spectator no private image or room state, a ``--reveal`` spectator all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from arena.view.image import TerminalImage
from arena.view.text import safe


@dataclass
class GamePanel:
    """One extra panel: its title and body; ``images`` marks panels that hold pictures."""

    title: str
    body: RenderableType
    images: bool = False


def game_panels(
    env: Any, *, viewer: str | None, reveal: bool, max_rows: int = 12, live: bool = False
) -> list[GamePanel]:
    """The panels this game adds for ``viewer`` (None: a spectator, everything with ``reveal``)."""
    if env is None:
        return []
    raw = getattr(env, "unwrapped", env)
    from arena.envs.household.env import HouseholdEnv
    from arena.envs.tictactoe import TicTacToeEnv
    from arena.envs.visual_spy import VisualSpyEnv

    try:
        if isinstance(raw, TicTacToeEnv):
            return [GamePanel("board", tictactoe_board(raw.board))]
        if isinstance(raw, VisualSpyEnv):
            return visual_spy_panels(raw, viewer, reveal, max_rows, live)
        if isinstance(raw, HouseholdEnv):
            return household_panels(raw, viewer, reveal)
    except Exception:  # a panel must never stop a match or a replay (e.g. an env not yet reset)
        return []
    return []


def tictactoe_board(board: list[str]) -> Table:
    """The 3×3 board: X and O in colour, empty cells show their number (the move that takes them)."""
    grid = Table(show_header=False, show_lines=True, box=_box(), pad_edge=True, padding=(0, 1))
    for _ in range(3):
        grid.add_column(justify="center", width=1)
    for row in range(3):
        cells = []
        for col in range(3):
            index = 3 * row + col
            mark = board[index]
            if mark == "X":
                cells.append(Text("X", style="bold cyan"))
            elif mark == "O":
                cells.append(Text("O", style="bold magenta"))
            else:
                cells.append(Text(str(index), style="dim"))
        grid.add_row(*cells)
    return grid


def _box() -> Any:
    from rich import box

    return box.SQUARE


def visual_spy_panels(raw: Any, viewer: str | None, reveal: bool, max_rows: int, live: bool) -> list[GamePanel]:
    """A player's own image; for a revealing spectator the civilians' and the spy's images side by side."""
    if viewer is not None:
        side = "spy" if viewer in raw.spies and raw.spy_knows else ""
        title = f"{viewer}'s image" + (f" ({side})" if side else "")
        return [GamePanel(title, TerminalImage(raw._image(viewer), max_rows=max_rows, live=live), images=True)]
    if not reveal:
        return [GamePanel("images", Text("each player sees a private image; --reveal shows them", style="dim"))]
    spies = ", ".join(sorted(raw.spies))
    grid = Table.grid(padding=(0, 1))
    grid.add_column(ratio=1)
    grid.add_column(ratio=1)
    grid.add_row(Text("civilians", style="bold"), Text(safe(f"spy: {spies}"), style="bold red"))
    grid.add_row(
        TerminalImage(raw.images[False], max_rows=max_rows, live=live),
        TerminalImage(raw.images[True], max_rows=max_rows, live=live),
    )
    return [GamePanel("images", grid, images=True)]


def household_panels(raw: Any, viewer: str | None, reveal: bool) -> list[GamePanel]:
    """The task for everyone; the true room (receptacles, contents, who is where) for a revealing spectator."""
    world, task = raw.world, raw.task
    if world is None or task is None:
        return []
    panels = [GamePanel("task", Text(safe(task.text)))]
    if viewer is not None or not reveal:
        return panels
    room = Table(box=None, pad_edge=False, show_header=True, expand=False)
    room.add_column("receptacle", no_wrap=True)
    room.add_column("holds", overflow="fold")
    here = {place: agent for agent, place in world.location.items() if place}
    for name in world.scene.names:
        label = Text(safe(name))
        if name in here:
            label.append(f" ◀ {safe(here[name])}", style="bold yellow")
        if world.openable(name):
            holds = Text(", ".join(world.contents(name)) or "–", style="" if world.is_open[name] else "dim")
            holds.append("" if world.is_open[name] else " (closed)", style="dim")
        else:
            holds = Text(", ".join(world.contents(name)) or "–")
        room.add_row(label, holds)
    hands = Text(
        safe("; ".join(f"{a} holds {world.holding[a] or 'nothing'}" for a in raw.possible_agents)), style="italic"
    )
    panels.append(GamePanel("room", Group(room, hands)))
    return panels


class Resimulation:
    """The env of a transcript, rebuilt at any step: made with the transcript's id, kwargs and seed, then
    fed the recorded actions in order. Going back rebuilds from the start. ``at(upto)`` is None when the
    game cannot be rebuilt (unknown id, or the transcript does not match what the game does)."""

    def __init__(self, transcript: Any) -> None:
        self.transcript = transcript
        self.env: Any = None
        self.applied = 0  # events consumed so far
        self.broken = False

    def _start(self) -> None:
        from arena.core.registry import make

        header = self.transcript.header
        self.env = make(str(header.get("env_id")), **dict(header.get("kwargs") or {}))
        self.env.reset(seed=header.get("seed"))
        self.applied = 0

    def at(self, upto: int) -> Any:
        if self.broken:
            return None
        try:
            if self.env is None or upto < self.applied:
                self._start()
            for event in self.transcript.events[self.applied : upto]:
                self.applied += 1
                if event.get("event") == "action":
                    self._step(event)
        except Exception:
            self.broken = True
            return None
        return self.env

    def _step(self, event: dict[str, Any]) -> None:
        env = self.env
        while env.agents and (env.terminations.get(env.agent_selection) or env.truncations.get(env.agent_selection)):
            env.step(None)  # dead steps are not recorded
        if not env.agents or env.agent_selection != event.get("agent"):
            raise ValueError("the transcript does not follow the game")
        env.step(str(event.get("text", "")))
