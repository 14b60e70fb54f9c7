"""``scripts/spy_vote_probe.py``: the civilians' votes of held-out mixed-expert spy play, and how a model's choice is
scored against the scripted vote and the spy."""

from __future__ import annotations

import pytest

import arena


@pytest.fixture(scope="module")
def probe(load_script):
    return load_script("spy_vote_probe")


@pytest.fixture(scope="module")
def votes(probe):
    return list(probe.civilian_votes(12, seed=41))


class _Fixed:
    """An agent whose distribution puts all its mass on what ``pick(vote)`` names."""

    def __init__(self, votes, pick):
        self.answers = {id(v.info): pick(v) for v in votes}

    def action_distribution(self, observation, info):
        return {self.answers[id(info)]: 1.0}


def test_votes_are_civilians_with_a_legal_label(probe, votes):
    assert len(votes) > 12  # several votes per match
    assert all(vote.label in vote.legal for vote in votes)
    # the spy is a candidate except in a revote among tied players that leaves it out
    assert sum(vote.spy in vote.legal for vote in votes) > 0.8 * len(votes)
    env = arena.make("spy-v0", **probe.ENV_KWARGS)
    env.reset(seed=41)
    (spy,) = env.unwrapped.spies
    assert votes[0].spy == f"[{spy}]"
    assert all(f"[{vote.voter}]" != vote.spy for vote in votes)


def test_choosing_the_label_agrees_with_it_on_every_vote(probe, votes):
    result = probe.score(_Fixed(votes, lambda v: v.label), votes)
    assert result["agrees_with_label"] == 1.0
    assert result["votes_for_spy"] == result["label_names_spy"]


def test_an_oracle_names_the_spy_whenever_it_is_a_candidate_and_chance_is_one_over_the_candidates(probe, votes):
    candidates = [v for v in votes if v.spy in v.legal]  # a revote among tied players may leave the spy out
    oracle = probe.score(_Fixed(candidates, lambda v: v.spy), candidates)
    assert oracle["votes_for_spy"] == 1.0
    assert oracle["agrees_with_label"] == oracle["label_names_spy"]
    uniform = probe.score(_Fixed(votes, lambda v: v.legal[0]), votes)["uniform_names_spy"]
    expected = sum((v.spy in v.legal) / len(v.legal) for v in votes) / len(votes)
    assert uniform == pytest.approx(expected)
    assert 0.2 <= expected <= 0.6  # four candidates in the first round, fewer later (a revote may omit the spy)


def test_a_model_is_scored_on_every_vote(probe):
    pytest.importorskip("torch")
    from arena.agents.backends import load_backend
    from arena.agents.llm import LLMAgent
    from arena.agents.tiny import cached_tiny_model

    agent = LLMAgent(load_backend(str(cached_tiny_model()), "transformers"), env_id="spy-v0")
    result = probe.score(agent, probe.civilian_votes(1, seed=7))
    assert result["votes"] == len(list(probe.civilian_votes(1, seed=7)))
    assert 0.0 <= result["votes_for_spy"] <= 1.0


def test_cli_rejects_no_matches(probe):
    with pytest.raises(SystemExit):
        probe.main(["--model", "unused", "--matches", "0"])


def test_in_scripted_play_the_scripted_vote_finds_the_spy_well_above_chance(probe):
    scripted = list(probe.civilian_votes(40, seed=3, agents="scripted"))
    result = probe.score(_Fixed(scripted, lambda v: v.label), scripted)
    assert result["label_names_spy"] > result["uniform_names_spy"] + 0.15  # 0.58 against 0.26 over 300 matches
    with pytest.raises(ValueError, match="agents must be one of"):
        next(probe.civilian_votes(1, agents="random"))
