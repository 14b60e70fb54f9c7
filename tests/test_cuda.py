"""The transformers backend, the warm start and the trainer on a CUDA GPU (no vLLM needed): the same numbers as
on the CPU, and training that runs where the run says. Skips cleanly without CUDA; run with
``python3 -m pytest -q -m gpu tests/test_cuda.py`` (``scripts/gpu_check_hf.sh`` does)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = pytest.mark.gpu

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
if not torch.cuda.is_available():
    pytest.skip("needs a CUDA GPU", allow_module_level=True)

from arena.agents.backends.base import SamplingParams  # noqa: E402
from arena.agents.backends.transformers_backend import TransformersBackend  # noqa: E402
from arena.agents.tiny import cached_tiny_model  # noqa: E402

PROMPTS = [[{"role": "user", "content": f"Board {i}: your move. " * (i + 1)}] for i in range(6)]


def test_cuda_backend_generates_and_scores_as_the_cpu_backend():
    cpu = TransformersBackend(str(cached_tiny_model()))
    gpu = TransformersBackend(str(cached_tiny_model()), device="cuda")
    assert next(gpu.model.parameters()).device.type == "cuda"
    greedy = SamplingParams(temperature=0, max_new_tokens=8)
    for a, b in zip(cpu.generate(PROMPTS, greedy), gpu.generate(PROMPTS, greedy), strict=True):
        assert a.completion_ids == b.completion_ids  # float32 both: the same greedy tokens
        np.testing.assert_allclose(a.logprobs, b.logprobs, atol=1e-3)
    replies = ["<answer>[4]</answer>", "<answer>[0]</answer>"]
    for a, b in zip(cpu.score(PROMPTS[:2], replies), gpu.score(PROMPTS[:2], replies), strict=True):
        np.testing.assert_allclose(a.logprobs, b.logprobs, atol=1e-3)


def test_warm_start_trains_on_the_gpu_and_saves_a_model_the_cpu_loads(tmp_path):
    from arena.agents.warmstart import warmstart

    losses: list[str] = []
    out = warmstart(
        cached_tiny_model(),
        tmp_path / "ws",
        env_ids=["tictactoe-v0"],
        steps=40,
        matches_per_env=20,
        device="cuda",
        log=losses.append,
    )
    curve = [float(line.split("loss ")[1].split()[0]) for line in losses if line.startswith("step ")]
    assert curve[-1] < curve[0]
    before = TransformersBackend(str(cached_tiny_model()))
    after = TransformersBackend(str(out))  # on the CPU
    changed = any(
        not torch.equal(p, q) for p, q in zip(before.model.parameters(), after.model.parameters(), strict=True)
    )
    assert changed


@pytest.mark.parametrize(
    "memory", [[], ["precision=bf16", "lora={r: 4, alpha: 8}", "gradient_checkpointing=true"]], ids=["fp32", "lora"]
)
def test_two_iterations_of_self_play_run_on_the_gpu(memory, tmp_path):
    from arena.trainers.config import load_config
    from arena.trainers.loop import Trainer

    sets = ["device=cuda", "groups_per_env=4", "group_size=2", "max_new_tokens=6", f"out={tmp_path}", *memory]
    cfg = load_config("cpu", overrides=["envs={kuhn-poker-v0: {num_hands: 1}}", *sets])
    trainer = Trainer(cfg, cached_tiny_model(), log=lambda _: None)
    assert next(trainer.model.parameters()).device.type == "cuda"
    rows = [trainer.step() for _ in range(2)]
    assert all(row["turns"] > 0 and np.isfinite(row["update/pg_loss"]) for row in rows), rows
    json.dumps(rows)  # metrics are plain numbers, not CUDA tensors


def test_a_seeded_call_leaves_the_cuda_generator_as_it_was():
    """A seeded generate reseeds the generators (torch.manual_seed); the CUDA one is restored afterwards too."""
    gpu = TransformersBackend(str(cached_tiny_model()), device="cuda")
    torch.cuda.manual_seed(123)
    before = torch.cuda.get_rng_state()
    gpu.generate(PROMPTS[:2], SamplingParams(temperature=1.0, max_new_tokens=4, seed=7))
    assert torch.equal(torch.cuda.get_rng_state(), before)
