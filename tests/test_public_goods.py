"""Public goods: hand-computed payoffs, the native ParallelEnv and its AEC form, cheap talk, metrics."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pettingzoo.test import parallel_api_test

import arena
from arena.agents.match import play
from arena.agents.scripted.public_goods import ConditionalCooperator, FreeRider, TitForTat
from arena.core.errors import ArenaError
from arena.envs.public_goods import PublicGoodsEnv, parse_contribution, round_payoffs


def test_hand_computed_round_payoffs():
    # pot 40 · 1.6 / 4 = 16 each
    assert round_payoffs([20, 0, 10, 10], 20, 1.6) == pytest.approx([16, 36, 26, 26])
    assert round_payoffs([0, 0, 0, 0], 20, 1.6) == pytest.approx([20] * 4)
    assert round_payoffs([20] * 4, 20, 1.6) == pytest.approx([32] * 4)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 20), min_size=2, max_size=8), st.floats(1.01, 1.99))
def test_free_riding_dominates_while_full_contribution_is_optimal(contributions, r):
    n = len(contributions)
    pay = round_payoffs(contributions, 20, r)
    assert sum(pay) == pytest.approx(n * 20 + (r - 1) * sum(contributions))
    if contributions[0] > 0:  # giving one token less always pays the giver more (r/N < 1)
        less = round_payoffs([contributions[0] - 1, *contributions[1:]], 20, r)
        assert less[0] > pay[0]
        assert sum(less) < sum(pay)


def test_parse_contribution():
    assert parse_contribution("I give [7] tokens", 20) == 7
    assert parse_contribution("[3] no wait [ 12 ]", 20) == 12
    assert isinstance(parse_contribution("[21]", 20), str)
    assert isinstance(parse_contribution("seven", 20), str)
    assert isinstance(parse_contribution("[-1]", 20), str)


def test_make_parallel_returns_the_native_env_and_passes_pettingzoo():
    env = arena.make_parallel("public-goods-v0")
    assert isinstance(env, PublicGoodsEnv)
    parallel_api_test(arena.make_parallel("public-goods-v0", num_rounds=3), num_cycles=50)


def test_parallel_rounds_pay_hand_computed_payoffs():
    env = arena.make_parallel("public-goods-v0", num_rounds=2, talk_steps=1)
    obs, infos = env.reset(seed=0)
    assert infos["player_0"]["phase"] == "talk" and "legal_actions" not in infos["player_0"]
    obs, rewards, _, _, infos = env.step({a: f"hello from {a}" for a in env.agents})
    assert rewards == {a: 0.0 for a in env.possible_agents}
    assert "[player_3] hello from player_3" in obs["player_0"]["text"]
    assert infos["player_0"]["legal_actions"][-1] == "[20]"
    obs, rewards, terms, _, infos = env.step(
        {"player_0": "[20]", "player_1": "[0]", "player_2": "I give [10]", "player_3": "[10]"}
    )
    assert rewards == pytest.approx({"player_0": 16, "player_1": 36, "player_2": 26, "player_3": 26})
    assert not any(terms.values())
    assert infos["player_0"]["previous_contributions"] == {"player_1": 0, "player_2": 10, "player_3": 10}
    env.step({a: "" for a in env.agents})  # silence is a valid talk move
    obs, rewards, terms, _, infos = env.step({a: "[20]" for a in env.agents})
    assert rewards == pytest.approx({a: 32 for a in env.possible_agents})
    assert all(terms.values()) and not env.agents
    assert infos["player_0"]["contribution_rate"] == pytest.approx((40 + 80) / 160)
    assert infos["player_0"]["welfare"] == pytest.approx(104 + 128)
    assert infos["player_0"]["social_optimum"] == pytest.approx(2 * 4 * 1.6 * 20)
    assert infos["player_0"]["efficiency"] == pytest.approx((232 - 160) / (256 - 160))


def test_invalid_contribution_plays_the_default_and_is_flagged():
    env = arena.make_parallel("public-goods-v0", num_players=3, num_rounds=1, talk_steps=0, multiplier=2.0)
    env.reset(seed=0)
    _, rewards, _, _, infos = env.step({"player_0": "[99]", "player_1": "nope", "player_2": "[9]"})
    assert infos["player_0"]["invalid_move"] and infos["player_1"]["invalid_move"]
    assert "invalid_move" not in infos["player_2"]
    assert rewards == pytest.approx({"player_0": 26, "player_1": 26, "player_2": 17})  # pot 9·2/3 = 6


def test_aec_form_hides_earlier_talk_and_contributions_until_the_round_resolves():
    env = arena.make("public-goods-v0", num_rounds=1)
    env.reset(seed=0)
    env.step("my plan is zebra")
    assert env.agent_selection == "player_1"
    assert "zebra" not in env.observe("player_1")["text"]
    for _ in range(3):
        env.step("ok")
    assert "zebra" in env.observe("player_1")["text"]
    env.step("[17]")
    assert "17" not in env.observe("player_1")["text"].split("Round 1 of 1: contributions.")[-1]
    for _ in range(3):
        env.step("[0]")
    assert "player_0 17" in env.observe("player_1")["text"]


def test_aec_and_parallel_forms_agree():
    agents = [ConditionalCooperator(), FreeRider(), TitForTat(), ConditionalCooperator()]
    aec = play("public-goods-v0", agents, seed=4)
    par = arena.make_parallel("public-goods-v0")
    _, infos = par.reset(seed=4)
    totals = dict.fromkeys(par.possible_agents, 0.0)
    obs = {a: par.observe(a) for a in par.agents}
    while par.agents:
        actions = {a: agents[int(a[-1])].act(obs[a], infos[a]) for a in par.agents}
        obs, rewards, _, _, infos = par.step(actions)
        for a, r in rewards.items():
            totals[a] += r
    assert totals == pytest.approx(aec.returns)
    assert aec.transcript.events == par.transcript.events[: len(aec.transcript.events)]


def test_scripted_agents_behave_as_documented():
    coop = play("public-goods-v0", [ConditionalCooperator() for _ in range(4)], seed=0)
    assert coop.transcript.result["info"]["contribution_rate"] == 1.0
    assert coop.returns == pytest.approx({a: 5 * 32 for a in coop.returns})
    riders = play("public-goods-v0", [FreeRider() for _ in range(4)], seed=0)
    assert riders.transcript.result["info"]["efficiency"] == 0.0
    mixed = play("public-goods-v0", [TitForTat(), FreeRider(), TitForTat(), TitForTat()], seed=0)
    # round 1: three give 20 (pot 60 → 24 each); then tit-for-tat copies the free rider's 0
    assert mixed.transcript.result["info"]["round_contribution_rates"] == pytest.approx([0.75, 0, 0, 0, 0])
    assert mixed.returns["player_1"] == pytest.approx(44 + 4 * 20)
    assert mixed.returns["player_0"] == pytest.approx(24 + 4 * 20)


def test_rewards_are_tokens_not_win_lose():
    result = play("public-goods-v0", [FreeRider(), ConditionalCooperator(), ConditionalCooperator()], seed=0,
                  num_players=3, num_rounds=1, talk_steps=0, multiplier=1.5)  # fmt: skip
    assert result.returns == pytest.approx({"player_0": 40, "player_1": 20, "player_2": 20})


def test_bad_parameters_are_rejected():
    for kwargs in ({"multiplier": 4.0}, {"multiplier": 1.0}, {"num_players": 1}, {"talk_steps": -1}):
        with pytest.raises(ArenaError):
            arena.make("public-goods-v0", **kwargs)
    with pytest.raises(ArenaError, match="max_turns"):  # True is an int: it was a one-step game
        arena.make("public-goods-v0", max_turns=True)


@pytest.mark.slow
def test_thousand_seeded_games_of_each_bargaining_game_without_error():
    """The eval script's full run (about 100 s): every lineup of all three games, seeds 0..999, no exception."""
    import runpy
    from pathlib import Path

    script = runpy.run_path(str(Path(__file__).resolve().parents[1] / "scripts" / "bargaining_eval.py"))
    rows = [script["run_lineup"](*lineup, 1000) for lineup in script["LINEUPS"]]
    assert all(r.errors == 0 and r.games == 1000 for r in rows)
    assert {r.label.split()[0] for r in rows} >= {"negotiation", "public", "sequential"}
