"""The warm-start token count (benchmarks/warmstart_tokens.py): its trie and batch-prefix counts are exact on
hand-made sequences, and on real examples they order as they must (trie <= batch prefix <= plain)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

pytest.importorskip("transformers")

from arena.agents.backends.transformers_backend import TransformersBackend
from arena.agents.tiny import cached_tiny_model
from benchmarks.warmstart_tokens import batch_prefix_tokens, count, trie_size


def test_trie_counts_each_distinct_prefix_once():
    assert trie_size([]) == 0
    assert trie_size([[1, 2, 3], [1, 2, 3]]) == 3  # a repeated example costs nothing more
    assert trie_size([[1, 2, 3], [1, 2, 4], [5]]) == 5  # 1, 12, 123, 124, 5
    assert trie_size([[1, 2], [1, 2, 3]]) == 3  # an example that extends another adds its new tokens only


def test_batch_prefix_runs_the_shared_prompt_prefix_once():
    prompts = [[7, 7, 7, 1], [7, 7, 7, 2]]
    sequences = [[*p, 9] for p in prompts]
    # a batch of both: the 3 shared tokens once, then 2 own tokens each = 7 tokens for 2 examples
    assert batch_prefix_tokens(sequences, prompts, batch=2, draws=3, seed=0) == pytest.approx(3.5)
    # batches of one share nothing with anyone: every token runs
    assert batch_prefix_tokens(sequences, prompts, batch=1, draws=4, seed=0) == pytest.approx(5.0)


def test_counts_on_real_examples_order_as_sharing_allows():
    backend = TransformersBackend(str(cached_tiny_model()))
    (row,) = count(backend, ["kuhn-poker-v0"], fraction=0.02, seed=0, draws=5)
    assert row["env"] == "kuhn-poker-v0" and row["examples"] > 0
    assert 0 < row["prefix trie"] <= row["batch prefix"] <= row["plain"]
