"""The conformance suite, parametrized over every registered game so new games are covered automatically."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pettingzoo.utils.conversions import parallel_to_aec, turn_based_aec_to_parallel

import arena
from arena.core import conformance
from arena.core.actions import TextTurnBasedToParallel
from tests import broken_games

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
    """Rewards delivered through the PettingZoo API add up to ``env.returns`` for every agent, eliminated
    ones included (they stay in ``agents`` until the end)."""
    env = arena.make(env_id)
    env.reset(seed=5)
    received = {a: 0.0 for a in env.possible_agents}
    import numpy as np

    rng = np.random.default_rng(0)
    for agent in env.agent_iter(max_iter=20_000):
        _, reward, terminated, truncated, _ = env.last()
        received[agent] += reward
        env.step(None if terminated or truncated else conformance.policy_action(env, agent, rng, 0.0))
    assert received == pytest.approx(env.unwrapped.returns)


# -- every value a player reads follows from what it observed (AEC and Parallel forms) ------------------

#: Variants whose secrecy differs from the defaults: hidden sides, team-only inspections, partial
#: observation, two household agents.
SECRECY_VARIANTS = [
    ("werewolf-v0", {"seer_result": "team"}),
    ("werewolf-v0", {"preset": "arena8"}),
    ("werewolf-v0", {"preset": "xu7", "speech_menu": True}),
    ("werewolf-v0", {"preset": "xu7", "speech_menu": ["seer"]}),
    ("spy-v0", {"spy_knows": True, "num_spies": 2, "num_players": 6}),
    ("visual-spy-v0", {"spy_knows": False}),
    ("sequential-public-goods-v0", {"observation": "last", "num_rounds": 2}),
    ("household-v0", {"num_agents": 2}),
]
FORMS = {"aec": arena.make, "parallel": arena.make_parallel}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_every_info_value_follows_from_what_the_player_observed(env_id, form):
    assert conformance.check_info_secrecy(functools.partial(FORMS[form], env_id)) > 0


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("env_id, kwargs", SECRECY_VARIANTS)
def test_secrecy_variants_keep_infos_to_what_the_player_observed(env_id, kwargs, form):
    assert conformance.check_info_secrecy(functools.partial(FORMS[form], env_id, **kwargs)) > 0


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_non_text_and_oversized_actions_are_refused_or_invalid_and_the_game_goes_on(env_id, form):
    outcomes = conformance.check_hostile_values(functools.partial(FORMS[form], env_id))
    assert outcomes.get("refused", 0) == 10 and outcomes.get("played", 0) == 11


# -- the harness reports each class of defect on a deliberately broken game ------------------------------


def test_the_example_game_passes_every_new_check_in_both_forms():
    assert conformance.check_info_secrecy(broken_games.HiddenChoice) > 0
    assert conformance.check_info_secrecy(lambda: TextTurnBasedToParallel(broken_games.HiddenChoice())) > 0
    assert conformance.check_hostile_values(broken_games.HiddenChoice)["refused"] == 10
    assert conformance.check_hostile_values(lambda: TextTurnBasedToParallel(broken_games.HiddenChoice()))


@pytest.mark.parametrize("parallel", [False, True], ids=["aec", "parallel"])
@pytest.mark.parametrize(
    "leak, key", [("role", "role"), ("counter", "moves"), ("key", "state_key")], ids=["role", "counter", "key"]
)
def test_secrecy_check_reports_a_leaking_info_value(leak, key, parallel):
    def factory():
        env = broken_games.HiddenChoice(leak=leak)
        return TextTurnBasedToParallel(env) if parallel else env

    with pytest.raises(AssertionError, match=rf"player_\d can read what it never observed: .* infos\['{key}'\]"):
        conformance.check_info_secrecy(factory)


def test_secrecy_check_reports_pettingzoos_active_agent_in_the_turn_based_parallel_form():
    with pytest.raises(AssertionError, match=r"infos\['active_agent'\]"):
        conformance.check_info_secrecy(lambda: turn_based_aec_to_parallel(broken_games.HiddenChoice()))


def test_hostile_check_reports_a_raw_exception_from_a_non_text_action():
    with pytest.raises(AssertionError, match=r"an int of 16,610 bits from player_\d raised ValueError"):
        conformance.check_hostile_values(broken_games.StrCoercion)


def test_hostile_check_reports_a_non_text_action_played_as_a_move():
    with pytest.raises(AssertionError, match=r"a list from player_\d was accepted, not refused or counted invalid"):
        conformance.check_hostile_values(broken_games.StrCoercion, values=[[1]])


def test_hostile_check_reports_a_refusal_after_the_state_changed():
    with pytest.raises(AssertionError, match=r"ArenaError, but only after changing transcript"):
        conformance.check_hostile_values(broken_games.RecordsBeforeRefusing)


def test_hostile_check_reports_oversized_text_that_crashes_the_rules():
    with pytest.raises(AssertionError, match=r"a str of 1,000,000 characters from player_\d raised ValueError"):
        conformance.check_hostile_values(broken_games.ParsesAnyNumber)


def test_hostile_check_reports_a_bad_action_buffered_and_blamed_on_a_later_player():
    def aec():
        return parallel_to_aec(broken_games.StrCoercionPublicGoods())

    with pytest.raises(AssertionError, match=r"from player_\d was buffered, then: player_\d's next move raised"):
        conformance.check_hostile_values(aec)
    with pytest.raises(AssertionError, match=r"an int of 16,610 bits raised ValueError"):
        conformance.check_hostile_values(broken_games.StrCoercionPublicGoods)
