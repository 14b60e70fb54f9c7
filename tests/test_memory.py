"""Learner memory options on the tiny model (CPU): bf16 + LoRA + gradient checkpointing, the adapter-free
base as KL reference, merged weights for engines and checkpoints, LoRA resume, and the 7B budget."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")

from arena.agents.backends.transformers_backend import TransformersBackend  # noqa: E402
from arena.agents.backends.weights import full_state_dict  # noqa: E402
from arena.agents.tiny import cached_tiny_model  # noqa: E402
from arena.core.errors import ArenaError  # noqa: E402
from arena.trainers import learner, memory  # noqa: E402
from arena.trainers.episodes import Turn  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _turns(backend, n=4):
    """Turns sharing a long prompt prefix (as one game's turns do), each with its own ending and reply, and
    on-policy old logprobs (the backend's own)."""
    tok = backend.tokenizer
    head = tok("Kuhn poker. Hand 1: your card is K. Legal actions: [check] [bet]. ")["input_ids"]
    turns = []
    for i in range(n):
        prompt = head + tok(f"turn {i}")["input_ids"]
        reply = tok(f"<answer>[{'bet' if i % 2 else 'check'}]</answer>")["input_ids"]
        (old,) = backend.score_ids([prompt], [reply])
        turns.append(Turn("player_0", "kuhn/player", 0, prompt, reply, list(old.logprobs), 0.0, "s", 0))
    return turns


def _logprobs(model, turns, pad_id, grad=False):
    with torch.set_grad_enabled(grad):
        logp, mask = learner.completion_logprobs(model, turns, pad_id)
    return (logp * mask).sum(-1)


def test_bf16_lora_checkpointing_update_trains_only_the_adapters_in_the_advantage_direction():
    backend = memory.load_learner(
        cached_tiny_model(), device="cpu", precision="bf16", gradient_checkpointing=True, lora={"r": 4, "alpha": 8}
    )
    model = backend.model
    assert memory.uses_checkpointing(model)
    base = {k: v.clone() for k, v in model.get_base_model().state_dict().items() if "lora_" not in k}
    assert all(v.dtype == torch.bfloat16 for k, v in base.items() if v.is_floating_point())
    adapters = [p for n, p in model.named_parameters() if p.requires_grad]
    assert adapters and all("lora_" in n for n, p in model.named_parameters() if p.requires_grad)
    assert all(p.dtype == torch.float32 for p in adapters)  # peft keeps adapters in float32
    pad = int(backend.tokenizer.pad_token_id)
    turns = _turns(backend)
    advantages = np.array([1.0, -1.0, 1.0, -1.0])
    before = _logprobs(model, turns, pad)
    reference = memory.reference_policy(model)
    assert isinstance(reference, memory.FrozenBase)
    optimizer = torch.optim.AdamW(adapters, lr=0.01)
    metrics = learner.update(
        model, optimizer, turns, advantages, pad_id=pad, epochs=3, micro_batch=2, precision="bf16",
        reference=reference, kl_coef=0.1,
    )  # fmt: skip
    after = _logprobs(model, turns, pad)
    assert metrics["turns_used"] == 4 and metrics["grad_norm"] > 0 and metrics["kl_ref"] >= 0
    assert ((after - before) * torch.tensor(advantages)).min() > 0  # each moved with its advantage
    for k, v in model.get_base_model().state_dict().items():
        if k in base:
            assert torch.equal(v, base[k]), f"frozen base weight {k} changed"
    assert all(p.grad is None for p in adapters)  # gradients freed after the update
    np.testing.assert_allclose(_logprobs(reference, turns, pad), before, atol=1e-5)  # the base: unchanged


def test_frozen_base_reference_is_the_starting_model_without_a_copy():
    plain = TransformersBackend(str(cached_tiny_model()))
    pad = int(plain.tokenizer.pad_token_id)
    turns = _turns(plain)
    start = _logprobs(plain.model, turns, pad)
    model = memory.with_lora(TransformersBackend(str(cached_tiny_model())).model, {"r": 4})
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0.0, 0.1)  # the adapted policy now differs from the start
    assert not torch.allclose(_logprobs(model, turns, pad), start, atol=1e-3)
    reference = memory.reference_policy(model)
    np.testing.assert_allclose(_logprobs(reference, turns, pad), start, atol=1e-5)
    assert {id(p) for p in reference.parameters()} == {id(p) for p in model.parameters()}  # no copy


def test_gradient_checkpointing_gives_the_same_logprobs_and_gradients():
    plain = TransformersBackend(str(cached_tiny_model()))
    ckpt = memory.load_learner(
        cached_tiny_model(), device="cpu", precision="fp32", gradient_checkpointing=True, lora=None
    )
    pad = int(plain.tokenizer.pad_token_id)
    turns = _turns(plain)
    grads = []
    for model in (plain.model, ckpt.model):
        model.train()
        total = _logprobs(model, turns, pad, grad=True)
        total.sum().backward()
        grads.append((total.detach(), model.model.embed_tokens.weight.grad.clone()))
        model.eval()
    np.testing.assert_allclose(grads[0][0], grads[1][0], atol=1e-5)
    np.testing.assert_allclose(grads[0][1], grads[1][1], atol=1e-5)


def test_bf16_mixed_autocasts_the_forward_pass_and_stays_close_to_fp32():
    backend = TransformersBackend(str(cached_tiny_model()))
    pad = int(backend.tokenizer.pad_token_id)
    turns = _turns(backend)
    exact = _logprobs(backend.model, turns, pad)
    with memory.autocast(backend.model, "bf16-mixed"):
        ids = torch.tensor([turns[0].prompt_ids])
        assert backend.model(input_ids=ids).logits.dtype == torch.bfloat16
        mixed = _logprobs(backend.model, turns, pad)
    assert not torch.equal(mixed, exact)
    np.testing.assert_allclose(mixed, exact, rtol=0.05, atol=0.2)


def test_merged_state_dict_is_a_plain_model_with_the_adapters_applied(tmp_path):
    model = memory.with_lora(TransformersBackend(str(cached_tiny_model())).model, {"r": 4, "alpha": 8})
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0.0, 0.1)
    state = full_state_dict(model)
    plain = TransformersBackend(str(cached_tiny_model()))
    assert set(state) == set(plain.model.state_dict())
    plain.model.load_state_dict(state)
    ids = torch.tensor([[5, 6, 7, 8, 9]])
    with torch.no_grad():
        np.testing.assert_allclose(plain.model(input_ids=ids).logits, model(input_ids=ids).logits, atol=1e-5)


