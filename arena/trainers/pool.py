"""The opponent pool: who sits across from the learner in each group of episodes.

Kinds: ``self`` (every seat is the learning policy: self-play), ``random``, ``scripted`` (the game's
registered scripted agent), ``past`` (a frozen snapshot of the learner, saved every
``snapshot_every`` iterations), or the name of any other agent the game registers (TicTacToe's
``opportunist``, negotiation's ``fair``). Each group samples one kind with the configured weights: one set for
every game (``{self: 0.5, random: 0.5}``) or one per game (``{kuhn-poker-v0: {self: 1}, ...}``), so a
run over several games can train each against the opponents its single-game preset uses.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from arena.agents.random_agent import RandomAgent
from arena.agents.specs import make_agent


class OpponentPool:
    """Weighted opponent kinds plus the list of frozen snapshot directories (kept in checkpoints)."""

    def __init__(
        self,
        weights: Mapping[str, Any],
        max_snapshots: int = 3,
        game_agents: Callable[[str | None], Collection[str]] | None = None,
    ) -> None:
        """``game_agents``: the agents each game registers, which ``weights`` may name besides the four
        kinds (``TrainConfig.opponent_agents``)."""
        self.per_game = per_game_weights(weights, game_agents)
        #: Every kind some game draws (``"past" in pool.weights``: snapshots are worth saving).
        self.weights: dict[str, float] = {}
        for game_weights in self.per_game.values():
            for kind, weight in game_weights.items():
                self.weights[kind] = self.weights.get(kind, 0.0) + weight
        self.snapshots: list[str] = []
        self.max_snapshots = max_snapshots
        self._loaded: dict[str, Any] = {}

    def weights_for(self, env_id: str | None) -> dict[str, float]:
        """The kinds ``env_id`` draws from, with their weights (one set for every game: the same for all)."""
        if None in self.per_game:
            return self.per_game[None]
        if env_id not in self.per_game:
            raise ValueError(f"opponents gives no weights for {env_id!r}; games: {sorted(map(str, self.per_game))}")
        return self.per_game[env_id]

    def sample(self, rng: np.random.Generator, env_id: str | None = None) -> str:
        """An opponent kind for a group of ``env_id``; ``past`` falls back to ``self`` until a snapshot exists."""
        weights = self.weights_for(env_id)
        kinds = [k for k in weights if k != "past" or self.snapshots]
        if not kinds:  # only ``past`` is weighted and there is no snapshot yet
            return "self"
        probs = np.array([weights[k] for k in kinds])
        return str(kinds[int(rng.choice(len(kinds), p=probs / probs.sum()))])

    def add_snapshot(self, path: str | Path) -> None:
        self.snapshots.append(str(path))
        del self.snapshots[: -self.max_snapshots]

    def pick_snapshot(self, rng: np.random.Generator) -> str:
        """A uniformly drawn snapshot directory (for a ``past`` opponent)."""
        return self.snapshots[int(rng.integers(len(self.snapshots)))]

    def opponent(self, kind: str, env_id: str, seed: int, llm_factory: Any, snapshot: str | None = None) -> Any:
        """A fresh opponent agent of ``kind`` for one match; a ``past`` opponent plays the planned
        ``snapshot`` (``llm_factory(path, env_id)`` loads it; loaded snapshots are cached)."""
        if kind == "random":
            return RandomAgent(seed)
        if kind == "past":
            if snapshot is None:
                raise ValueError("a past opponent needs the snapshot directory it plays")
            key = (snapshot, env_id)
            if key not in self._loaded:
                paths = list(dict.fromkeys(k[0] for k in self._loaded))
                if snapshot not in paths and len(paths) >= self.max_snapshots:  # forget the oldest snapshot
                    self._loaded = {k: a for k, a in self._loaded.items() if k[0] != paths[0]}
                self._loaded[key] = llm_factory(snapshot, env_id)
            return self._loaded[key]
        if kind == "self":
            raise ValueError("a self-play group has no opponent agent")
        return make_agent(kind, env_id, seed=seed)  # scripted, or another agent the game registers

    def state_dict(self) -> dict[str, Any]:
        return {"snapshots": list(self.snapshots)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore the snapshots; the weights stay the (possibly overridden) config's."""
        self.snapshots = list(state["snapshots"])


OPPONENT_KINDS = ("self", "random", "scripted", "past")


def per_game_weights(
    weights: Mapping[str, Any], game_agents: Callable[[str | None], Collection[str]] | None = None
) -> dict[str | None, dict[str, float]]:
    """``opponents`` as ``{game or None: {kind: weight > 0}}``: None keys the one set shared by every game.
    ``game_agents(game)`` names the agents a game registers, which are kinds too (for None: those every game
    of the run registers); without it only ``OPPONENT_KINDS`` are known. Raises ``ValueError`` for an unknown
    kind, a negative weight, or a set whose weights are all 0."""

    def one(value: Mapping[str, Any], where: str, game: str | None) -> dict[str, float]:
        if not isinstance(value, Mapping):
            raise ValueError(f"opponents{where} must map kinds to weights, got {value!r}")
        known = [*OPPONENT_KINDS, *(k for k in (game_agents(game) if game_agents else ()) if k not in OPPONENT_KINDS)]
        unknown = set(value) - set(known)
        if unknown:
            raise ValueError(f"opponents{where}: unknown kind(s) {sorted(map(str, unknown))}; use {known}")
        numbers = {}
        for kind, weight in value.items():
            if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight < math.inf:
                raise ValueError(f"opponents{where}: the weight of {kind} must be a finite number >= 0, got {weight!r}")
            if weight > 0:
                numbers[str(kind)] = float(weight)
        if not numbers:
            raise ValueError(f"opponents{where} must give some of {list(OPPONENT_KINDS)} a positive weight")
        return numbers

    if not isinstance(weights, Mapping) or not weights:
        raise ValueError(f"opponents must weight some of {list(OPPONENT_KINDS)}, got {weights!r}")
    if all(isinstance(v, Mapping) for v in weights.values()):
        return {str(game): one(value, f" of {game}", str(game)) for game, value in weights.items()}
    return {None: one(weights, "", None)}
