"""``scripts/gigpo_groups.py``: step-group statistics, including the turns GiGPO's step term reaches."""

from __future__ import annotations

import pytest

from arena.trainers.episodes import Episode, Turn


@pytest.fixture(scope="module")
def groups(load_script):
    return load_script("gigpo_groups")


def _episode(group: str, keys: list[str], won: bool) -> Episode:
    """One seat's episode of the group: a turn per key, reward 1 on the last turn when ``won``."""
    turns = [
        Turn("p", "solo", i, [1], [2], [0.0], float(won and i == len(keys) - 1), key, 0) for i, key in enumerate(keys)
    ]
    return Episode("household-v0", 0, group, {"p": "solo"}, {"p": float(won)}, ["p"], "self", turns)


def test_across_counts_turns_whose_anchor_recurs_in_another_episode_and_signal_the_nonzero_step_term(groups):
    episodes = [
        _episode("g", ["start", "a", "b"], won=True),  # "start" shared with the loser: a step group across episodes
        _episode("g", ["start", "c", "c"], won=False),  # "c" twice in one episode, both returns 0
    ]
    s = groups.step_group_stats(episodes, gamma=0.5)
    assert s["turns"] == 6 and s["step_groups"] == 4  # start, a, b, c
    assert s["across"] == pytest.approx(2 / 6)  # the two "start" turns
    # "start": returns 0.25 (winner, two steps before its reward) and 0 differ, so both get A_S != 0; "c"
    # repeats within a lost episode with equal returns (0), "a" and "b" are alone: A_S = 0 for those four
    assert s["signal"] == pytest.approx(2 / 6)
    assert s["singletons"] == pytest.approx(2 / 6)


def test_the_same_anchor_in_two_groups_is_two_step_groups(groups):
    episodes = [_episode("g1", ["start"], won=True), _episode("g2", ["start"], won=False)]
    s = groups.step_group_stats(episodes)
    assert s["step_groups"] == 2 and s["across"] == 0.0 and s["signal"] == 0.0


def test_a_preset_is_played_with_its_own_game_settings_and_discount(groups, one_torch_thread):
    from arena.agents.tiny import cached_tiny_model

    episodes, gamma = groups.collect_turns(
        str(cached_tiny_model()), "household-v0", "state", 1, 2, 0, preset="cpu-household"
    )
    assert gamma == 0.95 and len(episodes) == 2
    assert all(0 < len(e.turns) <= 20 for e in episodes)  # the preset's max_steps (the game's default is 50)
    assert all(t.state_key is not None for e in episodes for t in e.turns)


def test_one_game_of_a_multi_game_preset_is_played_alone_with_the_presets_opponents(groups, one_torch_thread):
    from arena.agents.tiny import cached_tiny_model

    episodes, _ = groups.collect_turns(str(cached_tiny_model()), "kuhn-poker-v0", "state", 2, 2, 0, preset="cpu-mixed")
    assert len(episodes) == 4 and {e.env_id for e in episodes} == {"kuhn-poker-v0"}
