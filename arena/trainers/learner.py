"""The policy update: recompute completion-token logprobs under the current model and minimise the
clipped policy-gradient loss of :mod:`arena.trainers.loss` over every learner turn of the batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import torch

from arena.agents.logits import choice_logprobs, completion_token_logprobs, pixel_values
from arena.trainers.episodes import Turn
from arena.trainers.loss import policy_loss, truncated_importance_weights
from arena.trainers.memory import autocast, uses_checkpointing


def _share_prefix(model: Any) -> bool:
    """Whether passes may reuse a shared prefix's KV cache: not under gradient checkpointing, whose layers
    keep no cache."""
    return not (torch.is_grad_enabled() and uses_checkpointing(model))


def completion_logprobs(
    model: Any, batch: Sequence[Turn], pad_id: int, processor: Any = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token logprobs [B, T] of each turn's completion under ``model`` (with grad), and the mask.

    Logits come from :func:`~arena.agents.logits.completion_logits`: only at positions that predict a
    completion token, with the prompt prefix that the batch's turns share run once (not under gradient
    checkpointing). Turns with images (visual games) share only the text before their first image token, and get
    the images' pixel values from ``processor`` (the backend's ``AutoProcessor``), exactly as generation saw them."""
    return completion_token_logprobs(
        model,
        [t.prompt_ids for t in batch],
        [t.completion_ids for t in batch],
        pad_id,
        _pixels(batch, processor) if any(t.images for t in batch) else None,
        share_prefix=_share_prefix(model),
    )


def _pixels(batch: Sequence[Turn], processor: Any) -> torch.Tensor:
    """The pixel values of every image of the batch's prompts, in order (the model's image processor)."""
    return pixel_values([img for t in batch for img in t.images], processor)


def choice_log_distribution(model: Any, batch: Sequence[Turn], pad_id: int, processor: Any = None) -> torch.Tensor:
    """For constrained turns: log π(a | prompt) [B, A] over every legal reply ``a``, the distribution the agent
    sampled from: the softmax over the replies' sequence log-likelihoods (``-inf`` past a turn's own replies).
    Turns of visual games score their replies with their images (``processor``: the backend's ``AutoProcessor``)."""
    scores = choice_logprobs(
        model,
        [t.prompt_ids for t in batch],
        [t.alternatives or [] for t in batch],
        pad_id,
        share_prefix=_share_prefix(model),
        images=[t.images for t in batch],
        processor=processor,
    )
    return scores - torch.logsumexp(scores, dim=-1, keepdim=True)


def choice_logprob(model: Any, batch: Sequence[Turn], pad_id: int, processor: Any = None) -> torch.Tensor:
    """For constrained turns: log π(chosen | prompt) [B] under :func:`choice_log_distribution`,
    ``s_chosen − logsumexp(s_all)``."""
    return _chosen(choice_log_distribution(model, batch, pad_id, processor), batch)


def _chosen(log_dist: torch.Tensor, batch: Sequence[Turn]) -> torch.Tensor:
    """Each turn's entry of ``log_dist`` [B, A] at the choice it played: [B]."""
    chosen = torch.tensor([t.chosen for t in batch], device=log_dist.device)
    return log_dist.gather(1, chosen[:, None]).squeeze(1)


def entropy(log_dist: torch.Tensor) -> torch.Tensor:
    """The entropy [B] of each row's distribution given as log-probabilities [B, A]; ``-inf`` entries (a turn with
    fewer choices than the widest) add nothing."""
    safe = log_dist.masked_fill(~torch.isfinite(log_dist), 0.0)  # no inf in the graph: its gradient would be nan
    return -(safe.exp() * safe).sum(-1)


class TurnLogprobs(NamedTuple):
    """What the loss reads of a batch of turns (:func:`turn_logprobs`), each [B, T] over the same mask."""

    logprobs: torch.Tensor  #: every completion token's log-probability; a constrained turn's choice in column 0
    mask: torch.Tensor  #: which of those values count
    choice_entropy: torch.Tensor  #: a constrained turn's choice entropy in column 0; 0 elsewhere


