"""Kuhn Poker: payoffs against a hand-written table of every deal and betting line, secrecy, Nash agent."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import arena
from arena.agents.scripted.kuhn_poker import KuhnNashAgent, nash_policy

RANK = {"J": 0, "Q": 1, "K": 2}
# Betting lines -> chip gain of the FIRST actor when the first actor holds the higher card (+) / lower (-):
# written out by hand from the rules, not from the implementation.
LINES = {
    ("check", "check"): (1, -1),
    ("bet", "call"): (2, -2),
    ("bet", "fold"): (1, 1),  # bettor wins the ante whatever the cards
    ("check", "bet", "call"): (2, -2),
    ("check", "bet", "fold"): (-1, -1),  # first actor folds: loses the ante whatever the cards
}


@pytest.mark.parametrize("deal", list(itertools.permutations("JQK", 2)))
@pytest.mark.parametrize("line", list(LINES))
def test_every_deal_and_line_pays_as_the_table_says(deal, line):
    env = arena.make("kuhn-poker-v0", num_hands=1)
    env.reset(seed=0, options={"deals": [deal]})
    for action in line:
        env.step(f"[{action}]")
    high, low = LINES[line]
    first_gain = high if RANK[deal[0]] > RANK[deal[1]] else low
    assert env.unwrapped.returns == {"player_0": first_gain, "player_1": -first_gain}
    assert all(env.terminations.values())


def test_second_hand_is_opened_by_the_other_seat_and_paid_per_hand():
    env = arena.make("kuhn-poker-v0", num_hands=2)
    env.reset(seed=0, options={"deals": [("K", "J"), ("K", "J")]})
    env.step("[bet]")
    env.step("[fold]")
    assert env.rewards["player_0"] == 1.0 and env.rewards["player_1"] == -1.0, "hand 1 paid when it ends"
    assert env.agent_selection == "player_1", "player_1 acts first in hand 2"
    env.step("[check]")
    env.step("[check]")
    assert env.unwrapped.returns == {"player_0": 2.0, "player_1": -2.0}


def _play_hands(num_hands, deals, lines):
    """Play ``lines`` (one betting line per hand) on ``deals``; return each hand's opening line as player_0 reads it."""
    env = arena.make("kuhn-poker-v0", num_hands=num_hands)
    env.reset(seed=0, options={"deals": deals})
    openings = []
    for line in lines:
        openings.append(env.observe("player_0")["text"].split("Hand ")[1].split("\n")[0])
        for action in line:
            env.step(f"[{action}]")
    return openings, env


def test_each_hand_opens_with_the_chips_and_every_earlier_result_past_the_hands_whose_lines_are_made_once():
    # Kuhn Poker makes a hand's opening and result lines once per way to get there, for the first hands only: the
    # fifth hand's line is formatted afresh, and games of another length must not read another game's lines.
    deals = [("K", "J"), ("J", "Q"), ("Q", "K"), ("K", "Q"), ("J", "K")]
    lines = [("check", "check"), ("check", "check"), ("bet", "fold"), ("check", "check"), ("bet", "call")]
    for num_hands in (4, 5, 5):  # the second five-hand game reads what the first one made
        openings, env = _play_hands(num_hands, deals[:num_hands], lines[:num_hands])
        assert openings[0] == f"1 of {num_hands}. Chips so far: player_0 +0, player_1 +0. player_0 acts first."
        assert openings[1] == (
            f"2 of {num_hands}. Chips so far: player_0 +1, player_1 -1. Previous hands: hand 1: player_0 +1 by "
            "showdown (player_0 K, player_1 J). player_1 acts first."
        )
        assert openings[3] == (
            f"4 of {num_hands}. Chips so far: player_0 +1, player_1 -1. Previous hands: hand 1: player_0 +1 by "
            "showdown (player_0 K, player_1 J). hand 2: player_1 +1 by showdown (player_0 J, player_1 Q). hand 3: "
            "player_0 +1 by player_1 folded. player_1 acts first."
        )
    assert openings[4] == (
        "5 of 5. Chips so far: player_0 +2, player_1 -2. Previous hands: hand 1: player_0 +1 by showdown (player_0 K, "
        "player_1 J). hand 2: player_1 +1 by showdown (player_0 J, player_1 Q). hand 3: player_0 +1 by player_1 "
        "folded. hand 4: player_0 +1 by showdown (player_0 K, player_1 Q). player_0 acts first."
    )
    assert env.unwrapped.returns == {"player_0": 0.0, "player_1": 0.0}  # the last hand: J bets, K calls, -2
    results = [m.text for m in env.unwrapped.log.messages if m.kind == "result"]
    assert results[-2:] == ["Showdown: player_0 shows Jack, player_1 shows King. player_1 wins 2 chip(s).",
                            "Game over: after 5 hand(s), chips: player_0 +0, player_1 +0"]  # fmt: skip
    # Hands that end with the same winner and chips but other cards, or by a showdown instead of a fold, read their own.
    other_deals = [("Q", "J"), ("J", "Q"), ("K", "Q"), ("K", "Q"), ("J", "K")]
    openings, _ = _play_hands(5, other_deals, [("check", "check")] * 4)
    assert openings[3] == (
        "4 of 5. Chips so far: player_0 +1, player_1 -1. Previous hands: hand 1: player_0 +1 by showdown (player_0 Q, "
        "player_1 J). hand 2: player_1 +1 by showdown (player_0 J, player_1 Q). hand 3: player_0 +1 by showdown "
        "(player_0 K, player_1 Q). player_1 acts first."
    )


