"""BatchScheduler / play_many: one backend call per tick across matches, traces and reward bookkeeping."""

from __future__ import annotations

import pytest

pytest.importorskip("transformers")

import arena
from arena.agents.backends.base import SamplingParams
from arena.agents.backends.transformers_backend import TransformersBackend
from arena.agents.llm import LLMAgent
from arena.agents.random_agent import RandomAgent
from arena.agents.scheduler import BatchScheduler, MatchSpec, play_many
from arena.agents.tiny import cached_tiny_model


class CountingBackend:
    """Delegates to a real backend and records every call's batch size."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.generate_sizes: list[int] = []
        self.score_sizes: list[int] = []

    @property
    def version(self) -> int:
        return self.inner.version

    def generate(self, prompts, sampling):
        self.generate_sizes.append(len(prompts))
        return self.inner.generate(prompts, sampling)

    def score(self, prompts, continuations):
        self.score_sizes.append(len(prompts))
        return self.inner.score(prompts, continuations)


@pytest.fixture(scope="module")
def backend() -> TransformersBackend:
    return TransformersBackend(str(cached_tiny_model()))


SAMPLING = SamplingParams(temperature=1.0, max_new_tokens=4, seed=0)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_pending_turns_of_concurrent_matches_share_one_call(backend):
    counting = CountingBackend(backend)
    n = 4
    matches = []
    for i in range(n):
        env = arena.make("tictactoe-v0")
        a = LLMAgent(counting, env_id="tictactoe-v0", sampling=SAMPLING, name="a")
        b = LLMAgent(counting, env_id="tictactoe-v0", sampling=SAMPLING, name="b")
        matches.append(MatchSpec(env, {"player_0": a, "player_1": b}, seed=i))
    scheduler = BatchScheduler()
    outcomes = scheduler.run(matches)
    turns = sum(len(o.turns) for o in outcomes)
    assert [o.index for o in outcomes] == list(range(n))
    assert all(not o.truncated and o.env_id == "tictactoe-v0" for o in outcomes)
    assert counting.generate_sizes[0] == n  # the first tick serves all matches in one call
    assert len(counting.generate_sizes) == scheduler.ticks == scheduler.backend_calls
    assert sum(counting.generate_sizes) == turns > len(counting.generate_sizes)
    for o in outcomes:
        for t in o.turns:
            assert t.trace.prompt_ids and len(t.trace.completion_ids) == len(t.trace.logprobs) <= 4
            assert t.agent_name == ("a" if t.seat == "player_0" else "b")
        assert o.turns[-1].final


def test_constrained_turns_batch_into_one_score_call_and_rewards_add_up(backend):
    counting = CountingBackend(backend)
    agent = LLMAgent(counting, env_id="kuhn-poker-v0", constrained=True, sample=True, seed=0)
    matches = [(arena.make("kuhn-poker-v0"), {"player_0": agent, "player_1": agent}, s) for s in range(3)]
    outcomes = play_many(matches)
    assert counting.generate_sizes == []
    assert counting.score_sizes[0] == 3 * 2  # three matches x two legal actions, one call
    for o in outcomes:
        for seat in ("player_0", "player_1"):
            earned = sum(t.reward for t in o.turns if t.seat == seat) + o.pre_rewards.get(seat, 0.0)
            assert earned == pytest.approx(o.returns[seat])
        assert all(t.invalid is None for t in o.turns)
        assert all(t.trace.action in t.info["legal_actions"] for t in o.turns)
        assert [t.turn_index for t in o.turns if t.seat == "player_0"] == list(
            range(sum(t.seat == "player_0" for t in o.turns))
        )


def test_mixed_agents_untraced_and_invalid_moves(backend):
    class Garbage:
        name = "garbage"
        version = 0

        def generate(self, prompts, sampling):
            from arena.agents.backends.base import Completion

            return [Completion("<answer>\x00 not a move", [1], [2], [-1.0]) for _ in prompts]

    llm = LLMAgent(Garbage(), env_id="tictactoe-v0")
    matches = [(arena.make("tictactoe-v0"), {"player_0": llm, "player_1": RandomAgent(seed=s)}, s) for s in range(2)]
    outcomes = play_many(matches, traced=False)
    for o in outcomes:
        assert o.winners == ["player_1"]  # the garbage seat forfeits under the invalid-move rule
        assert all(t.invalid for t in o.turns) and all(t.trace.prompt_ids == [] for t in o.turns)
        assert o.agent_names["player_1"] == RandomAgent(seed=0).name


def test_max_steps_cuts_matches(backend):
    agent = LLMAgent(backend, env_id="tictactoe-v0", sampling=SAMPLING)
    (o,) = play_many(
        [(arena.make("tictactoe-v0"), {"player_0": agent, "player_1": RandomAgent(seed=0)}, 0)], max_steps=1
    )
    assert o.steps == 1 and o.truncated


def test_invalid_moves_of_a_simultaneous_game_are_judged_when_the_round_is_played():
    """Public goods plays a round's contributions together: each decision's ``invalid`` is the reason the
    game gave that decision, not whatever an earlier round left in the seat's infos."""

    class Scripted:
        """Seat player_0 replies with no closed answer in round 1 only; everyone else contributes 5."""

        version = 0

        def generate(self, prompts, sampling):
            from arena.agents.backends.base import Completion

            replies = []
            for prompt in prompts:
                text = prompt[-1]["content"]
                first_round = "Round 1" in text.rsplit("\n\n", 2)[-2]
                bad = first_round and "You are player_0" in text
                replies.append("<think>cut off" if bad else "<answer>[5]</answer>")
            return [Completion(r, [1], [2], [-1.0]) for r in replies]

    agent = LLMAgent(Scripted(), env_id="public-goods-v0")
    env = arena.make("public-goods-v0", num_players=3, num_rounds=3, talk_steps=0)
    (o,) = play_many([(env, {s: agent for s in env.possible_agents}, 0)])
    invalid = [(t.seat, t.env_turn) for t in o.turns if t.invalid is not None]
    assert invalid == [("player_0", 0)]
    assert next(t for t in o.turns if t.invalid).invalid == "no closed answer"


