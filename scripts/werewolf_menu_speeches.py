"""What a werewolf model says when its speeches are chosen from the menu (``speech_menu=True``), by role.

Usage::

    python3 scripts/werewolf_menu_speeches.py --model runs/ww-menu/warmstart            # 100 games, greedy
    python3 scripts/werewolf_menu_speeches.py --model runs/ww-menu/checkpoint --games 20

The model plays every village seat (seer, doctor, villagers; ``--roles seer``: the seer's only; ``--roles seer
werewolf``: the seer's and the wolves') of ``--games`` games of the ``cpu-werewolf`` preset's settings with the menu
(``xu7``; ``--menu-roles seer``: the menu for the seer only), choosing every move among the legal ones by their
likelihood, greedily, as the preset's evaluation does; scripted players take the other seats. Each menu speech is
counted by the speaker's role and the statement's kind: ``pass``, ``suspect``, ``claim wolf`` or ``claim good``, a
seer's claim marked ``(own finding)`` when it repeats what its inspection told it, a wolf's statement ``(on the
pack)`` when it names a fellow wolf. Prints each side's win rate too. The seer's claim is what the scripted village
wins with (docs/envs/werewolf.md, "The speech menu"); results: docs/results.md (werewolf).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arena.agents.base import Agent, BaseAgent, Info, Observation
from arena.agents.match import play
from arena.agents.scripted.werewolf import WerewolfScripted
from arena.envs.werewolf import NOT_WEREWOLF, SPEECH_PASS, claim_statement, suspect_statement

ENV_ID = "werewolf-v0"
#: The ``cpu-werewolf`` preset's game settings, with the menu.
MENU_KWARGS: dict[str, Any] = {"preset": "xu7", "max_speech_chars": 120, "speech_menu": True}
_TARGET = re.compile(r"player_\d+")
VILLAGE_ROLES = ("seer", "doctor", "villager")
ROLES = (*VILLAGE_ROLES, "werewolf")


def statement_kind(statement: str, info: Info) -> str:
    """``pass``, ``suspect``, ``claim wolf`` or ``claim good``; a claim that repeats the speaker's own inspection
    result (in its infos only if it is the seer) gets `` (own finding)``, a statement naming one of the speaker's
    pack (in its infos only if it is a wolf) `` (on the pack)``."""
    if statement == SPEECH_PASS:
        return "pass"
    target = _TARGET.search(statement)
    on_pack = " (on the pack)" if target is not None and target.group(0) in info.get("werewolves", ()) else ""
    if target is None or statement == suspect_statement(target.group(0)):
        return "suspect" + on_pack
    wolf = statement == claim_statement(target.group(0), True)
    kind = "claim wolf" if wolf else "claim good"
    found = dict(info.get("inspections", {})).get(target.group(0))
    if found is not None and (str(found) == "werewolf") == wolf and str(found) in ("werewolf", NOT_WEREWOLF):
        kind += " (own finding)"
    return kind + on_pack


class LearnerSeat(BaseAgent):
    """A seat that ``learner`` plays when dealt one of ``roles``, the scripted agent otherwise; counts the learner's
    menu speeches as ``(role, statement kind)``."""

    name = "learner-seat"

    def __init__(self, learner: Agent, seed: int, counts: Counter, roles: tuple[str, ...] = VILLAGE_ROLES) -> None:
        self.learner, self.scripted, self.counts, self.roles = learner, WerewolfScripted(seed=seed), counts, roles

    def reset(self) -> None:
        self.learner.reset()
        self.scripted.reset()

    def act(self, observation: Observation, info: Info) -> Any:
        if info.get("role") not in self.roles:
            return self.scripted.act(observation, info)
        action = self.learner.act(observation, info)
        legal = info.get("legal_actions") or []
        if legal and legal[0] == SPEECH_PASS and str(action) in legal:
            self.counts[str(info.get("role")), statement_kind(str(action), info)] += 1
        return action


def count_speeches(
    make_learner: Callable[[int], Agent],
    games: int,
    seed: int = 10_000,
    roles: tuple[str, ...] = VILLAGE_ROLES,
    menu_roles: tuple[str, ...] | None = None,
) -> tuple[dict[str, float], Counter]:
    """(each side's win rate, counts of ``(role, statement kind)``) over ``games`` games (seeds ``seed`` on; a game
    cut at ``max_rounds`` is nobody's win),
    ``make_learner(k)`` giving the agent of seat ``k`` when it is dealt one of ``roles``; the menu for
    ``menu_roles`` (None: everyone)."""
    kwargs = MENU_KWARGS if menu_roles is None else {**MENU_KWARGS, "speech_menu": list(menu_roles)}
    counts: Counter = Counter()
    wins: Counter = Counter()
    for game in range(games):
        seats = [LearnerSeat(make_learner(k), seed=1000 * game + k, counts=counts, roles=roles) for k in range(7)]
        result = play(ENV_ID, seats, seed=seed + game, **kwargs)
        wins[(result.transcript.result or {}).get("info", {}).get("winning_team")] += 1
    return {side: wins[side] / max(games, 1) for side in ("village", "werewolves")}, counts


def report(win_rates: dict[str, float], counts: Counter, games: int) -> None:
    """Print each side's win rate, then each role's statements by kind, most frequent first."""
    sides = ", ".join(f"{side} {rate:.3f}" for side, rate in win_rates.items())
    print(f"win rate over {games} games: {sides}")
    for role in sorted({r for r, _ in counts}):
        mine = Counter({kind: n for (r, kind), n in counts.items() if r == role})
        total = sum(mine.values())
        print(f"{role}: {total} speeches")
        for kind, n in mine.most_common():
            print(f"  {n:>5}  {n / total:6.1%}  {kind}")


def main(argv: list[str] | None = None) -> tuple[dict[str, float], Counter]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="model directory (a werewolf warm start or checkpoint)")
    parser.add_argument("--games", type=int, default=100)
    parser.add_argument("--seed", type=int, default=10_000, help="first game seed (the evaluation's: 10,000)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--roles", nargs="+", default=list(VILLAGE_ROLES), choices=ROLES,
                        help="the roles the model plays (scripted players take the others)")  # fmt: skip
    parser.add_argument("--menu-roles", nargs="+", default=None, choices=ROLES,
                        help="only these roles' speeches are menu choices (default: everyone's)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.games < 1:
        parser.error("--games must be at least 1")
    import torch

    from arena.agents.backends.base import SamplingParams
    from arena.agents.backends.transformers_backend import TransformersBackend
    from arena.agents.llm import LLMAgent

    torch.set_num_threads(args.threads)
    backend = TransformersBackend(args.model)
    sampling = SamplingParams(temperature=0.0, max_new_tokens=40)
    win_rates, counts = count_speeches(
        lambda _k: LLMAgent(backend, env_id=ENV_ID, constrained=True, sampling=sampling),
        args.games,
        args.seed,
        tuple(args.roles),
        None if args.menu_roles is None else tuple(args.menu_roles),
    )
    report(win_rates, counts, args.games)
    return win_rates, counts


if __name__ == "__main__":
    main()
