"""The transformers backend's rollout logprobs: gathered step by step (no full-vocabulary logits kept for
the whole rollout), and consistent with the trainer's forward pass whatever the checkpoint's own
generation settings."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from arena.agents.backends.base import SamplingParams  # noqa: E402
from arena.agents.backends.transformers_backend import ChosenTokenLogprobs, TransformersBackend  # noqa: E402
from arena.agents.tiny import cached_tiny_model  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PROMPTS = [[{"role": "user", "content": f"move {i} " * (i + 1)}] for i in range(4)]


@pytest.fixture
def backend():
    return TransformersBackend(str(cached_tiny_model()))


def test_generate_keeps_no_full_vocabulary_logits(backend, monkeypatch):
    asked = {}
    held = []
    generate = backend.model.generate

    def spy(*args, **kwargs):
        asked.update(kwargs)
        return generate(*args, **kwargs)

    original = ChosenTokenLogprobs.__call__

    def watch(self, input_ids, scores):
        out = original(self, input_ids, scores)
        held.append(sum(t.numel() for t in self._steps) + self._pending.numel())
        return out

    monkeypatch.setattr(backend.model, "generate", spy)
    monkeypatch.setattr(ChosenTokenLogprobs, "__call__", watch)
    out = backend.generate(PROMPTS, SamplingParams(temperature=1.0, max_new_tokens=12, seed=0))
    assert not any(asked.get(k) for k in ("output_logits", "output_scores"))
    vocab = backend.model.config.vocab_size
    assert max(held) <= len(PROMPTS) * (vocab + 12)  # one step's [B, V] plus [B, T] chosen values
    assert all(len(c.logprobs) == len(c.completion_ids) for c in out)


@pytest.mark.parametrize("temperature", [0.0, 0.7])
def test_logprobs_are_the_raw_models_even_when_the_checkpoint_sets_sampling_extras(backend, temperature):
    plain = backend.generate(PROMPTS, SamplingParams(temperature=temperature, top_p=0.9, max_new_tokens=10, seed=1))
    config = backend.model.generation_config
    config.repetition_penalty, config.top_k, config.no_repeat_ngram_size = 5.0, 3, 2
    out = backend.generate(PROMPTS, SamplingParams(temperature=temperature, top_p=0.9, max_new_tokens=10, seed=1))
    assert [c.completion_ids for c in out] == [c.completion_ids for c in plain]  # the extras change nothing
    scored = backend.score_ids([c.prompt_ids for c in out], [c.completion_ids for c in out])
    for c, s in zip(out, scored, strict=True):
        np.testing.assert_allclose(c.logprobs, s.logprobs, atol=1e-5)
