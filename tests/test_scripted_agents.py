"""Scripted agents play only valid moves, also under odd but documented game options."""

from __future__ import annotations

import pytest

import arena
from arena.agents.specs import make_agent
from arena.core.registry import make


@pytest.mark.parametrize("agent", ["scripted", "scripted-naive"])
def test_scripted_spy_clues_stay_new_under_a_short_clue_limit(agent):
    """The game cuts a clue to ``max_clue_chars``: clues that differed only past the cut (``letter 6 is 'f'``,
    ``letter 8 is 'e'`` at 10 characters) were refused as repeats, and so was the tagged fallback, every retry."""
    for seed in range(3):
        env = make("spy-v0", num_players=12, num_spies=3, clue_rounds=3, max_clue_chars=20)
        agents = {s: make_agent(agent, "spy-v0", seed=seed * 100 + k) for k, s in enumerate(env.possible_agents)}
        result = arena.play(env, agents, seed=seed)
        assert not any(result.invalid_moves.values()), result.invalid_moves
