"""Scripted negotiators for ``negotiation-v0``: a fair proposer and a hard bargainer.

Both read only their own ``infos`` (own values, item totals, the standing offer, turns left), so they
play exactly what a player sees. Deal mode: each proposes the cheapest bundle (fewest items) whose value
to itself reaches a target, and accepts an offer worth at least that target; on its last chance to
accept it takes anything better than no deal. Trade mode: each offers the resource it values less for
the one it values more, and accepts trades that gain it enough value.

With Deal or No Deal's private selection (``ending="selection"``) an agent ends the talk with
``[Selection]`` where it would accept, and then takes its part of the last proposal (or, without one
it likes, its own demand).

* :class:`FairProposer` aims at half of the total value (5 of 10) all game long.
* :class:`HardBargainer` starts by demanding everything it values and concedes linearly to 60% by the end.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from arena.agents.base import BaseAgent, Info, Observation
from arena.envs.negotiation import proposal_token


def _as_tuple(mapping: object, names: Sequence[str]) -> tuple[int, ...] | None:
    if not isinstance(mapping, dict):
        return None
    try:
        return tuple(int(mapping.get(n, 0)) for n in names)
    except (TypeError, ValueError):
        return None


def cheapest_bundle(totals: Sequence[int], values: Sequence[float], target: float) -> tuple[int, ...]:
    """The bundle worth at least ``target`` to its holder with the lowest value, then the fewest items
    (so as much as possible is left for the other player); everything when nothing reaches the target."""
    best: tuple[float, int, tuple[int, ...]] | None = None
    for bundle in itertools.product(*(range(t + 1) for t in totals)):
        worth = sum(b * v for b, v in zip(bundle, values, strict=True))
        if worth + 1e-9 < target:
            continue
        key = (worth, sum(bundle), bundle)
        if best is None or key < best:
            best = key
    return best[2] if best is not None else tuple(totals)


class _Negotiator(BaseAgent):
    """Shared play: target-driven proposals and acceptance; subclasses set the target schedule."""

    name = "negotiator"
    #: the smallest value gain a trade must bring before it is accepted (trade mode)
    trade_margin = 0.0
    #: units offered per trade: give ``trade_give``, ask ``trade_get`` (trade mode)
    trade_give, trade_get = 2, 2

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed

    def target(self, total_value: float, turns_left: int, turn_limit: int) -> float:
        """The value this agent insists on when ``turns_left`` of ``turn_limit`` turns remain."""
        raise NotImplementedError

    def act(self, observation: Observation, info: Info) -> str:
        if info.get("mode") == "trade":
            return self._act_trade(info)
        return self._act_deal(info)

    def _act_deal(self, info: Info) -> str:
        names = list(info.get("items") or ())
        totals = _as_tuple(info.get("totals"), names)
        values = _as_tuple(info.get("values"), names)
        if not names or totals is None or values is None:
            return "[Walk away]"
        turns_left = int(info.get("turns_left", 1))
        turn_limit = max(int(info.get("turn_limit", turns_left)), turns_left, 2)
        total_value = float(sum(t * v for t, v in zip(totals, values, strict=True)))
        target = self.target(total_value, turns_left, turn_limit)
        selecting = info.get("phase") == "selection"
        offer = info.get("last_proposal") if selecting else info.get("offer")
        if isinstance(offer, dict):
            mine = _as_tuple(offer.get("you_get"), names)
            if mine is not None:
                worth = sum(m * v for m, v in zip(mine, values, strict=True))
                last_chance = turns_left <= 2  # a counter-proposal now could no longer be accepted in time
                if worth + 1e-9 >= target or (last_chance and worth > float(info.get("disagreement_payoff", 0.0))):
                    if selecting:  # Deal or No Deal: take what the agreed proposal gave
                        return "[Take: " + " ".join(f"{n} {name}" for n, name in zip(mine, names, strict=True)) + "]"
                    return "[Selection]" if info.get("ending") == "selection" else "[Accept]"
        if selecting:
            keep = cheapest_bundle(totals, values, target)
            return "[Take: " + " ".join(f"{n} {name}" for n, name in zip(keep, names, strict=True)) + "]"
        if turns_left <= 1:
            return "No deal then. [Walk away]"
        keep = cheapest_bundle(totals, values, target)
        return f"I suggest this split. {proposal_token(keep, names)}"

    def _act_trade(self, info: Info) -> str:
        names = list(info.get("items") or ())
        values = _as_tuple(info.get("values"), names)
        inventory = _as_tuple(info.get("inventory"), names)
        if not names or values is None or inventory is None:
            return "[Walk away]"
        offer = info.get("offer")
        if isinstance(offer, dict):
            give = _as_tuple(offer.get("you_give"), names)
            get = _as_tuple(offer.get("you_get"), names)
            if give is not None and get is not None:
                gain = sum(g * v for g, v in zip(get, values, strict=True)) - sum(
                    g * v for g, v in zip(give, values, strict=True)
                )
                if gain > self.trade_margin + 1e-9:
                    return "[Accept]"
        if int(info.get("turns_left", 2)) <= 1:
            return "That is all from me."
        totals = _as_tuple(info.get("totals"), names) or inventory
        theirs = [t - m for t, m in zip(totals, inventory, strict=True)]
        low = min(range(len(names)), key=lambda k: (values[k], k))
        high = max(range(len(names)), key=lambda k: (values[k], -k))
        give, get = min(self.trade_give, inventory[low]), min(self.trade_get, theirs[high])
        if low == high or values[low] == values[high] or give < 1 or get < 1:
            return "I am happy with what I have."
        return f"Trade with me? [Offer: {give} {names[low]} -> {get} {names[high]}]"


class FairProposer(_Negotiator):
    """Proposes and accepts an even split of its own value (half of the total); trades one for one."""

    name = "fair"

    def target(self, total_value: float, turns_left: int, turn_limit: int) -> float:
        return total_value / 2


class HardBargainer(_Negotiator):
    """Demands everything it values, conceding linearly to 60% of the total by the last turn; trades
    two of its cheap resource for three of its dear one and accepts only clear gains."""

    name = "hard"
    trade_margin = 5.0
    trade_give, trade_get = 2, 3

    def target(self, total_value: float, turns_left: int, turn_limit: int) -> float:
        progress = 1.0 - (turns_left - 1) / max(turn_limit - 1, 1)  # 0 on the first turn, 1 on the last
        return total_value * (1.0 - 0.4 * min(max(progress, 0.0), 1.0))