def turn_logprobs(model: Any, batch: Sequence[Turn], pad_id: int, processor: Any = None) -> TurnLogprobs:
    """The log-probabilities the loss compares, [B, T] with the mask: every completion token of a free-text
    turn; for a constrained turn one value in column 0, the log-probability of its choice under
    :func:`choice_log_distribution`, whose entropy comes along in ``choice_entropy`` (free-text turns: 0)."""
    free = [i for i, t in enumerate(batch) if t.alternatives is None]
    chosen = [i for i, t in enumerate(batch) if t.alternatives is not None]
    width = max([1] + [len(batch[i].completion_ids) for i in free])
    rows: dict[int, torch.Tensor] = {}
    masks: dict[int, torch.Tensor] = {}
    entropies: dict[int, torch.Tensor] = {}
    if free:
        logp, mask = completion_logprobs(model, [batch[i] for i in free], pad_id, processor)
        logp = torch.nn.functional.pad(logp, (0, width - logp.shape[1]))
        mask = torch.nn.functional.pad(mask, (0, width - mask.shape[1]))
        for row, i in enumerate(free):
            rows[i], masks[i], entropies[i] = logp[row], mask[row], torch.zeros_like(logp[row])
    if chosen:
        turns = [batch[i] for i in chosen]
        log_dist = choice_log_distribution(model, turns, pad_id, processor)
        values, spread = _chosen(log_dist, turns), entropy(log_dist)
        first = torch.arange(width, device=values.device) == 0
        for row, i in enumerate(chosen):
            rows[i], masks[i] = torch.nn.functional.pad(values[row : row + 1], (0, width - 1)), first
            entropies[i] = torch.nn.functional.pad(spread[row : row + 1], (0, width - 1))
    order = range(len(batch))
    return TurnLogprobs(
        torch.stack([rows[i] for i in order]),
        torch.stack([masks[i] for i in order]),
        torch.stack([entropies[i] for i in order]),
    )


def loss_tokens(turn: Turn) -> int:
    """How many values of ``turn`` the loss averages over: its completion tokens, or 1 for a choice."""
    return 1 if turn.alternatives is not None else len(turn.completion_ids)


def frozen_logprobs(
    model: Any,
    turns: Sequence[Turn],
    indices: Sequence[int],
    pad_id: int,
    micro_batch: int,
    precision: str,
    processor: Any = None,
) -> dict[int, torch.Tensor]:
    """:func:`turn_logprobs` of ``turns[i]`` for each ``i`` in ``indices`` under ``model``, without gradient
    (turns of similar length batched together)."""
    out: dict[int, torch.Tensor] = {}
    by_length = sorted(indices, key=lambda i: len(turns[i].prompt_ids) + len(turns[i].completion_ids))
    with torch.no_grad(), autocast(model, precision):
        for start in range(0, len(by_length), micro_batch):
            idx = by_length[start : start + micro_batch]
            logp = turn_logprobs(model, [turns[i] for i in idx], pad_id, processor).logprobs
            for row, i in enumerate(idx):
                out[i] = logp[row, : loss_tokens(turns[i])].float()
    return out


