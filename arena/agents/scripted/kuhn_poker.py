"""A Nash-equilibrium Kuhn Poker strategy (Kuhn 1950), family parameter alpha in [0, 1/3].

First actor: with J bet w.p. alpha (bluff), with Q check (and call a bet w.p. alpha + 1/3), with K
bet w.p. 3*alpha. Second actor: facing a bet call with K, call with Q w.p. 1/3, fold J; after a
check bet with K, bet J w.p. 1/3, check Q. Every alpha gives the first actor -1/18 per hand.
"""

from __future__ import annotations

import re

import numpy as np

from arena.agents.base import BaseAgent, Info, Observation

_CARD = re.compile(r"your card is ([JQK])")


def nash_policy(card: str, history: str, alpha: float = 1 / 6) -> dict[str, float]:
    """Probability of each action at an information set (card, betting history 'k'/'b' letters)."""
    if history == "":  # first actor, no bet yet
        bet = {"J": alpha, "Q": 0.0, "K": 3 * alpha}[card]
        return {"[bet]": bet, "[check]": 1 - bet}
    if history == "k":  # second actor after a check
        bet = {"J": 1 / 3, "Q": 0.0, "K": 1.0}[card]
        return {"[bet]": bet, "[check]": 1 - bet}
    if history == "b":  # second actor facing a bet
        call = {"J": 0.0, "Q": 1 / 3, "K": 1.0}[card]
        return {"[call]": call, "[fold]": 1 - call}
    if history == "kb":  # first actor facing a bet after checking
        call = {"J": 0.0, "Q": alpha + 1 / 3, "K": 1.0}[card]
        return {"[call]": call, "[fold]": 1 - call}
    raise ValueError(f"no decision at history {history!r}")


class KuhnNashAgent(BaseAgent):
    """Samples from the equilibrium strategy; reads its card and the betting from ``infos["card"]`` and
    ``infos["history"]``."""

    name = "scripted"

    def __init__(self, seed: int | None = None, alpha: float = 1 / 6) -> None:
        if not 0 <= alpha <= 1 / 3:
            raise ValueError("alpha must lie in [0, 1/3]")
        self.rng = np.random.default_rng(seed)
        self.alpha = alpha

    def action_distribution(self, observation: Observation, info: Info) -> dict[str, float]:
        card, history = str(info.get("card", "")), str(info.get("history", ""))
        if card not in ("J", "Q", "K"):
            match = _CARD.search(observation["text"])
            card = match.group(1) if match else "Q"
        return nash_policy(card, history, self.alpha)

    def act(self, observation: Observation, info: Info) -> str:
        probs = self.action_distribution(observation, info)
        actions = list(probs)
        return actions[int(self.rng.choice(len(actions), p=np.array([probs[a] for a in actions])))]
