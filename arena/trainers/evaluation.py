"""Evaluation against fixed opponents (win/loss rate and mean return per seat) and, for Kuhn Poker,
the exact exploitability of the policy over its 12 information sets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from arena.agents.random_agent import RandomAgent
from arena.agents.scheduler import MatchSpec, play_many
from arena.agents.specs import make_agent
from arena.core.registry import make


def evaluate_against(
    learner: Any, env_id: str, env_kwargs: Mapping[str, Any], opponent: str, games: int, seed: int = 10_000
) -> dict[str, Any]:
    """Play ``games`` matches of ``learner`` against ``opponent`` (``random`` or ``scripted``), the learner
    taking each seat in turn; returns per-seat and overall win/draw/loss rates and mean returns."""
    specs, learner_seats = [], []
    for k in range(games):
        env = make(env_id, **env_kwargs)
        seats = list(env.possible_agents)
        mine = seats[k % len(seats)]
        agents = {
            s: learner
            if s == mine
            else (RandomAgent(seed + k) if opponent == "random" else make_agent(opponent, env_id, seed=seed + k))
            for s in seats
        }
        specs.append(MatchSpec(env=env, agents=agents, seed=seed + k))
        learner_seats.append(mine)
    outcomes = play_many(specs, traced=False)
    rows: dict[str, list[float]] = {}
    result: dict[str, Any] = {"games": games, "opponent": opponent}
    invalid = 0
    turns = 0
    for outcome, seat in zip(outcomes, learner_seats, strict=True):
        ret = float(outcome.returns.get(seat, 0.0))
        others = [v for s, v in outcome.returns.items() if s != seat]
        best_other = max(others) if others else 0.0
        rows.setdefault(seat, []).append(ret)
        rows.setdefault("win", []).append(float(ret > best_other))
        rows.setdefault("loss", []).append(float(ret < best_other))
        rows.setdefault(f"{seat}_loss", []).append(float(ret < best_other))
        mine = [t for t in outcome.turns if t.seat == seat]
        turns += len(mine)
        invalid += sum(1 for t in mine if t.invalid)
    result["win_rate"] = float(np.mean(rows["win"]))
    result["loss_rate"] = float(np.mean(rows["loss"]))
    result["invalid_rate"] = invalid / max(turns, 1)
    for key, values in rows.items():
        if key.startswith("player_") and not key.endswith("_loss"):
            result[f"mean_return_{key}"] = float(np.mean(values))
        elif key.endswith("_loss"):
            result[f"loss_rate_{key[:-5]}"] = float(np.mean(values))
    return result


def kuhn_exploitability(learner: Any, env_id: str = "kuhn-poker-v0") -> float:
    """Exact exploitability (NashConv / 2) of the learner's action distribution at each information set,
    asked with the observation the env really shows there (see :mod:`arena.league.exploitability`)."""
    from arena.envs.kuhn_solver import exploitability
    from arena.league.exploitability import agent_policy

    return float(exploitability(agent_policy(learner, env_id)))
