"""Logits at a window of positions only: the LM head and the softmax over the vocabulary are a large share
of a small model's forward pass, and training needs them only where a completion token is predicted."""

from __future__ import annotations

import inspect
from typing import Any


def window_logits(model: Any, ids: Any, attention_mask: Any, lo: int, hi: int) -> Any:
    """Float logits ``[B, hi - lo, V]`` of positions ``lo .. hi-1`` (with grad when enabled). Uses the
    model's ``logits_to_keep`` (transformers >= 4.50) when it has one, else slices the full logits."""
    import torch

    if "logits_to_keep" in inspect.signature(model.forward).parameters:
        keep = torch.arange(lo, hi, device=ids.device)
        return model(input_ids=ids, attention_mask=attention_mask, logits_to_keep=keep).logits.float()
    return model(input_ids=ids, attention_mask=attention_mask).logits[:, lo:hi].float()
