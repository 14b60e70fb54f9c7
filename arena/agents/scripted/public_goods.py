"""Scripted contributors for ``public-goods-v0`` and ``sequential-public-goods-v0``.

They read only their own ``infos``: ``phase`` (``"talk"`` or ``"contribute"``), ``endowment`` and
``previous_contributions`` (the simultaneous game: the other players' contributions last round; the
sequential game: the predecessors' contributions this round that the player may see). With nothing to
condition on (first round, first mover) the cooperative agents contribute everything.

* :class:`ConditionalCooperator` matches the mean of what it saw (Fischbacher et al.'s modal type).
* :class:`FreeRider` always contributes 0 (the dominant strategy under the classic payoff).
* :class:`TitForTat` matches the least it saw: one defector is enough to make it defect.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from arena.agents.base import BaseAgent, Info, Observation


class _Contributor(BaseAgent):
    """Shared play: a talk message in discussion steps, ``[k]`` in contribution steps."""

    name = "contributor"
    message = ""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed

    def amount(self, seen: Sequence[float], endowment: int) -> int:
        """How much to contribute, given the contributions this agent can condition on."""
        raise NotImplementedError

    def act(self, observation: Observation, info: Info) -> str:
        if info.get("phase") == "talk":
            return self.message
        try:
            endowment = int(info.get("endowment", 0))
        except (TypeError, ValueError):
            endowment = 0
        previous = info.get("previous_contributions") or {}
        seen = [float(v) for v in previous.values()] if isinstance(previous, dict) else []
        amount = min(max(self.amount(seen, endowment), 0), endowment)
        return f"[{amount}]"


class ConditionalCooperator(_Contributor):
    """Contributes the (rounded) mean of the contributions it saw; everything when it saw none."""

    name = "conditional"
    message = "I will match what the group contributes; everyone gains most if we all contribute everything."

    def amount(self, seen: Sequence[float], endowment: int) -> int:
        if not seen:
            return endowment
        return math.floor(sum(seen) / len(seen) + 0.5)


class FreeRider(_Contributor):
    """Always contributes 0 and says so."""

    name = "free-rider"
    message = "I am keeping my tokens."

    def amount(self, seen: Sequence[float], endowment: int) -> int:
        return 0


class TitForTat(_Contributor):
    """Contributes the smallest contribution it saw (everything when it saw none)."""

    name = "tit-for-tat"
    message = "I contribute everything as long as everyone else does."

    def amount(self, seen: Sequence[float], endowment: int) -> int:
        if not seen:
            return endowment
        return int(min(seen))
