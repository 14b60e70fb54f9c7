"""``scripts/household_probe.py``: the probability of the expert's command, by kind, along the expert's path."""

from __future__ import annotations

import pytest

from arena.agents.specs import make_agent

KWARGS = {"max_steps": 20, "task_types": ["pick_and_place_simple", "look_at_obj_in_light"]}


@pytest.fixture(scope="module")
def probe(load_script):
    return load_script("household_probe")


def test_an_oracle_puts_all_its_mass_on_every_expert_command(probe):
    twin = make_agent("scripted", probe.ENV_ID, seed=0)  # fed the same observations, it plays the probe's moves

    def oracle(observation, info):
        move = str(twin.act(observation, info))
        return {a: float(a == move) for a in info["legal_actions"]}

    rows = probe.mass_on_expert(oracle, [10_000], KWARGS)
    kinds = set(rows) - {probe.UNIFORM}
    assert {"go", "take", "move"} <= kinds  # a pick-and-place or look task needs at least these
    assert all(rows[k]["mass"] == 1.0 and rows[k]["top1"] == 1.0 for k in kinds)
    assert 0.0 < rows[probe.UNIFORM]["mass"] < 0.2  # tens of admissible commands a step
    assert rows[probe.UNIFORM]["steps"] == sum(rows[k]["steps"] for k in kinds)


def test_a_uniform_policy_scores_the_uniform_mass_and_the_table_lists_every_kind(probe):
    def uniform(observation, info):
        legal = info["legal_actions"]
        return {a: 1.0 / len(legal) for a in legal}

    rows = probe.mass_on_expert(uniform, [10_001, 10_002], KWARGS)
    kinds = set(rows) - {probe.UNIFORM}
    weighted = sum(rows[k]["mass"] * rows[k]["steps"] for k in kinds) / rows[probe.UNIFORM]["steps"]
    assert weighted == pytest.approx(rows[probe.UNIFORM]["mass"])
    table = probe.mass_table(rows)
    assert all(f"| {k} |" in table for k in rows)
    assert table.splitlines()[-1].startswith(f"| {probe.UNIFORM} |")
