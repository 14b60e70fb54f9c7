"""Advantage estimators for multi-agent self-play: pure numpy in, numpy out.

Terms used throughout:

* a **turn** is one decision of one agent (one LLM completion);
* a **trajectory** is the sequence of one agent's turns in one episode (ids ``traj``, turns in order);
* ``rewards[t]`` is the turn-level reward of turn ``t``: what its agent received from that move until
  its next move (MARS's attribution), so ``sum`` over a trajectory is the agent's episode return;
* a **group** holds trajectories that started from the same seed/prompt (GRPO, GiGPO);
* a **role key** names whose statistics a turn is normalized with, e.g. ``"tictactoe-v0/X"``.

Every function is vectorised (no Python loop over turns; string keys are numbered in one dict pass), so
10^6 turns with the trainer's string keys take well under a second (``benchmarks/advantage_speed.py``).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

EPS = 1e-6


def _codes(keys: Any) -> tuple[np.ndarray, int]:
    """Dense integer codes for arbitrary keys (ints, strings, tuples or rows of a 2-D array), equal keys
    equal codes. Works run by run: a batch lists each trajectory's turns together, so a key that stays the
    same from one turn to the next (the trajectory, its group, its role) is looked up once per run. Integer
    runs are numbered with ``np.unique``, other keys with a dict (no sort of strings, no ``hash()``
    collisions), so 10^6 string keys cost a fraction of a second where sorting them cost seconds."""
    array = keys if isinstance(keys, np.ndarray) else np.empty(len(keys), dtype=object)
    if not isinstance(keys, np.ndarray):
        array[:] = [tuple(k) if isinstance(k, list) else k for k in keys]
    if array.ndim == 2:  # one key per row
        rows = np.empty(len(array), dtype=object)
        rows[:] = [tuple(row) for row in array.tolist()]
        array = rows
    if array.size == 0:
        return np.zeros(0, dtype=np.int64), 0
    starts = np.r_[True, array[1:] != array[:-1]]  # a new run where the key changes (a C-level compare)
    runs = array[starts]
    if runs.dtype.kind in "iub":
        uniq, run_codes = np.unique(runs, return_inverse=True)
        n = len(uniq)
    else:
        index: dict[Any, int] = {}
        run_codes = np.fromiter((index.setdefault(k, len(index)) for k in runs.tolist()), np.int64, len(runs))
        n = len(index)
    return run_codes.astype(np.int64)[np.cumsum(starts) - 1], n


def _group_mean_std(values: np.ndarray, codes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-member mean and (population) std of ``values`` within its group."""
    counts = np.bincount(codes, minlength=n).astype(np.float64)
    sums = np.bincount(codes, weights=values, minlength=n)
    means = sums / np.maximum(counts, 1)
    squares = np.bincount(codes, weights=values * values, minlength=n) / np.maximum(counts, 1)
    stds = np.sqrt(np.maximum(squares - means * means, 0.0))
    return means[codes], stds[codes]


def _normalize(values: np.ndarray, keys: Any, *, scale_std: bool, eps: float = EPS) -> np.ndarray:
    codes, n = _codes(keys)
    mean, std = _group_mean_std(values, codes, n)
    centred = values - mean
    return centred / (std + eps) if scale_std else centred


