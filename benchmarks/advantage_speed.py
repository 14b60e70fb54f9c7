"""Cost of the advantage functions of :mod:`arena.trainers.advantages` at 10^3 ... 10^6 turns, with the keys the
trainer passes them: strings, as :func:`arena.trainers.episodes.flatten` builds them (``group_key``,
``role_key``, the game id, and 32-hex-digit digests as state keys, as :mod:`arena.core.keys` makes them),
not integers.

Synthetic batches: trajectories of 8 turns, two seats, groups of 8 trajectories (4 per seat), 16 anchor
states per group, rewards paid at the last turn. Each function gets the inputs it takes, as
:func:`arena.trainers.episodes.compute_advantages` calls it (``reinforce``, ``grpo`` and ``RoleBaseline``
one value per trajectory). Every call gets a freshly built batch, so no string's hash is cached from an
earlier call. Cost should grow linearly with the turn count.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

from arena.core.keys import state_digest
from arena.trainers.advantages import RoleBaseline, gigpo, grpo, mars, rebn, reinforce
from arena.trainers.episodes import group_key, role_key

TURNS_PER_TRAJ = 8
TRAJ_PER_GROUP = 8
STATES_PER_GROUP = 16
GAME = "kuhn-poker-v0"
ROLES = {"player_0": "player", "player_1": "player"}


def _copy(text: str) -> str:
    """An equal string that is a new object (its hash not computed yet)."""
    return text.encode().decode()


def _batch(turns: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    traj = np.arange(turns) // TURNS_PER_TRAJ
    n_traj = int(traj[-1]) + 1
    seats = [f"player_{t % 2}" for t in range(n_traj)]
    episode_groups = [f"{GAME}|{1000 + t // TRAJ_PER_GROUP}|self|{t // TRAJ_PER_GROUP}" for t in range(n_traj)]
    # each group's own situations: distinct digests per group (a worst case: no situation recurs across groups)
    group_of_turn = traj // TRAJ_PER_GROUP
    state = group_of_turn * STATES_PER_GROUP + rng.integers(STATES_PER_GROUP, size=turns)
    digests = [state_digest(int(k)) for k in range(int(state.max()) + 1)]
    traj_groups = [group_key(g, s) for g, s in zip(episode_groups, seats, strict=True)]
    traj_roles = [role_key(GAME, s, "player", ROLES) for s in seats]
    rewards = np.where(np.arange(turns) % TURNS_PER_TRAJ == TURNS_PER_TRAJ - 1, rng.choice([-1.0, 1.0], turns), 0.0)
    return {
        "rewards": rewards,
        "traj": traj,
        # as in the trainer, every turn's role and state key is a string object of its own (the env and
        # episode_from_outcome make new ones each turn), so no cached hash is shared; a trajectory's turns
        # share one group string (flatten builds it once per seat)
        "roles": np.array([_copy(traj_roles[t]) for t in traj], dtype=object),
        "groups": np.array([traj_groups[t] for t in traj], dtype=object),
        "states": np.array([_copy(digests[k]) for k in state], dtype=object),
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
        for name, fn in FUNCTIONS.items():
            times, cpu = [], []
            for _ in range(repeats):
                batch = _batch(turns)  # fresh strings each call, as each iteration of the trainer has
                start, start_cpu = time.perf_counter(), time.process_time()
                fn(batch)
                times.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
            seconds = statistics.median(times)
            rows.append(
                {
                    "function": name,
                    "turns": turns,
                    "seconds": seconds,
                    "cpu_seconds": statistics.median(cpu),  # this process's CPU time: less moved by other load
                    "ns_per_turn": seconds / turns * 1e9,
                }
            )
    return rows


if __name__ == "__main__":
    for row in measure():
        print(
            f"{row['function']:<14}{row['turns']:>10,} turns {row['seconds'] * 1e3:>10.1f} ms wall"
            f"{row['cpu_seconds'] * 1e3:>10.1f} ms cpu"
        )
