"""The rollout data model (``Episode`` of ``Turn``s, as in the architecture contract) and the step that
turns a batch of episodes into one advantage per turn with the configured estimator."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from arena.trainers import advantages as adv


@dataclass
class Turn:
    """One decision of the learning policy: what the loss needs plus what the estimators group by."""

    agent: str
    role: str
    turn_index: int
    prompt_ids: list[int]
    completion_ids: list[int]
    old_logprobs: list[float]
    reward: float
    state_key: str
    version: int
    invalid: bool = False


@dataclass
class Episode:
    """One match seen from the learner's seats: ``turns`` holds only learner decisions, in play order."""

    env_id: str
    seed: int
    group: str
    roles: dict[str, str]
    returns: dict[str, float]
    learner_seats: list[str]
    opponent: str
    turns: list[Turn] = field(default_factory=list)


def role_key(env_id: str, seat: str, role: Any) -> str:
    """The normalization key of agent-specific normalization: the game's role, or the seat where every
    player has the same role (``"player"``), since a seat's position is its role in TicTacToe or Kuhn."""
    role = str(role) if role not in (None, "", "player") else seat
    return f"{env_id}/{role}"


def episode_from_outcome(outcome: Any, learner_name: str, group: str, opponent: str, invalid_penalty: float) -> Episode:
    """Convert a :class:`arena.agents.scheduler.MatchOutcome` into an :class:`Episode` of learner turns."""
    seats = sorted({t.seat for t in outcome.turns if t.agent_name == learner_name})
    episode = Episode(
        env_id=outcome.env_id,
        seed=int(outcome.seed or 0),
        group=group,
        roles={s: str(r) for s, r in outcome.roles.items()},
        returns=dict(outcome.returns),
        learner_seats=seats,
        opponent=opponent,
    )
    first_seen: set[str] = set()
    for record in outcome.turns:
        if record.agent_name != learner_name:
            continue
        reward = float(record.reward)
        if record.seat not in first_seen:
            reward += float(outcome.pre_rewards.get(record.seat, 0.0))
            first_seen.add(record.seat)
        if record.invalid:
            reward += invalid_penalty
        trace = record.trace
        key = record.state_key if record.state_key is not None else str(hash(record.info.get("observation", "")))
        episode.turns.append(
            Turn(
                agent=record.seat,
                role=role_key(outcome.env_id, record.seat, record.role),
                turn_index=record.turn_index,
                prompt_ids=list(trace.prompt_ids),
                completion_ids=list(trace.completion_ids),
                old_logprobs=list(trace.logprobs),
                reward=reward,
                state_key=f"{record.seat}|{key}",
                version=int(trace.version),
                invalid=bool(record.invalid),
            )
        )
    return episode


def flatten(episodes: Sequence[Episode]) -> tuple[list[Turn], dict[str, np.ndarray]]:
    """Every learner turn in order, with per-turn arrays: rewards, trajectory id (episode × seat), group
    (episode group × seat), role key and anchor-state key. Turns of one trajectory are contiguous."""
    turns: list[Turn] = []
    traj, groups, roles, states, rewards = [], [], [], [], []
    for e_idx, episode in enumerate(episodes):
        for seat in episode.learner_seats:
            for turn in episode.turns:
                if turn.agent != seat:
                    continue
                turns.append(turn)
                traj.append(f"{e_idx}|{seat}")
                groups.append(f"{episode.group}|{seat}")
                roles.append(turn.role)
                states.append(f"{episode.group}|{turn.state_key}")
                rewards.append(turn.reward)
    codes = {k: i for i, k in enumerate(dict.fromkeys(traj))}
    arrays = {
        "rewards": np.asarray(rewards, dtype=np.float64),
        "traj": np.asarray([codes[t] for t in traj], dtype=np.int64),
        "groups": np.asarray(groups, dtype=object),
        "roles": np.asarray(roles, dtype=object),
        "states": np.asarray(states, dtype=object),
    }
    return turns, arrays


def compute_advantages(
    episodes: Sequence[Episode],
    method: str,
    *,
    gamma: float = 1.0,
    mars_variant: str = "paper",
    baseline: adv.RoleBaseline | None = None,
) -> tuple[list[Turn], np.ndarray]:
    """One advantage per learner turn (every token of the turn gets it) with ``method``."""
    turns, a = flatten(episodes)
    if not turns:
        return turns, np.zeros(0)
    rewards, traj = a["rewards"], a["traj"]
    if method == "mars":
        return turns, adv.mars(rewards, traj, a["roles"], gamma=gamma, variant=mars_variant)
    if method == "gigpo":
        return turns, adv.gigpo(rewards, traj, a["groups"], a["states"])
    # Episode-level estimators work on one return per trajectory, broadcast to the trajectory's turns.
    starts = np.flatnonzero(np.r_[True, traj[1:] != traj[:-1]])
    traj_returns = np.add.reduceat(rewards, starts)
    owner = np.searchsorted(starts, np.arange(len(traj)), side="right") - 1
    if method == "reinforce":
        per_traj = adv.reinforce(traj_returns)
    elif method == "grpo":
        per_traj = adv.grpo(traj_returns, a["groups"][starts])
    elif method == "rae":
        baseline = baseline if baseline is not None else adv.RoleBaseline()
        per_traj = baseline.advantages(traj_returns, list(a["roles"][starts]))
    else:
        raise ValueError(f"unknown advantage method {method!r}")
    return turns, per_traj[owner]
