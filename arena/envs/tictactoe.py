"""TicTacToe (``tictactoe-v0``).

| | |
|---|---|
| Players | 2: ``player_0`` plays X and moves first, ``player_1`` plays O |
| Action | a cell number 0–8, row-major (0 1 2 / 3 4 5 / 6 7 8), written ``[4]`` |
| Legal actions | ``infos[agent]["legal_actions"]``: ``"[k]"`` for every empty cell; ``infos[agent]["answer"]`` is a ``choice`` |
| Accepted forms | read by :func:`arena.core.parsing.match_choice`: ``[4]``, ``4``, ``**[4]**``, ``[4].``, ``I take [4]``, ``cell 4``; two different cells (``[4] or [5]``, ``row 1 col 2``) are ambiguous and invalid |
| Reward | +1 to the winner and −1 to the loser when a line of three is made; 0 each for a draw |
| Invalid move | a reply naming no empty cell (or several cells), or an occupied cell: private warning and one retry (``invalid_retries``), then forfeit (−1 / +1); ``invalid_rule="spiral"``: −1.5 / +0.5 and the game ends at once |
| Truncation | ``max_turns`` valid moves (default none: the game always ends within 9 moves) |

Cells are numbered row-major as in TextArena (PettingZoo's classic TicTacToe is column-major).
``board_view="lines"`` adds to each prompt the eight lines of three (rows, columns, diagonals) with their
marks, one per line (``0 1 2: X . O``): the same state, laid out so that a small model reads a line as three
neighbouring tokens instead of cells spread over a drawn grid. ``board_view="line-cells"`` lists the same
lines as their cells, a mark or the number of an empty cell (``X X 2``), as the grid writes them: a line
that two marks of one player share then holds the number of the cell that completes it.
``board_view="line-cells-csv"`` writes the same lines with commas between the cells (``X,X,2``): with arena's
tiny tokenizer every cell is then one token at a fixed place in its line (the spaced form splits into 3 to 5
tokens, as the tokenizer joins a space to a mark but not to a digit). ``board_view="line-cells-mine"`` writes
the comma lines from the reader's side, ``M`` for its own marks and ``T`` for the opponent's (``T,T,2``), as
AlphaZero's inputs are relative to the player to move: a win in one and a block then read the same to X and
to O. ``board_view="line-sorted-mine"`` writes each line from the reader's side with its marks first (``M`` then
``T``), a colon, then the numbers of its empty cells (``T,T:2``): a model that reads left to right (a causal
transformer) meets an empty cell's number after the marks that share its line, where in ``2,T,T`` the number
comes first. None of the views names a move as good or bad.
The game is perfect-information: nothing is secret. ``infos[agent]["state_key"]`` digests the board
and the mover's mark.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from arena.core.env import TextGameEnv
from arena.core.errors import ArenaError
from arena.core.parsing import match_choice

LINES = ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6))
MARKS = ("X", "O")
# fullmatch on stripped text (linear time on long runs of spaces); at most 3 digits, so a flood of digits
# is an unreadable move, not an int conversion past Python's 4300-digit limit.
_MOVE = re.compile(r"\[?\s*(\d{1,3})\s*\]?")

_CELLS = tuple(f"[{i}]" for i in range(9))
BOARD_VIEWS = ("grid", "lines", "line-cells", "line-cells-csv", "line-cells-mine", "line-sorted-mine")

RULES = (
    "You are playing TicTacToe. Players alternate placing their mark on a 3x3 board; X moves first. "
    "Three of your marks in a row, column or diagonal wins; a full board without a line is a draw. "
    "Cells are numbered 0-8 row by row:\n 0 | 1 | 2\n 3 | 4 | 5\n 6 | 7 | 8\n"
    "Answer with the number of an empty cell in brackets, for example [4]."
)


def winner_mark(board: list[str]) -> str | None:
    """The mark that owns a full line, or None."""
    for a, b, c in LINES:
        if board[a] != " " and board[a] == board[b] == board[c]:
            return board[a]
    return None


def completing_cells(board: list[str], mark: str) -> list[int]:
    """The empty cells that complete a line of ``mark`` (a line with two of its marks and one empty cell), in
    the order of ``LINES``, each once."""
    cells: list[int] = []
    for line in LINES:
        values = [board[i] for i in line]
        if values.count(mark) == 2 and values.count(" ") == 1:
            cell = line[values.index(" ")]
            if cell not in cells:
                cells.append(cell)
    return cells


def board_text(board: list[str]) -> str:
    cells = [mark if mark != " " else str(i) for i, mark in enumerate(board)]
    rows = [" " + " | ".join(cells[r * 3 : r * 3 + 3]) for r in range(3)]
    return "\n---+---+---\n".join(rows)


def lines_text(board: list[str]) -> str:
    """Every line of three with its marks (``.`` for an empty cell), one per line: ``0 1 2: X . O``."""
    return "\n".join(
        f"{a} {b} {c}: " + " ".join(board[i] if board[i] != " " else "." for i in (a, b, c)) for a, b, c in LINES
    )


def line_cells_text(board: list[str], sep: str = " ") -> str:
    """Every line of three as its cells, a mark or the number of an empty cell, one per line: ``X X 2``
    (``sep`` between the cells)."""
    return "\n".join(sep.join(board[i] if board[i] != " " else str(i) for i in line) for line in LINES)


def line_cells_csv_text(board: list[str]) -> str:
    """:func:`line_cells_text` with commas between the cells (``X,X,2``): one token per cell for the tiny tokenizer."""
    return line_cells_text(board, sep=",")


def relative_board(board: list[str], mark: str) -> list[str]:
    """``board`` from the side of the player with ``mark``: ``M`` for its marks, ``T`` for the opponent's."""
    return [" " if m == " " else ("M" if m == mark else "T") for m in board]


