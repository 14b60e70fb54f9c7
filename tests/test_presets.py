"""Paper presets: ``arena.make(env_id, preset=...)``, the parameters each preset pins, and its docs table."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

import arena
from arena.core.errors import ArenaError
from arena.core.registry import EnvSpec, make, make_parallel, register, spec

DOCS = Path(__file__).resolve().parents[1] / "docs" / "envs"

#: Every paper preset, exactly (aliases point at the same bundle). A change here is a change of what
#: a preset reproduces: update the docs table in the same commit.
EXPECTED = {
    ("werewolf-v0", "lspo"): {
        "roles": ("werewolf", "werewolf", "seer", "doctor", "villager", "villager", "villager"),
        "exile_rule": "plurality",
        "tie_rule": "random",
        "wolf_win": "strict",
        "allow_abstain": True,
        "reveal_votes": True,
        "seer_result": "team",
        "discussion_rounds": 1,
        "speaking": "round-robin",
        "role_prediction": True,
        "max_rounds": 10,
    },
    ("werewolf-v0", "werewolf-arena"): {
        "roles": ("werewolf", "werewolf", "seer", "doctor", "villager", "villager", "villager", "villager"),
        "exile_rule": "majority",
        "tie_rule": "none",
        "wolf_win": "parity",
        "allow_abstain": False,
        "reveal_votes": False,
        "seer_result": "role",
        "speaking": "bid",
        "debate_turns": 8,
        "role_prediction": False,
    },
    ("visual-spy-v0", "vision-zero"): {
        "num_players": 5,
        "num_spies": 1,
        "clue_rounds": 2,
        "single_vote": True,
        "spy_votes": False,
        "spy_knows": True,
        "reward": "vision-zero",
        "clue_beta": 0.1,
        "clue_lambda": 0.1,
        "allow_abstain": True,
        "tie_rule": "none",
        "scene": "mixed",
        "num_edits": 2,
        "difficulty": "easy",
        "image_size": 336,
    },
    ("negotiation-v0", "dond"): {
        "mode": "deal",
        "item_totals": "dond",
        "first_mover": "random",
        "ending": "selection",
        "turn_limit": 20,
        "disagreement_payoff": 0.0,
        "reward": "utility",
    },
    ("negotiation-v0", "spiral"): {
        "mode": "trade",
        "trade_values": "spiral",
        "trade_endowment": 10,
        "turn_limit": 10,
        "first_mover": "player_0",
        "reward": "spiral",
        "invalid_rule": "spiral",
        "invalid_retries": 0,
    },
    ("sequential-public-goods-v0", "mac-spgg"): {
        "num_players": 3,
        "reward": "mac-spgg",
        "endowment": 10,
        "multiplier": 1.8,
        "cooperation_bonus": 1.5,
        "threshold": 0.85,
        "penalty": 1.5,
        "cost": 1.3,
        "observation": "full",
        "num_rounds": 1,
    },
}
ALIASES = {("werewolf-v0", "xu7"): "lspo", ("werewolf-v0", "arena8"): "werewolf-arena"}
DOC_PAGE = {
    "werewolf-v0": "werewolf.md",
    "visual-spy-v0": "visual-spy.md",
    "negotiation-v0": "negotiation.md",
    "sequential-public-goods-v0": "sequential-public-goods.md",
}
#: env attribute names where they differ from the kwarg
ATTRIBUTE = {"reward": "reward_kind", "roles": "role_list", "scene": "scene_kind", "observation": "observation_mode"}


@pytest.mark.parametrize(("env_id", "name"), list(EXPECTED))
def test_preset_pins_its_parameters(env_id, name):
    table = spec(env_id).load_presets()
    assert table[name] == EXPECTED[(env_id, name)]
    raw = make(env_id, preset=name).unwrapped
    for key, value in table[name].items():
        got = getattr(raw, ATTRIBUTE.get(key, key), None)
        if key == "image_size":
            got = raw.image_shape[0]
        if got is not None:
            assert got == (tuple(value) if isinstance(value, tuple) else value), key
    assert raw.env_preset == name and raw.env_kwargs == table[name]


@pytest.mark.parametrize(("env_id", "alias"), list(ALIASES))
def test_aliases_name_the_same_bundle(env_id, alias):
    table = spec(env_id).load_presets()
    assert table[alias] == table[ALIASES[(env_id, alias)]]


@pytest.mark.parametrize(("env_id", "name"), list(EXPECTED))
def test_each_preset_has_a_docs_table_naming_every_parameter(env_id, name):
    text = (DOCS / DOC_PAGE[env_id]).read_text()
    start = text.find(f'preset="{name}"')
    assert start >= 0, f"docs/envs/{DOC_PAGE[env_id]} has no section for preset {name!r}"
    section = text[start : text.find("\n## ", start) if text.find("\n## ", start) > 0 else len(text)]
    assert re.search(r"\|\s*\|\s*.*paper.*\|\s*arena", section, re.IGNORECASE), "no paper-vs-arena table"
    for key in EXPECTED[(env_id, name)]:
        assert key in section, f"the {name!r} table does not mention {key}"


def test_explicit_kwargs_override_a_preset_and_unknown_names_are_listed():
    env = make("werewolf-v0", preset="werewolf-arena", speaking="round-robin", max_rounds=3)
    assert env.unwrapped.speaking == "round-robin" and env.unwrapped.exile_rule == "majority"
    assert env.unwrapped.env_kwargs["max_rounds"] == 3
    with pytest.raises(ArenaError, match="presets: arena8, lspo, werewolf-arena, xu7"):
        make("werewolf-v0", preset="mafia")
    with pytest.raises(ArenaError, match="preset"):
        make("tictactoe-v0", preset="spiral")  # no presets registered, and the game takes none
    assert make_parallel("visual-spy-v0", preset="vision-zero", image_size=64).observation_space("player_0")[
        "image"
    ].shape == (64, 64, 3)


def test_defaults_are_untouched_by_presets():
    raw = arena.make("werewolf-v0").unwrapped
    assert (raw.seer_result, raw.speaking, raw.role_prediction, raw.num_players) == ("role", "round-robin", False, 7)
    assert raw.env_preset is None
    spy = arena.make("visual-spy-v0").unwrapped
    assert (spy.spy_votes, spy.single_vote, spy.reward_kind, spy.clue_rounds) == (True, False, "team", 1)
    neg = arena.make("negotiation-v0").unwrapped
    assert (neg.first_mover, neg.ending, neg.item_totals, neg.reward_kind) == (
        "player_0",
        "proposal",
        "uniform",
        "utility",
    )


def test_plugin_presets_and_alias_validation():
    try:
        register("preset-demo-v0", "tests.plugin_game:CoinGame", presets={"fast": {}, "quick": "fast"}, override=True)
        assert spec("preset-demo-v0").load_presets() == {"fast": {}, "quick": {}}
        register("preset-demo-v0", "tests.plugin_game:CoinGame", presets={"bad": "missing"}, override=True)
        with pytest.raises(Exception, match="alias"):
            spec("preset-demo-v0").load_presets()
    finally:
        from arena.core import registry

        registry._REGISTRY.pop("preset-demo-v0", None)
    assert isinstance(spec("werewolf-v0"), EnvSpec)


#: Presets whose secrecy differs from the defaults: team-only inspections and private role predictions,
#: secret bids, civilians-only votes, private choices at the end of a negotiation.
SECRET_PRESETS = [("werewolf-v0", "lspo"), ("werewolf-v0", "werewolf-arena"), ("visual-spy-v0", "vision-zero"),
                  ("negotiation-v0", "dond")]  # fmt: skip


@pytest.mark.parametrize(("env_id", "name"), SECRET_PRESETS)
def test_presets_keep_secrets_and_infos_to_what_each_player_observed(env_id, name):
    from arena.core import conformance

    factory = functools.partial(make, env_id, preset=name)
    assert conformance.check_secrecy(factory, seeds=range(3)) > 0
    assert conformance.check_info_secrecy(factory, seeds=range(3)) > 0


@pytest.mark.slow
@pytest.mark.parametrize(("env_id", "name"), list(EXPECTED))
def test_every_conformance_check_passes_on_each_preset(env_id, name):
    from arena.core import conformance

    conformance.check_env(env_id, preset=name)
