"""The whole-match batching benchmark's bookkeeping (no timing is asserted): decisions recorded per
call, replayed in full batches, and occupancy per tick, with a model-free deterministic backend."""

from __future__ import annotations

import hashlib
import math

import pytest

from arena.agents.backends.base import Completion, Scored
from benchmarks.match_batching import RecordingBackend, measure, replay_full_batches, run_length


def _digest(*parts: object) -> int:
    return hashlib.sha256(repr(parts).encode()).digest()[0]


class HashBackend:
    """Replies and scores that depend only on the prompt (and continuation); records batch sizes."""

    version = 0

    def __init__(self) -> None:
        self.generate_sizes: list[int] = []
        self.score_sizes: list[int] = []

    def generate(self, prompts, sampling):
        self.generate_sizes.append(len(prompts))
        return [Completion(f"<answer>[{_digest(p) % 9}]</answer>", [1], [2], [-1.0]) for p in prompts]

    def score(self, prompts, continuations):
        self.score_sizes.append(len(prompts))
        return [Scored([1], [2], [-(_digest(p, c) % 7) / 3.0]) for p, c in zip(prompts, continuations, strict=True)]


def test_recorder_groups_scored_rows_into_decisions_and_replay_uses_full_batches():
    inner = HashBackend()
    recorder = RecordingBackend(inner)
    a, b = [{"role": "user", "content": "a"}], [{"role": "user", "content": "b"}]
    recorder.score([a, a, a, b, b], ["x", "y", "z", "x", "y"])
    recorder.generate([b, a], None)
    assert [len(d.continuations) for d in recorder.decisions] == [3, 2, 0, 0]
    assert recorder.calls == 2 and recorder.seconds >= 0
    inner.score_sizes.clear()
    timing = replay_full_batches(inner, recorder.decisions, 2, None)
    assert timing.decisions == 4 and timing.calls == 2  # [scored, scored], [generated, generated]
    assert inner.score_sizes == [5] and inner.generate_sizes == [2, 2]


@pytest.mark.parametrize("generate", [False, True])
def test_measure_plays_every_match_both_ways_and_replays_the_same_decisions(generate):
    backend = HashBackend()
    lines: list[str] = []
    result = measure(
        "tictactoe-v0,kuhn-poker-v0", 24, 8, generate=generate, backend=backend, repeats=2, progress=lines.append
    )
    lock, cont = result["lock-step"], result["continuous"]
    names = [line.split(":")[0].split()[-1] for line in lines]
    assert names == ["lock-step", "continuous"] * 2  # one line per variant and repeat, as each is timed
    for name, line in zip(names, lines, strict=True):
        assert f"{result[name]['decisions']} decisions in {result[name]['backend_calls']} calls" in line
    for row in (lock, cont):
        assert row["full_batch_calls"] == math.ceil(row["decisions"] / 8)
        assert 0 < row["mean_occupancy"] <= 1
    assert sum(cont["occupancy"]) == cont["decisions"]  # one decision per live match per tick
    assert max(cont["occupancy"]) == 8 and max(lock["occupancy"]) == 8
    assert cont["mean_occupancy"] >= lock["mean_occupancy"]
    assert lock["backend_calls"] == lock["ticks"] and cont["backend_calls"] == cont["ticks"]


def test_run_length():
    assert run_length([64, 64, 64, 30, 2, 2]) == "64x3 30 2x2"
    assert run_length([]) == ""
