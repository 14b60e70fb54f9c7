"""Synthetic pretraining of the tiny model: rows shaped as documented, seeded, and a loss that teaches picking
from the latest list."""

from __future__ import annotations

import pytest

pytest.importorskip("transformers")

from arena.agents.pretrain import RowMaker, check_pretrain_options
from arena.agents.tiny import build_tiny_model, cached_tiny_model
from arena.core.errors import ArenaError

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(cached_tiny_model())


def test_induction_rows_repeat_a_run_and_score_only_the_repeat(tokenizer):
    maker = RowMaker(tokenizer, seed=3)
    for _ in range(20):
        row = maker.induction()
        run = sum(label != -100 for label in row.labels)
        assert run == maker.row_tokens // 3 and len(row.ids) == maker.row_tokens
        assert row.ids[-run:] == row.ids[-2 * run : -run] == row.labels[-run:]


def test_pick_rows_answer_from_the_latest_list_and_history_names_others(tokenizer):
    maker = RowMaker(tokenizer, seed=5)
    ids_of = {"open": maker.open, "close": maker.close, "answer": maker.answer}
    assert all(len(v) == 1 for v in ids_of.values())  # the tiny tokenizer has each mark as one token
    distractors = 0
    for _ in range(50):
        row = maker.pick()
        assert row.picks and [p + 1 for p, _ in row.picks] == [i for i, x in enumerate(row.labels) if x != -100]
        previous_end = 0
        for position, shown in row.picks:
            assert row.ids[position] == maker.answer[0] and 2 <= len(shown) <= 6
            assert row.labels[position + 1] in shown  # the answer is one of the list's names
            # the list sits right before the answer: " [" name "]" for each shown name
            listed = row.ids[position - 1 - 3 * len(shown) : position - 1]
            assert listed[1::3] == shown and set(listed[0::3]) == set(maker.open)
            earlier = row.ids[previous_end : position - 1 - 3 * len(shown)]
            mentioned = {earlier[i + 1] for i, t in enumerate(earlier[:-1]) if t == maker.open[0]}
            distractors += bool(mentioned - set(shown))
            previous_end = position + 2
    assert distractors > 50  # most episodes' history names someone the list does not offer


def test_rows_are_seeded(tokenizer):
    first, second, other = (
        RowMaker(tokenizer, 7).batch(6),
        RowMaker(tokenizer, 7).batch(6),
        RowMaker(tokenizer, 8).batch(6),
    )
    assert [r.ids for r in first] == [r.ids for r in second] != [r.ids for r in other]


def test_the_loss_puts_mass_on_the_listed_names_at_the_answers(tokenizer):
    """A few optimizer steps on one batch raise that batch's listed-name mass several times over (from about
    4 of 2,000 tokens' worth): the legality term is wired to the answers' positions."""
    import torch
    from transformers import AutoModelForCausalLM

    from arena.agents.pretrain import batch_losses

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(cached_tiny_model())
    rows = RowMaker(tokenizer, seed=1).batch(8)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    masses = []
    for _ in range(8):
        ce, legal = batch_losses(model, rows)
        masses.append(float(torch.exp(-legal.detach())))
        (ce + 3 * legal).backward()
        opt.step()
        opt.zero_grad()
    assert masses[0] < 0.02 and masses[-1] > 5 * masses[0], masses


def test_build_tiny_model_pretrains_only_when_asked_and_reproducibly(tmp_path):
    small = dict(hidden_size=32, num_layers=1, intermediate_size=64, num_heads=2, num_kv_heads=1, matches_per_env=1)
    plain = build_tiny_model(tmp_path / "plain", **small)
    zero = build_tiny_model(tmp_path / "zero", pretrain_steps=0, **small)
    lines: list[str] = []
    one = build_tiny_model(tmp_path / "one", pretrain_steps=3, log=lines.append, **small)
    again = build_tiny_model(tmp_path / "again", pretrain_steps=3, **small)
    weights = {p.name: (p / "model.safetensors").read_bytes() for p in (plain, zero, one, again)}
    assert weights["plain"] == weights["zero"] != weights["one"] == weights["again"]
    assert lines and "pretrain step 3/3" in lines[-1]


@pytest.mark.parametrize(
    "options,needle",
    [
        ({"steps": -1}, "steps must be an integer >= 0"),
        ({"steps": 2.5}, "steps must be an integer >= 0"),
        ({"batch_size": 1}, "batch_size must be an integer >= 2"),
        ({"lr": 0.0}, "lr must be a number > 0"),
        ({"lr": float("nan")}, "lr must be a number > 0"),
    ],
)
def test_bad_options_are_refused(options, needle):
    with pytest.raises(ArenaError, match=needle):
        check_pretrain_options(**{"steps": 10, "batch_size": 8, "lr": 1e-3, **options})


def test_build_tiny_model_refuses_negative_pretrain_steps_before_any_work(tmp_path):
    with pytest.raises(ArenaError, match="pretrain_steps must be an integer >= 0"):
        build_tiny_model(tmp_path / "m", pretrain_steps=-3)
    assert not (tmp_path / "m").exists()
