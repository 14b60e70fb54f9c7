"""Training and evaluating one side of a team game: which seats the learner takes, per-side evaluation
with intervals, vote accuracy, single-agent success, and the config checks of these keys."""

from __future__ import annotations

import numpy as np
import pytest

import arena
from arena.agents.random_agent import RandomAgent
from arena.core.errors import ArenaError
from arena.trainers.evaluation import _opponent_seed, evaluate_side, wilson_interval
from arena.trainers.pool import OpponentPool
from arena.trainers.rollout import plan_groups, side_seats_of

VILLAGE = ["seer", "doctor", "villager"]
SIDES = {"village": VILLAGE, "werewolves": ["werewolf"]}


def _roles(env_id, seed, **kwargs):
    env = arena.make(env_id, **kwargs)
    env.reset(seed=seed)
    return {s: env.unwrapped.role(s) for s in env.possible_agents}


def test_groups_alternate_sides_and_the_learner_takes_every_seat_of_its_side():
    plans = plan_groups({"werewolf-v0": {}}, 4, 2, OpponentPool({"scripted": 1.0}), np.random.default_rng(0), SIDES)
    assert [p.side for p in plans] == ["village", "werewolves", "village", "werewolves"]
    for plan in plans:
        roles = _roles("werewolf-v0", plan.seed)
        assert plan.learner_seats == [s for s in plan.seats if roles[s] in SIDES[plan.side]]
        for opponents in plan.matches:  # every other seat has an opponent, and only those
            assert {o.seat for o in opponents} == set(plan.seats) - set(plan.learner_seats)


def test_side_seats_limits_the_learner_to_a_rotating_share_of_its_side():
    plans = plan_groups(
        {"spy-v0": {}}, 6, 1, OpponentPool({"scripted": 1.0}), np.random.default_rng(1), {"civ": ["civilian"]}, 1
    )
    for plan in plans:
        roles = _roles("spy-v0", plan.seed)
        assert len(plan.learner_seats) == 1 and roles[plan.learner_seats[0]] == "civilian"
    seed = plans[0].seed
    picks = {side_seats_of("spy-v0", {}, seed, ["civilian"], limit=1, turn=t)[0] for t in range(4)}
    assert len(picks) == 4  # the turns rotate over the four civilians


def test_self_play_groups_ignore_sides():
    plans = plan_groups({"werewolf-v0": {}}, 2, 1, OpponentPool({"self": 1.0}), np.random.default_rng(0), SIDES)
    assert all(p.learner_seats is None and p.side is None and p.matches == [[]] for p in plans)


def test_a_side_no_seat_is_dealt_is_a_clear_error():
    with pytest.raises(ArenaError, match=r"no seat has a role in \['dragon'\]"):
        side_seats_of("werewolf-v0", {}, 0, ["dragon"])


def test_wilson_interval_matches_known_values():
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    low, high = wilson_interval(0.8 * 500, 500)
    assert low < 0.8 < high and high - low < 0.08


def test_evaluate_side_counts_wins_and_votes_of_the_side_as_the_ballots_say():
    from arena.agents.scheduler import MatchSpec, play_many
    from arena.agents.specs import make_agent

    row = evaluate_side(RandomAgent(seed=5), "spy-v0", {}, "scripted", 12, ["civilian"], side_seats=1)
    assert row["games"] == 12 and 0.0 <= row["win_ci_low"] <= row["win_rate"] <= row["win_ci_high"] <= 1.0
    # replay the evaluation's matches (fresh agents, same seeds) and count from the final infos by hand
    learner, specs, seats = RandomAgent(seed=5), [], []
    for k in range(12):
        seed = 10_000 + k
        env = arena.make("spy-v0")
        mine = side_seats_of("spy-v0", {}, seed, ["civilian"], limit=1, turn=k)
        others = [s for s in env.possible_agents if s not in mine]  # each opponent seat its own seed
        agents = {
            s: make_agent("scripted", "spy-v0", seed=_opponent_seed(seed, others.index(s))) if s in others else learner
            for s in env.possible_agents
        }
        specs.append(MatchSpec(env=env, agents=agents, seed=seed))
        seats.append(mine)
    on_target = cast = abstained = wins = 0
    for outcome, mine in zip(play_many(specs, traced=False), seats, strict=True):
        info = outcome.transcript.result["info"]
        wins += info["winning_side"] == "civilians"
        for ballot in info["votes"]:
            for voter, target in ballot.items():
                if voter in mine:
                    abstained += target == "abstain"
                    cast += target != "abstain"
                    on_target += target in info["spies"]
    assert cast + abstained >= 12  # the learner's civilian votes at least once a game
    assert row["win_rate"] == wins / 12
    assert (row["votes_cast"], row["abstentions"]) == (cast, abstained)
    assert row["vote_accuracy"] == pytest.approx(on_target / cast)


