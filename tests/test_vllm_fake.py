"""VLLMBackend on CPU against a fake vLLM that mirrors the 0.33 signatures (``tests/fake_vllm.py``):
weight sync through the worker extension in-process, across worker processes and with tensor
parallelism; sleep/wake around an update; per-request seeds; input guards; the trainer driving it.

The real engine is exercised by ``tests/test_vllm_backend.py`` on a GPU (``scripts/gpu_check.sh``).
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from arena.agents.backends.base import SamplingParams  # noqa: E402
from arena.agents.backends.transformers_backend import TransformersBackend  # noqa: E402
from arena.agents.tiny import cached_tiny_model  # noqa: E402
from arena.core.errors import ArenaError  # noqa: E402
from tests import fake_vllm  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PROMPTS = [[{"role": "user", "content": f"move {i} " * (i + 1)}] for i in range(4)]
GREEDY = SamplingParams(temperature=0, max_new_tokens=6)
#: (name, VLLM_ENABLE_V1_MULTIPROCESSING, tensor_parallel_size)
MODES = [("in-process", "0", 1), ("worker processes", "1", 1), ("tensor parallel 2", "1", 2)]


@pytest.fixture
def vllm(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", fake_vllm)
    monkeypatch.delenv("VLLM_ENABLE_V1_MULTIPROCESSING", raising=False)  # restored after the test
    monkeypatch.delenv("VLLM_ALLOW_INSECURE_SERIALIZATION", raising=False)
    return monkeypatch


def engine(vllm, multiprocessing: str = "0", tp: int = 1, **options):
    from arena.agents.backends.vllm_backend import VLLMBackend

    vllm.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", multiprocessing)
    return VLLMBackend(str(cached_tiny_model()), dtype="float32", tensor_parallel_size=tp, **options)


@pytest.fixture
def learner():
    return TransformersBackend(str(cached_tiny_model()))


def perturb(model, scale=0.05, seed=0):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(scale * torch.randn(p.shape, generator=gen))


def assert_engine_matches(eng, learner, atol=1e-4):
    """The engine's greedy replies and their logprobs are the learner's."""
    for c in eng.generate(PROMPTS, GREEDY):
        (s,) = learner.score_ids([c.prompt_ids], [c.completion_ids])
        np.testing.assert_allclose(c.logprobs, s.logprobs, atol=atol)
    ours = learner.generate(PROMPTS, GREEDY)
    assert [c.completion_ids for c in eng.generate(PROMPTS, GREEDY)] == [c.completion_ids for c in ours]


def test_generation_is_token_in_with_engine_logprobs(vllm, learner):
    eng = engine(vllm)
    for c, p in zip(eng.generate(PROMPTS, GREEDY), PROMPTS, strict=True):
        assert c.prompt_ids == learner.apply_chat(p) and len(c.completion_ids) == len(c.logprobs) >= 1
    assert_engine_matches(eng, learner)
    assert eng.llm.kwargs["worker_extension_cls"] == "arena.agents.backends.vllm_worker.ArenaWorkerExtension"


@pytest.mark.parametrize(("mode", "multiprocessing", "tp"), MODES, ids=[m[0] for m in MODES])
def test_sync_from_reaches_every_worker(vllm, learner, mode, multiprocessing, tp):
    eng = engine(vllm, multiprocessing, tp)
    assert eng.in_process == (mode == "in-process")
    before = eng.weights_digest()
    perturb(learner.model)
    eng.sync_from(learner.model)
    after = eng.weights_digest()
    assert len(after) == tp and all(a != b for a, b in zip(after, before, strict=True))
    assert eng.version == 1 and eng.llm.log.prefix_cache_resets >= 1
    assert "arena_load_weights" in eng.llm.log.rpcs
    assert all(w.model_runner.reloads == 1 for w in eng.llm.workers)  # vLLM's layer-wise reload path
    assert_engine_matches(eng, learner)


def test_multiprocess_sync_sends_bytes_in_chunks(vllm, learner):
    eng = engine(vllm, "1", 2, sync_chunk_mb=0.2)  # the tiny model is 0.8 MB in float32: several chunks
    perturb(learner.model, seed=3)
    eng.sync_from(learner.model)
    assert eng.llm.log.rpcs.count("arena_load_weights") >= 2
    assert_engine_matches(eng, learner)


def test_the_old_closure_push_is_refused_across_processes(vllm):
    """What broke on a real engine: a closure through ``apply_model`` cannot reach worker processes."""
    eng = engine(vllm, "1", 1)
    with pytest.raises(TypeError, match="not serializable"):
        eng.llm.apply_model(lambda model: model.load_weights([]))


def test_load_weights_from_a_checkpoint_directory(vllm, learner, tmp_path):
    eng = engine(vllm, "1", 2)
    perturb(learner.model, seed=1)
    learner.save(tmp_path / "ckpt")
    eng.load_weights(str(tmp_path / "ckpt"))
    assert eng.version == 1
    assert_engine_matches(eng, learner)
    with pytest.raises(ArenaError, match="no .safetensors"):
        eng.load_weights(str(tmp_path))


@pytest.mark.parametrize("level", [1, 2])
def test_sleep_frees_the_engine_and_the_sync_wakes_it_in_order(vllm, learner, level):
    eng = engine(vllm, sleep_level=level)
    assert eng.llm.kwargs["enable_sleep_mode"] is True
    eng.sleep()
    assert eng.llm.sleeping_tags == {"weights", "kv_cache"} and eng.llm.log.sleeps == [level]
    perturb(learner.model, seed=2)
    eng.sync_from(learner.model)
    assert eng.llm.log.wakes == [["weights"], ["kv_cache"]] and not eng.llm.sleeping_tags
    assert_engine_matches(eng, learner)


def test_after_sleep_level_1_generation_wakes_with_the_old_weights(vllm, learner):
    eng = engine(vllm, sleep_level=1)
    before = [c.completion_ids for c in eng.generate(PROMPTS, GREEDY)]
    eng.sleep()
    assert [c.completion_ids for c in eng.generate(PROMPTS, GREEDY)] == before
    eng2 = engine(vllm, sleep_level=2)
    eng2.sleep()
    with pytest.raises(ArenaError, match="level 2"):  # its weights are gone: only a sync brings them back
        eng2.generate(PROMPTS, GREEDY)


def test_without_sleep_mode_sleep_is_a_no_op(vllm):
    eng = engine(vllm)
    eng.sleep()
    assert not eng.asleep and eng.llm.log.sleeps == []


def test_identical_prompts_in_a_seeded_batch_get_different_samples(vllm):
    eng = engine(vllm)
    hot = SamplingParams(temperature=1.0, max_new_tokens=8, seed=7)
    group = [PROMPTS[0]] * 6  # a training group: same prompt, same seed
    first = eng.generate(group, hot)
    seeds = [sp.seed for _, sp in eng.llm.log.requests]
    assert len(set(seeds)) == len(group)
    assert len({tuple(c.completion_ids) for c in first}) > 1
    again = eng.generate(group, hot)
    assert [c.completion_ids for c in again] == [c.completion_ids for c in first]  # seeded: reproducible
    other = eng.generate(group, SamplingParams(temperature=1.0, max_new_tokens=8, seed=8))
    assert [c.completion_ids for c in other] != [c.completion_ids for c in first]


def test_temperature_above_vllms_range_is_one_clear_error(vllm):
    eng = engine(vllm)
    with pytest.raises(ArenaError, match=r"temperature in \[0, 2\], got 2.5"):
        eng.generate(PROMPTS[:1], SamplingParams(temperature=2.5, max_new_tokens=2))
    assert len(eng.generate(PROMPTS[:1], SamplingParams(temperature=2.0, max_new_tokens=2, seed=0))) == 1


def test_a_prompt_over_max_model_len_fails_alone(vllm, learner):
    eng = engine(vllm, max_model_len=64)
    long = [{"role": "user", "content": "move " * 80}]
    assert len(learner.apply_chat(long)) >= 64
    with pytest.warns(UserWarning, match="1 of 3 requests not run"):
        out = eng.generate([PROMPTS[0], long, PROMPTS[1]], GREEDY)
    assert [c.finish_reason for c in out] == [out[0].finish_reason, "error", out[2].finish_reason]
    assert out[1].completion_ids == [] and "max_model_len=64" in out[1].error
    assert out[0].completion_ids and out[2].completion_ids and out[0].error is None
    with pytest.raises(ArenaError, match="cannot score"):
        eng.score([long], ["[4]"])


def test_score_matches_the_learner(vllm, learner):
    eng = engine(vllm, "1", 2)
    cont = ["<think></think><answer>[4]</answer>"] * 2
    for a, b in zip(eng.score(PROMPTS[:2], cont), learner.score(PROMPTS[:2], cont), strict=True):
        assert a.continuation_ids == b.continuation_ids
        np.testing.assert_allclose(a.logprobs, b.logprobs, atol=1e-4)


def test_a_lora_learner_is_pushed_with_its_adapters_merged(vllm, learner):
    pytest.importorskip("peft")
    from arena.trainers.memory import with_lora

    model = with_lora(learner.model, {"r": 4, "alpha": 8})
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0.0, 0.05)
    eng = engine(vllm, "1", 2)
    eng.sync_from(model)
    assert_engine_matches(eng, learner)  # learner.model is the LoRA model now (wrapped in place)


def test_trainer_plays_on_the_engine_sleeps_during_updates_and_pushes_every_update(vllm, tmp_path):
    from arena.trainers.config import load_config
    from arena.trainers.loop import Trainer

    vllm.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", "1")
    overrides = {
        "out": str(tmp_path),
        "groups_per_env": 2,
        "group_size": 2,
        "max_new_tokens": 6,
        "micro_batch": 8,
        "rollout_backend": "vllm",
        "rollout_backend_options": "{dtype: float32, tensor_parallel_size: 2, sleep_level: 2}",
        "tis_cap": 2.0,
    }
    cfg = load_config(
        "cpu", overrides=["envs={kuhn-poker-v0: {num_hands: 1}}", *(f"{k}={v}" for k, v in overrides.items())]
    )
    trainer = Trainer(cfg, cached_tiny_model(), log=lambda _: None)
    for _ in range(2):
        metrics = trainer.step()
        assert metrics["turns"] > 0 and metrics["sync_s"] >= 0
    eng = trainer.rollout_backend
    assert eng.version == trainer.backend.version == 2
    assert eng.llm.log.sleeps == [2, 2] and eng.llm.log.wakes == [["weights"], ["kv_cache"]] * 2
    assert "update/tis_weight_mean" in metrics
    assert_engine_matches(eng, trainer.backend)
    with pytest.raises(ArenaError, match=r"temperatures in \[0, 2\]"):
        load_config("cpu", overrides=["rollout_backend=vllm", "temperature=3"])
