"""Scripted TicTacToe players: a perfect minimax player (``scripted``), a random player that takes a win in
one (``opportunist``) and the old rule heuristic.

``TicTacToeScripted`` searches the whole game tree (memoised; TicTacToe has 5,478 reachable
positions) and plays a move of best minimax value, so it never loses from either seat. Among equally
good moves it prefers the one that wins soonest (or loses latest), then breaks ties with a seeded RNG,
so self-play is a draw and a weak opponent is beaten quickly. ``TicTacToeOpportunist`` plays like the random
agent except that it always completes a line of its own when it can: every threat the learner leaves
unblocked is punished at once, where a random opponent punishes it by chance. ``choose_cell`` keeps the classic
win/block/centre/corner rule, which can be forked (it loses as O to 0 → 4 → 8 then a fork).
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np

from arena.agents.base import BaseAgent, Info, Observation
from arena.envs.tictactoe import completing_cells, winner_mark

_BOARD_ROW = re.compile(r"^ (\S) \| (\S) \| (\S)$", re.MULTILINE)


def read_board(text: str) -> list[str] | None:
    """The last board drawn in an observation, as 9 cells ("X", "O" or " ")."""
    rows = _BOARD_ROW.findall(text)
    if len(rows) < 3:
        return None
    cells = [c for row in rows[-3:] for c in row]
    return [c if c in "XO" else " " for c in cells]


def choose_cell(board: list[str], mark: str, rng: np.random.Generator | None = None) -> int:
    """Win, block, centre, corner, side — the classic rule order (beatable by a fork)."""
    other = "O" if mark == "X" else "X"
    for who in (mark, other):
        cells = completing_cells(board, who)
        if cells:
            return cells[0]
    for group in ((4,), (0, 2, 6, 8), (1, 3, 5, 7)):
        free = [i for i in group if board[i] == " "]
        if free:
            return free[int(rng.integers(len(free)))] if rng is not None else free[0]
    raise ValueError("the board is full")


@cache
def minimax_value(board: str, mark: str) -> int:
    """The value of ``board`` (9 chars) for the player to move (``mark``), scaled by speed: a win in
    k moves is worth ``10 - k``, a loss ``k - 10``, a draw 0."""
    if winner_mark(list(board)) is not None:
        return -10  # the previous mover just won
    empty = [i for i, c in enumerate(board) if c == " "]
    if not empty:
        return 0
    other = "O" if mark == "X" else "X"
    best = -100
    for i in empty:
        child = board[:i] + mark + board[i + 1 :]
        value = -minimax_value(child, other)
        best = max(best, value - 1 if value > 0 else value + 1 if value < 0 else 0)
    return best


def best_cells(board: list[str], mark: str) -> list[int]:
    """Every empty cell whose minimax value (with the speed tie-break) is the best for ``mark``."""
    text = "".join(board)
    other = "O" if mark == "X" else "X"
    scores = {i: -minimax_value(text[:i] + mark + text[i + 1 :], other) for i, c in enumerate(text) if c == " "}
    if not scores:
        raise ValueError("the board is full")
    top = max(scores.values())
    return sorted(i for i, s in scores.items() if s == top)


class TicTacToeScripted(BaseAgent):
    """Perfect play by minimax: never loses as X or O; random among equally good (and equally fast) moves."""

    name = "scripted"

    def __init__(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)

    def act(self, observation: Observation, info: Info) -> str:
        board = read_board(observation["text"])
        mark = info.get("role", "X")
        if board is None or " " not in board:
            legal = info.get("legal_actions") or ["[4]"]
            return legal[0]
        cells = best_cells(board, mark)
        return f"[{cells[int(self.rng.integers(len(cells)))]}]"


class TicTacToeOpportunist(BaseAgent):
    """A random player that always takes a win in one: uniform over the legal moves otherwise."""

    name = "opportunist"

    def __init__(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)

    def act(self, observation: Observation, info: Info) -> str:
        legal = info.get("legal_actions") or ["[4]"]
        board = read_board(observation["text"])
        if board is not None:
            wins = [f"[{cell}]" for cell in completing_cells(board, info.get("role", "X"))]
            wins = [move for move in wins if move in legal]
            if wins:
                return wins[int(self.rng.integers(len(wins)))]
        return legal[int(self.rng.integers(len(legal)))]
