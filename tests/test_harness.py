"""The conformance harness must fail on games that break the rules (a test of the tests)."""

from __future__ import annotations

import pytest

from arena.core import conformance
from arena.core.env import TextGameEnv


class GuessEnv(TextGameEnv):
    """Each player holds a secret number; players alternately name a number; 4 turns in all."""

    metadata = {**TextGameEnv.metadata, "name": "guess_v0"}

    def __init__(self, leak: bool = False, nondeterministic: bool = False, crash: bool = False) -> None:
        super().__init__(2, max_turns=4)
        self.leak, self.nondeterministic, self.crash = leak, nondeterministic, crash

    def _setup(self) -> None:
        import random

        rng = random.Random() if self.nondeterministic else self.rng
        self.numbers = {a: f"SECRET-{int(rng.random() * 1e9)}" for a in self.possible_agents}
        for agent, number in self.numbers.items():
            self.tell(agent, f"Your number is {number}.")
            if self.leak:
                self.say(f"psst: {agent} holds {number}")
        self.set_turn("player_0")

    def legal_actions(self, agent):
        return ["[1]", "[2]"]

    def _play(self, agent, action):
        if self.crash and action.startswith("["):
            raise IndexError("boom")
        if action not in ("[1]", "[2]"):
            return "say [1] or [2]"
        self.say(f"says {action}", sender=agent)
        self.set_turn(self.next_live_agent(agent))
        return None

    def secrets(self, agent):
        return [] if self.finished else [self.numbers[agent]]


def test_secrecy_check_catches_a_leak():
    assert conformance.check_secrecy(GuessEnv, seeds=range(2)) > 0
    with pytest.raises(AssertionError, match="secret"):
        conformance.check_secrecy(lambda: GuessEnv(leak=True), seeds=range(2))


def test_determinism_check_catches_global_randomness():
    conformance.check_determinism(GuessEnv, seeds=(0,))
    with pytest.raises(AssertionError, match="transcripts differ"):
        conformance.check_determinism(lambda: GuessEnv(nondeterministic=True), seeds=(0,))


def test_bad_action_check_catches_a_crash():
    conformance.check_bad_actions(GuessEnv(), conformance.HOSTILE_ACTIONS)
    with pytest.raises(IndexError):
        conformance.check_bad_actions(GuessEnv(crash=True), conformance.HOSTILE_ACTIONS)


def test_replay_check_passes_on_a_correct_game():
    conformance.check_replay(GuessEnv)


def test_truncation_is_distinct_from_termination():
    env = GuessEnv()
    env.reset(seed=0)
    for _ in range(4):
        env.step("[1]")
    assert all(env.truncations.values()) and not any(env.terminations.values())
    assert env.transcript.result["truncated"] is True


def test_invalid_move_warns_privately_then_penalises():
    env = GuessEnv()
    env.reset(seed=0)
    env.step("nonsense")
    assert env.agent_selection == "player_0", "the offender retries"
    assert "say [1] or [2]" in env.infos["player_0"]["invalid_move"]
    assert "Invalid move" in env.observe("player_0")["text"]
    assert "Invalid move" not in env.observe("player_1")["text"], "the warning is private"
    env.step("nonsense again")
    assert all(env.terminations.values()), "second invalid move: forfeit ends the game"
    assert env.returns == {"player_0": -1.0, "player_1": 1.0}
