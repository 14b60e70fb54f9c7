"""Logits at a window of positions only: the LM head and the softmax over the vocabulary are a large share
of a small model's forward pass, and training needs them only where a completion token is predicted."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Sequence
from typing import Any


@functools.cache
def _forward_parameters(model_type: type) -> frozenset[str]:
    return frozenset(inspect.signature(model_type.forward).parameters)


def forward_accepts(model: Any, parameter: str) -> bool:
    """Whether ``model.forward`` takes ``parameter`` (transformers renames arguments across versions);
    looked up once per model class, since it is asked on every forward pass. A peft wrapper passes keyword
    arguments through to the transformers model inside, whose signature is the one that counts."""
    get_base = getattr(model, "get_base_model", None)
    if callable(get_base):
        model = get_base()
    return parameter in _forward_parameters(type(model))


def cache_argument(model: Any) -> str:
    """The name under which ``model.forward`` takes (and returns) its KV cache: ``cache`` in transformers 5,
    ``past_key_values`` before."""
    return "cache" if forward_accepts(model, "cache") else "past_key_values"


def returned_cache(outputs: Any, argument: str) -> Any:
    """The KV cache in a forward pass's ``outputs`` (``argument`` from :func:`cache_argument`)."""
    return outputs["cache"] if argument == "cache" else outputs.past_key_values


def window_logits(model: Any, ids: Any, attention_mask: Any, lo: int, hi: int, **inputs: Any) -> Any:
    """Float logits ``[B, hi - lo, V]`` of positions ``lo .. hi-1`` (with grad when enabled), passing any
    further ``inputs`` (position ids, a KV cache) to the model. Uses the model's ``logits_to_keep``
    (transformers >= 4.50) when it has one, else slices the full logits."""
    import torch

    if forward_accepts(model, "logits_to_keep"):
        keep = torch.arange(lo, hi, device=ids.device)
        return model(input_ids=ids, attention_mask=attention_mask, logits_to_keep=keep, **inputs).logits.float()
    return model(input_ids=ids, attention_mask=attention_mask, **inputs).logits[:, lo:hi].float()


#: Prompts whose first ``GROUP_KEY`` tokens agree share one prefix forward pass.
GROUP_KEY = 32


def completion_logits(
    model: Any,
    prompts: Sequence[Sequence[int]],
    completions: Sequence[Sequence[int]],
    pad_id: int,
    *,
    share_prefix: bool = True,
) -> tuple[Any, Any, Any]:
    """Float logits ``[B, C, V]`` whose ``[i, j]`` predicts ``completions[i][j]`` (with grad when enabled),
    the completion ids ``[B, C]`` (0 past each completion's end) and the bool mask ``[B, C]`` of real
    completion tokens (``C`` = the longest completion, at least 1).

    With ``share_prefix`` the rows are grouped by their first ``GROUP_KEY`` prompt tokens and each group's
    longest common prompt prefix runs once (batch 1); its KV cache is repeated for the group's rows, which
    then run only their own tokens. A batch of one game's turns shares the system prompt and the rules, most
    of every prompt, so this saves most of the forward and backward work. The result equals the plain
    padded forward pass up to float rounding; gradients flow into the shared prefix from every row."""
    import torch

    device = next(model.parameters()).device
    share_prefix = (
        share_prefix and forward_accepts(model, "position_ids") and forward_accepts(model, cache_argument(model))
    )
    width = max(1, max(len(c) for c in completions))
    targets = torch.zeros((len(prompts), width), dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.bool)
    for i, c in enumerate(completions):
        targets[i, : len(c)] = torch.tensor(list(c), dtype=torch.long)
        mask[i, : len(c)] = True
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, p in enumerate(prompts):
        groups.setdefault(tuple(p[:GROUP_KEY]) if share_prefix else (), []).append(i)
    parts = [
        _group_logits(
            model, [prompts[i] for i in rows], [completions[i] for i in rows], pad_id, width, share_prefix, device
        )
        for rows in groups.values()
    ]
    order = [i for rows in groups.values() for i in rows]
    logits = parts[0] if len(parts) == 1 else torch.cat(parts)
    if order != list(range(len(order))):
        logits = logits[torch.argsort(torch.tensor(order, device=logits.device))]
    return logits, targets.to(device), mask.to(device)


def common_prefix(prompts: Sequence[Sequence[int]]) -> int:
    """The length of the longest token prefix that every prompt starts with."""
    first, n = prompts[0], min(len(p) for p in prompts)
    for k in range(n):
        if any(p[k] != first[k] for p in prompts):
            return k
    return n


#: A group's rows are split into length buckets (each padded only to its own longest row) when a split saves
#: at least this many padded token slots, about the cost of one more forward call on this model size.
BUCKET_MIN_SAVING = 256


