"""The action rule (``arena.core.actions``): text of any size is agent text; anything else is refused
with ``ArenaError`` before the env changes, in the AEC form, the Parallel form and both conversions."""

from __future__ import annotations

import pytest

import arena
from arena.core import ArenaError, InvalidReply
from arena.core.actions import action_text
from arena.core.conformance import Unprintable, UnprintableStr, _env_state
from arena.core.spaces import MAX_ACTION_CHARS

NOT_TEXT = [10**5000, 4, 3.5, [1], {"move": "[0]"}, Unprintable(), object()]


def test_text_of_any_size_is_cleaned_and_clipped():
    assert action_text("  [4] ") == "  [4] "
    assert action_text(None) == ""
    assert action_text(b"\xff[4]") == "\ufffd[4]"
    assert action_text(bytearray(b"[4]")) == "[4]"
    assert action_text("a\x00b") == "ab"
    huge = action_text("x" * 1_000_000 + "[4]")
    assert len(huge) == MAX_ACTION_CHARS and huge.endswith("[4]") and huge.startswith("…")
    plain = action_text(UnprintableStr("[4]"))  # a str subclass: its own __str__ is never called
    assert plain == "[4]" and type(plain) is str
    reply = InvalidReply("no closed answer")
    assert action_text(reply) is reply


@pytest.mark.parametrize("value", NOT_TEXT, ids=lambda v: type(v).__name__)
def test_anything_else_is_an_arena_error_naming_the_type_and_the_agent(value):
    with pytest.raises(ArenaError, match=rf"player_1's action must be text .* got {type(value).__name__}"):
        action_text(value, "player_1")


def test_a_refused_action_leaves_rewards_infos_and_transcript_as_they_were():
    """Kuhn Poker pays at the end of hand 1; a non-text action at the start of hand 2 used to clear that
    reward (and raise a raw ValueError / RuntimeError) before failing."""
    env = arena.make("kuhn-poker-v0")
    env.reset(seed=0)
    env.step("[bet]")
    env.step("[fold]")  # hand 1 over: rewards paid, hand 2 begins
    assert any(env.rewards.values())
    before = _env_state(env)
    for value in NOT_TEXT:
        with pytest.raises(ArenaError):
            env.step(value)
        assert _env_state(env) == before
    acting = env.agent_selection
    env.step("[check]")  # the game goes on
    last = [e for e in env.unwrapped.transcript.events if e["event"] == "action"][-1]
    assert last["agent"] == acting and last["text"] == "[check]" and "invalid" not in last


def test_public_goods_in_aec_form_refuses_the_bad_action_at_its_senders_step_and_plays_on():
    """It used to be buffered by parallel_to_aec; every later round then raised, blamed on the last mover."""
    env = arena.make("public-goods-v0", num_rounds=2)
    env.reset(seed=0)
    first = env.agent_selection
    for value in (10**5000, Unprintable()):
        with pytest.raises(ArenaError, match=f"{first}'s action"):
            env.step(value)
        assert env.agent_selection == first
    for _ in env.agent_iter(max_iter=100):
        _, _, terminated, truncated, _ = env.last()
        env.step(None if terminated or truncated else "[5]")
    raw = env.unwrapped
    assert raw.finished and not env.agents
    assert raw.invalid_counts == dict.fromkeys(raw.possible_agents, 0)


def test_a_reply_without_a_move_still_passes_the_aec_conversion():
    env = arena.make("public-goods-v0", num_rounds=1)
    env.reset(seed=0)
    first = env.agent_selection
    env.step(InvalidReply("no closed answer"))
    while env.agents and env.agent_selection != first:
        env.step("[5]")
    assert env.infos[first]["invalid_move"] == "no closed answer"


@pytest.mark.parametrize("env_id", ["public-goods-v0", "tictactoe-v0", "werewolf-v0"])
def test_parallel_forms_refuse_non_text_and_non_mappings_before_any_change(env_id):
    env = arena.make_parallel(env_id)
    env.reset(seed=1)
    before = _env_state(env)
    with pytest.raises(ArenaError, match="mapping"):
        env.step("[5]")
    with pytest.raises(ArenaError, match="must be text"):
        env.step(dict.fromkeys(env.agents, Unprintable()))
    assert _env_state(env) == before


def test_turn_based_parallel_form_tells_only_the_acting_agent_that_it_acts():
    """PettingZoo's conversion puts ``active_agent`` in every player's infos: at night in Werewolf it
    names the wolves, the seer and the doctor to everyone."""
    env = arena.make_parallel("werewolf-v0")
    env.reset(seed=0)
    raw = env.unwrapped
    for _ in range(12):
        acting = raw.agent_selection
        legal = raw.infos[acting].get("legal_actions")
        infos = env.step({acting: legal[0] if legal else "hello"})[4]
        for agent, info in infos.items():
            if agent == raw.agent_selection and agent in env.agents:
                assert info["active_agent"] == agent
            else:
                assert "active_agent" not in info, agent


def test_turn_based_parallel_form_treats_a_missing_action_as_empty_text():
    env = arena.make_parallel("tictactoe-v0")
    env.reset(seed=0)
    infos = env.step({})[4]
    assert infos["player_0"]["invalid_move"]
