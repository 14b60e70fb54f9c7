"""The clipped policy-gradient loss (PPO / GRPO family) over completion tokens.

Per token: ``ρ = exp(log π_θ − log π_old)``, ``L = max(−ρA, −clip(ρ, 1−ε_low, 1+ε_high)A)``
(Schulman et al. 2017; separate low/high clip as in DAPO). Optional dual clip (Ye et al. 2020):
for ``A < 0``, ``L ← min(L, −c·A)``. Optional KL to a frozen reference with the k3 estimator
``exp(Δ) − Δ − 1``, ``Δ = log π_ref − log π_θ``, each token's value clamped to at most 10 (as ROLL, verl
and OpenRLHF clamp it; ``Δ`` itself to ±20 so ``exp`` stays finite), added as ``β·KL``.
Only tokens where ``mask`` is 1 (completion tokens) count. Aggregation modes:

* ``token-mean``: mean over every completion token in the batch;
* ``seq-mean-token-mean``: mean over sequences of each sequence's token mean;
* ``seq-mean-token-sum``: mean over sequences of each sequence's token sum.

Optional per-token ``token_weights`` multiply the clipped term before aggregation; truncated importance
sampling (:func:`truncated_importance_weights`) supplies them. An optional ``entropy`` [B, T] with
``entropy_coef`` subtracts ``coef·H`` aggregated like the loss (verl's ``entropy_coeff``; the trainer gives the
exact entropy of a constrained turn's choice and 0 for free-text tokens).
"""

from __future__ import annotations

from typing import Any

import torch

from arena.trainers.config import AGGREGATIONS

K3_MAX = 10.0  # the most one token's k3 term counts: a few collapsed tokens cannot swamp the batch's KL


def aggregate(values: torch.Tensor, mask: torch.Tensor, mode: str) -> torch.Tensor:
    """Reduce per-token ``values`` [B, T] over the ``mask`` with one of ``AGGREGATIONS``."""
    mask = mask.to(values.dtype)
    if mode == "token-mean":
        return (values * mask).sum() / mask.sum().clamp_min(1.0)
    per_seq = (values * mask).sum(dim=-1)
    if mode == "seq-mean-token-mean":
        per_seq = per_seq / mask.sum(dim=-1).clamp_min(1.0)
    elif mode != "seq-mean-token-sum":
        raise ValueError(f"unknown aggregation {mode!r}; choose one of {AGGREGATIONS}")
    has_tokens = (mask.sum(dim=-1) > 0).to(values.dtype)
    return (per_seq * has_tokens).sum() / has_tokens.sum().clamp_min(1.0)


def policy_loss(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    *,
    clip_low: float = 0.2,
    clip_high: float = 0.2,
    dual_clip: float | None = None,
    ref_logprobs: torch.Tensor | None = None,
    kl_coef: float = 0.0,
    aggregation: str = "token-mean",
    token_weights: torch.Tensor | None = None,
    entropy: torch.Tensor | None = None,
    entropy_coef: float = 0.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The loss to minimise and its diagnostics. ``advantages`` is [B] (one per turn) or [B, T];
    ``token_weights`` [B, T] (no gradient) scale each token's policy-gradient term; ``entropy`` [B, T]
    (with grad) is rewarded by ``entropy_coef``."""
    if advantages.dim() == 1:
        advantages = advantages[:, None].expand_as(logprobs)
    if dual_clip is not None and dual_clip <= 1.0:
        raise ValueError("dual_clip must be > 1 (e.g. 3.0)")
    log_ratio = (logprobs - old_logprobs).clamp(-20.0, 20.0)
    ratio = torch.exp(log_ratio)
    unclipped = -ratio * advantages
    clipped = -ratio.clamp(1.0 - clip_low, 1.0 + clip_high) * advantages
    per_token = torch.maximum(unclipped, clipped)
    if dual_clip is not None:
        per_token = torch.where(advantages < 0, torch.minimum(per_token, -dual_clip * advantages), per_token)
    if token_weights is not None:
        per_token = per_token * token_weights.detach()
    loss = aggregate(per_token, mask, aggregation)
    metrics: dict[str, Any] = {}
    maskf = mask.to(logprobs.dtype)
    n_tokens = maskf.sum().clamp_min(1.0)
    with torch.no_grad():
        metrics["clip_frac"] = float(((clipped > unclipped).to(maskf.dtype) * maskf).sum() / n_tokens)
        metrics["approx_kl_old"] = float((((ratio - 1) - log_ratio) * maskf).sum() / n_tokens)
        metrics["pg_loss"] = float(loss)
    if ref_logprobs is not None and kl_coef:
        delta = (ref_logprobs - logprobs).clamp(-20.0, 20.0)
        kl = (torch.exp(delta) - delta - 1.0).clamp(max=K3_MAX)
        kl_term = aggregate(kl, mask, aggregation)
        loss = loss + kl_coef * kl_term
        metrics["kl_ref"] = float(kl_term.detach())
    if entropy is not None and entropy_coef:
        loss = loss - entropy_coef * aggregate(entropy, mask, aggregation)
    return loss, metrics


def truncated_importance_weights(
    learner_logprobs: torch.Tensor, engine_logprobs: torch.Tensor, mask: torch.Tensor, cap: float
) -> tuple[torch.Tensor, dict[str, float]]:
    """Truncated importance sampling (TIS; Yao et al. 2025, "Your efficient RL framework secretly brings you
    off-policy RL training"): per token ``w = min(π_learner(a) / π_engine(a), cap)``, no gradient.

    The rollout engine (vLLM: other kernels, other precision) samples from a slightly different
    distribution than the learner computes for the same weights. PPO's ratio then uses the learner's
    own logprobs before the update as ``π_old``, and ``w`` reweights each token's term towards the
    learner's distribution; the cap bounds the variance. Returns the weights [B, T] (0 off the mask) and
    diagnostics: their mean, the share of tokens capped, and the k3 estimate of KL(engine ‖ learner)."""
    if cap <= 0:
        raise ValueError(f"the TIS cap must be > 0 (e.g. 2.0), got {cap}")
    with torch.no_grad():
        log_ratio = (learner_logprobs - engine_logprobs).clamp(-20.0, 20.0)
        ratio = torch.exp(log_ratio)
        maskf = mask.to(ratio.dtype)
        weights = ratio.clamp(max=cap) * maskf
        n = maskf.sum().clamp_min(1.0)
        metrics = {
            "tis_weight_mean": float(weights.sum() / n),
            "tis_capped_frac": float(((ratio > cap).to(maskf.dtype) * maskf).sum() / n),
            "engine_learner_kl": float((((ratio - 1) - log_ratio) * maskf).sum() / n),
        }
    return weights, metrics
