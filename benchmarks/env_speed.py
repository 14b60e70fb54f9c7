"""Environment steps per second with random agents, for every registered game.

Run: ``python -m benchmarks.env_speed [--episodes N]``. Prints a table (median over repeats) and the machine.
Random agents pick uniformly among ``infos["legal_actions"]`` when the game lists them, so the numbers
measure the game, not invalid-move handling.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np

import arena
from arena.core.conformance import policy_action


def steps_per_second(env_id: str, episodes: int, seed: int = 0) -> tuple[float, int]:
    """Play ``episodes`` random episodes of ``env_id``; return (steps/s, steps)."""
    env = arena.make(env_id)
    rng = np.random.default_rng(seed)
    steps = 0
    start = time.perf_counter()
    for episode in range(episodes):
        env.reset(seed=seed + episode)
        for agent in env.agent_iter(max_iter=100_000):
            _, _, terminated, truncated, _ = env.last()
            action = None if terminated or truncated else policy_action(env, agent, rng, garbage=0.0)
            env.step(action)
            steps += 1
    elapsed = time.perf_counter() - start
    env.close()
    return steps / elapsed, steps


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()} {platform.processor() or ''} python {platform.python_version()}")
    print(f"{'env':32} {'steps/s (median)':>18} {'steps':>8}")
    rows = []
    for env_id in [env_spec.id for env_spec in arena.list_envs()]:
        rates, steps = [], 0
        for repeat in range(args.repeats):
            rate, steps = steps_per_second(env_id, args.episodes, seed=1000 * repeat)
            rates.append(rate)
        median = statistics.median(rates)
        rows.append({"env": env_id, "steps_per_s": median, "steps": steps})
        print(f"{env_id:32} {median:18,.0f} {steps:8d}")
    return rows


if __name__ == "__main__":
    main()
