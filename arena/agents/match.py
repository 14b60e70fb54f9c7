"""The match runner: ``arena.play(env, agents, seed=...)``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pettingzoo import AECEnv

from arena.agents.base import Agent
from arena.agents.reasoning import record_reasoning
from arena.agents.seats import match_env, reset_agents, seat_agents
from arena.core.errors import ArenaError
from arena.core.registry import make
from arena.core.transcript import Transcript


@dataclass
class MatchResult:
    """What one match produced."""

    env_id: str
    seed: int | None
    returns: dict[str, float]
    winners: list[str]
    transcript: Transcript
    roles: dict[str, str] = field(default_factory=dict)
    agent_names: dict[str, str] = field(default_factory=dict)
    invalid_moves: dict[str, int] = field(default_factory=dict)
    steps: int = 0
    truncated: bool = False


StepCallback = Callable[[AECEnv, str, Any], None]


def _decide(env: AECEnv, seat: str, agent: Agent, observation: Any, info: Any) -> Any:
    """The agent's move; an agent with ``act_traced`` (an LLM agent) also has its whole reply recorded as
    a spectator-only ``reasoning`` event."""
    act_traced = getattr(agent, "act_traced", None)
    if act_traced is None:
        return agent.act(observation, info)
    trace = act_traced(observation, info)
    record_reasoning(env, seat, trace)
    return trace.action


def play(
    env: AECEnv | str,
    agents: Mapping[str, Agent] | Sequence[Agent],
    seed: int | None = None,
    *,
    max_steps: int = 100_000,
    on_step: StepCallback | None = None,
    **env_kwargs: Any,
) -> MatchResult:
    """Play one episode and return per-agent returns, the winner(s) and the transcript.

    ``env`` is an AEC env, a parallel one (played in its AEC form) or an env id (built with ``env_kwargs``);
    ``agents`` maps seats to agents or lists them in seat order. An agent needs ``act(observation, info)``;
    its ``reset()``, where it has one, is called first. ``on_step(env, agent, action)`` is called after every live move
    (the live viewer uses it; ``action`` may be an ``InvalidReply``). ``max_steps`` guards against a game
    that never ends. LLM replies are recorded in the transcript as spectator-only ``reasoning`` events.
    """
    if isinstance(env, str):
        env = make(env, **env_kwargs)
    elif env_kwargs:
        raise ArenaError("env_kwargs only apply when env is given as an id")
    env = match_env(env)  # an AEC env; a parallel form (make_parallel) plays as its AEC form
    agents = seat_agents(env, agents)
    reset_agents(agents)
    env.reset(seed=seed)
    steps = 0
    for seat in env.agent_iter(max_iter=max_steps):
        observation, _, terminated, truncated, info = env.last()
        action = None if (terminated or truncated) else _decide(env, seat, agents[seat], observation, info)
        env.step(action)
        steps += 1
        if action is not None and on_step is not None:
            on_step(env, seat, action)
    raw = env.unwrapped
    if env.agents:
        raise ArenaError(f"match did not finish within max_steps={max_steps}")
    result = raw.transcript.result or {}
    return MatchResult(
        env_id=raw.env_id,
        seed=seed,
        returns=dict(raw.returns),
        winners=list(raw.winners),
        transcript=raw.transcript,
        roles=dict(raw.transcript.header.get("roles", {})),
        agent_names={s: getattr(a, "name", type(a).__name__) for s, a in agents.items()},
        invalid_moves=dict(raw.invalid_counts),
        steps=steps,
        truncated=bool(result.get("truncated", False)),
    )
