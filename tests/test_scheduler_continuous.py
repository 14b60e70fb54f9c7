"""Continuous batching of episodes: ``play_many(..., concurrency=N)`` against the lock-step mode."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

import arena
from arena.agents.backends.base import Completion, SamplingParams
from arena.agents.llm import LLMAgent
from arena.agents.random_agent import RandomAgent
from arena.agents.scheduler import BatchScheduler, MatchSpec, play_many
from arena.core.errors import ArenaError

GAMES = ("tictactoe-v0", "kuhn-poker-v0")
MOVES = {
    "tictactoe-v0": [f"[{cell}]" for cell in range(9)] + ["nonsense"],
    "kuhn-poker-v0": ["[check]", "[bet]", "[call]", "[fold]", "nonsense"],
}


class PromptHashBackend:
    """A deterministic policy: the reply depends only on the prompt, never on its batch.

    Records the size of every ``generate`` call so tests can check how full the batches were.
    """

    version = 0

    def __init__(self, env_id: str) -> None:
        self.moves = MOVES[env_id]
        self.calls: list[int] = []

    def generate(self, prompts, sampling):
        self.calls.append(len(prompts))
        replies = []
        for prompt in prompts:
            digest = hashlib.sha256(repr(prompt).encode()).digest()
            move = self.moves[digest[0] % len(self.moves)]
            replies.append(Completion(f"<answer>{move}</answer>", [1, 2], [3], [-0.5]))
        return replies


def _specs(backends: dict[str, PromptHashBackend], count: int) -> Iterator[MatchSpec]:
    """``count`` matches alternating the games: an LLM seat against a seeded random player."""
    for i in range(count):
        env_id = GAMES[i % len(GAMES)]
        env = arena.make(env_id)
        llm = LLMAgent(backends[env_id], env_id=env_id, sampling=SamplingParams(temperature=0, max_new_tokens=4))
        seats = env.possible_agents
        agents = {seats[i % 2]: llm, seats[1 - i % 2]: RandomAgent(seed=i)}
        yield MatchSpec(env, agents, seed=i)


def _summary(outcome) -> tuple:
    """Everything about a match that must not depend on which other matches shared its ticks."""
    return (
        outcome.index,
        outcome.env_id,
        outcome.seed,
        outcome.returns,
        outcome.winners,
        outcome.steps,
        outcome.truncated,
        [(t.seat, t.trace.action, t.step_index, t.reward, t.invalid, t.final) for t in outcome.turns],
        outcome.transcript.events,
    )


def _decisions(outcomes) -> int:
    """Moves made in all matches (dead steps that only remove a finished seat do not count)."""
    return sum(e["event"] == "action" for o in outcomes for e in o.transcript.events)


def _backends() -> dict[str, PromptHashBackend]:
    return {env_id: PromptHashBackend(env_id) for env_id in GAMES}


@pytest.mark.parametrize("concurrency", [1, 3, 7])
def test_continuous_outcomes_equal_lock_step_per_match(concurrency):
    count = 14
    lock_step = play_many(list(_specs(_backends(), count)))
    continuous = play_many(_specs(_backends(), count), concurrency=concurrency)
    assert [o.index for o in continuous] == list(range(count))
    assert [_summary(o) for o in continuous] == [_summary(o) for o in lock_step]
    assert len({len(o.turns) for o in lock_step}) > 1  # matches of different lengths, so the refill matters


def test_concurrency_is_respected_and_batches_stay_full_until_the_input_runs_out():
    count, concurrency = 20, 4
    backends = _backends()
    scheduler = BatchScheduler()
    outcomes = scheduler.run(_specs(backends, count), concurrency=concurrency)
    assert len(outcomes) == count and all(o.steps > 0 for o in outcomes)
    assert max(scheduler.occupancy) == concurrency
    assert all(size <= concurrency for b in backends.values() for size in b.calls)
    assert sum(scheduler.occupancy) == _decisions(outcomes)  # one decision per live match per tick
    # Every tick is full until the input runs out; from then on the batch only shrinks.
    last_full = max(k for k, n in enumerate(scheduler.occupancy) if n == concurrency)
    assert all(n == concurrency for n in scheduler.occupancy[:last_full])
    tail = scheduler.occupancy[last_full:]
    assert tail == sorted(tail, reverse=True) and len(tail) > 1


def test_lock_step_occupancy_falls_as_matches_end():
    count = 10
    scheduler = BatchScheduler()
    outcomes = scheduler.run(_specs(_backends(), count))
    assert scheduler.occupancy[0] == count
    assert scheduler.occupancy == sorted(scheduler.occupancy, reverse=True)
    assert scheduler.occupancy[-1] < count
    assert sum(scheduler.occupancy) == _decisions(outcomes)


def test_generator_input_is_read_lazily_and_stream_yields_in_finish_order():
    pulled: list[int] = []
    backends = _backends()

    def lazy() -> Iterator[MatchSpec]:
        for k, spec in enumerate(_specs(backends, 9)):
            pulled.append(k)
            yield spec

    scheduler = BatchScheduler()
    stream = scheduler.stream(lazy(), concurrency=2)
    assert pulled == []  # nothing is read before the first outcome is asked for
    first = next(stream)
    assert pulled == [0, 1]  # the first finished match has not been replaced yet
    ticks = [scheduler.ticks]
    rest = []
    for outcome in stream:
        rest.append(outcome)
        ticks.append(scheduler.ticks)
    assert sorted(o.index for o in [first, *rest]) == list(range(9)) and pulled == list(range(9))
    assert ticks == sorted(ticks)  # yielded as they end, not in input order


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "4"])
def test_bad_concurrency_is_a_clear_error(bad):
    with pytest.raises(ArenaError, match="concurrency"):
        play_many([], concurrency=bad)


def test_matches_over_before_any_decision_are_still_returned():
    backends = _backends()
    outcomes = play_many(_specs(backends, 5), concurrency=2, max_steps=0)
    assert [o.index for o in outcomes] == list(range(5))
    assert all(o.steps == 0 and o.truncated and not o.turns for o in outcomes)
    assert backends["tictactoe-v0"].calls == []
