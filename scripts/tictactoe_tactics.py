"""Where a TicTacToe policy loses: per seat, how often it takes a win in one and makes a needed block.

Run: ``python scripts/tictactoe_tactics.py llm:runs/cpu-tictactoe/checkpoint,sample=0 --games 300``. Plays
``--games`` matches against the random agent (seeds from ``--seed``, the seats alternating) and, at every
decision of the policy, checks the board: a *win available* is a line holding two of its marks and an empty
cell (taking any such cell counts), a *block needed* a line holding two of the opponent's marks and an empty
cell while no win is available (taking any such cell counts). Prints one row per seat: games, loss rate,
wins taken and blocks made. The perfect minimax player (``scripted``) takes every win and makes every block.

``--reference`` prints instead the exact loss rates against random play (by enumerating every game, no
sampling) of reference players that take a win in one with probability ``win`` and make a needed block with
probability ``block``, and play uniformly at random otherwise: what a given rate of wins taken and blocks made is
worth, so a policy's tactics can be read against the < 10 % target; and two deterministic players that prefer the
centre, then the corners, then the edges, without and with wins and blocks (what a fixed preference of cells is
worth without reading threats). It also prints the best response to random play, the policy that maximises the
return (+1 win, -1 loss) a learner is trained on: whether that return and the target agree.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Callable
from functools import cache
from typing import Any

import arena
from arena.agents import RandomAgent
from arena.agents.specs import make_agent
from arena.envs.tictactoe import BOARD_VIEWS, completing_cells, winner_mark

SEAT_MARKS = {"player_0": "X", "player_1": "O"}


def completions(board: list[str], mark: str) -> set[int]:
    """The empty cells that complete a line of ``mark`` (two of its marks and one empty cell)."""
    return set(completing_cells(board, mark))


def measure(agent_spec: str, games: int, seed: int = 20_000, board_view: str = "grid") -> dict[str, Counter]:
    """Counts per mark (X, O): games, lost, decisions, win_available, took_win, block_needed, blocked."""
    learner: Any = make_agent(agent_spec, "tictactoe-v0", seed=0)
    counts = {mark: Counter() for mark in SEAT_MARKS.values()}
    for g in range(games):
        env = arena.make("tictactoe-v0", board_view=board_view)
        env.reset(seed=seed + g)
        me = env.possible_agents[g % 2]
        mark, other = SEAT_MARKS[me], SEAT_MARKS[env.possible_agents[1 - g % 2]]
        opponent = RandomAgent(seed=seed + g)
        tally = counts[mark]
        for seat in env.agent_iter():
            observation, _, terminated, truncated, info = env.last()
            if terminated or truncated:
                env.step(None)
                continue
            if seat != me:
                env.step(str(opponent.act(observation, info)))
                continue
            board = list(env.unwrapped.board)
            wins, blocks = completions(board, mark), completions(board, other)
            action = str(learner.act(observation, info))
            digits = action.strip().strip("[]")
            cell = int(digits) if digits.isdigit() else -1
            tally["decisions"] += 1
            if wins:
                tally["win_available"] += 1
                tally["took_win"] += cell in wins
            elif blocks:
                tally["block_needed"] += 1
                tally["blocked"] += cell in blocks
            env.step(action)
        tally["games"] += 1
        tally["lost"] += env.unwrapped.returns[me] < 0
    return counts


#: A player as a distribution over cells for a board (9 cells, " " empty) and its mark.
Policy = Callable[[tuple[str, ...], str], dict[int, float]]
OTHER_MARK = {"X": "O", "O": "X"}


def next_boards(board: tuple[str, ...], to_move: str) -> list[tuple[int, tuple[str, ...]]]:
    """Each empty cell of ``board`` and the board after ``to_move`` plays there."""
    return [(i, (*board[:i], to_move, *board[i + 1 :])) for i, c in enumerate(board) if c == " "]


def tactic_policy(win: float = 1.0, block: float = 1.0) -> Policy:
    """Where a win in one is open, takes it with probability ``win``; where none is but a block is needed, makes it
    with probability ``block``; otherwise (and when it does neither) plays a uniformly random empty cell, as the
    tactics table counts wins taken and blocks made. ``win=0, block=0`` is the random agent."""

    def play(board: tuple[str, ...], mark: str) -> dict[int, float]:
        empty = [i for i, c in enumerate(board) if c == " "]
        dist = {i: 1.0 / len(empty) for i in empty}
        for tactic, p in (
            (completing_cells(list(board), mark), win),
            (completing_cells(list(board), OTHER_MARK[mark]), block),
        ):
            if tactic:
                dist = {i: (1 - p) * q for i, q in dist.items()}
                dist[tactic[0]] += p
                return dist
        return dist

    return play


#: A fixed order of preference with no reading of the board: the centre, the corners, then the edges.
CENTRE_CORNERS_EDGES = (4, 0, 2, 6, 8, 1, 3, 5, 7)


def preference_policy(order: tuple[int, ...] = CENTRE_CORNERS_EDGES, tactics: bool = False) -> Policy:
    """A deterministic player: the first empty cell of ``order``; with ``tactics``, first a win in one, else a
    needed block (the earliest such cell in ``order``). What a policy that prefers some cells, without reading
    threats, is worth against random play."""

    def play(board: tuple[str, ...], mark: str) -> dict[int, float]:
        if tactics:
            for cells in (completing_cells(list(board), mark), completing_cells(list(board), OTHER_MARK[mark])):
                if cells:
                    return {min(cells, key=order.index): 1.0}
        return {next(i for i in order if board[i] == " "): 1.0}

    return play


def exact_loss_rate(policy: Policy, mark: str) -> float:
    """The probability that ``policy`` playing ``mark`` loses to the uniformly random player, over every game."""
    random_player = tactic_policy(0.0, 0.0)

    @cache
    def lose(board: tuple[str, ...], to_move: str) -> float:
        won = winner_mark(list(board))
        if won is not None:
            return float(won != mark)
        if " " not in board:
            return 0.0
        dist = (policy if to_move == mark else random_player)(board, to_move)
        return sum(
            dist.get(i, 0.0) * lose(after, OTHER_MARK[to_move])
            for i, after in next_boards(board, to_move)
            if dist.get(i)
        )

    return lose((" ",) * 9, "X")


def reference_table(
    settings: tuple[tuple[float, float], ...] = ((0, 0), (1, 0), (0, 1), (1, 0.5), (1, 0.75), (1, 0.9), (1, 1)),
) -> str:
    """Exact loss rates against random play, as X and as O, of :func:`tactic_policy` at each (win, block), then of
    the centre-corners-edges :func:`preference_policy` without and with tactics."""
    rows = ["| wins taken | blocks made | loss rate as X | loss rate as O |", "|---:|---:|---:|---:|"]
    for win, block in settings:
        policy = tactic_policy(win, block)
        rows.append(
            f"| {win:.2f} | {block:.2f} | {exact_loss_rate(policy, 'X'):.3f} | {exact_loss_rate(policy, 'O'):.3f} |"
        )
    for tactics in (False, True):
        policy = preference_policy(tactics=tactics)
        what = "with every win and block" if tactics else "no tactics"
        rows.append(
            f"| centre, corners, edges ({what}) | | {exact_loss_rate(policy, 'X'):.3f} | {exact_loss_rate(policy, 'O'):.3f} |"
        )
    return "\n".join(rows)


def best_response(mark: str) -> tuple[float, float]:
    """(win rate, loss rate) against the uniformly random player of the policy that maximises the expected return,
    +1 for a win and -1 for a loss, playing ``mark`` (ties between moves broken toward the higher win rate)."""

    @cache
    def value(board: tuple[str, ...], to_move: str) -> tuple[float, float, float]:  # (return, P(win), P(loss))
        won = winner_mark(list(board))
        if won is not None:
            return (1.0, 1.0, 0.0) if won == mark else (-1.0, 0.0, 1.0)
        if " " not in board:
            return (0.0, 0.0, 0.0)
        children = [value(after, OTHER_MARK[to_move]) for _, after in next_boards(board, to_move)]
        if to_move == mark:
            return max(children)
        return tuple(sum(child[k] for child in children) / len(children) for k in range(3))  # type: ignore[return-value]

    _, win, loss = value((" ",) * 9, "X")
    return win, loss


def table(counts: dict[str, Counter]) -> str:
    rows = ["| seat | games | loss rate | wins taken | blocks made |", "|---|---:|---:|---:|---:|"]
    for mark, c in counts.items():
        took = f"{c['took_win']}/{c['win_available']} ({c['took_win'] / max(1, c['win_available']):.2f})"
        blocked = f"{c['blocked']}/{c['block_needed']} ({c['blocked'] / max(1, c['block_needed']):.2f})"
        rows.append(f"| {mark} | {c['games']} | {c['lost'] / max(1, c['games']):.3f} | {took} | {blocked} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> dict[str, Counter]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("agent", nargs="?", help="an agent spec: scripted, random, llm:DIR,sample=0 (greedy), ...")
    parser.add_argument("--games", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20_000)
    parser.add_argument("--board-view", default="grid", choices=BOARD_VIEWS)
    parser.add_argument("--reference", action="store_true", help="print the exact table of reference players")
    args = parser.parse_args(argv)
    if args.reference:
        print(reference_table())
        for mark in ("X", "O"):
            win, loss = best_response(mark)
            print(f"best response to random play as {mark}: loss rate {loss:.3f}, win rate {win:.3f}")
        return {}
    if args.agent is None:
        parser.error("an agent spec is needed (or --reference)")
    counts = measure(args.agent, args.games, args.seed, args.board_view)
    print(table(counts))
    return counts


if __name__ == "__main__":
    main()