def test_repeated_invalid_moves_fold_the_hand():
    env = arena.make("kuhn-poker-v0", num_hands=1)
    env.reset(seed=0, options={"deals": [("K", "J")]})
    env.step("[bet]")
    env.step("raise!")
    assert "call" in env.infos["player_1"]["invalid_move"]
    env.step("[check]")  # not legal facing a bet
    assert env.unwrapped.returns == {"player_0": 1.0, "player_1": -1.0}


def test_opponent_view_does_not_depend_on_my_card():
    """Counterfactual secrecy: player_1's observations before the showdown are identical whatever player_0 holds."""
    views = {}
    for mine in "JK":
        env = arena.make("kuhn-poker-v0", num_hands=1)
        env.reset(seed=0, options={"deals": [(mine, "Q")]})
        env.step("[check]")
        views[mine] = (env.observe("player_1")["text"], repr(env.infos["player_1"]))
    assert views["J"] == views["K"]


def test_nash_agent_earns_about_the_game_value_against_itself():
    """With alpha in [0, 1/3] the first actor's value is -1/18 per hand; two hands cancel out."""
    total = {"player_0": 0.0, "player_1": 0.0}
    n = 3000
    for seed in range(n):
        result = arena.play("kuhn-poker-v0", [KuhnNashAgent(seed), KuhnNashAgent(seed + n)], seed=seed, num_hands=1)
        for k, v in result.returns.items():
            total[k] += v
    assert total["player_0"] / n == pytest.approx(-1 / 18, abs=0.05)


def test_nash_policy_is_a_distribution_everywhere():
    for card, history in itertools.product("JQK", ["", "k", "b", "kb"]):
        probs = nash_policy(card, history)
        assert sum(probs.values()) == pytest.approx(1.0)
        assert all(0 <= p <= 1 for p in probs.values())


def test_bad_deal_option_is_a_clear_error():
    env = arena.make("kuhn-poker-v0")
    with pytest.raises(arena.ArenaError, match="distinct cards"):
        env.reset(seed=0, options={"deals": [("K", "K")]})


def test_num_hands_must_be_positive():
    with pytest.raises(arena.ArenaError, match="num_hands"):
        arena.make("kuhn-poker-v0", num_hands=0)


@pytest.mark.parametrize("option", ["num_hands", "max_turns", "invalid_retries"])
def test_a_true_false_value_is_no_count(option):
    # True is an int: it was taken as 1 (one hand, a one-move game, one retry) without a word.
    with pytest.raises(arena.ArenaError, match=option):
        arena.make("kuhn-poker-v0", **{option: True})


def test_seeded_deals_are_uniform():
    counts = {}
    for seed in range(600):
        env = arena.make("kuhn-poker-v0", num_hands=1)
        env.reset(seed=seed)
        deal = tuple(env.unwrapped.cards.values())
        counts[deal] = counts.get(deal, 0) + 1
    assert len(counts) == 6
    assert np.std(list(counts.values())) < 25