def test_a_lora_run_checkpoints_a_plain_policy_and_resumes_its_adapter(tmp_path):
    from arena.trainers.config import load_config
    from arena.trainers.loop import Trainer

    sets = ["groups_per_env=2", "group_size=2", "max_new_tokens=6", "micro_batch=8", f"out={tmp_path}"]
    sets += ["lora={r: 4, alpha: 8}", "precision=bf16", "gradient_checkpointing=true", "lr=0.01"]
    cfg = load_config("cpu", overrides=["envs={kuhn-poker-v0: {num_hands: 1}}", *sets])
    trainer = Trainer(cfg, cached_tiny_model(), log=lambda _: None)
    assert isinstance(trainer.reference, memory.FrozenBase)
    trainer.step()
    path = trainer.save_checkpoint()
    assert (path / memory.ADAPTER_DIR / "adapter_config.json").is_file() and not (path / "reference.pt").exists()
    adapters = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if p.requires_grad}
    policy = TransformersBackend(str(path), dtype="bfloat16")  # the checkpoint loads as a plain policy
    prompt = [{"role": "user", "content": "Hand 1: your card is K."}]
    cont = ["<answer>[bet]</answer>"]
    np.testing.assert_allclose(
        policy.score([prompt], cont)[0].logprobs, trainer.backend.score([prompt], cont)[0].logprobs, atol=0.05
    )
    resumed = Trainer.resume(path, log=lambda _: None)
    for name, p in resumed.model.named_parameters():
        if p.requires_grad:
            assert torch.equal(p.detach(), adapters[name]), name
    assert resumed.iteration == 1
    resumed.step()


def test_bad_memory_options_are_clear_errors():
    from arena.trainers.config import load_config

    with pytest.raises(ArenaError, match="precision must be one of fp32, bf16-mixed, bf16"):
        load_config("cpu", overrides=["precision=fp16"])
    with pytest.raises(ArenaError, match="unknown lora options"):
        load_config("cpu", overrides=["lora={rank: 4}"])
    with pytest.raises(ArenaError, match="tis_cap"):
        load_config("cpu", overrides=["tis_cap=0"])


def test_the_7b_budget_adds_up():
    arch = memory.QWEN25_7B
    assert round(arch.params() / 1e9, 2) == 7.62  # Qwen2.5-7B: 7.61B
    q_o, k_v, gate_up, down = 2 * (3584 + 3584), 2 * (3584 + 512), 2 * (3584 + 18944), 18944 + 3584
    assert arch.lora_params(64) == 28 * 64 * (q_o + k_v + gate_up + down) == 161_480_704
    full = memory.learner_budget(arch, memory.LearnerSetup(precision="fp32", lora_r=None, gradient_checkpointing=False))
    gib = arch.params() * 4 / memory.GIB
    for key in ("weights", "gradients", "KL reference"):
        assert full[key] == pytest.approx(gib)
    assert full["AdamW moments"] == pytest.approx(2 * gib)  # the issue's ~112 GB before activations
    lora = memory.learner_budget(arch, memory.LearnerSetup())
    assert lora["KL reference"] == 0 and lora["weights"] == pytest.approx(gib / 2)
    assert lora["total"] == pytest.approx(sum(v for k, v in lora.items() if k != "total"))
    assert lora["total"] < full["total"] / 5
    assert "peak" in memory.format_budget(arch, memory.LearnerSetup())


def test_docs_show_the_budget_that_the_module_prints():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "gpu.md").read_text()
    assert memory.format_budget(memory.QWEN25_7B, memory.LearnerSetup()) in text
