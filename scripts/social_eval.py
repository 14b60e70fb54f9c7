#!/usr/bin/env python3
"""Play seeded games of the social deduction games and print win rates of scripted vs random players.

Usage: ``python3 scripts/social_eval.py [--games 1000] [--env werewolf-v0 ...]``. For each game, seeds
``0 .. games-1`` are played in three lineups:

* ``random``: every seat a :class:`RandomAgent` (checks the game ends without an error or a hang);
* ``scripted``: every seat the game's scripted agent;
* ``mixed``: the wolves / spies scripted, everyone else random.

Printed per lineup: games, errors, truncated games (round limit), village / civilian win rate,
spy-finding rate (spy games: a spy was voted out at some point), mean invalid moves per game and time.
``scripted`` vs ``mixed`` is the comparison the docs record: the same scripted wolves (spies) face
scripted or random villagers (civilians). Exits non-zero on any error.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import arena
from arena.agents.match import play
from arena.agents.random_agent import RandomAgent
from arena.agents.scripted.spy import SpyScripted
from arena.agents.scripted.werewolf import WerewolfScripted

GAMES = {
    "werewolf-v0": (WerewolfScripted, "werewolf", "winning_team", "village"),
    "spy-v0": (SpyScripted, "spy", "winning_side", "civilians"),
    "visual-spy-v0": (SpyScripted, "spy", "winning_side", "civilians"),
}


def run(env_id: str, lineup: str, games: int) -> dict[str, float]:
    """Play ``games`` seeded games of one lineup; returns the counts and rates."""
    scripted, bad_role, key, good_side = GAMES[env_id]
    stats = {"games": 0, "errors": 0, "truncated": 0, "good_wins": 0, "spy_found": 0, "invalid": 0}
    start = time.perf_counter()
    for seed in range(games):
        try:
            env = arena.make(env_id)
            env.reset(seed=seed)
            roles = {a: env.unwrapped.role(a) for a in env.possible_agents}
            agents = {}
            for i, seat in enumerate(env.possible_agents):
                use_scripted = lineup == "scripted" or (lineup == "mixed" and roles[seat] == bad_role)
                agents[seat] = scripted(seed=seed * 100 + i) if use_scripted else RandomAgent(seed=seed * 100 + i)
            result = play(env, agents, seed=seed, max_steps=20_000)
            info = (result.transcript.result or {}).get("info", {})
            stats["games"] += 1
            stats["truncated"] += result.truncated
            stats["good_wins"] += info.get(key) == good_side
            stats["spy_found"] += bool(info.get("spy_found"))
            stats["invalid"] += sum(result.invalid_moves.values())
        except Exception:
            stats["errors"] += 1
            if stats["errors"] <= 3:
                traceback.print_exc()
    stats["seconds"] = time.perf_counter() - start
    return stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=1000)
    parser.add_argument("--env", nargs="*", default=list(GAMES), choices=list(GAMES))
    args = parser.parse_args()
    errors = 0
    print(
        f"{'game':15} {'lineup':9} {'games':>6} {'errors':>6} {'trunc':>6} {'good win':>9} "
        f"{'spy found':>9} {'invalid/g':>9} {'s':>7}"
    )
    for env_id in args.env:
        for lineup in ("random", "scripted", "mixed"):
            s = run(env_id, lineup, args.games)
            n = max(s["games"], 1)
            found = f"{s['spy_found'] / n:9.3f}" if GAMES[env_id][1] == "spy" else f"{'-':>9}"
            print(
                f"{env_id:15} {lineup:9} {s['games']:6d} {s['errors']:6d} {s['truncated']:6d} "
                f"{s['good_wins'] / n:9.3f} {found} {s['invalid'] / n:9.2f} {s['seconds']:7.1f}",
                flush=True,
            )
            errors += s["errors"]
    print(
        "good win = village (werewolf) or civilian (spy games) win rate; mixed = scripted wolves/spies, random others"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
