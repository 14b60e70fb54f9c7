"""VLLMBackend on a GPU: engine logprobs, batch generation, scoring and weight sync without restart.

Run on a GPU machine with vllm installed: ``python3 -m pytest -q -m gpu tests/test_vllm_backend.py``.
Skips cleanly when vllm or CUDA is missing.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gpu

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
if not torch.cuda.is_available():
    pytest.skip("needs a CUDA GPU", allow_module_level=True)
pytest.importorskip("vllm")

import numpy as np  # noqa: E402

from arena.agents.backends import load_backend  # noqa: E402
from arena.agents.backends.base import SamplingParams  # noqa: E402
from arena.agents.backends.transformers_backend import TransformersBackend  # noqa: E402
from arena.agents.tiny import build_tiny_model  # noqa: E402

PROMPTS = [[{"role": "user", "content": f"move {i} " * (i + 1)}] for i in range(8)]
GREEDY = SamplingParams(temperature=0, max_new_tokens=8)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    # vLLM needs head_dim in its supported set (64/128...): width 256 with 4 heads.
    return build_tiny_model(
        tmp_path_factory.mktemp("tiny"), hidden_size=256, num_layers=2, intermediate_size=512, matches_per_env=1
    )


@pytest.fixture(scope="module")
def engine(model_dir):
    return load_backend(
        str(model_dir), "vllm", dtype="float32", gpu_memory_utilization=0.2, max_model_len=2048, enforce_eager=True
    )


@pytest.fixture(scope="module")
def reference(model_dir):
    return TransformersBackend(str(model_dir), device="cuda")


def test_generate_has_engine_logprobs_matching_transformers(engine, reference):
    out = engine.generate(PROMPTS, GREEDY)
    assert len(out) == len(PROMPTS)
    for c, p in zip(out, PROMPTS, strict=True):
        assert c.prompt_ids == reference.apply_chat(p)
        assert len(c.completion_ids) == len(c.logprobs) >= 1
        (s,) = reference.score_ids([c.prompt_ids], [c.completion_ids])
        np.testing.assert_allclose(c.logprobs, s.logprobs, atol=2e-2)


def test_score_matches_transformers(engine, reference):
    cont = ["<think></think><answer>[4]</answer>"] * 2
    for a, b in zip(engine.score(PROMPTS[:2], cont), reference.score(PROMPTS[:2], cont), strict=True):
        assert a.continuation_ids == b.continuation_ids
        np.testing.assert_allclose(a.logprobs, b.logprobs, atol=2e-2)


def test_sync_from_updates_weights_without_restart(engine, reference):
    before = engine.score(PROMPTS[:1], ["[4]"])[0].logprobs
    with torch.no_grad():
        for p in reference.model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    version = engine.version
    engine.sync_from(reference.model)
    assert engine.version == version + 1
    after = engine.score(PROMPTS[:1], ["[4]"])[0].logprobs
    assert not np.allclose(before, after, atol=1e-3)
    expected = reference.score(PROMPTS[:1], ["[4]"])[0].logprobs
    np.testing.assert_allclose(after, expected, atol=2e-2)


def test_trainer_plays_rollouts_on_vllm_and_pushes_weights_every_update(model_dir, tmp_path):
    from arena.trainers.config import load_config
    from arena.trainers.loop import Trainer

    cfg = load_config(
        "cpu",
        overrides=[
            "envs={kuhn-poker-v0: {num_hands: 1}}",
            f"out={tmp_path}",
            "groups_per_env=2",
            "group_size=2",
            "rollout_backend=vllm",
            "rollout_backend_options={dtype: float32, gpu_memory_utilization: 0.2, max_model_len: 2048, "
            "enforce_eager: true}",
        ],
    )
    trainer = Trainer(cfg, model_dir, log=lambda _: None)
    for _ in range(2):
        metrics = trainer.step()
        assert metrics["turns"] > 0
    assert trainer.rollout_backend.version == trainer.backend.version == 2
    cont = ["<think></think><answer>[bet]</answer>"]
    (engine,) = trainer.rollout_backend.score(PROMPTS[:1], cont)
    (learner,) = trainer.backend.score(PROMPTS[:1], cont)
    np.testing.assert_allclose(engine.logprobs, learner.logprobs, atol=2e-2)
