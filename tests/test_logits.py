"""window_logits and completion_logits: windowed and prefix-shared logits equal the plain forward pass."""

from __future__ import annotations

import itertools

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from arena.agents.logits import window_logits  # noqa: E402
from arena.agents.tiny import cached_tiny_model  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class _NoKeep(torch.nn.Module):
    """A causal LM whose forward has no ``logits_to_keep`` (older or custom models): the slicing fallback."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask=None):
        return self.model(input_ids=input_ids, attention_mask=attention_mask)


@pytest.mark.parametrize("wrap", [False, True])
def test_window_equals_the_slice_of_the_full_logits(wrap):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(cached_tiny_model())).eval()
    ids = torch.randint(5, 300, (3, 40))
    mask = torch.ones_like(ids)
    mask[2, 30:] = 0  # a right-padded row
    with torch.no_grad():
        full = model(input_ids=ids, attention_mask=mask).logits.float()
        got = window_logits(_NoKeep(model) if wrap else model, ids, mask, 17, 33)
    assert got.shape == (3, 16, full.shape[-1])
    torch.testing.assert_close(got, full[:, 17:33], atol=1e-5, rtol=1e-5)


def _rows_alone(model, prompts, completions):
    """Each row's completion logits from its own unpadded forward pass: the reference."""
    out = []
    for p, c in zip(prompts, completions, strict=True):
        logits = model(input_ids=torch.tensor([p + c])).logits.float()[0]
        out.append(logits[len(p) - 1 : len(p) - 1 + len(c)])
    return out


@pytest.mark.parametrize(("share", "min_saving"), [(False, 256), (True, 256), (True, 1)])
def test_completion_logits_equal_each_row_alone(share, min_saving, monkeypatch):
    """min_saving 1 puts every distinct suffix length in a length bucket of its own."""
    from transformers import AutoModelForCausalLM

    from arena.agents import logits as logits_module
    from arena.agents.logits import GROUP_KEY, completion_logits

    monkeypatch.setattr(logits_module, "BUCKET_MIN_SAVING", min_saving)

    model = AutoModelForCausalLM.from_pretrained(str(cached_tiny_model())).eval()
    g = torch.Generator().manual_seed(0)
    system = torch.randint(5, 300, (GROUP_KEY + 20,), generator=g).tolist()
    other = torch.randint(5, 300, (GROUP_KEY + 5,), generator=g).tolist()
    prompts = [
        [*system, 7, 8, 9],
        [*system, 7, 8],  # shares all but its last token with the row above
        system + [11] * 6,
        system,  # the whole common prefix: keeps its last token unshared
        [*other, 3],  # a group of its own
        [5, 6],  # shorter than the group key
    ]
    completions = [[1, 2, 3], [4], [], [9, 9, 9, 9, 9], [2, 2], [8, 7]]
    with torch.no_grad():
        logits, targets, mask = completion_logits(model, prompts, completions, pad_id=0, share_prefix=share)
        expected = _rows_alone(model, prompts, completions)
    assert logits.shape[:2] == mask.shape == (6, 5)
    for i, c in enumerate(completions):
        assert mask[i].tolist() == [j < len(c) for j in range(5)]
        assert targets[i].tolist() == c + [0] * (5 - len(c))
        torch.testing.assert_close(logits[i, : len(c)], expected[i], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("min_saving", [256, 1])
def test_shared_prefix_gradients_equal_the_plain_pass(min_saving, monkeypatch):
    """The shared prefix runs once; its gradient must collect every row's contribution, also when the rows
    run in several length buckets (min_saving 1), each on its own copy of the prefix's cache."""
    from transformers import AutoModelForCausalLM

    from arena.agents import logits as logits_module
    from arena.agents.logits import completion_logits

    monkeypatch.setattr(logits_module, "BUCKET_MIN_SAVING", min_saving)

    model = AutoModelForCausalLM.from_pretrained(str(cached_tiny_model()))
    g = torch.Generator().manual_seed(1)
    system = torch.randint(5, 300, (60,), generator=g).tolist()
    prompts = [system + torch.randint(5, 300, (n,), generator=g).tolist() for n in (3, 9, 1, 5)]
    completions = [torch.randint(5, 300, (n,), generator=g).tolist() for n in (4, 2, 6, 1)]
    grads = []
    for share in (False, True):
        model.zero_grad(set_to_none=True)
        logits, targets, mask = completion_logits(model, prompts, completions, pad_id=0, share_prefix=share)
        logp = torch.log_softmax(logits, -1).gather(-1, targets[..., None]).squeeze(-1)
        (logp * mask).sum().backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters()})
    for name, grad in grads[0].items():
        torch.testing.assert_close(grads[1][name], grad, atol=1e-4, rtol=1e-3, msg=name)


