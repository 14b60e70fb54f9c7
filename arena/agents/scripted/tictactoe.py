"""A TicTacToe heuristic: win, else block, else centre, else a corner, else any cell."""

from __future__ import annotations

import re

import numpy as np

from arena.agents.base import BaseAgent, Info, Observation
from arena.envs.tictactoe import LINES

_BOARD_ROW = re.compile(r"^ (\S) \| (\S) \| (\S)$", re.MULTILINE)


def read_board(text: str) -> list[str] | None:
    """The last board drawn in an observation, as 9 cells ("X", "O" or " ")."""
    rows = _BOARD_ROW.findall(text)
    if len(rows) < 3:
        return None
    cells = [c for row in rows[-3:] for c in row]
    return [c if c in "XO" else " " for c in cells]


def choose_cell(board: list[str], mark: str, rng: np.random.Generator | None = None) -> int:
    """Win, block, centre, corner, side — the classic rule order."""
    other = "O" if mark == "X" else "X"
    for who in (mark, other):
        for line in LINES:
            values = [board[i] for i in line]
            if values.count(who) == 2 and values.count(" ") == 1:
                return line[values.index(" ")]
    for group in ((4,), (0, 2, 6, 8), (1, 3, 5, 7)):
        free = [i for i in group if board[i] == " "]
        if free:
            return free[int(rng.integers(len(free)))] if rng is not None else free[0]
    raise ValueError("the board is full")


class TicTacToeScripted(BaseAgent):
    """Plays the win/block/centre/corner rule; ties among corners are broken by a seeded RNG."""

    name = "scripted"

    def __init__(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)

    def act(self, observation: Observation, info: Info) -> str:
        board = read_board(observation["text"])
        mark = info.get("role", "X")
        if board is None or " " not in board:
            legal = info.get("legal_actions") or ["[4]"]
            return legal[0]
        return f"[{choose_cell(board, mark, self.rng)}]"