def line_cells_mine_text(board: list[str], mark: str) -> str:
    """:func:`line_cells_csv_text` from the side of the player with ``mark``: ``M`` for its marks, ``T`` for the
    opponent's (``T,T,2``)."""
    return line_cells_text(relative_board(board, mark), sep=",")


def line_sorted_mine_text(board: list[str], mark: str) -> str:
    """Every line of three from the side of the player with ``mark``: its marks first (``M`` its own, then ``T`` the
    opponent's), a colon, then the numbers of its empty cells (``T,T:2``, ``M:0,8``, ``:2,4,6``). Each line's empty
    cells come after its marks, so a left-to-right (causal) reader meets an empty cell's number knowing the marks
    that share its line."""
    relative = relative_board(board, mark)
    rows = []
    for line in LINES:
        marks = sorted(relative[i] for i in line if relative[i] != " ")  # M sorts before T
        empty = [str(i) for i in line if relative[i] == " "]
        rows.append(",".join(marks) + ":" + ",".join(empty))
    return "\n".join(rows)


#: The board views that add the lines of three: (heading, how a board's lines are written for the reader's mark).
_LINE_VIEWS: dict[str, tuple[str, Callable[[list[str], str], str]]] = {
    "lines": ("Lines of three (cells: marks, . empty)", lambda board, _mark: lines_text(board)),
    "line-cells": (
        "Lines of three (a mark, or the number of an empty cell)",
        lambda board, _mark: line_cells_text(board),
    ),
    "line-cells-csv": (
        "Lines of three (a mark, or the number of an empty cell)",
        lambda board, _mark: line_cells_csv_text(board),
    ),
    "line-cells-mine": (
        "Lines of three from your side (M: your mark, T: the opponent's, or the number of an empty cell)",
        line_cells_mine_text,
    ),
    "line-sorted-mine": (
        "Lines of three from your side (M: your marks, T: the opponent's, then : and the numbers of the empty cells)",
        line_sorted_mine_text,
    ),
}


def parse_move(action: str) -> int | None:
    """The cell number in ``action`` (``"[4]"``, ``"4"``), or None."""
    match = _MOVE.fullmatch(action.strip())
    return int(match.group(1)) if match else None


class TicTacToeEnv(TextGameEnv):
    """Two-player TicTacToe with text moves."""

    metadata = {**TextGameEnv.metadata, "name": "tictactoe_v0"}

    def __init__(
        self,
        *,
        max_turns: int | None = None,
        invalid_retries: int = 1,
        invalid_rule: str = "default",
        board_view: str = "grid",
        render_mode: str | None = None,
    ) -> None:
        if board_view not in BOARD_VIEWS:
            raise ArenaError(f"board_view must be one of {list(BOARD_VIEWS)}, got {board_view!r}")
        self.board_view = board_view
        super().__init__(
            2, max_turns=max_turns, invalid_retries=invalid_retries, invalid_rule=invalid_rule, render_mode=render_mode
        )

    def mark(self, agent: str) -> str:
        return MARKS[self.possible_agents.index(agent)]

    def role(self, agent: str) -> str:
        return self.mark(agent)

    def _setup(self) -> None:
        self.board = [" "] * 9
        self._free = list(_CELLS)  # the legal moves, in cell order
        self.say("A new game of TicTacToe begins. player_0 is X, player_1 is O.")
        self.set_turn("player_0")

    static_headers = True  # rules and seat only

    def _header(self, agent: str) -> str:
        return f"{RULES}\nYou are {agent} and play {self.mark(agent)}."

    def _prompt(self, agent: str) -> str:
        moves = " ".join(self._free)
        lines = ""
        if self.board_view in _LINE_VIEWS:
            heading, write = _LINE_VIEWS[self.board_view]
            lines = f"\n{heading}:\n{write(self.board, self.mark(agent))}"
        return f"Board:\n{board_text(self.board)}{lines}\nYou play {self.mark(agent)}. Legal moves: {moves}"

    def legal_actions(self, agent: str) -> list[str]:
        return list(self._free)

    def _play(self, agent: str, action: str) -> str | None:
        match = match_choice(action, self._free, known=_CELLS)  # the known cells not free are the occupied ones
        if match.action is None:
            if len(match.named) == 1:
                return f"Cell {match.named[0].strip('[]')} is already taken. {match.reason}"
            if match.named:
                return match.reason  # ambiguous: several cells named
            return f"Answer with one cell number 0-8 in brackets; empty cells: {' '.join(self.legal_actions(agent))}"
        cell = int(match.action.strip("[]"))
        mark = self.mark(agent)
        self.board[cell] = mark
        self._free.remove(match.action)
        self.say(f"takes cell {cell} ({mark}).", sender=agent, kind="action")
        other = self.possible_agents[1 - self.possible_agents.index(agent)]
        if winner_mark(self.board) == mark:
            self.end_game(f"{agent} ({mark}) wins.", winners=[agent], rewards={agent: 1.0, other: -1.0})
        elif " " not in self.board:
            self.end_game("draw: the board is full.")
        else:
            self.set_turn(other)
        return None

    def spectator_text(self) -> str:
        return "Board:\n" + board_text(self.board)

    def information_state(self, agent: str) -> dict:
        return {"board": "".join(self.board), "mark": self.mark(agent)}
