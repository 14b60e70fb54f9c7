"""Held-out legal mass: the probability a model gives to legal replies at each game's decisive reply tokens,
read teacher-forced from warm-start examples. It is the cheap twin of the invalid-move rate at temperature 1
(``benchmarks/invalid_rate.py`` plays whole matches to measure that), cheap enough to watch during training."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from arena.agents.logits import completion_logits, image_completion_logits, pixel_values

if TYPE_CHECKING:
    from arena.agents.warmstart import Example


def legal_mass(
    model: Any, examples: Sequence[Example], *, pad_id: int, processor: Any = None, batch_size: int = 24
) -> dict[str, float]:
    """Per game id, the mean over ``examples`` that have branch points (choice turns) of the probability
    that the model's reply stays legal: at each of the example's branch points (``Example.branches``), the
    softmax mass on the legal tokens there, multiplied along the target reply. Free-text turns and turns
    with one legal move have no branch point and are left out; a game with none is absent. The model is
    left in the mode (train or eval) it was in."""
    import torch

    games: dict[str, list[Example]] = {}
    for e in examples:
        if e.branches:
            games.setdefault(e.env_id, []).append(e)
    training = model.training
    model.eval()
    out: dict[str, float] = {}
    try:
        with torch.inference_mode():
            for env_id, rows in games.items():
                masses: list[float] = []
                for start in range(0, len(rows), batch_size):
                    batch = rows[start : start + batch_size]
                    heads = [e.prompt_ids for e in batch]
                    tails = [e.target_ids for e in batch]
                    if any(e.images for e in batch):
                        pixels = pixel_values([img for e in batch for img in e.images], processor)
                        logits, _, _ = image_completion_logits(model, heads, tails, pad_id, pixels)
                    else:
                        logits, _, _ = completion_logits(model, heads, tails, pad_id)
                    probs = torch.softmax(logits.float(), dim=-1)
                    for r, e in enumerate(batch):
                        masses.append(math.prod(float(probs[r, k, ids].sum()) for k, ids in e.branches))
                out[env_id] = sum(masses) / len(masses)
    finally:
        model.train(training)
    return out
