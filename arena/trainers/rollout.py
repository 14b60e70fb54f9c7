"""Rollout collection: groups of seeded matches against sampled opponents, every pending learner turn
across all matches batched into one backend call by :func:`arena.agents.scheduler.play_many`.

Planning and building are separate steps: :func:`plan_groups` draws everything random for an iteration
from the trainer's RNG and returns plain, picklable :class:`GroupPlan`s; :func:`build_specs` turns plans
into :class:`~arena.agents.scheduler.MatchSpec`s with live agents. The in-process loop does both here;
Ray rollout workers (:mod:`arena.trainers.ray_rollout`) receive the plans and build the matches themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from arena.agents.scheduler import MatchSpec, play_many
from arena.core.errors import ArenaError
from arena.core.registry import make
from arena.trainers.episodes import Episode, episode_from_outcome
from arena.trainers.pool import OpponentPool

LEARNER = "learner"


@dataclass(frozen=True)
class OpponentPlan:
    """One opponent seat of one match: the agent's seed and, for ``past``, the snapshot directory."""

    seat: str
    seed: int
    snapshot: str | None = None


@dataclass
class GroupPlan:
    """One group of matches, everything random already drawn: the env, the shared reset seed, the
    opponent kind, the learner's seats (``None`` in self-play: every seat), the side they play (``None``
    without ``learner_sides``) and, per match, its opponents."""

    env_id: str
    env_kwargs: dict[str, Any]
    seed: int
    kind: str
    index: int
    seats: list[str]
    learner_seats: list[str] | None
    side: str | None = None
    matches: list[list[OpponentPlan]] = field(default_factory=list)

    @property
    def group(self) -> str:
        return f"{self.env_id}|{self.seed}|{self.kind}|{self.index}"


