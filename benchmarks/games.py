"""Environment steps per second with random agents: arena's games and their nearest peers.

A *step* is one action taken by a player (dead steps that only remove a finished agent are not counted,
so the unit is the same for arena, TextArena and PettingZoo). Each measurement plays whole episodes
until ``seconds`` of this process's CPU time have passed and reports actions per CPU second (waiting
for a core on a shared machine does not count); callers take the median over repeats.
Random agents pick uniformly among the legal actions when the game lists them (arena:
``infos["legal_actions"]``; TextArena: read from the game state; PettingZoo: the action mask), and
otherwise send a short chat line, so the numbers measure the game, not invalid-move handling.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import arena


@dataclass(frozen=True)
class PeerPair:
    """One of our games with the nearest game of a peer library, configured alike (players, rounds)."""

    ours: str
    ours_kwargs: dict[str, Any] = field(default_factory=dict)
    peer: str = ""
    library: str = "textarena"
    num_players: int = 2


#: Our game (with matching settings) next to its nearest peer. Matched to TextArena's registered defaults:
#: players, Kuhn Poker's 3 hands, and the talk before each decision (SecretMafia-v0's 3 discussion rounds,
#: PublicGoodsGame-v0's 3 communication turns and 3 rounds; ours default to 1 discussion round / talk step).
PEERS: tuple[PeerPair, ...] = (
    PeerPair("tictactoe-v0", {}, "TicTacToe-v0"),
    PeerPair("kuhn-poker-v0", {"num_hands": 3}, "KuhnPoker-v0"),
    PeerPair("negotiation-v0", {}, "SimpleNegotiation-v0"),
    PeerPair("werewolf-v0", {"num_players": 6, "discussion_rounds": 3}, "SecretMafia-v0", num_players=6),
    PeerPair(
        "public-goods-v0", {"num_players": 3, "num_rounds": 3, "talk_steps": 3}, "PublicGoodsGame-v0", num_players=3
    ),
    PeerPair("tictactoe-v0", {}, "tictactoe_v3", library="pettingzoo"),
)


#: Seconds of CPU time used by this process: on a machine shared with other jobs, waiting for a core
#: does not count, so the rates move far less with the load than wall-clock rates do.
_clock = time.process_time


def _timed_episodes(play_episode: Callable[[int], int], seconds: float, min_episodes: int = 1) -> tuple[float, int]:
    """Play episodes (seed 0, 1, ...) until ``seconds`` passed; return (actions/s, actions)."""
    actions = episodes = 0
    start = _clock()
    while episodes < min_episodes or _clock() - start < seconds:
        actions += play_episode(episodes)
        episodes += 1
    return actions / (_clock() - start), actions


def arena_rate(env_id: str, seconds: float, *, fresh: bool = False, **kwargs: Any) -> tuple[float, int]:
    """Actions per second of arena's ``env_id`` (built with ``kwargs``) under random play; ``fresh``:
    a new env for every episode, its construction timed."""
    env = arena.make(env_id, **kwargs)
    rng = np.random.default_rng(0)

    def episode(seed: int) -> int:
        nonlocal env
        if fresh:
            env.close()
            env = arena.make(env_id, **kwargs)
        env.reset(seed=seed)
        actions = 0
        for _agent in env.agent_iter(max_iter=100_000):
            _, _, terminated, truncated, info = env.last()
            if terminated or truncated:
                env.step(None)
                continue
            legal = info.get("legal_actions")
            env.step(str(legal[int(rng.integers(len(legal)))]) if legal else f"message {int(rng.integers(1000))}")
            actions += 1
        return actions

    try:
        return _timed_episodes(episode, seconds)
    finally:
        env.close()


def _textarena_action(env_id: str, env: Any, rng: np.random.Generator) -> str:
    """A random, well-formed action for the TextArena game ``env_id`` read from its state."""
    state = env.state.game_state
    if env_id == "TicTacToe-v0":
        free = [r * 3 + c for r in range(3) for c in range(3) if state["board"][r][c] == ""]
        return f"[{free[int(rng.integers(len(free)))]}]"
    if env_id == "KuhnPoker-v0":
        tree = state.get("current_legal_action_tree")
        moves = list(tree) if isinstance(tree, dict) else ["check"]
        return f"[{moves[int(rng.integers(len(moves)))]}]"
    if env_id == "SimpleNegotiation-v0":
        options = ("[Accept]", "[Deny]", "[Offer: 1 Wheat -> 1 Wood]", f"message {int(rng.integers(1000))}")
        return options[int(rng.integers(len(options)))]
    if env_id == "SecretMafia-v0":
        if "Discussion" in str(state.get("phase")):
            return f"message {int(rng.integers(1000))}"
        alive = state["alive_players"]
        return f"[{alive[int(rng.integers(len(alive)))]}]"
    if env_id == "PublicGoodsGame-v0":
        if state.get("phase") == "conversation":
            return f"{{message {int(rng.integers(1000))}}}"
        return f"[{int(rng.integers(int(state.get('endowment', 20)) + 1))}]"
    raise KeyError(env_id)


def textarena_rate(env_id: str, num_players: int, seconds: float, *, fresh: bool = False) -> tuple[float, int]:
    """Actions per second of TextArena's ``env_id`` (default wrappers, as ``ta.make`` gives them).

    A fresh env is made for every episode: a reused TextArena env keeps growing state across resets
    and slows down (about 2x after 1,500 TicTacToe moves). Its construction is timed with ``fresh``.
    """
    import textarena as ta

    rng = np.random.default_rng(0)
    actions = episodes = 0
    playing = 0.0
    while episodes < 1 or playing < seconds:
        start = _clock()
        env = ta.make(env_id)
        if not fresh:
            start = _clock()
        env.reset(num_players=num_players, seed=episodes)
        done, steps = False, 0
        while not done and steps < 100_000:
            _player, _observation = env.get_observation()
            done, _ = env.step(_textarena_action(env_id, env, rng))
            steps += 1
        env.close()
        playing += _clock() - start
        actions += steps
        episodes += 1
    return actions / playing, actions


def pettingzoo_rate(env_id: str, seconds: float, *, fresh: bool = False) -> tuple[float, int]:
    """Actions per second of a PettingZoo classic game (random legal move from the action mask);
    ``fresh``: a new env for every episode, its construction timed."""
    import importlib

    make = importlib.import_module(f"pettingzoo.classic.{env_id}").env
    env = make()
    rng = np.random.default_rng(0)

    def episode(seed: int) -> int:
        nonlocal env
        if fresh:
            env.close()
            env = make()
        env.reset(seed=seed)
        actions = 0
        for _agent in env.agent_iter(max_iter=100_000):
            observation, _, terminated, truncated, _ = env.last()
            if terminated or truncated:
                env.step(None)
                continue
            legal = np.flatnonzero(observation["action_mask"])
            env.step(int(legal[int(rng.integers(len(legal)))]))
            actions += 1
        return actions

    try:
        return _timed_episodes(episode, seconds)
    finally:
        env.close()


def peer_available(library: str, env_id: str) -> str | None:
    """None when the peer can be imported, else the reason it is skipped (with the install hint)."""
    try:
        if library == "textarena":
            import textarena  # noqa: F401
        else:
            import importlib

            importlib.import_module(f"pettingzoo.classic.{env_id}")
    except Exception as error:  # a missing optional dependency shows up as any import error
        hint = 'pip install -e ".[bench]"'
        return f"{library} {env_id} not importable ({type(error).__name__}: {error}); {hint}"
    return None


def peer_rate(pair: PeerPair, seconds: float, *, fresh: bool = False) -> tuple[float, int]:
    """Actions per second of the peer side of ``pair`` (``fresh``: a new env per episode, timed)."""
    if pair.library == "textarena":
        return textarena_rate(pair.peer, pair.num_players, seconds, fresh=fresh)
    return pettingzoo_rate(pair.peer, seconds, fresh=fresh)