def test_models_without_cache_arguments_fall_back_to_the_plain_pass():
    from transformers import AutoModelForCausalLM

    from arena.agents.logits import completion_logits

    model = AutoModelForCausalLM.from_pretrained(str(cached_tiny_model())).eval()
    prompts, completions = [[5] * 40 + [6], [5] * 40 + [7, 8]], [[1, 2], [3]]
    with torch.no_grad():
        got, _, _ = completion_logits(_NoKeep(model), prompts, completions, pad_id=0)
        expected = _rows_alone(model, prompts, completions)
    torch.testing.assert_close(got[0, :2], expected[0], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(got[1, :1], expected[1], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("min_saving", [1, 10, 50, 10**6])
def test_length_buckets_partition_the_rows_by_length(min_saving):
    from arena.agents.logits import length_buckets

    lengths = [40, 3, 41, 7, 120, 5, 42, 118]
    buckets = length_buckets(lengths, min_saving)
    assert sorted(i for b in buckets for i in b) == list(range(len(lengths)))
    longest = [max(lengths[i] for i in b) for b in buckets]
    assert longest == sorted(longest)  # buckets in ascending order of length, no overlap between them
    for shorter, longer in itertools.pairwise(buckets):
        assert max(lengths[i] for i in shorter) <= min(lengths[i] for i in longer)
    padded = sum(len(b) * m for b, m in zip(buckets, longest, strict=True))
    assert padded <= len(lengths) * max(lengths)
    if min_saving == 10**6:
        assert len(buckets) == 1
    if min_saving == 1:
        assert padded == sum(lengths)  # every length its own bucket: no padding left
    assert length_buckets([], min_saving) == []


def test_caches_without_layer_tensors_repeat_rows_through_their_own_api():
    """Caches that keep no ``layers`` of key/value tensors (older transformers) are repeated with
    ``batch_select_indices``; DynamicCache layers are expanded in place."""
    from transformers import AutoModelForCausalLM

    from arena.agents.logits import cache_argument, repeat_cache_rows, returned_cache

    class Selecting:
        def batch_select_indices(self, indices):
            self.indices = indices.tolist()

    stub = Selecting()
    repeat_cache_rows(stub, 3, "cpu")
    assert stub.indices == [0, 0, 0]
    model = AutoModelForCausalLM.from_pretrained(str(cached_tiny_model())).eval()
    with torch.no_grad():
        out = model(input_ids=torch.tensor([[5, 6, 7, 8]]), use_cache=True)
    cache = returned_cache(out, cache_argument(model))
    if not hasattr(cache, "layers"):  # transformers < 4.56: the stub's path above is the one taken
        return
    keys = cache.layers[0].keys.clone()
    repeat_cache_rows(cache, 4, "cpu")
    assert cache.layers[0].keys.shape[0] == 4
    torch.testing.assert_close(cache.layers[0].keys[3], keys[0])


def _choice_reference(model, prompts, alternatives):
    """Each (prompt, alternative)'s sequence log-likelihood from its own unpadded forward pass."""
    out = []
    for p, alts in zip(prompts, alternatives, strict=True):
        row = []
        for a in alts:
            logits = model(input_ids=torch.tensor([p + a])).logits.float()[0, len(p) - 1 : len(p) - 1 + len(a)]
            row.append(float(torch.log_softmax(logits, -1).gather(-1, torch.tensor(a)[:, None]).sum()))
        out.append(row)
    return out


@pytest.mark.parametrize(("wrap", "arch"), [(False, "qwen2"), (True, "qwen2"), (False, "llama")])
def test_choice_logprobs_equal_each_alternative_alone(wrap, arch):
    """Three prompts (two share their first tokens, one does not), 1 to 3 alternatives of 1 to 4 tokens,
    some sharing their opening tokens."""
    from transformers import AutoModelForCausalLM

    from arena.agents.logits import choice_logprobs

    model = AutoModelForCausalLM.from_pretrained(str(cached_tiny_model(arch))).eval()
    g = torch.Generator().manual_seed(3)
    system = torch.randint(5, 300, (40,), generator=g).tolist()
    prompts = [[*system, 7, 8, 9], [*system, 10], torch.randint(5, 300, (12,), generator=g).tolist()]
    alternatives = [[[11, 12, 13], [11, 12, 14], [15]], [[16, 17, 18, 19]], [[20], [21, 22]]]
    with torch.no_grad():
        got = choice_logprobs(_NoKeep(model) if wrap else model, prompts, alternatives, pad_id=0)
        expected = _choice_reference(model, prompts, alternatives)
    assert got.shape == (3, 3)
    for i, row in enumerate(expected):
        assert got[i, : len(row)].tolist() == pytest.approx(row, abs=1e-4)
        assert torch.isinf(got[i, len(row) :]).all()


def test_choice_logprob_gradients_equal_the_plain_pass():
    from transformers import AutoModelForCausalLM

    from arena.agents.logits import choice_logprobs

    model = AutoModelForCausalLM.from_pretrained(str(cached_tiny_model()))
    prompts = [[5] * 30 + [6, 7], [5] * 30 + [8]]
    alternatives = [[[9, 10], [9, 11, 12]], [[13], [14, 15]]]
    grads = []
    for wrap in (False, True):
        model.zero_grad(set_to_none=True)
        scores = choice_logprobs(_NoKeep(model) if wrap else model, prompts, alternatives, pad_id=0)
        (scores[:, 0] - torch.logsumexp(scores, -1)).sum().backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters()})
    for name, grad in grads[0].items():
        torch.testing.assert_close(grads[1][name], grad, atol=1e-4, rtol=1e-3, msg=name)