def plan_groups(
    envs: Mapping[str, Mapping[str, Any]],
    groups_per_env: int,
    group_size: int,
    pool: OpponentPool,
    rng: np.random.Generator,
    sides: Mapping[str, Sequence[str]] | None = None,
    side_seats: int = 0,
) -> list[GroupPlan]:
    """The groups of one iteration as plain data. A group shares the env, seed, opponent kind and the
    learner's seats, so group baselines compare like with like. Against an opponent (not ``self``) the
    learner takes one seat, rotating over the groups; with ``sides`` ({side: roles}) it takes instead
    every seat dealt one of a side's roles (:func:`side_seats_of`), the sides taking turns group by group,
    or only ``side_seats`` of them. Draw order: per group the seed, the kind, then per match and
    opponent seat (in seat order) the opponent's seed and, for ``past``, the snapshot."""
    plans = []
    names = list(sides or {})
    for env_id, kwargs in envs.items():
        seats = list(make(env_id, **kwargs).possible_agents)
        for g in range(groups_per_env):
            seed = int(rng.integers(2**31 - 1))
            kind = pool.sample(rng, env_id)
            side = names[g % len(names)] if names and kind != "self" else None
            if kind == "self":
                mine = None
            elif side is not None:
                mine = side_seats_of(env_id, kwargs, seed, sides[side], limit=side_seats, turn=g // len(names))
            else:
                mine = [seats[g % len(seats)]]
            plan = GroupPlan(env_id, dict(kwargs), seed, kind, g, list(seats), mine, side)
            for _ in range(group_size):
                opponents = []
                if kind != "self":
                    for s in seats:
                        if s in mine:
                            continue
                        opp_seed = int(rng.integers(2**31 - 1))
                        snapshot = pool.pick_snapshot(rng) if kind == "past" else None
                        opponents.append(OpponentPlan(s, opp_seed, snapshot))
                plan.matches.append(opponents)
            plans.append(plan)
    return plans


def side_seats_of(
    env_id: str, kwargs: Mapping[str, Any], seed: int, roles: Sequence[str], *, limit: int = 0, turn: int = 0
) -> list[str]:
    """The seats dealt one of ``roles`` in ``env_id`` reset with ``seed`` (roles are dealt at reset and read
    with the env's ``role(seat)``), in seat order; with ``limit`` > 0 only that many, starting at the
    ``turn``-th of them (so repeated calls rotate over the side's seats)."""
    env = make(env_id, **kwargs)
    env.reset(seed=seed)
    raw = getattr(env, "unwrapped", env)
    dealt = {s: str(raw.role(s)) for s in env.possible_agents}
    mine = [s for s in env.possible_agents if dealt[s] in roles]
    if not mine:
        raise ArenaError(
            f"{env_id}: no seat has a role in {list(roles)} (seed {seed} dealt {sorted(set(dealt.values()))})"
        )
    if limit > 0:
        start = turn % len(mine)
        mine = (mine[start:] + mine[:start])[:limit]
    return mine


def build_specs(
    plans: Sequence[GroupPlan],
    learners: Mapping[str, Any],
    pool: OpponentPool,
    llm_factory: Callable[[str, str], Any],
) -> tuple[list[MatchSpec], list[tuple[str, str]]]:
    """Fresh envs and agents for planned groups: the matches and, for each, its (group id, opponent kind).
    ``pool`` builds (and caches) the opponents; ``llm_factory(path, env_id)`` loads ``past`` snapshots."""
    specs, labels = [], []
    for plan in plans:
        learner = learners[plan.env_id]
        for opponents in plan.matches:
            env = make(plan.env_id, **plan.env_kwargs)
            by_seat = {o.seat: o for o in opponents}
            agents = {}
            for s in env.possible_agents:
                o = by_seat.get(s)
                if o is None:
                    agents[s] = learner
                else:
                    agents[s] = pool.opponent(plan.kind, plan.env_id, o.seed, llm_factory, snapshot=o.snapshot)
            specs.append(MatchSpec(env=env, agents=agents, seed=plan.seed))
            labels.append((plan.group, plan.kind))
    return specs, labels


def plan_matches(
    envs: Mapping[str, Mapping[str, Any]],
    groups_per_env: int,
    group_size: int,
    pool: OpponentPool,
    rng: np.random.Generator,
    learners: Mapping[str, Any],
    llm_factory: Callable[[str, str], Any],
) -> tuple[list[MatchSpec], list[tuple[str, str]]]:
    """The matches of one iteration and, for each, its (group id, opponent kind):
    :func:`build_specs` of :func:`plan_groups`."""
    return build_specs(plan_groups(envs, groups_per_env, group_size, pool, rng), learners, pool, llm_factory)


def collect(specs: list[MatchSpec], labels: list[tuple[str, str]], config: Any) -> tuple[list[Episode], list[Any]]:
    """Play every match (batched) and convert the outcomes to learner episodes, with each game's reward
    options and the config's GiGPO anchor."""
    outcomes = play_many(specs, traced=True)
    episodes = [
        episode_from_outcome(o, LEARNER, group, kind, config.reward_options(o.env_id), config.anchor)
        for o, (group, kind) in zip(outcomes, labels, strict=True)
    ]
    return episodes, outcomes


def max_new_tokens_for(config: Any, env_id: str) -> int:
    """The generation budget of ``env_id``: ``max_new_tokens`` (an integer, or its entry in a
    ``{game: integer}`` mapping), else the game's default from the LLM agent."""
    value = config.max_new_tokens
    if isinstance(value, Mapping):
        value = value.get(env_id)
    if value is not None:
        return int(value)
    from arena.agents import llm

    default = getattr(llm, "default_max_new_tokens", None)
    if default is None:
        raise ArenaError(f"no default max_new_tokens for {env_id}: set max_new_tokens (an integer or {{game: n}})")
    return int(default(env_id))


def policy_agent(
    backend: Any, config: Any, env_id: str, *, name: str = LEARNER, seed: int | None = None, sample: bool = True
) -> Any:
    """An agent playing the policy in ``backend`` with the config's answer settings: sampling at
    ``temperature`` (``sample=True``) or greedy, constrained to legal actions in ``config.constrained``, the
    legal list left out of the prompt in ``config.hide_legal``, images blanked with ``config.blank_images``,
    the history window of ``config.history_lines``."""
    from arena.agents.backends.base import SamplingParams
    from arena.agents.llm import LLMAgent

    temperature = config.temperature if sample else 0.0
    return LLMAgent(
        backend,
        env_id=env_id,
        name=name,
        sampling=SamplingParams(temperature=temperature, max_new_tokens=max_new_tokens_for(config, env_id)),
        seed=seed,
        constrained=env_id in config.constrained,
        sample=sample,
        show_legal=env_id not in config.hide_legal,
        blank_images=bool(getattr(config, "blank_images", False)),
        history_lines=config.history_lines_for(env_id),
    )


def learner_agents(backend: Any, config: Any) -> dict[str, Any]:
    """The learning policy's sampling agents, one per env (the trainer's and every rollout worker's)."""
    return {env_id: policy_agent(backend, config, env_id, seed=config.seed + i) for i, env_id in enumerate(config.envs)}


class PastPolicies:
    """``llm_factory`` for ``past`` opponents: a sampling agent on a frozen snapshot directory, the loaded
    backends shared across games and capped at ``keep`` (the opponent pool caches the agents)."""

    def __init__(self, config: Any, keep: int = 3) -> None:
        self.config = config
        self.keep = keep
        self._backends: dict[str, Any] = {}

    def __call__(self, path: str, env_id: str) -> Any:
        from arena.agents.backends.transformers_backend import TransformersBackend

        if path not in self._backends:
            while len(self._backends) >= self.keep:
                del self._backends[next(iter(self._backends))]
            self._backends[path] = TransformersBackend(path)
        return policy_agent(self._backends[path], self.config, env_id, name="past", seed=0)
