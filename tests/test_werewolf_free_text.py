"""``scripts/werewolf_free_text.py``: a model's free-text werewolf turns split into unclosed, accepted and
rejected replies, each judged by the game itself on a copy."""

from __future__ import annotations

from collections import Counter

import pytest

from arena.agents.backends.base import Completion


@pytest.fixture(scope="module")
def probe(load_script):
    return load_script("werewolf_free_text")


class Fixed:
    """Gives every prompt the same reply; remembers how it was asked."""

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.sampling = None

    def generate(self, prompts, sampling):
        self.sampling = sampling
        return [Completion(self.reply, [1], [2], [-1.0]) for _ in prompts]


def test_a_prediction_naming_the_predictor_is_rejected_and_speech_is_accepted(probe):
    counts = probe.classify(Fixed("<think></think><answer>player_0: werewolf</answer>"), games=2, seed=3)
    kinds = {kind for kind, _ in counts}
    assert {"speech", "predict"} <= kinds
    assert counts["speech", probe.ACCEPTED] == sum(n for (k, _), n in counts.items() if k == "speech")
    rejected = sum(n for (k, outcome), n in counts.items() if k == "predict" and outcome.startswith("rejected"))
    accepted = counts["predict", probe.ACCEPTED]
    assert rejected > 0 and accepted > 0  # player_0's own predictions (and, once it is dead, everyone's) are refused
    assert ("predict", "rejected: player_k is not another living player.") in counts


def test_an_unclosed_reply_never_reaches_the_game_and_sampling_follows_the_flags(probe):
    backend = Fixed("<think>I am the seer and player_3 is a wolf</think><answer>player_3")
    counts = probe.classify(backend, games=1, seed=0, max_new_tokens=17, temperature=0.0)
    assert counts and all(outcome == probe.UNCLOSED for _, outcome in counts)
    assert backend.sampling.max_new_tokens == 17 and backend.sampling.temperature == 0.0


def test_answers_counts_every_closed_answer_by_kind_and_report_shows_the_collapse(probe, capsys):
    answers = Counter()
    counts = probe.classify(Fixed("<think>x</think><answer>no</answer>"), games=1, seed=0, answers=answers)
    closed = sum(n for (_, outcome), n in counts.items() if outcome != probe.UNCLOSED)
    assert sum(answers.values()) == closed > 0
    assert {answer for _, answer in answers} == {"no"}  # one string for every kind of turn
    probe.report_answers(answers, top=3)
    out = capsys.readouterr().out
    assert "speech: 1 distinct answers in" in out and "'no'" in out
    unclosed = Counter()
    probe.classify(Fixed("<think></think><answer>player_3"), games=1, seed=0, answers=unclosed)
    assert not unclosed  # an unclosed reply has no answer to count
