"""An env copied mid-game (``copy.deepcopy``, ``pickle``) is an independent game in the same state: the same
moves give the same observations, infos, rewards and transcript as the original, and moving one never
changes the other (lookahead, branching rollouts and process pools copy envs this way)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import arena

GAMES = [spec.id for spec in arena.list_envs()]


def _move(env, rng: np.random.Generator) -> str | None:
    """A random legal move for the acting agent (a short line of text where the move set is open)."""
    _, _, terminated, truncated, info = env.last()
    if terminated or truncated:
        return None
    legal = info.get("legal_actions")
    return str(legal[int(rng.integers(len(legal)))]) if legal else f"message {int(rng.integers(1000))}"


def _view(env) -> tuple:
    """Everything a player or a trainer reads after a move, as plain data."""
    if not env.agents:  # the episode is over: what remains is its outcome
        return dict(env.unwrapped.returns), list(env.unwrapped.winners)
    observation, reward, terminated, truncated, info = env.last()
    text = observation["text"] if isinstance(observation, dict) else observation
    return env.agent_selection, text, reward, terminated, truncated, dict(info), dict(env.unwrapped.returns)


@pytest.mark.parametrize("env_id", GAMES)
@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copy_mid_game_plays_on_like_the_original(env_id: str, how: str) -> None:
    env = arena.make(env_id)
    env.reset(seed=11)
    rng = np.random.default_rng(5)
    for _ in range(3):  # a few moves in, with infos read (built) and not yet read alike
        if not env.agents:
            break
        env.step(_move(env, rng))
    clone = copy.deepcopy(env) if how == "deepcopy" else pickle.loads(pickle.dumps(env))
    assert _view(clone) == _view(env)
    rng_a, rng_b = np.random.default_rng(9), np.random.default_rng(9)
    for _ in range(40):
        if not env.agents:
            assert not clone.agents
            break
        env.step(_move(env, rng_a))
        clone.step(_move(clone, rng_b))
        assert _view(clone) == _view(env)
    assert clone.unwrapped.transcript == env.unwrapped.transcript


@pytest.mark.parametrize("env_id", ["werewolf-v0", "kuhn-poker-v0", "household-v0"])
def test_moving_a_copy_leaves_the_original_as_it_was(env_id: str) -> None:
    env = arena.make(env_id)
    env.reset(seed=4)
    rng = np.random.default_rng(1)
    env.step(_move(env, rng))
    before, events = _view(env), list(env.unwrapped.transcript.events)
    clone = copy.deepcopy(env)
    while clone.agents:
        clone.step(_move(clone, rng))
    assert _view(env) == before
    assert env.unwrapped.transcript.events == events  # the copy recorded into its own transcript
    env.step(_move(env, rng))  # the original still steps (its infos are still its own)
