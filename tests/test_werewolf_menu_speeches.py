"""``scripts/werewolf_menu_speeches.py``: a learner's menu speeches in its seats, counted by role and kind."""

from __future__ import annotations

import pytest

from arena.agents.random_agent import RandomAgent
from arena.agents.scripted.werewolf import WerewolfScripted


@pytest.fixture(scope="module")
def probe(load_script):
    return load_script("werewolf_menu_speeches")


def test_statement_kinds_mark_a_claim_as_the_seers_own_only_when_it_repeats_its_inspection(probe):
    seer = {"inspections": {"player_3": "werewolf", "player_5": "not werewolf"}}
    assert probe.statement_kind("I have no information yet.", seer) == "pass"
    assert probe.statement_kind("I suspect player_3.", seer) == "suspect"
    wolf, good = "I am the Seer. My findings: {} is a Werewolf.", "I am the Seer. My findings: {} is a good player."
    assert probe.statement_kind(wolf.format("player_3"), seer) == "claim wolf (own finding)"
    assert probe.statement_kind(good.format("player_5"), seer) == "claim good (own finding)"
    assert probe.statement_kind(good.format("player_3"), seer) == "claim good"  # contradicts its finding
    assert probe.statement_kind(wolf.format("player_3"), {}) == "claim wolf"  # a villager's claim is never its own
    pack = {"werewolves": ["player_1", "player_3"]}
    assert probe.statement_kind(good.format("player_3"), pack) == "claim good (on the pack)"
    assert probe.statement_kind(wolf.format("player_5"), pack) == "claim wolf"
    assert probe.statement_kind("I suspect player_1.", pack) == "suspect (on the pack)"
    assert probe.statement_kind("I suspect player_1.", seer) == "suspect"  # the pack is in a wolf's infos only


def test_the_scripted_seer_claims_its_findings_and_random_seats_say_every_kind(probe, capsys):
    rates, counts = probe.count_speeches(lambda k: WerewolfScripted(seed=k), games=8, seed=0)
    assert counts["seer", "claim wolf (own finding)"] + counts["seer", "claim good (own finding)"] > 0
    assert not any(kind.startswith("claim") for role, kind in counts if role != "seer")  # only wolves fake-claim
    assert set(rates) == {"village", "werewolves"} and 0.0 <= rates["village"] + rates["werewolves"] <= 1.0
    _, noise = probe.count_speeches(lambda k: RandomAgent(seed=k), games=12, seed=0)
    assert {kind for _, kind in noise} >= {"pass", "suspect", "claim wolf", "claim good"}
    probe.report(rates, counts, 8)
    out = capsys.readouterr().out
    assert out.startswith(f"win rate over 8 games: village {rates['village']:.3f}, werewolves") and "seer:" in out


@pytest.mark.parametrize("menu_roles", [None, ("seer",)])
def test_with_roles_the_learner_plays_only_those_seats(probe, menu_roles):
    rates, counts = probe.count_speeches(lambda k: RandomAgent(seed=k), 12, 0, ("seer",), menu_roles)
    assert {role for role, _ in counts} == {"seer"} and sum(counts.values()) >= 12  # a seer speaks at least on day 1
    assert 0.0 <= rates["village"] <= 1.0
    # the scripted villagers beside it speak free text unless the menu is everyone's
    _, villagers = probe.count_speeches(lambda k: RandomAgent(seed=k), 4, 0, ("villager",), menu_roles)
    assert (sum(villagers.values()) > 0) == (menu_roles is None)


def test_the_learner_in_the_wolves_seats_is_counted_with_its_pack_marked(probe):
    rates, counts = probe.count_speeches(lambda k: RandomAgent(seed=k), 12, 0, ("werewolf",))
    assert {role for role, _ in counts} == {"werewolf"}
    kinds = {kind for _, kind in counts}
    assert any(kind.endswith("(on the pack)") for kind in kinds) and "suspect" in kinds
    assert not any("own finding" in kind for kind in kinds)  # a wolf has no inspections
    assert rates["werewolves"] > 0  # random wolves against the scripted village still win some


@pytest.mark.parametrize("menu", [{}, {"speech_menu": True}])
def test_social_eval_speech_lineups_show_the_seers_claim_is_what_the_village_wins_with(load_script, menu):
    evaluation = load_script("social_eval")
    silent = evaluation.run("werewolf-v0:lspo", "silent-village", 60, **menu)
    seer = evaluation.run("werewolf-v0:lspo", "seer-speaks", 60, **menu)
    assert silent["errors"] == seer["errors"] == 0 and silent["invalid"] == seer["invalid"] == 0
    assert seer["good_wins"] > silent["good_wins"] + 12  # 1,000 games: 0.633 against 0.155 (free speech)
    villager = evaluation.SilentVillager(seed=0)
    speech_turn = {
        "text": "[game] Day 1 dawns.\nDay 1. Living players: player_0, player_1. Speak to everyone (free text)."
    }
    assert villager.act(speech_turn, {"role": "seer", "phase": "day 1"}) == evaluation.SPEECH_PASS