def length_buckets(lengths: Sequence[int], min_saving: int = BUCKET_MIN_SAVING) -> list[list[int]]:
    """Row indices grouped into buckets of similar length: the rows sorted by length, split in two where the
    padded area (rows x longest row) shrinks most, recursively while a split saves ``min_saving`` slots."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])

    def split(rows: list[int]) -> list[list[int]]:
        size = [lengths[i] for i in rows]  # ascending
        best, cut = 0, 0
        for k in range(1, len(rows)):
            saving = len(rows) * size[-1] - (k * size[k - 1] + (len(rows) - k) * size[-1])
            if saving > best:
                best, cut = saving, k
        if best < min_saving:
            return [rows]
        return split(rows[:cut]) + split(rows[cut:])

    return split(order) if order else []


def _group_logits(
    model: Any,
    prompts: Sequence[Sequence[int]],
    completions: Sequence[Sequence[int]],
    pad_id: int,
    width: int,
    share_prefix: bool,
    device: Any,
) -> Any:
    """:func:`completion_logits` for one group of rows (``[len(prompts), width, V]``)."""
    import torch

    # every row keeps at least its last prompt token, whose logits predict its first completion token
    shared = max(0, min(common_prefix(prompts), min(len(p) for p in prompts) - 1)) if share_prefix else 0
    seqs = [list(p[shared:]) + list(c) for p, c in zip(prompts, completions, strict=True)]
    if shared == 0:
        return _padded_logits(model, prompts, seqs, pad_id, width, device)
    kwargs = {}
    if forward_accepts(model, "logits_to_keep"):
        kwargs["logits_to_keep"] = 1  # the prefix's logits are not needed
    prefix = model(input_ids=torch.tensor(list(prompts[0][:shared]), device=device)[None], use_cache=True, **kwargs)
    cache_arg = cache_argument(model)
    cache = returned_cache(prefix, cache_arg)
    parts, order = [], []
    for rows in length_buckets([len(s) for s in seqs], BUCKET_MIN_SAVING):
        if parts:
            # drop the previous bucket's tokens (a negative count: transformers 4 and 5 agree on its meaning);
            # what stays is the prefix, repeated
            cache.crop(shared - cache.get_seq_length())
        _repeat_rows(cache, len(rows), device)
        bucket = [seqs[i] for i in rows]
        parts.append(
            _suffix_logits(
                model, cache, cache_arg, shared, bucket, [len(completions[i]) for i in rows], pad_id, width, device
            )
        )
        order.extend(rows)
    logits = parts[0] if len(parts) == 1 else torch.cat(parts)
    if order != list(range(len(order))):
        logits = logits[torch.argsort(torch.tensor(order, device=logits.device))]
    return logits


def _repeat_rows(cache: Any, n: int, device: Any) -> None:
    """Make every layer of a cache whose rows all hold the same prefix ``n`` rows long. Expands row 0 (a
    view, whose gradient is a plain sum over the rows) where the cache keeps ``layers`` of ``keys`` and
    ``values`` tensors; otherwise selects row 0 ``n`` times through the cache's own API (a copy, whose
    gradient is a scatter-add: correct, slower)."""
    import torch

    layers = getattr(cache, "layers", None)
    if layers and all(isinstance(getattr(layer, "keys", None), torch.Tensor) for layer in layers):
        for layer in layers:
            layer.keys = layer.keys[:1].expand(n, *layer.keys.shape[1:])
            layer.values = layer.values[:1].expand(n, *layer.values.shape[1:])
    else:
        cache.batch_select_indices(torch.zeros(n, dtype=torch.long, device=device))


def _suffix_logits(
    model: Any,
    cache: Any,
    cache_arg: str,
    shared: int,
    seqs: Sequence[Sequence[int]],
    completion_lengths: Sequence[int],
    pad_id: int,
    width: int,
    device: Any,
) -> Any:
    """Logits ``[len(seqs), width, V]`` for rows that continue a cached ``shared``-token prefix with their own
    tokens ``seqs`` (the end of each prompt, then its completion). The rows are left-padded, so that every
    completion ends at the last position and the logits are computed for only ``width`` positions."""
    import torch

    length = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), length), pad_id, dtype=torch.long)
    attention = torch.zeros((len(seqs), shared + length), dtype=torch.long)
    attention[:, :shared] = 1
    positions = torch.full((len(seqs), length), shared, dtype=torch.long)  # pads attend to the prefix only
    for i, s in enumerate(seqs):
        ids[i, length - len(s) :] = torch.tensor(list(s), dtype=torch.long)
        attention[i, shared + length - len(s) :] = 1
        positions[i, length - len(s) :] = shared + torch.arange(len(s))
    lo, hi = max(0, length - 1 - width), max(1, length - 1)  # window [lo, hi) of predicting positions
    logits = window_logits(
        model, ids.to(device), attention.to(device), lo, hi, position_ids=positions.to(device), **{cache_arg: cache}
    )
    if hi - lo == width and all(n == width for n in completion_lengths):
        return logits  # every completion fills the window: nothing to realign
    # completion i's token j is predicted at position length - 1 - len(completion i) + j
    index = torch.stack(
        [
            torch.clamp(torch.arange(length - 1 - n - lo, length - 1 - n - lo + width), 0, hi - lo - 1)
            for n in completion_lengths
        ]
    ).to(device)
    return logits.gather(1, index[..., None].expand(-1, -1, logits.shape[-1]))


def _padded_logits(
    model: Any, prompts: Sequence[Sequence[int]], seqs: Sequence[Sequence[int]], pad_id: int, width: int, device: Any
) -> Any:
    """Logits ``[len(seqs), width, V]`` of whole right-padded rows (no shared prefix): the path for models
    whose forward takes no cache or position ids."""
    import torch

    length = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), length), pad_id, dtype=torch.long)
    attention = torch.zeros((len(seqs), length), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(list(s), dtype=torch.long)
        attention[i, : len(s)] = 1
    starts = [max(0, len(p) - 1) for p in prompts]  # the position whose logits predict token 1
    lo = min(starts)
    hi = max(lo + 1, min(length, max(starts) + width))  # window [lo, hi) of predicting positions
    logits = window_logits(model, ids.to(device), attention.to(device), lo, hi)
    index = torch.stack([torch.clamp(torch.arange(s - lo, s - lo + width), max=hi - lo - 1) for s in starts]).to(device)
    return logits.gather(1, index[..., None].expand(-1, -1, logits.shape[-1]))
