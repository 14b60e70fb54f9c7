"""Logits at a window of positions only: the LM head and the softmax over the vocabulary are a large share
of a small model's forward pass, and training needs them only where a completion token is predicted."""

from __future__ import annotations

import functools
import inspect
from typing import Any


@functools.cache
def _forward_parameters(model_type: type) -> frozenset[str]:
    return frozenset(inspect.signature(model_type.forward).parameters)


def forward_accepts(model: Any, parameter: str) -> bool:
    """Whether ``model.forward`` takes ``parameter`` (transformers renames arguments across versions);
    looked up once per model class, since it is asked on every forward pass."""
    return parameter in _forward_parameters(type(model))


def window_logits(model: Any, ids: Any, attention_mask: Any, lo: int, hi: int) -> Any:
    """Float logits ``[B, hi - lo, V]`` of positions ``lo .. hi-1`` (with grad when enabled). Uses the
    model's ``logits_to_keep`` (transformers >= 4.50) when it has one, else slices the full logits."""
    import torch

    if forward_accepts(model, "logits_to_keep"):
        keep = torch.arange(lo, hi, device=ids.device)
        return model(input_ids=ids, attention_mask=attention_mask, logits_to_keep=keep).logits.float()
    return model(input_ids=ids, attention_mask=attention_mask).logits[:, lo:hi].float()