def discounted_returns(rewards: np.ndarray, traj: np.ndarray, gamma: float = 1.0) -> np.ndarray:
    """Return-to-go over each trajectory's own turns: ``R_k = Σ_{k'≥k} γ^{k'−k} r_{k'}``.

    ``traj`` must list each trajectory's turns contiguously and in order.
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    traj = np.asarray(traj)
    if rewards.size == 0:
        return rewards.copy()
    starts = np.flatnonzero(np.r_[True, traj[1:] != traj[:-1]])
    ids = np.sort(traj[starts])
    if np.any(ids[1:] == ids[:-1]):  # a trajectory id in two runs
        raise ValueError("each trajectory's turns must be contiguous")
    if gamma == 1.0:
        csum = np.cumsum(rewards[::-1])[::-1]  # suffix sums over the whole array
        ends = np.r_[starts[1:], len(rewards)]
        seg_of = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(rewards)]))
        after = np.r_[csum, 0.0][ends]  # suffix sum just past each trajectory
        return csum - after[seg_of]
    lengths = np.diff(np.r_[starts, len(rewards)])
    width = int(lengths.max())
    grid = np.zeros((len(starts), width))
    seg_of = np.repeat(np.arange(len(starts)), lengths)
    pos = np.arange(len(rewards)) - starts[seg_of]
    grid[seg_of, pos] = rewards
    out = np.zeros_like(grid)
    running = np.zeros(len(starts))
    for col in range(width - 1, -1, -1):  # loop over turn positions (≤ episode length), not turns
        running = grid[:, col] + gamma * running
        out[:, col] = running
    return out[seg_of, pos]


def reinforce(returns: np.ndarray) -> np.ndarray:
    """Plain REINFORCE (Williams 1992): the advantage is the trajectory's return, no baseline."""
    return np.asarray(returns, dtype=np.float64).copy()


def grpo(returns: np.ndarray, groups: Any, *, scale_std: bool = False, eps: float = EPS) -> np.ndarray:
    """GRPO group baseline (Shao et al. 2024, DeepSeekMath): ``A_i = (R_i − mean_{j∈g(i)} R_j) [/ std]``.

    Inputs are per trajectory (one return each); ``groups`` marks trajectories from the same seed.
    ``scale_std=False`` is Dr. GRPO's unbiased form (Liu et al. 2025).
    """
    return _normalize(np.asarray(returns, dtype=np.float64), groups, scale_std=scale_std, eps=eps)


