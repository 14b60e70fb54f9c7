"""The clipped policy-gradient loss."""

from __future__ import annotations

import math

import pytest
import torch

from arena.trainers.loss import aggregate, policy_loss


def test_on_policy_loss_is_minus_advantage_weighted_mean():
    logp = torch.zeros(2, 3)
    adv = torch.tensor([1.0, -2.0])
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    loss, _ = policy_loss(logp, logp, adv, mask)
    assert float(loss) == pytest.approx(-(1 + 1 - 2) / 3)


def test_ratio_is_clipped_separately_low_and_high():
    old = torch.zeros(1, 1)
    mask = torch.ones(1, 1)
    high = torch.log(torch.tensor([[2.0]]))
    loss, metrics = policy_loss(high, old, torch.tensor([1.0]), mask, clip_low=0.2, clip_high=0.28)
    assert float(loss) == pytest.approx(-1.28)
    assert metrics["clip_frac"] == 1.0
    low = torch.log(torch.tensor([[0.5]]))
    loss, _ = policy_loss(low, old, torch.tensor([-1.0]), mask, clip_low=0.2, clip_high=0.28)
    assert float(loss) == pytest.approx(0.8)


def test_dual_clip_bounds_negative_advantages():
    old = torch.zeros(1, 1)
    big = torch.log(torch.tensor([[10.0]]))
    loss, _ = policy_loss(big, old, torch.tensor([-1.0]), torch.ones(1, 1), dual_clip=3.0)
    assert float(loss) == pytest.approx(3.0)
    loss, _ = policy_loss(big, old, torch.tensor([-1.0]), torch.ones(1, 1))
    assert float(loss) == pytest.approx(10.0)
    with pytest.raises(ValueError):
        policy_loss(big, old, torch.tensor([-1.0]), torch.ones(1, 1), dual_clip=0.5)


def test_k3_kl_is_zero_at_the_reference_and_positive_elsewhere():
    logp = torch.tensor([[-1.0, -2.0]])
    mask = torch.ones(1, 2)
    adv = torch.zeros(1)
    loss, metrics = policy_loss(logp, logp, adv, mask, ref_logprobs=logp, kl_coef=0.5)
    assert float(loss) == pytest.approx(0.0) and metrics["kl_ref"] == pytest.approx(0.0)
    loss, metrics = policy_loss(logp, logp, adv, mask, ref_logprobs=logp - 1.0, kl_coef=0.5)
    assert metrics["kl_ref"] > 0 and float(loss) == pytest.approx(0.5 * metrics["kl_ref"])


def test_k3_kl_counts_each_token_at_most_ten_as_roll_and_verl_do():
    """A token whose probability fell far below the reference's counts 10, not exp(Δ), and pulls no gradient;
    a moderate one keeps the exact k3 value and its gradient 1 − exp(Δ)."""
    ref = torch.tensor([[-1.0, -1.0]])
    logp = torch.tensor([[-9.0, -2.0]], requires_grad=True)  # Δ = 8 (k3 ≈ 2,972 unclamped) and Δ = 1
    mask = torch.ones(1, 2)
    loss, metrics = policy_loss(logp, logp.detach(), torch.zeros(1), mask, ref_logprobs=ref, kl_coef=1.0)
    moderate = math.exp(1.0) - 1.0 - 1.0
    assert metrics["kl_ref"] == pytest.approx((10.0 + moderate) / 2)
    loss.backward()
    assert logp.grad[0, 0] == pytest.approx(0.0)
    assert logp.grad[0, 1] == pytest.approx((1.0 - math.exp(1.0)) / 2)
    far = torch.tensor([[-1000.0]])  # no overflow however far apart
    _, metrics = policy_loss(far, far, torch.zeros(1), torch.ones(1, 1), ref_logprobs=torch.zeros(1, 1), kl_coef=1.0)
    assert metrics["kl_ref"] == pytest.approx(10.0)


def test_aggregation_modes_by_hand():
    values = torch.tensor([[1.0, 3.0, 100.0], [2.0, 0.0, 0.0]])
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    assert float(aggregate(values, mask, "token-mean")) == pytest.approx(2.0)
    assert float(aggregate(values, mask, "seq-mean-token-mean")) == pytest.approx(2.0)
    assert float(aggregate(values, mask, "seq-mean-token-sum")) == pytest.approx(3.0)
    with pytest.raises(ValueError):
        aggregate(values, mask, "mean")


def test_masked_tokens_get_no_gradient():
    logp = torch.zeros(1, 3, requires_grad=True)
    loss, _ = policy_loss(logp, logp.detach(), torch.tensor([1.0]), torch.tensor([[0, 1, 0]]))
    loss.backward()
    assert logp.grad[0, 0] == 0 and logp.grad[0, 2] == 0 and logp.grad[0, 1] != 0


def test_entropy_bonus_is_subtracted_as_aggregated_and_off_at_zero():
    logp = torch.log(torch.tensor([[0.5, 0.9], [0.3, 0.4]]))  # [0, 1] is off the mask
    adv = torch.tensor([1.0, -1.0])
    mask = torch.tensor([[True, False], [True, True]])
    spread = torch.tensor([[0.6, 0.0], [0.0, 0.0]])  # one constrained turn (column 0), one free-text turn
    base, _ = policy_loss(logp, logp, adv, mask)
    off, _ = policy_loss(logp, logp, adv, mask, entropy=spread)
    assert float(off) == float(base)
    for mode in ("token-mean", "seq-mean-token-mean"):
        plain, _ = policy_loss(logp, logp, adv, mask, aggregation=mode)
        bonus, _ = policy_loss(logp, logp, adv, mask, aggregation=mode, entropy=spread, entropy_coef=0.5)
        share = 0.6 / 3 if mode == "token-mean" else 0.6 / 2  # three tokens, or two sequences
        assert float(plain - bonus) == pytest.approx(0.5 * share)
