"""Rollout collection: groups of seeded matches against sampled opponents, every pending learner turn
across all matches batched into one backend call by :func:`arena.agents.scheduler.play_many`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from arena.agents.scheduler import MatchSpec, play_many
from arena.core.registry import make
from arena.trainers.episodes import Episode, episode_from_outcome
from arena.trainers.pool import OpponentPool

LEARNER = "learner"


def plan_matches(
    envs: Mapping[str, Mapping[str, Any]],
    groups_per_env: int,
    group_size: int,
    pool: OpponentPool,
    rng: np.random.Generator,
    learners: Mapping[str, Any],
    llm_factory: Callable[[str], Any],
) -> tuple[list[MatchSpec], list[tuple[str, str]]]:
    """The matches of one iteration and, for each, its (group id, opponent kind). A group shares the env,
    seed, opponent kind and the learner's seat, so group baselines compare like with like."""
    specs, labels = [], []
    for env_id, kwargs in envs.items():
        learner = learners[env_id]
        for g in range(groups_per_env):
            seed = int(rng.integers(2**31 - 1))
            kind = pool.sample(rng)
            for _ in range(group_size):
                env = make(env_id, **kwargs)
                seats = list(env.possible_agents)
                if kind == "self":
                    agents = dict.fromkeys(seats, learner)
                else:
                    learner_seat = seats[g % len(seats)]
                    agents = {
                        s: learner
                        if s == learner_seat
                        else pool.opponent(kind, env_id, int(rng.integers(2**31 - 1)), rng, llm_factory)
                        for s in seats
                    }
                specs.append(MatchSpec(env=env, agents=agents, seed=seed))
                labels.append((f"{env_id}|{seed}|{kind}|{g}", kind))
    return specs, labels


def collect(
    specs: list[MatchSpec], labels: list[tuple[str, str]], invalid_penalty: float
) -> tuple[list[Episode], list[Any]]:
    """Play every match (batched) and convert the outcomes to learner episodes."""
    outcomes = play_many(specs, traced=True)
    episodes = [
        episode_from_outcome(o, LEARNER, group, kind, invalid_penalty)
        for o, (group, kind) in zip(outcomes, labels, strict=True)
    ]
    return episodes, outcomes
