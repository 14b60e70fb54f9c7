"""Count reasoning leaks: seeded games where every seat's model hides a secret in its reasoning and 30 % of
its replies are cut off (``arena.agents.leaks``). Every count but the first five columns must be 0.

    python scripts/leak_check.py                       # 200 games of each free-text game (~15 s)
    python scripts/leak_check.py --games 50 --truncate 0.5 --envs werewolf-v0 --envs spy-v0
"""

from __future__ import annotations

import argparse
import sys
import time

from arena.agents.leaks import FREE_TEXT_GAMES, FREE_TEXT_KWARGS, count_leaks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--games", type=int, default=200, help="seeded games per game id")
    parser.add_argument("--truncate", type=float, default=0.3, help="share of replies cut off")
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--envs", action="append", help="game ids (repeatable; default: the free-text games)")
    args = parser.parse_args()
    columns = (
        "games",
        "replies",
        "cut off",
        "invalid",
        "messages",
        "secrets",
        "to others",
        "in record",
        "in prompts",
        "s",
    )
    print(f"{'game':<28}" + "".join(f"{c:>11}" for c in columns))
    leaks = 0
    for env_id in args.envs or FREE_TEXT_GAMES:
        start = time.perf_counter()
        c = count_leaks(env_id, args.games, truncate=args.truncate, seed=args.seed, **FREE_TEXT_KWARGS.get(env_id, {}))
        row = (
            c.games,
            c.replies,
            c.truncated,
            c.invalid,
            c.player_messages,
            c.secrets,
            c.to_other_players,
            c.in_game_record,
            c.in_prompts,
        )
        print(f"{env_id:<28}" + "".join(f"{v:>11}" for v in row) + f"{time.perf_counter() - start:>11.1f}")
        leaks += c.to_other_players + c.in_game_record + c.in_prompts
    print("no leaks" if not leaks else f"{leaks} LEAKS")
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main())
