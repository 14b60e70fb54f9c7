"""Cost of the advantage functions of :mod:`arena.trainers.advantages` at 10^3 ... 10^6 turns, with the keys the
trainer passes them: strings built by :mod:`arena.trainers.episodes` (``group_key``, ``anchor_key`` over a
SHA-256 state digest, ``role_key``, the game id), not integers.

Synthetic batches: trajectories of 8 turns, two seats, groups of 8 trajectories (4 per seat), 16 anchor
states per group, rewards paid at the last turn. Each function gets the inputs it takes, as
:func:`arena.trainers.episodes.compute_advantages` calls it (``reinforce``, ``grpo`` and ``RoleBaseline``
one value per trajectory). Cost should grow linearly with the turn count.
"""

from __future__ import annotations

import hashlib
import statistics
import time
from collections.abc import Callable

import numpy as np

from arena.trainers.advantages import RoleBaseline, gigpo, grpo, mars, rebn, reinforce
from arena.trainers.episodes import anchor_key, group_key, role_key

TURNS_PER_TRAJ = 8
TRAJ_PER_GROUP = 8
STATES_PER_GROUP = 16
GAME = "kuhn-poker-v0"
ROLES = {"player_0": "player", "player_1": "player"}


def _batch(turns: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    traj = np.arange(turns) // TURNS_PER_TRAJ
    n_traj = int(traj[-1]) + 1
    seats = [f"player_{t % 2}" for t in range(n_traj)]
    episode_groups = [f"{GAME}|{1000 + t // TRAJ_PER_GROUP}|self|{t // TRAJ_PER_GROUP}" for t in range(n_traj)]
    digests = [hashlib.sha256(str(k).encode()).hexdigest() for k in range(STATES_PER_GROUP)]
    state = rng.integers(STATES_PER_GROUP, size=turns)
    traj_groups = [group_key(g, s) for g, s in zip(episode_groups, seats, strict=True)]
    traj_roles = [role_key(GAME, s, "player", ROLES) for s in seats]
    rewards = np.where(np.arange(turns) % TURNS_PER_TRAJ == TURNS_PER_TRAJ - 1, rng.choice([-1.0, 1.0], turns), 0.0)
    return {
        "rewards": rewards,
        "traj": traj,
        "roles": np.array([traj_roles[t] for t in traj], dtype=object),
        "groups": np.array([traj_groups[t] for t in traj], dtype=object),
        "states": np.array(
            [anchor_key(episode_groups[t], seats[t], digests[k]) for t, k in zip(traj, state, strict=True)],
            dtype=object,
        ),
        "games": np.array([GAME] * turns, dtype=object),
        "returns": rng.choice([-1.0, 0.0, 1.0], n_traj),
        "traj_groups": np.array(traj_groups, dtype=object),
        "traj_roles": traj_roles,
    }


FUNCTIONS: dict[str, Callable[[dict[str, np.ndarray]], np.ndarray]] = {
    "reinforce": lambda b: reinforce(b["returns"]),
    "grpo": lambda b: grpo(b["returns"], b["traj_groups"]),
    "mars": lambda b: mars(b["rewards"], b["traj"], b["roles"]),
    "mars (code)": lambda b: mars(b["rewards"], b["traj"], b["roles"], variant="code"),
    "RoleBaseline": lambda b: RoleBaseline().advantages(b["returns"], b["traj_roles"]),
    "gigpo": lambda b: gigpo(b["rewards"], b["traj"], b["groups"], b["states"]),
    "rebn": lambda b: rebn(b["rewards"], b["traj"], b["games"]),
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


if __name__ == "__main__":
    for row in measure():
        print(f"{row['function']:<14}{row['turns']:>9,} turns {row['seconds'] * 1e3:>10.1f} ms")