def test_matches_are_checked_before_they_start_and_take_what_play_takes():
    """An unknown seat was ignored, a missing one found only when it came to act, a list of agents, an env id
    or a parallel env raised AttributeError, and a second match on a live env reset it under the first."""
    from arena.core.errors import ArenaError

    def agents(n=2):
        return {f"player_{i}": RandomAgent(seed=i) for i in range(n)}

    with pytest.raises(ArenaError, match="match 0: unknown seat.*p9"):
        play_many([(arena.make("kuhn-poker-v0"), {**agents(), "p9": RandomAgent()}, 1)])
    with pytest.raises(ArenaError, match="match 1: no agent for seat.*player_6"):
        play_many([(arena.make("kuhn-poker-v0"), agents(), 1), (arena.make("werewolf-v0"), agents(6), 1)])
    shared = arena.make("kuhn-poker-v0")
    with pytest.raises(ArenaError, match="match 1: its env is still playing another match"):
        play_many([(shared, agents(), 1), (shared, agents(), 2)])
    one_after_another = play_many([(shared, agents(), 1), (shared, agents(), 2)], concurrency=1)
    assert [o.seed for o in one_after_another] == [1, 2]  # the same env, one match at a time, is fine
    forms = play_many(
        [
            ("kuhn-poker-v0", [RandomAgent(seed=0), RandomAgent(seed=1)], 3),
            (arena.make("kuhn-poker-v0"), agents(), 3),
            (arena.make_parallel("public-goods-v0"), agents(4), 5),
            (arena.make("public-goods-v0"), agents(4), 5),
        ]
    )
    assert forms[0].returns == forms[1].returns and forms[0].transcript == forms[1].transcript
    assert forms[2].returns == forms[3].returns and forms[2].transcript == forms[3].transcript
