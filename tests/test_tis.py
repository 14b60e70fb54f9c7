"""Truncated importance sampling between the engine's and the learner's logprobs."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from arena.trainers.loss import policy_loss, truncated_importance_weights  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_weights_are_the_ratio_capped_and_masked():
    learner = torch.tensor([[-1.0, -2.0, -0.5], [-1.0, -1.0, -1.0]])
    engine = torch.tensor([[-1.0, -2.5, -2.0], [-0.5, -1.0, -9.0]])
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    weights, info = truncated_importance_weights(learner, engine, mask, cap=2.0)
    expected = torch.tensor([[1.0, math.exp(0.5), 2.0], [math.exp(-0.5), 1.0, 0.0]])
    torch.testing.assert_close(weights, expected)
    assert info["tis_capped_frac"] == pytest.approx(1 / 5)
    assert info["tis_weight_mean"] == pytest.approx(float(expected.sum()) / 5)
    assert info["engine_learner_kl"] > 0
    same, info = truncated_importance_weights(learner, learner, mask, cap=2.0)
    torch.testing.assert_close(same, mask.float())
    assert info["engine_learner_kl"] == pytest.approx(0.0) and info["tis_capped_frac"] == 0.0
    with pytest.raises(ValueError, match="cap"):
        truncated_importance_weights(learner, engine, mask, cap=0.0)


def test_token_weights_scale_each_tokens_gradient():
    logp = torch.tensor([[-1.0, -1.0]], requires_grad=True)
    old, adv, mask = logp.detach().clone(), torch.tensor([1.0]), torch.ones(1, 2)
    loss, _ = policy_loss(logp, old, adv, mask, token_weights=torch.tensor([[2.0, 0.5]]))
    loss.backward()
    torch.testing.assert_close(logp.grad, torch.tensor([[-1.0, -0.25]]))  # -A * w / n_tokens


def test_tis_uses_the_learners_logprobs_as_pi_old_and_corrects_toward_the_engine():
    """Engine logprobs 1 nat below the learner's: PPO on engine logprobs sees a ratio of e > 1 + clip and
    learns nothing from a positive advantage; with TIS the ratio starts at 1 and each token is weighted by
    min(e, cap)."""
    from arena.agents.backends.transformers_backend import TransformersBackend
    from arena.agents.tiny import cached_tiny_model
    from arena.trainers import learner
    from arena.trainers.episodes import Turn

    def run(tis_cap):
        backend = TransformersBackend(str(cached_tiny_model()))
        tok = backend.tokenizer
        prompt = tok("Hand 1: your card is K. Your legal actions: [check] [bet]")["input_ids"]
        reply = tok("<answer>[bet]</answer>")["input_ids"]
        (own,) = backend.score_ids([prompt], [reply])
        engine = [v - 1.0 for v in own.logprobs]
        turn = Turn("player_0", "kuhn/player", 0, prompt, reply, engine, 0.0, "s", 0)
        optimizer = torch.optim.SGD(backend.model.parameters(), lr=0.1)
        pad = int(tok.pad_token_id)
        metrics = learner.update(backend.model, optimizer, [turn], np.array([1.0]), pad_id=pad, tis_cap=tis_cap)
        (after,) = backend.score_ids([prompt], [reply])
        return sum(after.logprobs) - sum(own.logprobs), metrics

    moved_ppo, metrics_ppo = run(None)
    moved_tis, metrics_tis = run(2.0)
    assert metrics_ppo["clip_frac"] == pytest.approx(1.0) and moved_ppo == pytest.approx(0.0, abs=1e-6)
    assert metrics_tis["clip_frac"] == 0.0 and moved_tis > 0.01
    assert metrics_tis["tis_weight_mean"] == pytest.approx(2.0) and metrics_tis["tis_capped_frac"] == 1.0
