"""``InvalidReply``: a reply with no move is an invalid move, and nothing of it reaches the game."""

from __future__ import annotations

import arena
from arena.core import InvalidReply


def test_aec_game_treats_a_reply_without_a_move_as_invalid_and_keeps_its_state():
    env = arena.make("tictactoe-v0")
    env.reset(seed=0)
    mover = env.agent_selection
    before = env.observe(env.possible_agents[1 - env.possible_agents.index(mover)])["text"]
    env.step(InvalidReply("no closed answer"))
    assert env.agent_selection == mover  # one retry by default
    assert env.infos[mover]["invalid_move"] == "no closed answer"
    assert env.invalid_counts[mover] == 1
    other = env.possible_agents[1 - env.possible_agents.index(mover)]
    assert env.observe(other)["text"] == before  # the other player sees nothing of it
    actions = [e for e in env.transcript.events if e["event"] == "action"]
    assert actions[-1]["text"] == "" and actions[-1]["invalid"] == "no closed answer"
    env.step(InvalidReply("no closed answer"))  # retries used up: the two-player forfeit
    assert env.terminations[mover] and env.returns[mover] == -1.0


def test_parallel_game_plays_the_default_move_and_flags_the_reply():
    env = arena.make_parallel("public-goods-v0", talk_steps=0)
    env.reset(seed=0)
    first, second = env.possible_agents[:2]
    actions = {a: "[5]" for a in env.agents} | {first: InvalidReply("no closed answer")}
    _, _, _, _, infos = env.step(actions)
    assert infos[first]["invalid_move"] == "no closed answer"
    assert "invalid_move" not in infos[second]
    assert env.history[-1][first] == env.invalid_contribution


def test_reason_is_cleaned_and_clipped():
    assert InvalidReply("bad\x00 reply" + "x" * 500).clean_reason().startswith("…")
    assert "\x00" not in InvalidReply("a\x00b").clean_reason()
    assert InvalidReply("").clean_reason() == "no move"
