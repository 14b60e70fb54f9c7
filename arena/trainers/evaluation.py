"""Evaluation against fixed opponents (win/loss rate and mean return per seat; per side in team games,
the success rate in single-agent games) and, for Kuhn Poker, the exact exploitability of the policy
over its 12 information sets."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
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
#: Evaluation matches in flight at once (continuous batching): bounds memory, whatever ``eval_games`` is.
EVAL_CONCURRENCY = 64


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
        agents = _lineup(seats, mine, learner, opponent, env_id, seed + k)
        specs.append(MatchSpec(env=env, agents=agents, seed=seed + k))
        learner_seats.append(mine)
    outcomes = play_many(specs, traced=False, concurrency=EVAL_CONCURRENCY)
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
        _add_outcome_metrics(outcome, rows)
    result["invalid_rate"] = invalid / max(turns, 1)
    result.update({key: float(np.mean(values)) for key, values in rows.items()})
    return result


def kuhn_exploitability(learner: Any, env_id: str = "kuhn-poker-v0") -> float:
    """Exact exploitability (NashConv / 2) of the learner's action distribution at each information set,
    asked with the observation the env really shows there (see :mod:`arena.league.exploitability`)."""
    from arena.envs.kuhn_solver import exploitability
    from arena.league.exploitability import agent_policy

    return float(exploitability(agent_policy(learner, env_id)))


def wilson_interval(successes: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (95 % by default): unlike the normal
    approximation it stays inside [0, 1] and is sensible near 0 and 1 and for small ``n``."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _add_outcome_metrics(outcome: Any, rows: dict[str, list[float]]) -> None:
    """Append the :data:`OUTCOME_METRICS` values the game reported at the end of ``outcome`` to ``rows``."""
    result = outcome.transcript.result if outcome.transcript is not None else None
    info = (result or {}).get("info") or {}
    for key in OUTCOME_METRICS:
        if isinstance(info.get(key), bool | int | float):
            rows.setdefault(key, []).append(float(info[key]))


def _opponent_seed(match_seed: int, index: int) -> int:
    """The seed of a match's ``index``-th opponent seat: its own stream per seat (the first one keeps the
    match seed), so that several scripted or random opponents do not draw the same numbers."""
    return match_seed + 100_003 * index


def _lineup(
    seats: Sequence[str], mine: Sequence[str], learner: Any, opponent: str, env_id: str, match_seed: int
) -> dict[str, Any]:
    """Every seat's agent, in seat order: ``learner`` in ``mine`` (in every seat for ``opponent="self"``),
    elsewhere a fresh ``opponent`` with its own seed (:func:`_opponent_seed`)."""
    others = [] if opponent == "self" else [s for s in seats if s not in mine]
    seeds = {s: _opponent_seed(match_seed, i) for i, s in enumerate(others)}
    return {s: _opponent(opponent, env_id, seeds[s]) if s in seeds else learner for s in seats}


def _opponent(opponent: str, env_id: str, seed: int) -> Any:
    return RandomAgent(seed) if opponent == "random" else make_agent(opponent, env_id, seed=seed)


def match_specs(
    learner: Any,
    env_id: str,
    env_kwargs: Mapping[str, Any],
    opponent: str,
    games: int,
    roles: Sequence[str] | None = None,
    *,
    side_seats: int = 0,
    seed: int = 10_000,
) -> tuple[list[MatchSpec], list[list[str]]]:
    """The matches :func:`evaluate_side` plays (same arguments) and, per match, the learner's seats: probes that
    need more than its summary play exactly these."""
    from arena.trainers.rollout import side_seats_of

    specs, seats_of = [], []
    for k in range(games):
        env = make(env_id, **env_kwargs)
        if roles is None:
            mine = list(env.possible_agents)
        else:
            mine = side_seats_of(env_id, env_kwargs, seed + k, roles, limit=side_seats, turn=k)
        # opponent "self": the learner plays the other side too (the side's win rate is then its role's)
        agents = _lineup(env.possible_agents, mine, learner, opponent, env_id, seed + k)
        specs.append(MatchSpec(env=env, agents=agents, seed=seed + k))
        seats_of.append(mine)
    return specs, seats_of


def evaluate_side(
    learner: Any,
    env_id: str,
    env_kwargs: Mapping[str, Any],
    opponent: str,
    games: int,
    roles: Sequence[str] | None = None,
    *,
    side_seats: int = 0,
    seed: int = 10_000,
) -> dict[str, Any]:
    """Play ``games`` seeded matches (seeds ``seed``, ``seed + 1``, …) with ``learner`` in the seats dealt
    one of ``roles`` (every seat of a single-agent game when ``roles`` is None; with ``side_seats`` > 0
    only that many, rotating) and ``opponent`` (``random`` or a registered agent such as ``scripted``)
    in the others (``self``: the learner plays them too).

    Returns the share of matches the learner's side won (a learner seat is among the winners: the
    success rate of a single-agent game) with its 95 % Wilson interval, the share truncated, the mean
    return of a learner seat, the invalid-move rates of its choice turns and free-text turns, and where
    the game reports votes (``votes`` and ``spies`` in the final info, or ``vote_accuracy``) the share of
    the learner's non-abstaining votes cast on a spy or werewolf, with its vote and abstention counts; and
    the mean of each :data:`OUTCOME_METRICS` key the game reports at its end."""
    specs, seats_of = match_specs(learner, env_id, env_kwargs, opponent, games, roles, side_seats=side_seats, seed=seed)
    outcomes = play_many(specs, traced=False, concurrency=EVAL_CONCURRENCY)
    wins = truncated = 0
    returns: list[float] = []
    turns = {"choice": [0, 0], "text": [0, 0]}  # kind -> [turns, invalid]
    votes = {"on_target": 0.0, "cast": 0, "abstained": 0}
    outcome_rows: dict[str, list[float]] = {}
    for outcome, mine in zip(outcomes, seats_of, strict=True):
        _add_outcome_metrics(outcome, outcome_rows)
        wins += any(s in outcome.winners for s in mine)
        end = outcome.transcript.result if outcome.transcript is not None else None
        truncated += bool(outcome.truncated or (end or {}).get("truncated"))
        returns.extend(float(outcome.returns.get(s, 0.0)) for s in mine)
        for t in outcome.turns:
            if t.seat in mine:
                kind = "choice" if t.info.get("legal_actions") else "text"
                turns[kind][0] += 1
                turns[kind][1] += bool(t.invalid)
        _count_votes(outcome, mine, votes)
    low, high = wilson_interval(wins, games)
    result: dict[str, Any] = {
        "games": games,
        "opponent": opponent,
        "win_rate": wins / max(games, 1),
        "win_ci_low": low,
        "win_ci_high": high,
        "truncated_rate": truncated / max(games, 1),
        "mean_return": float(np.mean(returns)) if returns else 0.0,
    }
    for kind, (n, bad) in turns.items():
        if n:
            result[f"invalid_rate_{kind}"] = bad / n
    result.update({key: float(np.mean(values)) for key, values in outcome_rows.items()})
    if votes["cast"] or votes["abstained"]:
        result["vote_accuracy"] = votes["on_target"] / votes["cast"] if votes["cast"] else 0.0
        result["votes_cast"] = votes["cast"]
        result["abstentions"] = votes["abstained"]
    return result


def _count_votes(outcome: Any, seats: Sequence[str], counts: dict[str, Any]) -> None:
    """Add the learner seats' votes of one match to ``counts``: from the ballots (``votes``, each round's
    voter -> target, and ``spies``) where the final info has them; else each seat's ``vote_accuracy``
    (its share of votes on a spy or werewolf), counted as one vote per seat that voted."""
    result = outcome.transcript.result if outcome.transcript is not None else None
    info = (result or {}).get("info") or {}
    targets = set(info.get("spies") or [])
    if not targets and isinstance(info.get("roles"), Mapping):
        targets = {s for s, r in info["roles"].items() if r == "werewolf"}
    ballots = info.get("votes")
    if isinstance(ballots, list) and targets:
        for round_votes in ballots:
            # spy: {voter: target} per round; werewolf: {"day", "revote", "ballot": {voter: target}}
            ballot = round_votes.get("ballot", round_votes) if isinstance(round_votes, Mapping) else {}
            for voter, target in dict(ballot).items():
                if voter not in seats:
                    continue
                if str(target).strip("[]") == "abstain":
                    counts["abstained"] += 1
                else:
                    counts["cast"] += 1
                    counts["on_target"] += str(target).strip("[]") in targets
        return
    accuracy = info.get("vote_accuracy")
    if isinstance(accuracy, Mapping):
        for seat in seats:
            if accuracy.get(seat) is not None:
                counts["cast"] += 1
                counts["on_target"] += float(accuracy[seat])
