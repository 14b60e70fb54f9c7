"""Build agents from short specs, as the CLI and tournaments write them.

``random`` · ``human`` · ``scripted`` (or any name the env registers in its ``agents`` map, e.g.
``fair``) · ``module.path:Class`` · ``llm:PATH_OR_NAME[,backend=...,key=value]``.
"""

from __future__ import annotations

import importlib
from typing import Any

from arena.agents.base import Agent
from arena.core.errors import ArenaError
from arena.core.registry import spec as env_spec


def _load(entry_point: str) -> Any:
    module_name, _, attr = entry_point.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise ArenaError(f"cannot load agent {entry_point!r}: {err}") from None


def available_agents(env_id: str) -> list[str]:
    """Agent names usable with ``env_id`` (besides ``module:Class`` and ``llm:...`` specs)."""
    return ["random", "human", *env_spec(env_id).agents]


def make_agent(agent_spec: str, env_id: str, seed: int | None = None) -> Agent:
    """Build the agent that ``agent_spec`` names for games of ``env_id``."""
    agent_spec = agent_spec.strip()
    kind, _, rest = agent_spec.partition(":")
    if kind == "llm":
        if not rest:
            raise ArenaError("llm agents need a model: llm:PATH_OR_NAME[,backend=transformers|vllm|openai,...]")
        from arena.agents.llm import agent_from_spec

        return agent_from_spec(rest, env_id=env_id, seed=seed)
    if kind == "random" and not rest:
        from arena.agents.random_agent import RandomAgent

        return RandomAgent(seed=seed)
    if kind == "human" and not rest:
        from arena.agents.human import HumanAgent

        return HumanAgent()
    registered = env_spec(env_id).agents
    if agent_spec in registered:
        agent = _load(registered[agent_spec])(seed=seed)
        agent.name = agent_spec
        return agent
    if ":" in agent_spec and "." in kind:
        return _load(agent_spec)(seed=seed)
    choices = ", ".join([*available_agents(env_id), "llm:PATH", "module:Class"])
    raise ArenaError(f"unknown agent {agent_spec!r} for {env_id}; choose one of: {choices}")


def parse_seat_specs(items: list[str], possible_agents: list[str]) -> dict[str, str]:
    """Turn CLI ``--agent player_0=scripted`` items into ``{seat: spec}``; unnamed seats default to random.
    A bare spec (no ``=``) fills the next free seat in order."""
    seats: dict[str, str] = {}
    bare: list[str] = []
    for item in items:
        seat, sep, spec_text = item.partition("=")
        if sep and seat in possible_agents:
            seats[seat] = spec_text
        elif sep and seat.startswith("player_"):
            raise ArenaError(f"unknown seat {seat!r}; seats are {', '.join(possible_agents)}")
        else:
            bare.append(item)
    free = [a for a in possible_agents if a not in seats]
    if len(bare) > len(free):
        raise ArenaError(f"{len(bare)} agents given for {len(free)} free seats")
    seats.update(zip(free, bare, strict=False))
    return {a: seats.get(a, "random") for a in possible_agents}
