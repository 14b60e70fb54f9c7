"""Held-out legal mass: the teacher-forced probability of staying legal at each choice turn's branch points."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from arena.agents.backends.transformers_backend import TransformersBackend  # noqa: E402
from arena.agents.legal_mass import legal_mass  # noqa: E402
from arena.agents.tiny import cached_tiny_model  # noqa: E402
from arena.agents.warmstart import Example, collect_examples, train_examples  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def backend():
    return TransformersBackend(str(cached_tiny_model()))


@pytest.fixture(scope="module")
def examples(backend):
    ttt = collect_examples(backend, ["tictactoe-v0"], agents="random", matches_per_env=3, seed=4)
    household = collect_examples(backend, ["household-v0"], agents="random", matches_per_env=1, seed=4)
    return ttt + household


def _direct_mass(model, e: Example) -> float:
    """One unbatched forward pass over the whole prompt and reply, no shared prefix."""
    ids = torch.tensor([e.prompt_ids + e.target_ids])
    with torch.no_grad():
        probs = torch.softmax(model(input_ids=ids).logits[0].float(), dim=-1)
    start = len(e.prompt_ids) - 1  # the logits at position p predict token p + 1
    return math.prod(float(probs[start + k, legal].sum()) for k, legal in e.branches)


def test_legal_mass_is_the_mean_product_of_the_branch_masses(backend, examples):
    model = backend.model
    household = [e for e in examples if e.env_id == "household-v0" and e.branches]
    assert any(len(e.branches) > 1 for e in household)  # two-digit labels: the masses multiply
    masses = legal_mass(model, examples, pad_id=int(backend.tokenizer.pad_token_id), batch_size=5)
    assert set(masses) == {"tictactoe-v0", "household-v0"}
    for env_id, value in masses.items():
        rows = [e for e in examples if e.env_id == env_id and e.branches]
        expected = sum(_direct_mass(model, e) for e in rows) / len(rows)
        assert value == pytest.approx(expected, rel=1e-4)
        assert 0.0 < value < 1.0


def test_every_token_legal_gives_mass_one_and_free_text_turns_are_left_out(backend, examples):
    vocab = list(range(backend.model.config.vocab_size))
    e = next(e for e in examples if e.branches)
    everything = Example(e.prompt_ids, e.target_ids, e.env_id, [(k, vocab) for k, _ in e.branches])
    free_text = Example(e.prompt_ids, e.target_ids, "negotiation-v0")
    masses = legal_mass(backend.model, [everything, free_text], pad_id=0)
    assert masses == {e.env_id: pytest.approx(1.0, abs=1e-5)}


def test_legal_mass_leaves_the_model_in_its_mode(backend, examples):
    model = backend.model
    model.train()
    try:
        legal_mass(model, examples[:2], pad_id=0)
        assert model.training
    finally:
        model.eval()
    legal_mass(model, examples[:2], pad_id=0)
    assert not model.training


def test_training_on_the_examples_raises_their_legal_mass_and_on_step_sees_every_step(backend, examples):
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(str(cached_tiny_model()))
    pad = int(backend.tokenizer.pad_token_id)
    ttt = [e for e in examples if e.env_id == "tictactoe-v0"]
    before = legal_mass(model, ttt, pad_id=pad)["tictactoe-v0"]
    seen: list[int] = []
    train_examples(model, ttt, steps=12, batch_size=8, lr=3e-3, pad_id=pad, legal_weight=3.0, on_step=seen.append)
    assert seen == list(range(12))
    assert legal_mass(model, ttt, pad_id=pad)["tictactoe-v0"] > before + 0.1
