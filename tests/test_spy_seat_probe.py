"""``scripts/spy_seat_probe.py``: who the votes fall on when a model plays one civilian seat among scripted players."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from arena.agents.scheduler import play_many
from arena.agents.specs import make_agent
from arena.core.errors import ArenaError
from arena.trainers.config import load_config
from arena.trainers.evaluation import match_specs


@pytest.fixture(scope="module")
def probe(load_script):
    return load_script("spy_seat_probe")


def _turn(seat, legal, invalid=None):
    return SimpleNamespace(seat=seat, info={"legal_actions": legal} if legal else {}, invalid=invalid)


def test_one_match_is_counted_from_its_ballots_and_the_learners_turns(probe):
    info = {
        "spies": ["player_4"],
        "winning_side": "spies",
        "survived": {"player_0": True, "player_1": False, "player_2": True, "player_3": True, "player_4": True},
        # a tie between player_1 and player_4, then the revote among them
        "votes": [
            {"player_0": "player_4", "player_1": "player_2", "player_2": "player_1", "player_3": "player_1",
             "player_4": "player_4"},
            {"player_0": "player_4", "player_1": "player_4", "player_2": "player_1", "player_3": "player_1",
             "player_4": "player_1"},
        ],
    }  # fmt: skip
    turns = [
        _turn("player_1", None, "repeats an earlier clue"),
        _turn("player_1", ["[player_0]"]),
        _turn("player_0", None),
    ]
    counts = probe.count_match(info, "player_1", turns)
    assert counts["matches"] == 1 and counts["civilians_won"] == 0
    assert counts["learner_votes"] == 2 and counts["learner_votes_on_spy"] == 1
    assert counts["scripted_civilian_votes"] == 6 and counts["scripted_civilian_votes_on_spy"] == 2  # the spy's own not
    assert counts["votes_on_learner"] == 5 and counts["votes_on_spy"] == 4
    assert counts["learner_voted_out"] == 1
    assert counts["learner_clues"] == 1 and counts["learner_clues_refused"] == 1  # the other seat's clue not counted
    rates = probe.rates(counts)
    assert rates["learner_vote_accuracy"] == 0.5 and rates["scripted_civilian_vote_accuracy"] == pytest.approx(0.333)
    assert rates["civilian_votes"] == 8


def test_counts_agree_with_the_games_own_vote_accuracy_of_the_learners_seat(probe):
    """A scripted player in the learner's seat: the probe's count of its votes on the spy is the share the game
    itself reports for that seat (``vote_accuracy`` in the final info), match by match."""
    config = load_config("cpu-spy")
    kwargs = config.envs["spy-v0"]
    learner = make_agent("scripted-naive", "spy-v0", seed=5)
    specs, seats = match_specs(learner, "spy-v0", kwargs, "scripted-naive", 12, ["civilian"], side_seats=1, seed=300)
    assert all(len(mine) == 1 for mine in seats) and len({mine[0] for mine in seats}) > 1  # one seat, rotating
    for outcome, (seat,) in zip(play_many(specs, traced=False), seats, strict=True):
        info = outcome.transcript.result["info"]
        assert seat not in info["spies"]
        counts = probe.count_match(info, seat, outcome.turns)
        assert counts["learner_votes"] >= 1
        assert counts["learner_votes_on_spy"] / counts["learner_votes"] == pytest.approx(info["vote_accuracy"][seat])
        assert counts["civilians_won"] == (seat in outcome.winners)


def test_a_model_plays_every_match_in_one_civilian_seat(probe):
    from arena.agents.tiny import cached_tiny_model

    config = load_config("cpu-spy", overrides=["max_new_tokens=8"])
    result = probe.probe(str(cached_tiny_model()), config, 3)
    assert result["matches"] == 3
    assert result["learner_votes"] >= 3 and 0.0 <= result["learner_vote_accuracy"] <= 1.0
    assert result["civilian_votes"] == result["learner_votes"] + result["scripted_civilian_votes"]


def test_bad_arguments_get_a_clear_error(probe, capsys):
    assert probe.main(["--model", "unused", "--games", "0"]) == 2
    assert "--games must be at least 1" in capsys.readouterr().err
    assert probe.main(["--model", "unused", "--preset", "cpu"]) == 2
    assert "no spy-v0 or visual-spy-v0 game" in capsys.readouterr().err


def test_the_game_is_the_configs_text_or_visual_spy(probe):
    assert probe.spy_game(load_config("cpu-spy")) == "spy-v0"
    assert probe.spy_game(load_config("cpu-visual-spy")) == "visual-spy-v0"
    with pytest.raises(ArenaError, match="no spy-v0 or visual-spy-v0"):
        probe.spy_game(load_config("cpu"))


def test_a_vision_model_plays_the_visual_game_in_one_civilian_seat(probe, tiny_vlm):
    config = load_config("cpu-visual-spy", overrides=["max_new_tokens=8"])
    result = probe.probe(str(tiny_vlm), config, 2)
    assert result["matches"] == 2 and result["learner_clues"] >= 2
    assert result["learner_votes"] >= 2 and 0.0 <= result["learner_vote_accuracy"] <= 1.0
