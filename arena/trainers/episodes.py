"""The rollout data model (``Episode`` of ``Turn``s, as in the architecture contract) and the step that
turns a batch of episodes into one advantage per turn with the configured estimator."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from arena.core.errors import ArenaError
from arena.trainers import advantages as adv


@dataclass
class Turn:
    """One decision of the learning policy: what the loss needs plus what the estimators group by.

    ``state_key`` is the GiGPO anchor (``None`` when the game publishes no state key and the anchor is
    ``state``). ``images`` are the images of the prompt, in order (visual games), which the learner feeds
    the model again. A constrained turn (the policy chose among the legal replies by their likelihood)
    carries every legal reply's token ids in ``alternatives`` and the index played in ``chosen``; its
    ``old_logprobs`` is then one value, the log-probability of the choice under the normalised
    distribution the agent sampled from.
    """

    agent: str
    role: str
    turn_index: int
    prompt_ids: list[int]
    completion_ids: list[int]
    old_logprobs: list[float]
    reward: float
    state_key: str | None
    version: int
    invalid: bool = False
    images: list[np.ndarray] = field(default_factory=list)
    alternatives: list[list[int]] | None = None
    chosen: int = -1


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


def return_metrics(
    episodes: Sequence[Episode], env_ids: Iterable[str], learner_sides: Mapping[str, Sequence[str]] | None = None
) -> dict[str, float]:
    """The learner's mean return per game over an iteration's episodes: ``{env}/return_vs_pool`` against
    opponents from the pool (``{env}/{side}/return_vs_pool`` per side of ``learner_sides``), and
    ``{env}/return_self`` in self-play, every seat the learner's: the rollouts' success in a one-player or
    cooperative game (household), about 0 in a zero-sum one."""
    metrics: dict[str, float] = {}
    for env_id in env_ids:
        for side, roles in (learner_sides or {"": []}).items():
            rets = [
                e.returns[s]
                for e in episodes
                if e.env_id == env_id and e.opponent != "self"
                for s in e.learner_seats
                if not roles or e.roles.get(s) in roles
            ]
            if rets:
                metrics[f"{env_id}/{side + '/' if side else ''}return_vs_pool"] = float(np.mean(rets))
        rets = [e.returns[s] for e in episodes if e.env_id == env_id and e.opponent == "self" for s in e.learner_seats]
        if rets:
            metrics[f"{env_id}/return_self"] = float(np.mean(rets))
    return metrics


@dataclass(frozen=True)
class RewardOptions:
    """How a game's rewards become training rewards: ``scale`` multiplies what the env pays, and
    ``invalid_penalty`` is added to a turn the env flagged as an invalid move (in the scaled units)."""

    scale: float = 1.0
    invalid_penalty: float = -0.5


ANCHORS = ("state", "observation")
#: How an episode-level advantage is spread over a trajectory's turns (:func:`compute_advantages`).
TURN_WEIGHTS = ("turn", "trajectory")


def role_key(env_id: str, seat: str, role: Any, roles: Mapping[str, Any] | None = None) -> str:
    """The key of agent-specific normalization (MARS) and of the role baseline (SPIRAL's RAE): the game's
    role where the match's seats have different roles (werewolf, spy), the seat where every seat has the
    same role (``roles`` = every seat's role in the match), since the seat is then the position: first or
    second mover in TicTacToe, Kuhn Poker or negotiation, as MARS and SPIRAL key them."""
    role = "" if role is None else str(role)
    shared = roles is not None and len({"" if r is None else str(r) for r in roles.values()}) <= 1
    if shared or role in ("", "player"):
        return f"{env_id}/{seat}"
    return f"{env_id}/{role}"


def group_key(group: str, seat: str) -> str:
    """The trajectory group of a seat's turns: the episode group (same env, seed, opponent kind and
    learner seat) and the seat, so that baselines compare like with like."""
    return f"{group}|{seat}"


def episode_from_outcome(
    outcome: Any,
    learner_name: str,
    group: str,
    opponent: str,
    rewards: RewardOptions = RewardOptions(),
    anchor: str = "state",
) -> Episode:
    """Convert a :class:`arena.agents.scheduler.MatchOutcome` into an :class:`Episode` of learner turns.

    ``anchor`` picks each turn's GiGPO anchor: the game's ``infos["state_key"]`` (``state``) or the
    digest of the observation the player saw (``observation``, as verl-agent's anchor text)."""
    if anchor not in ANCHORS:
        raise ArenaError(f"anchor must be one of {', '.join(ANCHORS)}, got {anchor!r}")
    # Every seat the learner held, including one that never acted (a villager killed on the first night):
    # its return counts in the metrics like any other learner seat's.
    held = {s for s, name in (getattr(outcome, "agent_names", None) or {}).items() if name == learner_name}
    seats = sorted(held | {t.seat for t in outcome.turns if t.agent_name == learner_name})
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
        paid = float(record.reward)
        if record.seat not in first_seen:
            paid += float(outcome.pre_rewards.get(record.seat, 0.0))
            first_seen.add(record.seat)
        reward = rewards.scale * paid + (rewards.invalid_penalty if record.invalid else 0.0)
        trace = record.trace
        alternatives = trace.alternatives
        old_logprobs = list(trace.logprobs)
        if alternatives is not None:  # the behaviour log-probability of the choice, not of its tokens
            old_logprobs = [math.log(max(float(trace.legal_probs[trace.action]), 1e-300))]
        episode.turns.append(
            Turn(
                agent=record.seat,
                role=role_key(outcome.env_id, record.seat, record.role, outcome.roles),
                turn_index=record.turn_index,
                prompt_ids=list(trace.prompt_ids),
                completion_ids=list(trace.completion_ids),
                old_logprobs=old_logprobs,
                reward=reward,
                state_key=record.state_key if anchor == "state" else record.observation_key,
                version=int(trace.version),
                invalid=bool(record.invalid),
                images=list(trace.images),
                alternatives=[list(a) for a in alternatives] if alternatives is not None else None,
                chosen=int(trace.chosen),
            )
        )
    return episode


def flatten(episodes: Sequence[Episode]) -> tuple[list[Turn], dict[str, np.ndarray]]:
    """Every learner turn in order, with per-turn arrays: rewards, trajectory id (episode × seat), group
    (episode group × seat), role key, anchor (state key) and game. Turns of one trajectory are contiguous."""
    turns: list[Turn] = []
    traj, groups, roles, states, games, rewards = [], [], [], [], [], []
    for e_idx, episode in enumerate(episodes):
        for seat in episode.learner_seats:
            group = group_key(episode.group, seat)
            for turn in episode.turns:
                if turn.agent != seat:
                    continue
                turns.append(turn)
                traj.append((e_idx, seat))
                groups.append(group)
                roles.append(turn.role)
                states.append(turn.state_key)  # an anchor: compared only within the turn's group
                games.append(episode.env_id)
                rewards.append(turn.reward)
    codes = {k: i for i, k in enumerate(dict.fromkeys(traj))}
    arrays = {
        "rewards": np.asarray(rewards, dtype=np.float64),
        "traj": np.asarray([codes[t] for t in traj], dtype=np.int64),
        "groups": np.asarray(groups, dtype=object),
        "roles": np.asarray(roles, dtype=object),
        "states": np.asarray(states, dtype=object),
        "games": np.asarray(games, dtype=object),
    }
    return turns, arrays


def compute_advantages(
    episodes: Sequence[Episode],
    method: str,
    *,
    gamma: float = 1.0,
    mars_variant: str = "paper",
    baseline: adv.RoleBaseline | None = None,
    gigpo_omega: float = 1.0,
    gigpo_scale_std: bool = False,
    turn_weight: str = "turn",
) -> tuple[list[Turn], np.ndarray]:
    """One advantage per learner turn (every token of the turn gets it) with ``method``; ``gamma``
    discounts the turn-level returns of ``mars``, ``gigpo`` and ``rebn``.

    ``turn_weight`` applies to the episode-level estimators (``reinforce``, ``grpo``, ``rae``), which give
    every turn of a trajectory its one advantage: ``turn`` leaves it so (a trajectory weighs as many turns
    as it has), ``trajectory`` divides it by the trajectory's number of turns, times the batch's mean, so
    that each trajectory weighs the same in the loss, as one sequence does in single-turn GRPO. Where
    longer trajectories have lower returns (a lost game lasts longer), ``turn`` makes the turns' advantages
    negative on average, which can push down what every reply shares (the answer format)."""
    if turn_weight not in TURN_WEIGHTS:
        raise ArenaError(f"turn_weight must be one of {', '.join(TURN_WEIGHTS)}, got {turn_weight!r}")
    turns, a = flatten(episodes)
    if not turns:
        return turns, np.zeros(0)
    rewards, traj = a["rewards"], a["traj"]
    if method == "mars":
        return turns, adv.mars(rewards, traj, a["roles"], gamma=gamma, variant=mars_variant)
    if method == "rebn":
        return turns, adv.rebn(rewards, traj, a["games"], gamma=gamma)
    if method == "gigpo":
        missing = sorted({e.env_id for e in episodes for t in e.turns if t.state_key is None})
        if missing:
            raise ArenaError(
                f"GiGPO anchors: {', '.join(missing)} publish no infos['state_key']; set anchor: observation "
                "(a digest of the observation text) or another advantage"
            )
        return turns, adv.gigpo(
            rewards, traj, a["groups"], a["states"], omega=gigpo_omega, gamma=gamma, scale_std=gigpo_scale_std
        )
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
    if turn_weight == "trajectory":
        lengths = np.diff(np.r_[starts, len(traj)])
        per_traj = per_traj * (lengths.mean() / lengths)
    return turns, per_traj[owner]
