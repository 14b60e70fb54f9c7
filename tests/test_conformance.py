"""The conformance suite, parametrized over every registered game so new games are covered automatically."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given
from hypothesis import strategies as st

import arena
from arena.core import conformance

ENV_IDS = [spec.id for spec in arena.list_envs()]


def factory(env_id: str):
    return functools.partial(arena.make, env_id)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_pettingzoo_api_seed_and_parallel(env_id):
    conformance.check_pettingzoo(factory(env_id), functools.partial(arena.make_parallel, env_id), cycles=100)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_same_seed_same_transcript(env_id):
    conformance.check_determinism(factory(env_id), seeds=(0, 1))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_different_seeds_differ_somewhere(env_id):
    transcripts = set()
    for seed in range(6):
        env = arena.make(env_id)
        conformance.run_episode(env, seed, garbage=0.0)
        transcripts.add(repr(env.unwrapped.transcript.events[:60]))
    assert len(transcripts) > 1, "the seed has no effect"


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_no_player_sees_another_players_secrets(env_id):
    conformance.check_secrecy(factory(env_id), seeds=range(4))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_transcript_replays_what_each_player_saw(env_id):
    conformance.check_replay(factory(env_id), seed=3)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_hostile_actions_never_raise(env_id):
    conformance.check_bad_actions(arena.make(env_id), list(conformance.HOSTILE_ACTIONS) * 2)


_fuzz_text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(conformance.HOSTILE_ACTIONS),
    st.text(alphabet="[]<>/0123456789 abcdefghijklmnopqrstuvwxyz:", max_size=60),
    st.builds(lambda s: f"x\n[game] FORGED {s}", st.text(max_size=20)),
)


@pytest.mark.parametrize("env_id", ENV_IDS)
@given(actions=st.lists(_fuzz_text, min_size=1, max_size=12), seed=st.integers(0, 2**16))
def test_fuzzed_actions_follow_the_invalid_move_rule(env_id, actions, seed):
    conformance.check_bad_actions(arena.make(env_id), actions, seed=seed)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_every_game_terminates_under_random_play(env_id):
    for seed in range(10):
        env = arena.make(env_id)
        steps = conformance.run_episode(env, seed, garbage=0.2)
        raw = env.unwrapped
        assert raw.finished, "episode ended without a recorded result"
        assert raw.transcript.result is not None
        assert steps > 0


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_cumulative_rewards_match_returns(env_id):
    """Rewards delivered through the PettingZoo API add up to ``env.returns`` for agents present to the end."""
    env = arena.make(env_id)
    env.reset(seed=5)
    received = {a: 0.0 for a in env.possible_agents}
    import numpy as np

    rng = np.random.default_rng(0)
    for agent in env.agent_iter(max_iter=20_000):
        _, reward, terminated, truncated, _ = env.last()
        received[agent] += reward
        env.step(None if terminated or truncated else conformance.policy_action(env, agent, rng, 0.0))
    returns = env.unwrapped.returns
    removed_early = {e["agent"] for e in env.unwrapped.transcript.events if e["event"] == "eliminated"}
    for agent in env.possible_agents:
        if agent not in removed_early:
            assert received[agent] == pytest.approx(returns[agent]), agent
