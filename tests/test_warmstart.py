"""Warm start: legal-reply branch tokens, the legality term of the loss, and mistake-and-retry examples."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from arena.agents.backends.transformers_backend import TransformersBackend  # noqa: E402
from arena.agents.tiny import cached_tiny_model  # noqa: E402
from arena.agents.warmstart import (  # noqa: E402
    Example,
    branch_tokens,
    collect_examples,
    legality_loss,
    sampling_weights,
    train_examples,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize(
    ("legal", "others", "expected"),
    [
        ([[1, 2, 3, 9], [1, 2, 4, 9], [1, 2, 3, 8]], [], (2, [3, 4])),
        ([[5, 6], [7, 6]], [], (0, [5, 7])),
        ([[1, 2, 5]], [[1, 2, 6], [1, 2, 7]], (2, [5])),  # one legal reply among earlier moves
        ([[1, 2, 5], [1, 3, 5]], [[1, 2, 6]], (1, [2, 3])),  # an illegal reply shares the legal token 2
        ([[1, 2]], [], (2, [])),  # a single reply: nothing to tell apart
        ([[1, 2], [1, 2, 3]], [], (2, [])),  # one reply is a prefix of another: no token decides
        ([], [[1, 2], [3, 4]], (0, [])),
    ],
)
def test_branch_tokens(legal, others, expected):
    assert branch_tokens(legal, others) == expected


def test_legality_loss_is_minus_log_legal_mass():
    logits = torch.tensor([[0.0, 1.0, 2.0, 3.0], [5.0, 0.0, 0.0, 0.0]])
    probs = torch.softmax(logits, dim=-1)
    expected = -(math.log(probs[0, 1] + probs[0, 3]) + math.log(probs[1, 0])) / 2
    assert legality_loss(logits, [[1, 3], [0]]).item() == pytest.approx(expected, rel=1e-6)
    assert legality_loss(logits, [[0, 1, 2, 3], [0, 1, 2, 3]]).item() == pytest.approx(0.0, abs=1e-6)


def test_sampling_weights_favour_end_game_positions_only_where_a_game_offers_more():
    def example(env_id: str, legal: int) -> Example:
        return Example([0], [1], env_id, legal_ids=list(range(legal)))

    examples = [example("tictactoe-v0", n) for n in (9, 5, 3, 2, 1, 0)] + [example("kuhn-poker-v0", 2)] * 2
    weights = sampling_weights(examples, 3.0)
    assert weights is not None and weights.sum() == pytest.approx(1.0)
    base = weights[0]
    # two or one legal cells: three times as likely; no legality information (0): as likely as the rest;
    # Kuhn Poker, where every decision has two moves, is not an end game.
    assert list(weights / base) == pytest.approx([1, 1, 1, 3, 3, 1, 1, 1])
    assert sampling_weights(examples, 1.0) is None
    assert sampling_weights(examples[-2:], 3.0) is None


@pytest.fixture(scope="module")
def backend():
    return TransformersBackend(str(cached_tiny_model()))


def test_examples_mark_the_legal_cells(backend):
    examples = collect_examples(backend, ["tictactoe-v0"], agents="random", matches_per_env=4, seed=3)
    assert examples
    for e in examples:
        prompt = backend.tokenizer.decode(e.prompt_ids)
        legal = prompt.rsplit("Legal moves:", 1)[1].split("<|im_end|>")[0].split()
        assert e.target_ids[e.branch] in e.legal_ids  # also with one free cell: the others are occupied
        cells = sorted(backend.tokenizer.decode([t]) for t in e.legal_ids)
        assert cells == sorted(cell.strip("[]") for cell in legal)


def test_prompts_are_tokenized_as_the_agent_would_and_matches_are_counted_per_game(backend, monkeypatch):
    """The batched tokenization gives each prompt exactly ``apply_chat``'s ids; match counts can differ
    by game (a game not in the mapping plays ``MATCHES``)."""
    import arena
    from arena.agents import warmstart
    from arena.agents.llm import LLMAgent

    monkeypatch.setattr(warmstart, "MATCHES", 3)
    examples = collect_examples(backend, ["tictactoe-v0", "kuhn-poker-v0"], matches_per_env={"tictactoe-v0": 1}, seed=5)
    counts = {env: sum(e.env_id == env for e in examples) for env in ("tictactoe-v0", "kuhn-poker-v0")}
    assert 5 <= counts["tictactoe-v0"] <= 9  # one match: five to nine moves
    assert 3 * 2 * 2 <= counts["kuhn-poker-v0"] <= 3 * 2 * 3  # three matches of two hands, 2-3 decisions each
    env = arena.make("tictactoe-v0")
    env.reset(seed=5)
    obs, _, _, _, info = env.last()
    prompt = LLMAgent(backend, env_id="tictactoe-v0").build_prompt(obs, info)
    assert examples[0].prompt_ids == backend.apply_chat(prompt)  # the first decision of the first match
    assert backend.apply_chat_many([prompt, prompt]) == [backend.apply_chat(prompt)] * 2
    assert backend.apply_chat_many([]) == []


def test_mistakes_add_warnings_and_keep_every_target_legal(backend):
    plain = collect_examples(backend, ["tictactoe-v0"], agents="random", matches_per_env=6, seed=1)
    mixed = collect_examples(backend, ["tictactoe-v0"], agents="random", matches_per_env=6, seed=1, mistake_rate=0.5)
    warned = [e for e in mixed if "already taken" in backend.tokenizer.decode(e.prompt_ids)]
    assert warned and not any("already taken" in backend.tokenizer.decode(e.prompt_ids) for e in plain)
    for e in mixed:
        if e.legal_ids:
            assert e.target_ids[e.branch] in e.legal_ids


def test_legality_term_moves_mass_onto_legal_moves(backend):
    """Ten steps with the legality term leave more mass on legal cells than ten steps without it."""
    from transformers import AutoModelForCausalLM

    from arena.agents.logits import completion_logits

    examples = collect_examples(backend, ["tictactoe-v0"], agents="random", matches_per_env=8, seed=2)
    choices = [e for e in examples if e.legal_ids]
    pad = int(backend.tokenizer.pad_token_id)

    def legal_loss_after(weight: float) -> float:
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_pretrained(str(cached_tiny_model()))
        train_examples(model, examples, steps=10, batch_size=8, lr=3e-3, pad_id=pad, legal_weight=weight)
        with torch.no_grad():
            logits, _, _ = completion_logits(
                model, [e.prompt_ids for e in choices], [e.target_ids for e in choices], pad
            )
            branch = logits[range(len(choices)), [e.branch for e in choices]]
            return legality_loss(branch, [e.legal_ids for e in choices]).item()

    assert legal_loss_after(5.0) < legal_loss_after(0.0)  # measured: 1.97 vs 3.80


def test_observation_term_teaches_the_prompt_tail(backend):
    """Ten steps with the observation term predict the end of the prompts (board, legal moves) better than
    ten steps without it; the reply's own cross-entropy is the same either way before the first update
    (the prompt tokens that run with the reply are not counted in it)."""
    from transformers import AutoModelForCausalLM

    from arena.agents.logits import completion_logits

    examples = collect_examples(backend, ["tictactoe-v0"], agents="random", matches_per_env=8, seed=4)
    pad = int(backend.tokenizer.pad_token_id)
    tail = 24

    def train(weight: float) -> tuple[float, float]:
        """(the first step's reply cross-entropy, the prompt tail's cross-entropy after ten steps)"""
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_pretrained(str(cached_tiny_model()))
        losses = train_examples(
            model, examples, steps=10, batch_size=8, lr=3e-3, pad_id=pad, observation_weight=weight, legal_weight=1.0
        )
        with torch.no_grad():
            logits, targets, mask = completion_logits(
                model, [e.prompt_ids[:-tail] for e in examples], [e.prompt_ids[-tail:] for e in examples], pad
            )
            return losses[0], torch.nn.functional.cross_entropy(logits[mask], targets[mask]).item()

    (first_with, tail_with), (first_without, tail_without) = train(1.0), train(0.0)
    assert first_with == pytest.approx(first_without, rel=1e-5)
    assert tail_with < tail_without  # measured: 4.84 vs 7.27 nats


def test_examples_play_the_game_variant_the_trainer_plays(backend):
    """``env_kwargs`` reach the games (random play of negotiation's legal list makes proposals; the free-text
    game's random words never do) and ``hide_legal`` keeps the list out of the prompts."""
    tok = backend.tokenizer
    free = collect_examples(backend, ["negotiation-v0"], matches_per_env=3, seed=0)
    listed = collect_examples(
        backend, ["negotiation-v0"], matches_per_env=3, seed=0, env_kwargs={"negotiation-v0": {"proposal_list": True}}
    )
    hidden = collect_examples(
        backend,
        ["negotiation-v0"],
        matches_per_env=3,
        seed=0,
        env_kwargs={"negotiation-v0": {"proposal_list": True}},
        hide_legal=["negotiation-v0"],
    )
    assert not any("[Propose" in tok.decode(e.target_ids) for e in free)
    assert any("[Propose" in tok.decode(e.target_ids) for e in listed)
    assert all("Legal actions:" in tok.decode(e.prompt_ids) for e in listed)
    assert not any("Legal actions:" in tok.decode(e.prompt_ids) for e in hidden)
