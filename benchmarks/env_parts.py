"""Where an env step's time goes: CPU µs per action with and without the reads a player's loop makes.

    python -m benchmarks.env_parts [--games werewolf-v0,kuhn-poker-v0] [--rounds 7] [--episodes 200]

The random-agent loop of ``benchmarks/games.py`` in four forms: ``full`` (observe, read the acting agent's
infos, step), ``no observe`` (infos and step), ``no infos`` (observe and step; the legal moves asked of the
game directly), and ``step only``. The games are configured as in the peer table (``games.PEERS``), so the
columns compare with TextArena's whole loop there. Each number is the minimum over ``rounds`` of
``episodes`` whole episodes: on a shared machine the least disturbed round. Timings are printed, never
asserted; the differences between columns are what the observation and the infos cost.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

import arena

#: The loop's variants: (observe each turn, read the legal moves from infos).
VARIANTS: dict[str, tuple[bool, bool]] = {
    "full": (True, True),
    "no observe": (False, True),
    "no infos": (True, False),
    "step only": (False, False),
}


def peer_settings() -> dict[str, dict[str, Any]]:
    """Each game of the peer table with the kwargs it is compared under (players, hands, rounds)."""
    from benchmarks.games import PEERS

    return {pair.ours: dict(pair.ours_kwargs) for pair in PEERS}


def microseconds_per_action(env_id: str, kwargs: dict[str, Any], episodes: int, observe: bool, infos: bool) -> float:
    """CPU µs per action of ``episodes`` random-agent episodes (seeds 0, 1, ...) in one variant of the loop."""
    env = arena.make(env_id, **kwargs)
    game = env.unwrapped
    rng = np.random.default_rng(0)
    actions = 0
    start = time.process_time()
    for seed in range(episodes):
        env.reset(seed=seed)
        for agent in env.agent_iter():
            if env.terminations[agent] or env.truncations[agent]:
                env.step(None)
                continue
            if observe:
                env.observe(agent)
            legal = env.infos[agent].get("legal_actions") if infos else game.legal_actions(agent)
            env.step(str(legal[int(rng.integers(len(legal)))]) if legal else f"message {int(rng.integers(1000))}")
            actions += 1
    elapsed = time.process_time() - start
    env.close()
    return elapsed / max(actions, 1) * 1e6


def measure(games: dict[str, dict[str, Any]], rounds: int, episodes: int) -> list[dict[str, Any]]:
    """One row per game: the minimum µs per action of each variant over ``rounds`` (variants interleaved)."""
    rows = []
    for env_id, kwargs in games.items():
        best = dict.fromkeys(VARIANTS, float("inf"))
        for _ in range(rounds):
            for name, (observe, infos) in VARIANTS.items():
                best[name] = min(best[name], microseconds_per_action(env_id, kwargs, episodes, observe, infos))
        rows.append({"env": env_id, "kwargs": kwargs, **best})
    return rows


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", default="", help="comma-separated env ids (default: the peer table's games)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--episodes", type=int, default=200)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.episodes < 1:
        parser.error("--rounds and --episodes must be at least 1")
    settings = peer_settings()
    names = [g.strip() for g in args.games.split(",") if g.strip()] or list(settings)
    unknown = sorted(set(names) - {spec.id for spec in arena.list_envs()})
    if unknown:
        parser.error(f"unknown game(s): {', '.join(unknown)}")
    rows = measure({name: settings.get(name, {}) for name in names}, args.rounds, args.episodes)
    print(f"{'game':<44}" + "".join(f"{name:>12}" for name in VARIANTS) + "   (CPU µs per action, best round)")
    for row in rows:
        label = row["env"] + (" " + ",".join(f"{k}={v}" for k, v in row["kwargs"].items()) if row["kwargs"] else "")
        print(f"{label:<44}" + "".join(f"{row[name]:>12.2f}" for name in VARIANTS))
    return rows


if __name__ == "__main__":
    main()
