"""Cost of the advantage functions of :mod:`arena.trainers.advantages` at 10^3 ... 10^6 turns.

Synthetic batches: trajectories of 8 turns, 2 roles alternating, groups of 8 trajectories, 16 anchor
states, rewards paid at the last turn. Each function gets the inputs it takes per turn (``reinforce``
and ``grpo`` per trajectory, as the trainer calls them). Cost should grow linearly with the turn count.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

from arena.trainers.advantages import RoleBaseline, gigpo, grpo, mars, reinforce

TURNS_PER_TRAJ = 8
TRAJ_PER_GROUP = 8


def _batch(turns: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    traj = np.arange(turns) // TURNS_PER_TRAJ
    n_traj = int(traj[-1]) + 1
    rewards = np.where(np.arange(turns) % TURNS_PER_TRAJ == TURNS_PER_TRAJ - 1, rng.choice([-1.0, 1.0], turns), 0.0)
    return {
        "rewards": rewards,
        "traj": traj,
        "roles": np.arange(turns) % 2,
        "groups": traj // TRAJ_PER_GROUP,
        "states": rng.integers(16, size=turns),
        "returns": rng.choice([-1.0, 0.0, 1.0], n_traj),
        "traj_groups": np.arange(n_traj) // TRAJ_PER_GROUP,
        "traj_roles": [f"game/role{k % 2}" for k in range(n_traj)],
    }


FUNCTIONS: dict[str, Callable[[dict[str, np.ndarray]], np.ndarray]] = {
    "reinforce": lambda b: reinforce(b["returns"]),
    "grpo": lambda b: grpo(b["returns"], b["traj_groups"]),
    "mars": lambda b: mars(b["rewards"], b["traj"], b["roles"]),
    "RoleBaseline": lambda b: RoleBaseline().advantages(b["returns"], b["traj_roles"]),
    "gigpo": lambda b: gigpo(b["rewards"], b["traj"], b["groups"], b["states"]),
}


def measure(sizes: tuple[int, ...] = (10**3, 10**4, 10**5, 10**6), repeats: int = 3) -> list[dict[str, float]]:
    """Median seconds per call of every advantage function at every batch size (in turns)."""
    rows = []
    for turns in sizes:
        batch = _batch(turns)
        for name, fn in FUNCTIONS.items():
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                fn(batch)
                times.append(time.perf_counter() - start)
            seconds = statistics.median(times)
            rows.append({"function": name, "turns": turns, "seconds": seconds, "ns_per_turn": seconds / turns * 1e9})
    return rows
