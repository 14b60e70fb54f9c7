"""Ratings on synthetic results with a known order, team sides, openskill, win rates, exploitability."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from arena.league.exploitability import agent_exploitability, agent_policy
from arena.league.ratings import (
    bradley_terry,
    bt_ratings,
    openskill_ratings,
    pairwise,
    role_win_rates,
    sides,
    win_rate_matrix,
)
from arena.league.store import MatchRecord


def duel(key: str, a: str, b: str, ret_a: float, seed: int = 0) -> MatchRecord:
    winners = ["player_0"] if ret_a > 0 else ["player_1"] if ret_a < 0 else []
    return MatchRecord(
        key=key,
        env_id="toy-v0",
        seed=seed,
        agents={"player_0": a, "player_1": b},
        specs={"player_0": a, "player_1": b},
        roles={"player_0": "first", "player_1": "second"},
        returns={"player_0": ret_a, "player_1": -ret_a},
        winners=winners,
    )


def synthetic(strengths: dict[str, float], games_per_pair: int, seed: int = 0) -> list[MatchRecord]:
    """Round robin where i beats j with probability sigmoid(s_i - s_j), both seat orders."""
    rng = np.random.default_rng(seed)
    records = []
    names = list(strengths)
    for a in names:
        for b in names:
            if a == b:
                continue
            for g in range(games_per_pair):
                p = 1 / (1 + np.exp(strengths[b] - strengths[a]))
                records.append(duel(f"{a}-{b}-{g}", a, b, 1.0 if rng.random() < p else -1.0, seed=g))
    return records


def test_bradley_terry_recovers_known_order_with_separated_intervals():
    truth = {"scripted": 1.5, "mid": 0.5, "random": -1.0}
    ratings = bt_ratings(synthetic(truth, 60), bootstrap=100)
    assert [r.entity for r in ratings] == ["scripted", "mid", "random"]
    for better, worse in itertools.pairwise(ratings):
        assert better.low > worse.high, (better, worse)  # non-overlapping 95% intervals
        assert better.low <= better.elo <= better.high
    # Elo scale (400 per factor 10 in odds): the true gap of 2.5 logits is 434 points.
    gap = ratings[0].elo - ratings[-1].elo
    assert 330 < gap < 540
    assert abs(np.mean([r.elo for r in ratings]) - 1000) < 1e-6


def test_bradley_terry_matches_closed_form_for_two_players():
    wins = np.array([[0.0, 30.0], [10.0, 0.0]])
    games = np.array([[0.0, 40.0], [40.0, 0.0]])
    strength = bradley_terry(wins, games, prior=0.0)
    assert strength[0] - strength[1] == pytest.approx(np.log(3.0), abs=1e-6)


def test_undefeated_player_stays_finite_and_first():
    records = [duel(f"k{i}", "a", "b", 1.0) for i in range(20)]
    ratings = bt_ratings(records, bootstrap=20)
    assert ratings[0].entity == "a" and np.isfinite(ratings[0].elo) and ratings[0].elo > ratings[1].elo


def test_ties_count_half_and_self_play_is_ignored():
    records = [duel("t1", "a", "b", 0.0), duel("t2", "a", "a", 1.0)]
    assert pairwise(records[0]) == [("a", "b", 0.5)]
    assert pairwise(records[1]) == []
    entities, rate, games = win_rate_matrix(records)
    assert entities == ["a", "b"] and rate[0, 1] == 0.5 and games[0, 1] == 1 and np.isnan(rate[0, 0])


@given(st.permutations(list(range(12))))
def test_ratings_do_not_depend_on_record_order(order):
    records = synthetic({"x": 1.0, "y": 0.0, "z": -0.5}, 2, seed=3)
    shuffled = [records[i] for i in order] + records[12:]
    a = {r.entity: r.elo for r in bt_ratings(records, bootstrap=0)}
    b = {r.entity: r.elo for r in bt_ratings(shuffled, bootstrap=0)}
    assert a == pytest.approx(b, abs=1e-6)


def werewolf_record(key: str, wolves_agent: str, village_agent: str, wolves_win: bool) -> MatchRecord:
    seats = [f"player_{i}" for i in range(7)]
    teams = {s: ("wolves" if i in (1, 4) else "village") for i, s in enumerate(seats)}
    agents = {s: wolves_agent if teams[s] == "wolves" else village_agent for s in seats}
    roles = {s: ("werewolf" if teams[s] == "wolves" else "villager") for s in seats}
    won = "wolves" if wolves_win else "village"
    return MatchRecord(
        key=key,
        env_id="werewolf-v0",
        seed=0,
        agents=agents,
        specs=agents,
        roles=roles,
        teams=teams,
        returns={s: 1.0 if teams[s] == won else -1.0 for s in seats},
        winners=[s for s in seats if teams[s] == won],
    )


def test_team_games_are_rated_per_side_not_per_member():
    record = werewolf_record("w", "ckpt2", "ckpt1", wolves_win=True)
    found = {s.entity: s for s in sides(record)}
    assert set(found) == {"ckpt2@wolves", "ckpt1@village"}
    assert found["ckpt2@wolves"].seats == ("player_1", "player_4") and found["ckpt2@wolves"].won
    assert pairwise(record) == [("ckpt1@village", "ckpt2@wolves", 0.0)]  # one comparison, not 10
    # A two-wolf side that wins half its games rates level with the five-villager side it beat half the time:
    # summing members (openskill's team model) would call the wolves hopeless.
    records = [werewolf_record(f"k{i}", "a", "b", wolves_win=i % 2 == 0) for i in range(40)]
    ratings = {r.entity: r.elo for r in bt_ratings(records, bootstrap=0)}
    assert ratings["a@wolves"] == pytest.approx(ratings["b@village"], abs=1e-6)
    skill = openskill_ratings(records)
    assert set(skill) == {"a@wolves", "b@village"}
    assert abs(skill["a@wolves"][0] - skill["b@village"][0]) < 2.0


def test_openskill_and_role_win_rates_follow_results():
    records = synthetic({"strong": 2.0, "weak": -2.0}, 30)
    skill = openskill_ratings(records)
    assert skill["strong@first"][0] > skill["weak@first"][0]
    assert skill["strong@second"][0] > skill["weak@second"][0]
    rates = role_win_rates(records)
    assert rates["strong"]["all"][1] == 60 and rates["strong"]["first"][1] == 30
    assert rates["strong"]["all"][0] > 0.8 > 0.2 > rates["weak"]["all"][0]


class UniformKuhn:
    """Exposes action probabilities: always 50/50."""

    def __init__(self, seed=None):
        self.name = "uniform"

    def action_distribution(self, observation, info):
        return {a.strip("[]"): 0.5 for a in info["legal_actions"]}  # bare names are normalised

    def act(self, observation, info):
        return info["legal_actions"][0]

    def reset(self):
        pass


def test_kuhn_exploitability_of_scripted_equilibrium_is_zero_and_uniform_is_not():
    assert agent_exploitability("scripted") == pytest.approx(0.0, abs=1e-9)
    assert agent_exploitability("random") is None  # exposes no probabilities
    uniform = agent_exploitability("tests.test_league_ratings:UniformKuhn")
    assert uniform == pytest.approx(0.4583333, abs=1e-6)  # OpenSpiel's value for the uniform policy
    assert agent_policy(UniformKuhn())["K:b"] == {"[call]": 0.5, "[fold]": 0.5}


def test_tiny_or_one_sided_records_get_no_zero_width_interval():
    from arena.league.leaderboard import compute, json_text, markdown, rich_table

    def record(seed: int, a_wins: bool) -> MatchRecord:
        returns = {"player_0": 1.0, "player_1": -1.0} if a_wins else {"player_0": -1.0, "player_1": 1.0}
        return MatchRecord(
            key=f"k{seed}", env_id="x-v0", seed=seed, agents={"player_0": "a", "player_1": "b"},
            specs={"player_0": "random", "player_1": "random"}, roles={}, returns=returns,
            winners=["player_0" if a_wins else "player_1"],
        )  # fmt: skip

    five_nil = compute("x-v0", [record(s, True) for s in range(5)], bootstrap=50, exploitability=False)
    assert [r.ci_note for r in five_nil.rows] == ["too few games", "too few games"]
    text = Console(width=100, record=True)
    text.print(rich_table(five_nil))
    assert "too few games" in text.export_text() and not re.search(r"(\d+)–\1\b", text.export_text())
    assert '"ci_low": null' in json_text([five_nil]) and "too few games" in markdown(five_nil)
    sweep = compute("x-v0", [record(s, True) for s in range(40)], bootstrap=50, exploitability=False)
    assert [r.ci_note for r in sweep.rows] == ["no losses: unbounded", "no wins: unbounded"]
    mixed = compute("x-v0", [record(s, s % 3 != 0) for s in range(40)], bootstrap=50, exploitability=False)
    assert all(r.ci_note is None and r.high - r.low > 1 for r in mixed.rows)


def test_a_single_player_league_ranks_its_agents_by_win_rate_unrated(tmp_path):
    """A household league (one seat per match) had no row at all: ratings compare agents that met."""
    import json

    from arena.league.leaderboard import UNRATED, compute, csv_text, json_text, markdown, plot, rich_table

    def solo(seed: int, agent: str, solved: bool) -> MatchRecord:
        return MatchRecord(
            key=f"{agent}{seed}", env_id="solo-v0", seed=seed, agents={"player_0": agent},
            specs={"player_0": agent}, roles={"player_0": "player"}, returns={"player_0": float(solved)},
            winners=["player_0"] if solved else [],
        )  # fmt: skip

    records = [solo(s, "expert", s % 4 != 0) for s in range(8)] + [solo(s, "novice", s % 4 == 0) for s in range(8)]
    board = compute("solo-v0", records, bootstrap=20, exploitability=False)
    assert [(r.rank, r.entity, r.games, r.win_rate, r.ci_note) for r in board.rows] == [
        (1, "expert", 8, 0.75, UNRATED),
        (2, "novice", 8, 0.25, UNRATED),
    ]
    data = json.loads(json_text([board]))  # strict JSON: no NaN for the missing rating
    assert data[0]["ratings"][0]["rating"] is None and data[0]["ratings"][0]["win_rate"] == 0.75
    console = Console(width=120, record=True)
    console.print(rich_table(board))
    shown = console.export_text()
    assert "expert" in shown and "75%" in shown and "nan" not in shown and "unrated: met no other agent" in shown
    assert "nan" not in markdown(board) and "nan" not in csv_text([board])
    pytest.importorskip("matplotlib")
    assert plot([board], tmp_path / "solo.png").stat().st_size > 0
    self_play = compute("toy-v0", [duel("k", "r", "r", 1.0)], bootstrap=20, exploitability=False)
    assert [(r.entity, r.ci_note) for r in self_play.rows] == [("r", UNRATED)]


def test_an_agent_name_with_an_at_sign_gets_its_own_skill_and_exploitability():
    """``x@first`` is its own agent, not agent ``x`` in role ``first``: its row showed x's openskill rating
    and, in Kuhn Poker, x's exploitability (0 for a random agent)."""
    from arena.league.leaderboard import compute

    def record(seed: int, a_wins: bool) -> MatchRecord:
        return MatchRecord(
            key=f"k{seed}", env_id="kuhn-poker-v0", seed=seed, agents={"player_0": "x", "player_1": "x@first"},
            specs={"player_0": "scripted", "player_1": "random"}, roles={"player_0": "first", "player_1": "first"},
            returns={"player_0": 1.0, "player_1": -1.0} if a_wins else {"player_0": -1.0, "player_1": 1.0},
            winners=["player_0" if a_wins else "player_1"],
        )  # fmt: skip

    board = compute("kuhn-poker-v0", [record(s, s % 4 != 0) for s in range(20)], bootstrap=10)
    rows = {row.entity: row for row in board.rows}
    assert rows["x"].exploitability == pytest.approx(0.0, abs=1e-9) and rows["x@first"].exploitability is None
    assert rows["x"].mu is not None and rows["x@first"].mu is not None
    assert rows["x"].mu > rows["x@first"].mu
