"""arena: self-play training and evaluation of LLM agents in multi-agent language games.

``import arena`` stays light: games load on first use and nothing here imports torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from arena.core.errors import ArenaError
from arena.core.registry import EnvSpec, list_envs, make, make_parallel, register, spec

__version__ = "0.1.0"

__all__ = [
    "ArenaError",
    "EnvSpec",
    "__version__",
    "list_envs",
    "make",
    "make_gym",
    "make_parallel",
    "play",
    "register",
    "spec",
]

if TYPE_CHECKING:
    from arena.agents.match import MatchResult


def play(env: Any, agents: Any, seed: int | None = None, **kwargs: Any) -> MatchResult:
    """Play one match; see :func:`arena.agents.match.play`."""
    from arena.agents.match import play as _play

    return _play(env, agents, seed=seed, **kwargs)


def make_gym(env_id: str, **kwargs: Any) -> Any:
    """A single-agent game as a ``gymnasium.Env``; see :func:`arena.core.single_agent.make_gym`."""
    from arena.core.single_agent import make_gym as _make_gym

    return _make_gym(env_id, **kwargs)