def _rows(values: dict[int, torch.Tensor], idx: Sequence[int], like: torch.Tensor) -> torch.Tensor:
    """``values[i]`` for the rows ``idx`` as one zero-padded tensor shaped like ``like``."""
    out = torch.zeros_like(like)
    for row, i in enumerate(idx):
        out[row, : len(values[i])] = values[i].to(out.dtype)
    return out


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
    precision: str = "fp32",
    tis_cap: float | None = None,
    processor: Any = None,
    entropy_coef: float = 0.0,
) -> dict[str, float]:
    """``epochs`` passes over the batch, each split into ``minibatches`` shuffled mini-batches with one
    optimizer step each (PPO's ``num_minibatches``; 1 = one full-batch step per epoch, in a fixed order).
    Within a mini-batch, gradients are accumulated over micro-batches of at most ``micro_batch`` turns,
    each weighted by its share of tokens or sequences so the result equals the mini-batch loss. With
    ``reference`` and ``kl_coef`` > 0 the loss adds the k3 KL estimate to that frozen model on every turn;
    without it, turns whose advantage is zero carry no gradient and are skipped (constrained ones are kept
    under an entropy bonus). Constrained turns enter the loss as one value each, their choice's
    log-probability (:func:`turn_logprobs`); ``processor`` turns the images of visual games' turns into pixel
    values. ``precision`` autocasts the forward passes (:mod:`arena.trainers.memory`). With ``tis_cap`` the
    ratio's ``π_old`` is the learner's own logprob before the update and each token is reweighted by truncated
    importance sampling against the engine's logprob (:func:`~arena.trainers.loss.truncated_importance_weights`);
    without it, the engine's logprobs are ``π_old``. ``entropy_coef`` > 0 adds an entropy bonus on constrained
    turns (the entropy of the choice distribution, averaged like the loss with free-text tokens counting 0),
    meant to keep a choice from collapsing onto one action before the advantages that separate states can act;
    the constrained turns' mean entropy over the update's passes is reported either way (``choice_entropy``).
    Gradients are freed at the end (``zero_grad(set_to_none=True)``)."""
    with_kl = reference is not None and bool(kl_coef)

    def carries_gradient(i: int) -> bool:  # a zero advantage still moves the KL term and the entropy bonus
        return with_kl or abs(advantages[i]) > 1e-8 or (bool(entropy_coef) and turns[i].alternatives is not None)

    keep = [i for i in range(len(turns)) if carries_gradient(i) and turns[i].completion_ids]
    metrics: dict[str, float] = {
        "turns_used": float(len(keep)),
        "turns_with_advantage": float(sum(abs(advantages[i]) > 1e-8 for i in keep)),
    }
    if not keep:
        return metrics

    def length(i: int) -> int:
        return len(turns[i].prompt_ids) + len(turns[i].completion_ids)

    minibatches = max(1, min(int(minibatches), len(keep)))
    rng = rng if rng is not None else np.random.default_rng(0)
    reference_logprobs: dict[int, torch.Tensor] = {}
    if with_kl:  # the frozen policy's logprobs do not change across epochs
        reference_logprobs = frozen_logprobs(reference, turns, keep, pad_id, micro_batch, precision, processor)
    learner_old: dict[int, torch.Tensor] = {}
    if tis_cap is not None:  # the learner's logprobs before this update: PPO's π_old under TIS
        learner_old = frozen_logprobs(model, turns, keep, pad_id, micro_batch, precision, processor)
    model.train()
    sums: dict[str, float] = {}
    entropy_sum, entropy_count = 0.0, 0
    steps = epochs * minibatches
    for _ in range(epochs):
        order = keep if minibatches == 1 else [keep[i] for i in rng.permutation(len(keep))]
        for chunk in np.array_split(np.array(order), minibatches):
            chunk_ids = sorted(chunk.tolist(), key=length)  # similar lengths together: less padding
            chunk_tokens = sum(loss_tokens(turns[i]) for i in chunk_ids)
            optimizer.zero_grad(set_to_none=True)
            for start in range(0, len(chunk_ids), micro_batch):
                idx = chunk_ids[start : start + micro_batch]
                batch = [turns[i] for i in idx]
                is_choice = [t.alternatives is not None for t in batch]
                constrained = any(is_choice)
                with autocast(model, precision):
                    logp, mask, spread = turn_logprobs(model, batch, pad_id, processor)
                logp = logp.float()
                if constrained:
                    entropy_sum += float(spread[torch.tensor(is_choice, device=spread.device), 0].detach().sum())
                    entropy_count += sum(is_choice)
                old = torch.zeros_like(logp)
                for row, turn in enumerate(batch):
                    n = min(len(turn.old_logprobs), logp.shape[1])
                    old[row, :n] = torch.tensor(turn.old_logprobs[:n], dtype=logp.dtype)
                adv = torch.tensor(advantages[idx], dtype=logp.dtype, device=logp.device)
                ref = _rows(reference_logprobs, idx, logp) if reference_logprobs else None
                weights = None
                if learner_old:
                    engine, old = old, _rows(learner_old, idx, logp)
                    weights, tis_info = truncated_importance_weights(old, engine, mask, tis_cap)
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
                    token_weights=weights,
                    entropy=spread.float() if constrained else None,
                    entropy_coef=entropy_coef,
                )
                if weights is not None:
                    info.update(tis_info)
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
    optimizer.zero_grad(set_to_none=True)  # no gradient memory held while the engine plays
    model.eval()
    metrics.update(sums)
    if entropy_count:
        metrics["choice_entropy"] = entropy_sum / entropy_count
    return metrics
