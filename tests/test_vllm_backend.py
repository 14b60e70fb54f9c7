"""VLLMBackend on a real GPU engine: engine logprobs, scoring, per-request seeds, weight sync in-process and
across worker processes (tensor parallel with two or more GPUs), sleep mode, the input guards, and the
trainer pushing weights every update.

Run on a GPU machine with vllm installed: ``bash scripts/gpu_check.sh`` (or ``python3 -m pytest -q -m gpu
tests/test_vllm_backend.py``). Skips cleanly when vllm or CUDA is missing. The same behaviours run on CPU
against a fake vLLM in ``tests/test_vllm_fake.py``. NOT YET RUN ON A GPU (docs/gpu.md).
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
from arena.core.errors import ArenaError  # noqa: E402

PROMPTS = [[{"role": "user", "content": f"move {i} " * (i + 1)}] for i in range(8)]
GREEDY = SamplingParams(temperature=0, max_new_tokens=8)
#: float32 engine and learner: their logprobs agree to kernel noise
ENGINE = {"dtype": "float32", "gpu_memory_utilization": 0.15, "max_model_len": 2048, "enforce_eager": True}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    # vLLM's attention kernels want a head size in their supported set: width 256 with 4 heads is 64.
    return build_tiny_model(
        tmp_path_factory.mktemp("tiny"), hidden_size=256, num_layers=2, intermediate_size=512, matches_per_env=1
    )


@pytest.fixture(scope="module")
def engine(model_dir):
    """The in-process engine (one GPU, ``VLLM_ENABLE_V1_MULTIPROCESSING=0``): tensors pushed directly."""
    eng = load_backend(str(model_dir), "vllm", **ENGINE)
    assert eng.in_process
    return eng


@pytest.fixture
def reference(model_dir):
    return TransformersBackend(str(model_dir), device="cuda")


def perturb(model, seed=0):
    gen = torch.Generator(device=model.device).manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=gen, device=p.device))


def assert_matches(engine, reference, atol=2e-2):
    for c in engine.generate(PROMPTS, GREEDY):
        (s,) = reference.score_ids([c.prompt_ids], [c.completion_ids])
        np.testing.assert_allclose(c.logprobs, s.logprobs, atol=atol)


def test_generate_has_engine_logprobs_matching_transformers(engine, reference):
    out = engine.generate(PROMPTS, GREEDY)
    assert len(out) == len(PROMPTS)
    for c, p in zip(out, PROMPTS, strict=True):
        assert c.prompt_ids == reference.apply_chat(p)
        assert len(c.completion_ids) == len(c.logprobs) >= 1
    assert_matches(engine, reference)


def test_score_matches_transformers(engine, reference):
    cont = ["<think></think><answer>[4]</answer>"] * 2
    for a, b in zip(engine.score(PROMPTS[:2], cont), reference.score(PROMPTS[:2], cont), strict=True):
        assert a.continuation_ids == b.continuation_ids
        np.testing.assert_allclose(a.logprobs, b.logprobs, atol=2e-2)


def test_identical_prompts_in_a_seeded_batch_get_different_samples(engine):
    hot = SamplingParams(temperature=1.0, max_new_tokens=16, seed=7)
    first = engine.generate([PROMPTS[0]] * 8, hot)
    assert len({tuple(c.completion_ids) for c in first}) > 1
    again = engine.generate([PROMPTS[0]] * 8, hot)
    assert [c.completion_ids for c in again] == [c.completion_ids for c in first]


def test_guards(engine):
    with pytest.raises(ArenaError, match="temperature"):
        engine.generate(PROMPTS[:1], SamplingParams(temperature=2.5))
    long = [{"role": "user", "content": "move " * 3000}]
    with pytest.warns(UserWarning, match="not run"):
        out = engine.generate([PROMPTS[0], long], GREEDY)
    assert out[1].finish_reason == "error" and out[0].completion_ids


def test_sync_from_updates_weights_without_restart(engine, reference):
    before = engine.weights_digest()
    perturb(reference.model)
    version = engine.version
    engine.sync_from(reference.model)
    assert engine.version == version + 1 and engine.weights_digest() != before
    print(
        f"\nin-process sync of {sum(p.numel() for p in reference.model.parameters())} params: {engine.last_sync_s:.3f}s"
    )
    assert_matches(engine, reference)


def test_load_weights_from_a_checkpoint(engine, reference, tmp_path):
    perturb(reference.model, seed=1)
    reference.save(tmp_path / "ckpt")
    engine.load_weights(str(tmp_path / "ckpt"))
    assert_matches(engine, reference)


def test_worker_processes_with_sleep_mode(model_dir, reference, monkeypatch):
    """A multiprocess engine (tensor parallel across every visible GPU, else one): weights travel as
    safetensors bytes; it sleeps (level 1) while we pretend to train, and the sync wakes it in order."""
    monkeypatch.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", "1")
    tp = 2 if torch.cuda.device_count() >= 2 else 1
    eng = load_backend(str(model_dir), "vllm", **ENGINE, in_process=False, tensor_parallel_size=tp, sleep_level=1)
    assert not eng.in_process
    before = eng.weights_digest()
    assert len(before) == tp
    eng.sleep()
    perturb(reference.model, seed=2)
    eng.sync_from(reference.model)
    print(f"\nmultiprocess (tp={tp}) sync with wake: {eng.last_sync_s:.3f}s")
    after = eng.weights_digest()
    assert all(a != b for a, b in zip(after, before, strict=True))
    assert_matches(eng, reference)


def test_trainer_plays_rollouts_on_vllm_and_pushes_weights_every_update(model_dir, tmp_path, monkeypatch):
    from arena.trainers.config import load_config
    from arena.trainers.loop import Trainer

    cfg = load_config(
        "cpu",
        overrides=[
            "envs={kuhn-poker-v0: {num_hands: 1}}",
            f"out={tmp_path}",
            "device=cuda",
            "groups_per_env=2",
            "group_size=2",
            "tis_cap=2.0",
            "rollout_backend=vllm",
            "rollout_backend_options={dtype: float32, gpu_memory_utilization: 0.15, max_model_len: 2048, "
            "enforce_eager: true, in_process: false, sleep_level: 1}",
        ],
    )
    monkeypatch.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", "1")  # a second engine in this process: its own process
    trainer = Trainer(cfg, model_dir, log=lambda _: None)
    for _ in range(2):
        metrics = trainer.step()
        assert metrics["turns"] > 0
        print(f"\ntrainer step: sync {metrics['sync_s']}s, TIS mean weight {metrics.get('update/tis_weight_mean')}")
    assert trainer.rollout_backend.version == trainer.backend.version == 2
    cont = ["<think></think><answer>[bet]</answer>"]
    (engine,) = trainer.rollout_backend.score(PROMPTS[:1], cont)
    (learner,) = trainer.backend.score(PROMPTS[:1], cont)
    np.testing.assert_allclose(engine.logprobs, learner.logprobs, atol=2e-2)
