"""Where a TicTacToe policy loses: per seat, how often it takes a win in one and makes a needed block.

Run: ``python scripts/tictactoe_tactics.py llm:runs/cpu-tictactoe/checkpoint,sample=0 --games 300``. Plays
``--games`` matches against the random agent (seeds from ``--seed``, the seats alternating) and, at every
decision of the policy, checks the board: a *win available* is a line holding two of its marks and an empty
cell (taking any such cell counts), a *block needed* a line holding two of the opponent's marks and an empty
cell while no win is available (taking any such cell counts). Prints one row per seat: games, loss rate,
wins taken and blocks made. The perfect minimax player (``scripted``) takes every win and makes every block.
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

import arena
from arena.agents import RandomAgent
from arena.agents.specs import make_agent
from arena.envs.tictactoe import BOARD_VIEWS, completing_cells

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


def table(counts: dict[str, Counter]) -> str:
    rows = ["| seat | games | loss rate | wins taken | blocks made |", "|---|---:|---:|---:|---:|"]
    for mark, c in counts.items():
        took = f"{c['took_win']}/{c['win_available']} ({c['took_win'] / max(1, c['win_available']):.2f})"
        blocked = f"{c['blocked']}/{c['block_needed']} ({c['blocked'] / max(1, c['block_needed']):.2f})"
        rows.append(f"| {mark} | {c['games']} | {c['lost'] / max(1, c['games']):.3f} | {took} | {blocked} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> dict[str, Counter]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("agent", help="an agent spec: scripted, random, llm:DIR,sample=0 (greedy), ...")
    parser.add_argument("--games", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20_000)
    parser.add_argument("--board-view", default="grid", choices=BOARD_VIEWS)
    args = parser.parse_args(argv)
    counts = measure(args.agent, args.games, args.seed, args.board_view)
    print(table(counts))
    return counts


if __name__ == "__main__":
    main()
