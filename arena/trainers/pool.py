"""The opponent pool: who sits across from the learner in each group of episodes.

Kinds: ``self`` (every seat is the learning policy: self-play), ``random``, ``scripted`` (the game's
registered scripted agent) and ``past`` (a frozen snapshot of the learner, saved every
``snapshot_every`` iterations). Each group samples one kind with the configured weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from arena.agents.random_agent import RandomAgent
from arena.agents.specs import make_agent


class OpponentPool:
    """Weighted opponent kinds plus the list of frozen snapshot directories (kept in checkpoints)."""

    def __init__(self, weights: Mapping[str, float], max_snapshots: int = 3) -> None:
        self.weights = {k: float(v) for k, v in weights.items() if float(v) > 0}
        self.snapshots: list[str] = []
        self.max_snapshots = max_snapshots
        self._loaded: dict[str, Any] = {}

    def sample(self, rng: np.random.Generator) -> str:
        """An opponent kind; ``past`` falls back to ``self`` until a snapshot exists."""
        kinds = [k for k in self.weights if k != "past" or self.snapshots]
        probs = np.array([self.weights[k] for k in kinds])
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
        if kind == "scripted":
            return make_agent("scripted", env_id, seed=seed)
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
        raise ValueError(f"no opponent agent for kind {kind!r}")

    def state_dict(self) -> dict[str, Any]:
        return {"weights": dict(self.weights), "snapshots": list(self.snapshots)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.weights = dict(state["weights"])
        self.snapshots = list(state["snapshots"])
