"""The policy update: recompute completion-token logprobs under the current model and minimise the
clipped policy-gradient loss of :mod:`arena.trainers.loss` over every learner turn of the batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from arena.agents.logits import completion_logits
from arena.trainers.episodes import Turn
from arena.trainers.loss import policy_loss


def completion_logprobs(model: Any, batch: Sequence[Turn], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token logprobs [B, T] of each turn's completion under ``model`` (with grad), and the mask.

    Logits come from :func:`~arena.agents.logits.completion_logits`: only at positions that predict a
    completion token, with the prompt prefix that the batch's turns share run once."""
    logits, targets, mask = completion_logits(
        model, [t.prompt_ids for t in batch], [t.completion_ids for t in batch], pad_id
    )
    logp = torch.log_softmax(logits, dim=-1).gather(-1, targets[..., None]).squeeze(-1)
    return logp * mask, mask


def update(
    model: Any,
    optimizer: torch.optim.Optimizer,
    turns: Sequence[Turn],
    advantages: np.ndarray,
    *,
    pad_id: int,
    epochs: int = 1,
    micro_batch: int = 32,
    clip_low: float = 0.2,
    clip_high: float = 0.28,
    dual_clip: float | None = None,
    aggregation: str = "token-mean",
    max_grad_norm: float = 1.0,
    reference: Any = None,
    kl_coef: float = 0.0,
    minibatches: int = 1,
    rng: np.random.Generator | None = None,
) -> dict[str, float]:
    """``epochs`` passes over the batch, each split into ``minibatches`` shuffled mini-batches with one
    optimizer step each (PPO's ``num_minibatches``; 1 = one full-batch step per epoch, in a fixed order).
    Within a mini-batch, gradients are accumulated over micro-batches of at most ``micro_batch`` turns,
    each weighted by its share of tokens or sequences so the result equals the mini-batch loss. Turns whose
    advantage is zero carry no gradient and are skipped. With ``reference`` and ``kl_coef`` > 0 the loss
    adds the k3 KL estimate to that frozen model."""
    keep = [i for i, a in enumerate(advantages) if abs(a) > 1e-8 and turns[i].completion_ids]
    metrics: dict[str, float] = {"turns_used": float(len(keep))}
    if not keep:
        return metrics

    def length(i: int) -> int:
        return len(turns[i].prompt_ids) + len(turns[i].completion_ids)

    minibatches = max(1, min(int(minibatches), len(keep)))
    rng = rng if rng is not None else np.random.default_rng(0)
    reference_logprobs: dict[int, torch.Tensor] = {}
    if reference is not None and kl_coef:  # the frozen policy's logprobs do not change across epochs
        by_length = sorted(keep, key=length)
        with torch.no_grad():
            for start in range(0, len(by_length), micro_batch):
                idx = by_length[start : start + micro_batch]
                ref, _ = completion_logprobs(reference, [turns[i] for i in idx], pad_id)
                for row, i in enumerate(idx):
                    reference_logprobs[i] = ref[row, : len(turns[i].completion_ids)]
    model.train()
    sums: dict[str, float] = {}
    steps = epochs * minibatches
    for _ in range(epochs):
        order = keep if minibatches == 1 else [keep[i] for i in rng.permutation(len(keep))]
        for chunk in np.array_split(np.array(order), minibatches):
            chunk_ids = sorted(chunk.tolist(), key=length)  # similar lengths together: less padding
            chunk_tokens = sum(len(turns[i].completion_ids) for i in chunk_ids)
            optimizer.zero_grad(set_to_none=True)
            for start in range(0, len(chunk_ids), micro_batch):
                idx = chunk_ids[start : start + micro_batch]
                batch = [turns[i] for i in idx]
                logp, mask = completion_logprobs(model, batch, pad_id)
                old = torch.zeros_like(logp)
                for row, turn in enumerate(batch):
                    n = len(turn.old_logprobs)
                    old[row, :n] = torch.tensor(turn.old_logprobs[: logp.shape[1]], dtype=logp.dtype)
                adv = torch.tensor(advantages[idx], dtype=logp.dtype, device=logp.device)
                ref = None
                if reference_logprobs:
                    ref = torch.zeros_like(logp)
                    for row, i in enumerate(idx):
                        ref[row, : len(reference_logprobs[i])] = reference_logprobs[i]
                loss, info = policy_loss(
                    logp,
                    old,
                    adv,
                    mask,
                    clip_low=clip_low,
                    clip_high=clip_high,
                    dual_clip=dual_clip,
                    ref_logprobs=ref,
                    kl_coef=kl_coef,
                    aggregation=aggregation,
                )
                if aggregation == "token-mean":
                    share = float(mask.sum()) / chunk_tokens
                else:
                    share = len(idx) / len(chunk_ids)
                (loss * share).backward()
                for k, v in info.items():
                    sums[k] = sums.get(k, 0.0) + v * share / steps
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
            optimizer.step()
            sums["grad_norm"] = float(norm)
    model.eval()
    metrics.update(sums)
    return metrics