def mars(
    rewards: np.ndarray,
    traj: np.ndarray,
    roles: Any,
    *,
    gamma: float = 1.0,
    variant: str = "paper",
    eps: float = EPS,
) -> np.ndarray:
    """MARS / MARSHAL turn-level advantage with agent-specific normalization (arXiv 2510.15414).

    ``variant="paper"`` (the paper's figure and project page):
        ``R_{i,k} = Σ_{k'≥k} γ^{k'−k} r_{i,k'}`` over the agent's own turns, then
        ``A_{i,k} = (R_{i,k} − mean_{B_p} R) / std_{B_p} R`` with ``B_p`` every turn of role ``p`` in
        the batch. Every token of turn k gets ``A_{i,k}``.
    ``variant="code"`` (what thu-nics/MARS ships; see shared/reference/mars_spiral.md §1.5b), at turn
    granularity: (1) centre turn rewards per role (mean only), (2) whiten them over the batch,
    (3) return-to-go, (4) subtract per role the mean of the *distinct* return values, (5) whiten the
    advantages over the batch. The shipped code whitens over tokens and pools step 4 per player
    across games; here ``roles`` is used for both steps and whitening is over turns.
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    if variant == "paper":
        returns = discounted_returns(rewards, traj, gamma)
        return _normalize(returns, roles, scale_std=True, eps=eps)
    if variant != "code":
        raise ValueError(f"variant must be 'paper' or 'code', got {variant!r}")
    centred = _normalize(rewards, roles, scale_std=False)
    whitened = centred / (centred.std() + eps) if centred.size else centred
    returns = discounted_returns(whitened, traj, gamma)
    codes, n = _codes(roles)
    distinct_mean = np.array([_distinct_mean(returns[codes == code]) for code in range(n)])  # per role, not turn
    advantages = returns - distinct_mean[codes]
    return (advantages - advantages.mean()) / (advantages.std() + eps) if advantages.size else advantages


def _distinct_mean(values: np.ndarray, rel_tol: float = 1e-9) -> float:
    """The mean of the distinct values, where values closer than ``rel_tol`` (relative to the largest
    magnitude) count as one: equal returns summed in another order differ in their last bits, and an exact
    ``np.unique`` would count them twice, making the result depend on the order of the batch."""
    if values.size == 0:
        return 0.0
    ordered = np.sort(values)
    tol = rel_tol * max(1.0, float(np.abs(ordered).max()))
    first = np.flatnonzero(np.r_[True, np.diff(ordered) > tol])  # a new value where the gap exceeds tol
    cluster_means = np.add.reduceat(ordered, first) / np.diff(np.r_[first, len(ordered)])
    return float(cluster_means.mean())


@dataclass
class RoleBaseline:
    """SPIRAL's role-conditioned advantage estimation (RAE, arXiv 2506.24119 §2.5 of our notes).

    One EMA baseline per (game, role): ``A = R − b`` with ``b`` read *before* the update
    ``b ← α·b + (1−α)·R`` (α = 0.95, baselines start at 0). Trajectories are processed in order.
    The state is saved in checkpoints (``state_dict``/``load_state_dict``).
    """

    decay: float = 0.95
    baselines: dict[str, float] = field(default_factory=dict)

    def advantages(self, returns: np.ndarray, keys: list[Hashable]) -> np.ndarray:
        returns = np.asarray(returns, dtype=np.float64)
        keys = np.array([str(k) for k in keys])
        out = np.empty_like(returns)
        for key in dict.fromkeys(keys.tolist()):
            idx = np.flatnonzero(keys == key)
            baseline = self.baselines.get(key, 0.0)
            for i in idx.tolist():  # b ← α b + (1−α) R in order; a loop over trajectories, not turns
                out[i] = returns[i] - baseline
                baseline = self.decay * baseline + (1.0 - self.decay) * returns[i]
            self.baselines[key] = float(baseline)
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"decay": self.decay, "baselines": dict(self.baselines)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.decay = float(state["decay"])
        self.baselines = {str(k): float(v) for k, v in state["baselines"].items()}


def gigpo(
    rewards: np.ndarray,
    traj: np.ndarray,
    groups: Any,
    state_keys: Any,
    *,
    omega: float = 1.0,
    gamma: float = 0.95,
    scale_std: bool = False,
    eps: float = EPS,
) -> np.ndarray:
    """GiGPO (Feng et al. 2025, arXiv 2505.10978), per turn:
    ``A = A_E(τ) + ω · A_S``, where ``A_E = R(τ) − mean_{group} R`` (episode level, over trajectories
    of the same group) and ``A_S = R_t − mean{R_t' : same group, same anchor state}`` with discounted
    step returns ``R_t = Σ_{k≥t} γ^{k−t} r_k``; a turn alone in its anchor group gets ``A_S = 0``.
    ``scale_std`` divides both by their group std (the paper's "w/ std" mode). The paper's defaults are
    ω = 1, γ = 0.95 (the trainer passes its config's ``gamma``). Per-turn inputs; ``groups`` is the turn's
    trajectory group and ``state_keys`` its anchor-state key (compared only within a group).
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    traj = np.asarray(traj)
    traj_codes, n_traj = _codes(traj)
    episode_return = np.bincount(traj_codes, weights=rewards, minlength=n_traj)
    group_codes, _ = _codes(groups)
    traj_group = np.zeros(n_traj, dtype=np.int64)
    traj_group[traj_codes] = group_codes
    a_episode = _normalize(episode_return, traj_group, scale_std=scale_std, eps=eps)[traj_codes]
    step_returns = discounted_returns(rewards, traj, gamma)
    state_codes, n_states = _codes(state_keys)
    anchor = group_codes * n_states + state_codes
    a_step = _normalize(step_returns, anchor, scale_std=scale_std, eps=eps)
    return a_episode + omega * a_step


def rebn(rewards: np.ndarray, traj: np.ndarray, keys: Any, *, gamma: float = 1.0, eps: float = 1e-9) -> np.ndarray:
    """REINFORCE with Return Batch Normalization (ReBN, GEM: Liu et al. 2025, axon-rl/gem): every turn's
    discounted return-to-go ``G_t = Σ_{k≥t} γ^{k−t} r_k`` standardised over the batch,
    ``A_t = (G_t − mean_B G) / (std_B G + ε)``. ``keys`` splits the batch into parts normalised on their
    own (the trainer passes the game, so that one game's payoff scale does not swamp another's; GEM
    trains one game at a time, where this is its whole-batch normalisation).
    """
    returns = discounted_returns(np.asarray(rewards, dtype=np.float64), traj, gamma)
    return _normalize(returns, keys, scale_std=True, eps=eps)
