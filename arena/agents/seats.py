"""Who plays which seat: the checks ``arena.play`` and the batch scheduler share, run before a match starts
so that a missing, unknown or unplayable seat is one clear error, not an ``AttributeError`` mid-game."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from arena.core.errors import ArenaError
from arena.core.registry import as_aec, make


def match_env(env: Any) -> Any:
    """The AEC env a match plays: ``env`` itself, built from an env id, or the AEC form of a parallel env."""
    env = make(env) if isinstance(env, str) else as_aec(env)
    if not hasattr(env, "agent_iter"):
        raise ArenaError(f"a match needs a PettingZoo env or an env id, got {type(env).__name__}")
    return env


def seat_agents(env: Any, agents: Mapping[str, Any] | Any, where: str = "") -> dict[str, Any]:
    """``agents`` as ``{seat: agent}`` for ``env``: a mapping, or a sequence in seat order. Every seat has an
    agent, none is unknown, each can ``act``. ``where`` prefixes the errors (``"match 3: "``)."""
    seats = list(env.possible_agents)
    if not isinstance(agents, Mapping):
        if isinstance(agents, str) or not hasattr(agents, "__iter__"):
            raise ArenaError(f"{where}agents must map seats to agents or list them in seat order")
        agents = list(agents)
        if len(agents) != len(seats):
            raise ArenaError(f"{where}{len(agents)} agents for {len(seats)} seats")
        agents = dict(zip(seats, agents, strict=True))
    missing = [s for s in seats if s not in agents]
    if missing:
        raise ArenaError(f"{where}no agent for seat(s) {', '.join(missing)}")
    unknown = [s for s in agents if s not in seats]
    if unknown:
        raise ArenaError(f"{where}unknown seat(s) {', '.join(map(str, unknown))}; the seats are {', '.join(seats)}")
    for seat, agent in agents.items():
        if not callable(getattr(agent, "act", None)):
            raise ArenaError(
                f"{where}the agent for {seat} ({type(agent).__name__}) has no act(observation, info) method"
            )
    return dict(agents)


def reset_agents(agents: Mapping[str, Any]) -> None:
    """Call ``reset()`` once on every distinct agent that has one (an agent with only ``act`` plays too)."""
    for agent in {id(a): a for a in agents.values()}.values():
        reset = getattr(agent, "reset", None)
        if reset is not None:
            reset()
