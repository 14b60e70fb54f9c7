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

#: End-of-game ``infos`` that say how a game went beyond who won, averaged over the evaluation games where a
#: game reports them (None skipped): negotiation's agreement, Pareto rate and Nash ratio, public goods'
#: contribution rate (mean contribution / endowment over every player) and efficiency.
OUTCOME_METRICS = ("agreement", "pareto_optimal", "nash_ratio", "contribution_rate", "efficiency")


def evaluate_against(
    learner: Any, env_id: str, env_kwargs: Mapping[str, Any], opponent: str, games: int, seed: int = 10_000
) -> dict[str, Any]:
    """Play ``games`` matches of ``learner`` against ``opponent`` (``random``, or a registered agent of the
    game such as ``scripted``), the learner taking each seat in turn, or with ``opponent="self"`` every seat.
    Returns per-seat and overall win/draw/loss rates and mean returns (win and loss only against others),
    and the mean of each :data:`OUTCOME_METRICS` key the game reports at its end."""
    specs, learner_seats = [], []
    for k in range(games):
        env = make(env_id, **env_kwargs)
        seats = list(env.possible_agents)
        mine = seats if opponent == "self" else [seats[k % len(seats)]]
        agents = {
            s: learner
            if s in mine
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
    for outcome, mine in zip(outcomes, learner_seats, strict=True):
        for seat in mine:
            ret = float(outcome.returns.get(seat, 0.0))
            rows.setdefault(f"mean_return_{seat}", []).append(ret)
            rows.setdefault("mean_return", []).append(ret)
            if opponent != "self":
                best_other = max((v for s, v in outcome.returns.items() if s != seat), default=0.0)
                rows.setdefault("win_rate", []).append(float(ret > best_other))
                rows.setdefault("loss_rate", []).append(float(ret < best_other))
                rows.setdefault(f"loss_rate_{seat}", []).append(float(ret < best_other))
            own = [t for t in outcome.turns if t.seat == seat]
            turns += len(own)
            invalid += sum(1 for t in own if t.invalid)
        info = (outcome.transcript.result or {}).get("info") or {}
        for key in OUTCOME_METRICS:
            if isinstance(info.get(key), bool | int | float):
                rows.setdefault(key, []).append(float(info[key]))
    result["invalid_rate"] = invalid / max(turns, 1)
    result.update({key: float(np.mean(values)) for key, values in rows.items()})
    return result


def kuhn_exploitability(learner: Any, env_id: str = "kuhn-poker-v0") -> float:
    """Exact exploitability (NashConv / 2) of the learner's action distribution at each information set,
    asked with the observation the env really shows there (see :mod:`arena.league.exploitability`)."""
    from arena.envs.kuhn_solver import exploitability
    from arena.league.exploitability import agent_policy

    return float(exploitability(agent_policy(learner, env_id)))