def test_evaluate_side_of_a_single_agent_game_is_its_success_rate():
    from arena.agents.scripted.household import HouseholdExpert

    expert = evaluate_side(HouseholdExpert(), "household-v0", {"max_steps": 40}, "random", 6)
    assert expert["win_rate"] == 1.0 and expert["truncated_rate"] == 0.0 and expert["mean_return"] == 1.0
    walker = evaluate_side(RandomAgent(seed=0), "household-v0", {"max_steps": 3}, "random", 6)
    assert walker["win_rate"] == 0.0 and walker["truncated_rate"] == 1.0


def test_config_checks_sides_eval_opponents_and_tiny_model_keys():
    from arena.trainers.config import load_config

    base = ["envs={werewolf-v0: {}}", "constrained=[]"]
    cfg = load_config("cpu", overrides=[*base, "learner_sides={village: [seer, doctor, villager], wolves: [werewolf]}"])
    assert cfg.learner_sides["wolves"] == ["werewolf"]
    with pytest.raises(ArenaError, match="no seat has a role"):
        load_config("cpu", overrides=[*base, "learner_sides={knights: [knight]}"])
    with pytest.raises(ArenaError, match="learner_sides must map"):
        load_config("cpu", overrides=[*base, "learner_sides={village: seer}"])
    with pytest.raises(ArenaError, match="has no agent 'expert'"):
        load_config("cpu", overrides=[*base, "eval_opponents=[expert]"])
    with pytest.raises(ArenaError, match="tiny_model: unknown keys"):
        load_config("cpu", overrides=["tiny_model={width: 3}"])
    assert load_config("cpu", overrides=["tiny_model={pretrain_steps: 5}"]).tiny_model == {"pretrain_steps": 5}
    with pytest.raises(ArenaError, match=r"tiny_model: unknown keys \['log'\]"):  # the builder's log is the run's
        load_config("cpu", overrides=["tiny_model={log: x}"])
    with pytest.raises(ArenaError, match="tiny_model: pretrain_steps must be an integer >= 0"):
        load_config("cpu", overrides=["tiny_model={pretrain_steps: -2}"])
    with pytest.raises(ArenaError, match=r"warmstart: unknown keys \['stepz'\]"):  # before any model is built
        load_config("cpu", overrides=["warmstart.stepz=10"])
    with pytest.raises(ArenaError, match=r"unknown keys \['device'\]"):  # the run's own `device` sets it
        load_config("cpu", overrides=["warmstart.device=cuda"])
    assert load_config("cpu", overrides=["warmstart.caption_steps=2"]).warmstart["caption_steps"] == 2
    with pytest.raises(ArenaError, match="side_seats"):
        load_config("cpu", overrides=[*base, "side_seats=-1"])


def test_werewolf_side_evaluation_counts_the_villages_votes():
    """Werewolf's ballots are nested (``{"day", "revote", "ballot": {voter: target}}``): they are counted."""
    row = evaluate_side(RandomAgent(0), "werewolf-v0", {}, "scripted", 4, VILLAGE)
    assert row["votes_cast"] > 0 and 0.0 <= row["vote_accuracy"] <= 1.0


def test_side_evaluation_reports_the_games_outcome_metrics():
    """Negotiation evaluated per side (or any game with learner_sides) still reports its agreement rate."""
    row = evaluate_side(RandomAgent(0), "negotiation-v0", {"proposal_list": True}, "fair", 6, ["first_mover"])
    assert 0.0 <= row["agreement"] <= 1.0 and "nash_ratio" in row
