"""Logits at a window of positions only: the LM head and the softmax over the vocabulary are a large share
of a small model's forward pass, and training needs them only where a completion token is predicted."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Sequence
from typing import Any

from arena.core.errors import ArenaError


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


def takes_cache(model: Any) -> bool:
    """Whether ``model.forward`` takes position ids and a KV cache: what running a shared prefix once needs."""
    return forward_accepts(model, "position_ids") and forward_accepts(model, cache_argument(model))


def prefix_cache(model: Any, prefix: Sequence[int], device: Any) -> Any:
    """The KV cache of one forward pass over ``prefix`` (batch 1; its logits are not needed, so only the last
    position's are computed where the model allows it)."""
    import torch

    kwargs = {"logits_to_keep": 1} if forward_accepts(model, "logits_to_keep") else {}
    outputs = model(input_ids=torch.tensor(list(prefix), device=device)[None], use_cache=True, **kwargs)
    return returned_cache(outputs, cache_argument(model))


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


def opening_groups(prompts: Sequence[Sequence[int]]) -> list[list[int]]:
    """Indices of ``prompts`` grouped by their first ``GROUP_KEY`` tokens, in order of first appearance: the
    prompts of a group (one game's turns) share at least that opening, so their common prefix can run once."""
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, p in enumerate(prompts):
        groups.setdefault(tuple(p[:GROUP_KEY]), []).append(i)
    return list(groups.values())


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
    share_prefix = share_prefix and takes_cache(model)
    targets, mask = _targets_and_mask(completions)
    width = targets.shape[1]
    groups = opening_groups(prompts) if share_prefix else [list(range(len(prompts)))]
    parts = [
        _group_logits(
            model, [prompts[i] for i in rows], [completions[i] for i in rows], pad_id, width, share_prefix, device
        )
        for rows in groups
    ]
    order = [i for rows in groups for i in rows]
    logits = parts[0] if len(parts) == 1 else torch.cat(parts)
    if order != list(range(len(order))):
        logits = logits[torch.argsort(torch.tensor(order, device=logits.device))]
    return logits, targets.to(device), mask.to(device)


def _targets_and_mask(completions: Sequence[Sequence[int]]) -> tuple[Any, Any]:
    """Each completion's token ids right-padded to the longest (at least 1), and where they are real."""
    import torch

    width = max(1, max(len(c) for c in completions))
    targets = torch.zeros((len(completions), width), dtype=torch.long)
    mask = torch.zeros((len(completions), width), dtype=torch.bool)
    for i, c in enumerate(completions):
        targets[i, : len(c)] = torch.tensor(list(c), dtype=torch.long)
        mask[i, : len(c)] = True
    return targets, mask


def pixel_values(images: Sequence[Any], processor: Any) -> Any:
    """The pixel values of ``images`` (HxWx3 uint8 arrays, in the order their tokens appear) as the model's
    image processor makes them: exactly what generation fed the model."""
    import numpy as np
    from PIL import Image

    image_processor = getattr(processor, "image_processor", None)
    if image_processor is None:
        raise ArenaError("images need an image-text-to-text model and its processor; this model is text-only")
    pictures = [Image.fromarray(np.asarray(img, dtype=np.uint8)) for img in images]
    return image_processor(images=pictures, return_tensors="pt")["pixel_values"]


def image_completion_logits(
    model: Any,
    prompts: Sequence[Sequence[int]],
    completions: Sequence[Sequence[int]],
    pad_id: int,
    pixel_values: Any,
    *,
    share_prefix: bool = True,
) -> tuple[Any, Any, Any]:
    """:func:`completion_logits` for prompts that hold image tokens (an image-text-to-text model such as
    LLaVA), the images' ``pixel_values`` in the order their tokens appear across the rows. With
    ``share_prefix`` the prompt prefix every row shares up to the first image token runs once (the text before
    any image: the system prompt, and more when the prompt puts its image after the text); the rows then run
    their own tokens, images included, on its KV cache in one left-padded pass. Otherwise (or when there is no
    such prefix) one plain padded pass. The results agree up to float rounding."""
    device = next(model.parameters()).device
    targets, mask = _targets_and_mask(completions)
    width = targets.shape[1]
    pixels = pixel_values.to(device=device, dtype=next(model.parameters()).dtype)
    shared = _text_prefix(model, prompts) if share_prefix else 0
    if shared < MIN_SHARED_PREFIX:
        seqs = [list(p) + list(c) for p, c in zip(prompts, completions, strict=True)]
        logits = _padded_logits(model, prompts, seqs, pad_id, width, device, pixel_values=pixels)
        return logits, targets.to(device), mask.to(device)
    cache = prefix_cache(model, prompts[0][:shared], device)
    repeat_cache_rows(cache, len(prompts), device)
    seqs = [list(p[shared:]) + list(c) for p, c in zip(prompts, completions, strict=True)]
    # left padding keeps the image tokens in row order, the order of ``pixel_values``
    logits = _suffix_logits(
        model, cache, cache_argument(model), shared, seqs, [len(c) for c in completions], pad_id, width, device,
        pixel_values=pixels,
    )  # fmt: skip
    return logits, targets.to(device), mask.to(device)


#: A shared prefix shorter than this runs with the rows (a separate pass would cost more than it saves).
MIN_SHARED_PREFIX = 16


def _text_prefix(model: Any, prompts: Sequence[Sequence[int]]) -> int:
    """The number of leading prompt tokens every row shares before any image token (0 when the model takes no
    KV cache or position ids, or names no image token); every row keeps at least its last prompt token."""
    if not takes_cache(model):
        return 0
    config = getattr(model, "config", None)
    image_token = getattr(config, "image_token_id", None)
    if image_token is None:
        image_token = getattr(config, "image_token_index", None)
    if image_token is None:
        return 0
    shared = shared_prompt_prefix(prompts)
    first = prompts[0]
    for i in range(shared):
        if first[i] == image_token:
            return i
    return shared


def completion_token_logprobs(
    model: Any,
    prompts: Sequence[Sequence[int]],
    completions: Sequence[Sequence[int]],
    pad_id: int,
    pixels: Any = None,
    *,
    share_prefix: bool = True,
    upcast: bool = False,
) -> tuple[Any, Any]:
    """Per-token log-probabilities ``[B, C]`` of each completion after its prompt (zero past its end) and the
    mask: :func:`image_completion_logits` when the prompts hold images (``pixels``, their pixel values in
    order), else :func:`completion_logits`. ``upcast`` takes the softmax in float32 (for scoring, not training)."""
    import torch

    if pixels is not None:
        logits, targets, mask = image_completion_logits(
            model, prompts, completions, pad_id, pixels, share_prefix=share_prefix
        )
    else:
        logits, targets, mask = completion_logits(model, prompts, completions, pad_id, share_prefix=share_prefix)
    logits = logits.float() if upcast else logits
    token = torch.log_softmax(logits, dim=-1).gather(-1, targets[..., None]).squeeze(-1)
    return token * mask, mask


def choice_logprobs(
    model: Any,
    prompts: Sequence[Sequence[int]],
    alternatives: Sequence[Sequence[Sequence[int]]],
    pad_id: int,
    *,
    share_prefix: bool = True,
    images: Sequence[Sequence[Any]] | None = None,
    processor: Any = None,
) -> Any:
    """Sequence log-likelihoods ``[B, A]`` (with grad when enabled) of every alternative reply after its
    prompt: ``[i, a]`` = Σ_j log p(alternatives[i][a][j] | prompts[i], alternatives[i][a][:j]), ``-inf``
    where turn ``i`` has fewer than ``A`` alternatives. This is what a constrained agent scores to choose
    among the legal replies; a trainer normalises it over the alternatives.

    Three levels of sharing keep it cheap: the prefix every prompt shares runs once (batch 1); each prompt's
    own remainder and the opening its alternatives share (``<think></think><answer>[``) run once (one row
    per prompt, left-padded so that they all end at the last position); then each alternative runs only its
    own remaining tokens, all of a prompt's alternatives packed in one row on that prompt's KV cache with a
    4-D attention mask that keeps them apart. Without ``share_prefix`` (gradient checkpointing keeps no KV
    cache), and for models whose forward takes no cache or position ids, every prompt + alternative runs in
    full (same numbers). Prompts that hold image tokens (``images[i]``: prompt ``i``'s images, read by
    ``processor``) run each prompt + alternative as a row with its prompt's images, sharing only the text
    before the first image (:func:`image_completion_logits`)."""
    import torch

    device = next(model.parameters()).device
    owner = [i for i, alts in enumerate(alternatives) for _ in alts]
    slot = [a for alts in alternatives for a in range(len(alts))]
    replies = [list(r) for alts in alternatives for r in alts]
    if any(not r for r in replies):
        raise ValueError("every alternative needs at least one token")
    if images is not None and any(images):
        pixels = pixel_values([img for i in owner for img in images[i]], processor)
        token, _ = completion_token_logprobs(
            model, [prompts[i] for i in owner], replies, pad_id, pixels, share_prefix=share_prefix
        )
        scores = token.sum(-1)
    elif share_prefix and takes_cache(model):
        parts, order = [], []
        for members in opening_groups(prompts):  # prompts that agree on their first tokens share a pass
            local = {i: k for k, i in enumerate(members)}
            picked = [r for r, i in enumerate(owner) if i in local]
            parts.append(
                _shared_choice_logprobs(
                    model,
                    [prompts[i] for i in members],
                    [local[owner[r]] for r in picked],
                    [replies[r] for r in picked],
                    pad_id,
                    device,
                )
            )
            order.extend(picked)
        scores = parts[0] if len(parts) == 1 else torch.cat(parts)
        if order != list(range(len(order))):
            scores = scores[torch.argsort(torch.tensor(order, device=device))]
    else:
        token, _ = completion_token_logprobs(model, [prompts[i] for i in owner], replies, pad_id, share_prefix=False)
        scores = token.sum(-1)
    out = torch.full((len(prompts), max(len(a) for a in alternatives)), float("-inf"), device=device)
    return out.index_put((torch.tensor(owner, device=device), torch.tensor(slot, device=device)), scores)


def _shared_choice_logprobs(
    model: Any,
    prompts: Sequence[Sequence[int]],
    owner: Sequence[int],
    replies: Sequence[Sequence[int]],
    pad_id: int,
    device: Any,
) -> Any:
    """The three-level pass of :func:`choice_logprobs`: one sequence log-likelihood per reply ``[R]``.

    A prompt's replies usually share their opening (``<think></think><answer>[``): that common part runs
    once, with the prompt, in level 2, and each reply runs only the tokens after it in level 3."""
    import torch

    cache_arg = cache_argument(model)
    mine: list[list[int]] = [[] for _ in prompts]
    for r, i in enumerate(owner):
        mine[i].append(r)
    # per prompt, the opening its replies share (each reply keeps at least one token of its own)
    opening = [
        max(0, min(common_prefix([replies[r] for r in rs]), min(len(replies[r]) for r in rs) - 1)) for rs in mine
    ]
    extended = [list(p) + list(replies[rs[0]][:k]) for p, rs, k in zip(prompts, mine, opening, strict=True)]
    shared = max(0, min(common_prefix(extended), min(len(p) for p in prompts) - 1))
    cache = None
    if shared:
        cache = prefix_cache(model, extended[0][:shared], device)
        repeat_cache_rows(cache, len(prompts), device)
    # level 2: each prompt's remainder and its replies' opening, left-padded so that all end at the last position
    rest = [e[shared:] for e in extended]
    length = max(len(r) for r in rest)
    ids = torch.full((len(rest), length), pad_id, dtype=torch.long)
    attention = torch.zeros((len(rest), shared + length), dtype=torch.long)
    attention[:, :shared] = 1
    positions = torch.full((len(rest), length), shared, dtype=torch.long)
    for i, r in enumerate(rest):
        ids[i, length - len(r) :] = torch.tensor(r, dtype=torch.long)
        attention[i, shared + length - len(r) :] = 1
        positions[i, length - len(r) :] = shared + torch.arange(len(r))
    attention, positions = attention.to(device), positions.to(device)
    keep = max(opening) + 1  # the positions that predict an opening token or a reply's first own token
    inputs: dict[str, Any] = {"position_ids": positions, "use_cache": True}
    if cache is not None:
        inputs[cache_arg] = cache
    if forward_accepts(model, "logits_to_keep"):
        inputs["logits_to_keep"] = keep
    out = model(input_ids=ids.to(device), attention_mask=attention, **inputs)
    level2 = torch.log_softmax(out.logits[:, -keep:].float(), dim=-1)  # [B, keep, V]
    cache = returned_cache(out, cache_arg)
    opened = torch.zeros(len(prompts), device=device)  # log p(opening | prompt) of each prompt
    for i, k in enumerate(opening):
        if k:
            tokens = torch.tensor(extended[i][len(prompts[i]) :], device=device)
            opened[i] = level2[i, keep - 1 - k : keep - 1].gather(-1, tokens[:, None]).sum()
    own = [list(replies[r][opening[i] :]) for r, i in enumerate(owner)]  # each reply after its opening
    first = torch.tensor([o[0] for o in own], device=device)
    rows = torch.tensor(list(owner), device=device)
    scores = opened[rows] + level2[rows, -1].gather(1, first[:, None]).squeeze(1)
    if max(len(o) for o in own) > 1:
        scores = scores + _packed_reply_logprobs(model, cache, cache_arg, attention, mine, own, pad_id, device)
    return scores


def _packed_reply_logprobs(
    model: Any,
    cache: Any,
    cache_arg: str,
    attention: Any,
    mine: Sequence[Sequence[int]],
    own: Sequence[Sequence[int]],
    pad_id: int,
    device: Any,
) -> Any:
    """Level 3 of :func:`choice_logprobs`: Σ_{j≥1} log p(own[r][j] | prompt, own[r][:j]) for every reply ``r``.

    One row per prompt, on its own KV cache (no copy per reply): the prompt's replies are packed one after
    the other, and a 4-D attention mask lets each token see the prompt and the earlier tokens of its own
    reply only; position ids restart after the prompt for every reply."""
    import torch

    lengths = [sum(len(own[r]) for r in rs) for rs in mine]
    width = max(lengths)
    past = attention.shape[1]
    ids = torch.full((len(mine), width), pad_id, dtype=torch.long)
    positions = torch.zeros((len(mine), width), dtype=torch.long)
    allowed = torch.zeros((len(mine), width, past + width), dtype=torch.bool)
    allowed[:, :, :past] = attention.bool().cpu()[:, None, :]  # every query sees its prompt (pads too: no empty row)
    where: dict[int, tuple[int, int]] = {}  # reply -> (its row, the offset of its first token)
    for i, rs in enumerate(mine):
        start = 0
        end_of_prompt = int(attention[i].sum())
        for r in rs:
            n = len(own[r])
            ids[i, start : start + n] = torch.tensor(own[r], dtype=torch.long)
            positions[i, start : start + n] = end_of_prompt + torch.arange(n)
            for j in range(n):
                allowed[i, start + j, past + start : past + start + j + 1] = True
            where[r] = (i, start)
            start += n
    dtype = next(model.parameters()).dtype
    mask = torch.zeros(allowed.shape, dtype=dtype).masked_fill(~allowed, torch.finfo(dtype).min)
    logits = model(
        input_ids=ids.to(device),
        attention_mask=mask[:, None].to(device),
        position_ids=positions.to(device),
        **{cache_arg: cache},
    ).logits.float()
    logp = torch.log_softmax(logits, dim=-1)
    # reply r's token j (j ≥ 1) is predicted at its row's position start + j - 1
    row_idx, pos_idx, token_idx, owner_idx = [], [], [], []
    for r, (i, start) in where.items():
        for j in range(1, len(own[r])):
            row_idx.append(i)
            pos_idx.append(start + j - 1)
            token_idx.append(own[r][j])
            owner_idx.append(r)
    picked = logp[
        torch.tensor(row_idx, device=device),
        torch.tensor(pos_idx, device=device),
        torch.tensor(token_idx, device=device),
    ]
    return torch.zeros(len(own), device=device, dtype=picked.dtype).index_add(
        0, torch.tensor(owner_idx, device=device), picked
    )


def shared_prompt_prefix(prompts: Sequence[Sequence[int]]) -> int:
    """The prefix length all ``prompts`` share that a pass may run once: every row keeps at least its last prompt
    token, whose logits predict its first completion token."""
    return max(0, min(common_prefix(prompts), min(len(p) for p in prompts) - 1))


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

    shared = shared_prompt_prefix(prompts) if share_prefix else 0
    seqs = [list(p[shared:]) + list(c) for p, c in zip(prompts, completions, strict=True)]
    if shared == 0:
        return _padded_logits(model, prompts, seqs, pad_id, width, device)
    cache_arg = cache_argument(model)
    cache = prefix_cache(model, prompts[0][:shared], device)
    parts, order = [], []
    for rows in length_buckets([len(s) for s in seqs], BUCKET_MIN_SAVING):
        cache_for_rows(cache, shared, len(rows), device)
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


def cache_for_rows(cache: Any, shared: int, n: int, device: Any) -> None:
    """Ready the KV cache of a ``shared``-token prefix for a pass of ``n`` rows: drop the tokens an earlier pass
    appended (a negative count: transformers 4 and 5 agree on its meaning), then repeat the prefix ``n`` times."""
    if cache.get_seq_length() > shared:
        cache.crop(shared - cache.get_seq_length())
    repeat_cache_rows(cache, n, device)


def repeat_cache_rows(cache: Any, n: int, device: Any) -> None:
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
    **inputs: Any,
) -> Any:
    """Logits ``[len(seqs), width, V]`` for rows that continue a cached ``shared``-token prefix with their own
    tokens ``seqs`` (the end of each prompt, then its completion). The rows are left-padded, so that every
    completion ends at the last position and the logits are computed for only ``width`` positions. ``inputs``
    go to the model too (the ``pixel_values`` of image tokens among ``seqs``)."""
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
        model,
        ids.to(device),
        attention.to(device),
        lo,
        hi,
        position_ids=positions.to(device),
        **{cache_arg: cache},
        **inputs,
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
    model: Any,
    prompts: Sequence[Sequence[int]],
    seqs: Sequence[Sequence[int]],
    pad_id: int,
    width: int,
    device: Any,
    **inputs: Any,
) -> Any:
    """Logits ``[len(seqs), width, V]`` of whole right-padded rows (no shared prefix): the path for models
    whose forward takes no cache or position ids, and for prompts with images (``inputs`` then holds the
    ``pixel_values`` that the prompts' image tokens stand for)."""
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
    logits = window_logits(model, ids.to(device), attention.to(device), lo, hi, **inputs)
    index = torch.stack([torch.clamp(torch.arange(s - lo, s - lo + width), max=hi - lo - 1) for s in starts]).to(device)
    return logits.gather(1, index[..., None].expand(-1, -1, logits.shape[-1]))
