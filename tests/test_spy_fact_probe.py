"""``scripts/spy_fact_probe.py``: the yes/no fact-check task a spy civilian needs, and its training loop."""

from __future__ import annotations

import random

import pytest

from arena.agents.scripted.spy import word_facts
from arena.agents.tiny import cached_tiny_model
from arena.envs.spy_words import TRAIN_PAIRS


@pytest.fixture(scope="module")
def probe(load_script):
    return load_script("spy_fact_probe")


def _parse_minimal(text: str) -> tuple[str, str]:
    word, fact, _ = (part.strip() for part in text.split("|"))
    return word, fact


def test_every_label_says_whether_the_fact_holds_for_the_word(probe):
    rng = random.Random(3)
    examples = [probe.example(TRAIN_PAIRS, rng, "plain", "minimal") for _ in range(400)]
    pair_words = {w for a, b, _ in TRAIN_PAIRS for w in (a, b)}
    for text, holds, kind in examples:
        word, fact = _parse_minimal(text)
        assert word in pair_words
        assert holds == (fact in word_facts(word))
        assert kind == probe.fact_kind(fact)
    labels = [holds for _, holds, _ in examples]
    assert 0.4 < sum(labels) / len(labels) < 0.6  # about half (0.50 over 20,000 draws)
    assert {"letter", "starts", "ends", "characters", "vowels"} <= {kind for _, _, kind in examples}
    assert all(holds for _, holds, kind in examples if kind == "family")


def test_views_and_prompts(probe):
    assert probe.word_view("pear", "spelled") == "pear (p-e-a-r)"
    assert "starts with 'p'" in probe.word_view("pear", "facts")
    text, _, _ = probe.example(TRAIN_PAIRS, random.Random(0), "spelled", "game")
    assert text.startswith("Your secret word is: ") and "-" in text and text.endswith("Answer yes or no.\n")
    with pytest.raises(ValueError, match="view"):
        probe.word_view("pear", "upside-down")
    with pytest.raises(ValueError, match="prompt"):
        probe.example(TRAIN_PAIRS, random.Random(0), "plain", "chatty")


def test_accuracy_scores_an_oracle_at_one_and_a_constant_answer_at_the_label_share(probe):
    rng = random.Random(1)
    examples = [probe.example(TRAIN_PAIRS, rng, "plain", "minimal") for _ in range(200)]

    def oracle(texts):
        return [fact in word_facts(word) for word, fact in map(_parse_minimal, texts)]

    total, kinds = probe.accuracy(oracle, examples)
    assert total == 1.0 and set(kinds.values()) == {1.0}
    always_yes, _ = probe.accuracy(lambda texts: [True] * len(texts), examples)
    assert always_yes == pytest.approx(sum(h for _, h, _ in examples) / len(examples))


def test_probe_trains_a_tiny_model_and_reports_each_evaluation(probe):
    lines: list[str] = []
    rows = probe.probe(
        cached_tiny_model(), 4, 1e-3, prompt="minimal", batch=4, eval_every=2, eval_examples=20, log=lines.append
    )
    assert [r["step"] for r in rows] == [2, 4] and len(lines) == 2
    for row in rows:
        assert 0.0 <= row["train_words"] <= 1.0 and 0.0 <= row["held_out_words"] <= 1.0
        assert row["loss"] > 0 and set(row["by_kind_train_words"]) <= {
            "letter", "starts", "ends", "has", "no", "characters", "vowels", "family",
        }  # fmt: skip


def test_the_command_line_needs_a_model_or_a_place_to_build_one(probe, capsys):
    with pytest.raises(SystemExit):
        probe.main(["--steps", "1"])
    assert "--out" in capsys.readouterr().err
