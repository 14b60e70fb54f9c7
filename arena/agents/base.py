"""The agent protocol: ``act(observation, info) -> str``, batched ``act_batch``, and ``reset``. Only ``act`` is
required to play (``arena.play``, ``play_many``): the others are used where an agent has them.

Agents see exactly what a player sees: the observation dict (``{"text": ...}`` plus ``"image"``
for visual games) and that player's ``infos`` entry (``legal_actions``, ``role``, ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

Observation = dict[str, Any]
Info = dict[str, Any]


@runtime_checkable
class Agent(Protocol):
    """Anything that can play a seat."""

    name: str

    def act(self, observation: Observation, info: Info) -> str: ...

    def act_batch(self, requests: Sequence[tuple[Observation, Info]]) -> list[str]: ...

    def reset(self) -> None: ...


class BaseAgent:
    """Convenience base: ``act_batch`` loops over ``act``; ``reset`` does nothing."""

    name = "agent"

    def act(self, observation: Observation, info: Info) -> str:
        raise NotImplementedError

    def act_batch(self, requests: Sequence[tuple[Observation, Info]]) -> list[str]:
        return [self.act(obs, info) for obs, info in requests]

    def reset(self) -> None:
        """Forget anything remembered from the previous episode."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
