"""``make_gym``: a single-agent arena game as a plain ``gymnasium.Env``.

For users who train one agent with Gymnasium-style loops (``obs, info = env.reset(seed=...)``;
``obs, reward, terminated, truncated, info = env.step("go to fridge 1")``). Observations are the game's
``{"text": ...}`` dict (a plain ``dict``), actions are text, and ``info`` is the agent's ``infos`` entry (with
``legal_actions`` while the episode runs). Only games played by exactly one agent qualify.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium
from pettingzoo import AECEnv

from arena.core.errors import ArenaError
from arena.core.registry import make


class SingleAgentGym(gymnasium.Env):
    """Wraps a one-player arena ``AECEnv`` as a ``gymnasium.Env`` with text observations and actions."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(self, aec: AECEnv) -> None:
        if len(aec.possible_agents) != 1:
            raise ArenaError(
                f"make_gym needs a single-agent game; this one has {len(aec.possible_agents)} agents "
                "(use arena.make / arena.make_parallel for multi-agent play)"
            )
        self.aec = aec
        self.agent = aec.possible_agents[0]
        self.observation_space = aec.observation_space(self.agent)
        self.action_space = aec.action_space(self.agent)
        self.render_mode = getattr(aec.unwrapped, "render_mode", None)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[dict[str, Any], dict]:
        super().reset(seed=seed)
        self.aec.reset(seed=seed, options=options)
        return dict(self.aec.observe(self.agent)), dict(self.aec.infos[self.agent])

    def step(self, action: Any) -> tuple[dict[str, Any], float, bool, bool, dict]:
        if self.agent not in self.aec.agents:
            raise ArenaError("the episode is over: call reset()")
        self.aec.step(action)
        obs, reward, terminated, truncated, info = self.aec.last()
        obs, info = dict(obs), dict(info)  # plain dicts, as Gymnasium's checks and users expect
        if terminated or truncated:
            self.aec.step(None)  # PettingZoo's dead step removes the agent; the episode is over
        return obs, float(reward), bool(terminated), bool(truncated), info

    def render(self) -> str | None:
        return self.aec.render()

    def close(self) -> None:
        self.aec.close()


def make_gym(env_id: str, **kwargs: Any) -> SingleAgentGym:
    """Build a registered single-agent game (e.g. ``household-v0``) as a ``gymnasium.Env``."""
    return SingleAgentGym(make(env_id, **kwargs))
