"""Scripted and user-defined agents: scripted ones play only valid moves, also under odd but documented game
options; a `module:Class` spec builds an agent or says why not."""

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


def test_a_module_class_spec_builds_an_agent_or_says_why_not():
    """``module:Class`` specs: an agent class plays; a function that takes no ``seed`` and a class that is no agent
    are one error each naming the spec (they once failed with a bare ``TypeError`` at the first move)."""
    from arena.core.errors import ArenaError

    agent = make_agent("arena.agents.random_agent:RandomAgent", "kuhn-poker-v0", seed=3)
    assert arena.play(make("kuhn-poker-v0"), [agent, make_agent("random", "kuhn-poker-v0", seed=4)], seed=0).returns
    with pytest.raises(ArenaError, match=r"'os.path:join' cannot be built as os.path:join\(seed=...\)"):
        make_agent("os.path:join", "kuhn-poker-v0")
    with pytest.raises(ArenaError, match="'multiprocessing.managers:Namespace' built a Namespace, not an agent"):
        make_agent("multiprocessing.managers:Namespace", "kuhn-poker-v0")
