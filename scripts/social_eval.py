#!/usr/bin/env python3
"""Play seeded games of the social deduction games; print win rates per lineup and per role, with 95 % intervals.

Usage: ``python3 scripts/social_eval.py [--games 1000] [--env werewolf-v0 spy-v0 visual-spy-v0:vision-zero ...]
[--difficulty-table] [--speech-menu [ROLE ...]]``. An env is ``id`` or ``id:preset``. Seeds ``0 .. games-1`` are played in each lineup:

* ``random``: every seat a :class:`RandomAgent` (checks the game ends without an error or a hang);
* ``scripted``: every seat the game's scripted agent;
* ``mixed``: the wolves / spies scripted, everyone else random;
* exploit lineups, everyone else scripted: werewolf ``honest-wolves`` (wolves never fake-claim Seer) and
  ``fake-seer`` (one wolf always claims Seer); spy games ``random-spy`` (the spy plays at random) and
  ``silent-spy`` (the spy never describes anything and abstains);
* werewolf speech lineups, what the village's speech is worth: ``silent-village`` (scripted villagers, seer and
  doctor whose every day speech is ``I have no information yet.``) and ``seer-speaks`` (the same, but the seer
  speaks as scripted); and what the seer alone is worth, everyone else scripted: ``silent-seer`` (the seer's every
  speech is the pass) and ``random-seer`` (the seer plays at random).

``--speech-menu`` plays werewolf with ``speech_menu=True`` (speeches chosen among fixed statements);
``--speech-menu seer`` gives only the listed roles the menu.

Printed per lineup: games, errors, truncated games, the good side's (village / civilians) win rate with
its 95 % Wilson interval, the spy-finding rate (spy games), invalid moves per game, time; then the win
rate of each role's side over the games in which that role was dealt (and, with werewolf's
``role_prediction``, each side's mean role-prediction accuracy). ``--difficulty-table`` plays the
``vision-zero`` preset of ``visual-spy-v0`` at each image difficulty and prints the scripted civilians'
vote accuracy, their N/A (abstain) rate and their win rate. Exits non-zero on any error.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import arena
from arena.agents.base import BaseAgent, Info, Observation
from arena.agents.match import play
from arena.agents.random_agent import RandomAgent
from arena.agents.scripted.spy import SpyScripted
from arena.agents.scripted.werewolf import WerewolfScripted
from arena.envs.werewolf import SPEECH_PASS


class SilentSpy(BaseAgent):
    """The exploit the issue measured: a spy that never describes its word or image and never votes."""

    name = "silent"

    def __init__(self, seed: int | None = None) -> None:
        del seed

    def act(self, observation: Observation, info: Info) -> str:
        legal = info.get("legal_actions")
        if legal:
            return "[abstain]" if "[abstain]" in legal else legal[0]
        return "I would rather listen first."


class SilentVillager(WerewolfScripted):
    """A scripted werewolf player whose every day speech is the pass statement; night moves, votes and role
    predictions as scripted. With the speech menu or without: the speech turn is recognised by its ask."""

    name = "silent-villager"

    def act(self, observation: Observation, info: Info) -> str:
        if "Speak to everyone" in str(observation.get("text", "")).rsplit("\n", 1)[-1]:
            return SPEECH_PASS
        return super().act(observation, info)


Factory = Callable[[int], BaseAgent]
#: game family: (scripted agent, the bad role, end-info key of the winner, the good side)
FAMILIES = {
    "werewolf": (WerewolfScripted, "werewolf", "winning_team", "village"),
    "spy": (SpyScripted, "spy", "winning_side", "civilians"),
}
#: exploit lineups: name -> the agent the bad role plays (everyone else scripted)
EXPLOITS: dict[str, dict[str, Factory]] = {
    "werewolf": {
        "honest-wolves": lambda seed: WerewolfScripted(seed, fake_claim=0.0),
        "fake-seer": lambda seed: WerewolfScripted(seed, fake_claim=1.0),
    },
    "spy": {"random-spy": RandomAgent, "silent-spy": SilentSpy},
}
#: werewolf speech lineups: name -> (seed, role) -> the agent a village role plays (wolves scripted)
VILLAGE_LINEUPS: dict[str, Callable[[int, str], BaseAgent]] = {
    "silent-village": lambda seed, role: SilentVillager(seed),
    "seer-speaks": lambda seed, role: WerewolfScripted(seed) if role == "seer" else SilentVillager(seed),
    "silent-seer": lambda seed, role: SilentVillager(seed) if role == "seer" else WerewolfScripted(seed),
    "random-seer": lambda seed, role: RandomAgent(seed=seed) if role == "seer" else WerewolfScripted(seed),
}


def family(env_id: str) -> str:
    return "werewolf" if env_id.startswith("werewolf") else "spy"


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95 % Wilson score interval of a binomial proportion."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def lineup_agent(env_id: str, lineup: str, role: str, seed: int) -> BaseAgent:
    scripted, bad_role, _, _ = FAMILIES[family(env_id)]
    if lineup == "random" or (lineup == "mixed" and role != bad_role):
        return RandomAgent(seed=seed)
    exploit = EXPLOITS[family(env_id)].get(lineup)
    if exploit is not None and role == bad_role:
        return exploit(seed)
    if lineup in VILLAGE_LINEUPS and role != bad_role:
        return VILLAGE_LINEUPS[lineup](seed, role)
    return scripted(seed=seed)


def run(env_id: str, lineup: str, games: int, **env_kwargs: Any) -> dict[str, Any]:
    """Play ``games`` seeded games of one lineup; returns counts, per-role wins and civilian votes."""
    name, _, preset = env_id.partition(":")
    _, bad_role, key, good_side = FAMILIES[family(name)]
    stats: dict[str, Any] = {"games": 0, "errors": 0, "truncated": 0, "good_wins": 0, "spy_found": 0, "invalid": 0}
    roles_won: dict[str, list[int]] = {}
    votes = {"on_spy": 0, "abstain": 0, "cast": 0}
    predictions: dict[str, list[float]] = {}  # role prediction accuracy by side (werewolf role_prediction)
    start = time.perf_counter()
    for seed in range(games):
        try:
            env = arena.make(name, preset=preset or None, **env_kwargs)
            env.reset(seed=seed)
            raw = env.unwrapped
            roles = {a: raw.role(a) for a in env.possible_agents}
            agents = {
                a: lineup_agent(name, lineup, roles[a], seed * 100 + i) for i, a in enumerate(env.possible_agents)
            }
            result = play(env, agents, seed=seed, max_steps=20_000)
            info = (result.transcript.result or {}).get("info", {})
            winners = set((result.transcript.result or {}).get("winners", []))
            stats["games"] += 1
            stats["truncated"] += result.truncated
            stats["good_wins"] += info.get(key) == good_side
            stats["spy_found"] += bool(info.get("spy_found"))
            stats["invalid"] += sum(result.invalid_moves.values())
            for role in set(roles.values()):
                seat = next(a for a in env.possible_agents if roles[a] == role)
                roles_won.setdefault(role, []).append(int(seat in winners))
            for seat, accuracy in (info.get("prediction_accuracy") or {}).items():
                if accuracy is not None:
                    side = bad_role if roles[seat] == bad_role else "village"
                    predictions.setdefault(side, []).append(accuracy)
            spies = set(info.get("spies", []))
            for ballot in info.get("votes", []) if spies else []:
                for voter, target in ballot.items():
                    if voter not in spies:
                        votes["cast"] += 1
                        votes["abstain"] += target == "abstain"
                        votes["on_spy"] += target in spies
        except Exception:
            stats["errors"] += 1
            if stats["errors"] <= 3:
                traceback.print_exc()
    stats["seconds"] = time.perf_counter() - start
    stats["roles"] = roles_won
    stats["votes"] = votes
    stats["predictions"] = {side: sum(v) / len(v) for side, v in predictions.items()}
    stats["bad_role"] = bad_role
    return stats


def lineups(env_id: str) -> list[str]:
    speech = list(VILLAGE_LINEUPS) if family(env_id) == "werewolf" else []
    return ["random", "scripted", "mixed", *EXPLOITS[family(env_id)], *speech]


def interval(successes: int, n: int) -> str:
    low, high = wilson(successes, n)
    return f"{successes / max(n, 1):.3f} [{low:.3f}, {high:.3f}]"


def difficulty_table(games: int) -> int:
    """Scripted civilians' vote accuracy per image difficulty, vision-zero preset."""
    print(f"\nvisual-spy-v0:vision-zero, scripted players, {games} games per row")
    print(f"{'difficulty':10} {'scene':6} {'civilian votes on the spy':>28} {'N/A rate':>9} {'civilians win':>24}")
    errors = 0
    for difficulty in ("easy", "medium", "hard"):
        for scene in ("clevr", "chart"):
            s = run("visual-spy-v0:vision-zero", "scripted", games, difficulty=difficulty, scene=scene)
            v = s["votes"]
            print(
                f"{difficulty:10} {scene:6} {interval(v['on_spy'], v['cast']):>28} "
                f"{v['abstain'] / max(v['cast'], 1):9.3f} {interval(s['good_wins'], s['games']):>24}",
                flush=True,
            )
            errors += s["errors"]
    return errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=1000)
    parser.add_argument("--env", nargs="*", default=["werewolf-v0", "spy-v0", "visual-spy-v0:vision-zero"])
    parser.add_argument("--lineup", nargs="*", default=None, help="only these lineups")
    parser.add_argument("--difficulty-table", action="store_true")
    parser.add_argument(
        "--speech-menu", nargs="*", default=None, help="werewolf with speech_menu=True, or for the roles listed"
    )
    args = parser.parse_args()
    errors = 0
    for env_id in args.env:
        print(
            f"\n{'game':26} {'lineup':14} {'games':>6} {'err':>4} {'trunc':>6} {'good side wins [95% CI]':>24} "
            f"{'spy found':>9} {'invalid/g':>9} {'s':>6}"
        )
        per_role: list[str] = []
        for lineup in args.lineup or lineups(env_id):
            if lineup not in lineups(env_id):
                continue
            menu = {}
            if args.speech_menu is not None and family(env_id) == "werewolf":
                menu = {"speech_menu": args.speech_menu or True}
            s = run(env_id, lineup, args.games, **menu)
            n = max(s["games"], 1)
            found = f"{s['spy_found'] / n:9.3f}" if s["bad_role"] == "spy" else f"{'-':>9}"
            print(
                f"{env_id:26} {lineup:14} {s['games']:6d} {s['errors']:4d} {s['truncated']:6d} "
                f"{interval(s['good_wins'], s['games']):>24} {found} {s['invalid'] / n:9.2f} {s['seconds']:6.1f}",
                flush=True,
            )
            roles = ", ".join(f"{r} {interval(sum(w), len(w))}" for r, w in sorted(s["roles"].items()))
            if s["predictions"]:
                roles += "; role prediction accuracy " + ", ".join(
                    f"{k} {v:.3f}" for k, v in sorted(s["predictions"].items())
                )
            per_role.append(f"  {lineup:14} {roles}")
            errors += s["errors"]
        print("win rate of each role's side [95% CI]:\n" + "\n".join(per_role))
    if args.difficulty_table:
        errors += difficulty_table(args.games)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
