"""``RandomAgent``: uniform over ``legal_actions``, or a random short text when the move set is open."""

from __future__ import annotations

import numpy as np

from arena.agents.base import BaseAgent, Info, Observation

_WORDS = ("yes", "no", "maybe", "I agree", "hello", "[1]", "[0]", "pass", "I think so", "why?")


class RandomAgent(BaseAgent):
    """A baseline that picks uniformly among the legal actions, seeded for reproducibility."""

    name = "random"

    def __init__(self, seed: int | None = None, name: str | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        if name:
            self.name = name

    def act(self, observation: Observation, info: Info) -> str:
        legal = info.get("legal_actions")
        if legal:
            return str(legal[int(self.rng.integers(len(legal)))])
        return str(_WORDS[int(self.rng.integers(len(_WORDS)))])
