"""Constrained mode trains the policy it acts with: the agent samples a legal reply from the softmax over the
replies' log-likelihoods, and the learner's log-probability of that choice is taken under the same
normalised distribution (issue 17, item 5)."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import arena  # noqa: E402
from arena.agents.backends.base import SamplingParams  # noqa: E402
from arena.agents.llm import LLMAgent  # noqa: E402
from arena.agents.scheduler import play_many  # noqa: E402
from arena.agents.tiny import cached_tiny_model  # noqa: E402
from arena.trainers.episodes import RewardOptions, episode_from_outcome  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def backend():
    from arena.agents.backends.transformers_backend import TransformersBackend

    return TransformersBackend(str(cached_tiny_model()))


def _constrained_turns(backend, env_id, seeds):
    """Learner turns of seeded self-play matches by a sampling constrained agent, through the trainer's path;
    with each turn the agent's ``legal_probs``."""
    agent = LLMAgent(
        backend,
        env_id=env_id,
        name="learner",
        constrained=True,
        sample=True,
        seed=0,
        sampling=SamplingParams(max_new_tokens=4),
    )
    outcomes = play_many(
        [(arena.make(env_id), {s: agent for s in arena.make(env_id).possible_agents}, s) for s in seeds]
    )
    turns, probs = [], []
    for outcome in outcomes:
        episode = episode_from_outcome(outcome, "learner", "g", "self", RewardOptions())
        turns.extend(episode.turns)
        probs.extend([list(r.trace.legal_probs.values()) for r in outcome.turns])
    return turns, probs


@pytest.mark.parametrize("env_id", ["kuhn-poker-v0", "tictactoe-v0"])
def test_the_learner_recomputes_the_distribution_the_agent_sampled_from(backend, env_id):
    from arena.agents.logits import choice_logprobs
    from arena.trainers.learner import choice_logprob, turn_logprobs

    turns, probs = _constrained_turns(backend, env_id, seeds=[1, 2])
    assert turns and all(t.alternatives is not None for t in turns)
    pad = backend.tokenizer.pad_token_id
    with torch.no_grad():
        scores = choice_logprobs(backend.model, [t.prompt_ids for t in turns], [t.alternatives for t in turns], pad)
        chosen = choice_logprob(backend.model, turns, pad)
        logp, mask, _ = turn_logprobs(backend.model, turns, pad)
    for i, (turn, agent_probs) in enumerate(zip(turns, probs, strict=True)):
        learner_probs = torch.softmax(scores[i, : len(agent_probs)], -1).tolist()
        assert learner_probs == pytest.approx(agent_probs, abs=1e-5)
        assert len(turn.old_logprobs) == 1  # the behaviour log-probability of the choice, not of its tokens
        assert turn.old_logprobs[0] == pytest.approx(math.log(agent_probs[turn.chosen]), abs=1e-9)
        assert float(chosen[i]) == pytest.approx(turn.old_logprobs[0], abs=1e-5)  # the PPO ratio starts at 1
        assert mask[i].tolist() == [True] + [False] * (mask.shape[1] - 1) and float(logp[i, 0]) == float(chosen[i])


def test_a_positive_advantage_makes_the_agent_choose_it_more_often(backend, tmp_path):
    import copy

    from arena.trainers import learner

    model = copy.deepcopy(backend.model)
    turns, _ = _constrained_turns(backend, "kuhn-poker-v0", seeds=[3])
    turn = turns[0]
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
    pad = backend.tokenizer.pad_token_id

    def prob() -> float:
        with torch.no_grad():
            return math.exp(float(learner.choice_logprob(model, [turn], pad)[0]))

    before = prob()
    metrics = learner.update(model, optimizer, [turn], np.array([1.0]), pad_id=pad)
    assert metrics["turns_used"] == 1 and metrics["clip_frac"] == 0.0  # on-policy: ratio 1 at the first step
    assert prob() > before


def test_choice_entropy_is_the_entropy_of_the_sampled_distribution(backend):
    from arena.trainers.learner import entropy, turn_logprobs

    assert float(entropy(torch.tensor([[math.log(0.5), math.log(0.5), -math.inf]]))[0]) == pytest.approx(math.log(2))
    turns, probs = _constrained_turns(backend, "tictactoe-v0", seeds=[4])
    pad = backend.tokenizer.pad_token_id
    with torch.no_grad():
        spread = turn_logprobs(backend.model, turns, pad).choice_entropy
    for i, agent_probs in enumerate(probs):
        expected = -sum(p * math.log(p) for p in agent_probs if p > 0)
        assert float(spread[i, 0]) == pytest.approx(expected, abs=1e-4)
        assert not spread[i, 1:].any()  # one value per constrained turn, where its choice's logprob is


def test_an_entropy_bonus_spreads_a_choice_that_no_advantage_moves(backend):
    """Zero advantages and no KL: without the bonus the turn carries no gradient (skipped); with it the
    choice distribution's entropy rises, the cure for a policy collapsed onto one action."""
    import copy

    from arena.trainers import learner

    turns, _ = _constrained_turns(backend, "tictactoe-v0", seeds=[5])
    turns = turns[:4]
    pad = backend.tokenizer.pad_token_id
    zero = np.zeros(len(turns))

    def mean_entropy(model) -> float:
        with torch.no_grad():
            return float(learner.turn_logprobs(model, turns, pad).choice_entropy[:, 0].mean())

    model = copy.deepcopy(backend.model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
    assert learner.update(model, optimizer, turns, zero, pad_id=pad)["turns_used"] == 0
    before = mean_entropy(model)
    metrics = learner.update(model, optimizer, turns, zero, pad_id=pad, entropy_coef=0.1, epochs=3)
    assert metrics["turns_used"] == len(turns)
    assert metrics["choice_entropy"] == pytest.approx(before, rel=0.2)  # reported: the mean over the steps
    assert mean_entropy(model) > before + 1e-3
