"""Build agents from short specs, as the CLI and tournaments write them.

``random`` · ``human`` · ``scripted`` (or any name the env registers in its ``agents`` map, e.g.
``fair``) · ``module.path:Class`` · ``llm:PATH_OR_NAME[,backend=...,key=value]``.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arena.agents.base import Agent
from arena.core.errors import ArenaError
from arena.core.registry import spec as env_spec

if TYPE_CHECKING:  # pragma: no cover
    from arena.agents.llm import AgentSpec


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
        return _build_user_agent(agent_spec, seed)
    choices = ", ".join([*available_agents(env_id), "llm:PATH", "module:Class"])
    raise ArenaError(f"unknown agent {agent_spec!r} for {env_id}; choose one of: {choices}")


def _build_user_agent(entry_point: str, seed: int | None) -> Agent:
    """``module:Class(seed=seed)``, refused in one line when it does not take ``seed`` or builds something without an
    ``act`` method (``os.path:join`` once failed with a bare ``TypeError``, mid-tournament)."""
    factory = _load(entry_point)
    if not callable(factory):
        raise ArenaError(f"agent {entry_point!r} is not a class or factory")
    try:
        agent = factory(seed=seed)
    except TypeError as err:
        raise ArenaError(f"agent {entry_point!r} cannot be built as {entry_point}(seed=...): {err}") from None
    if not callable(getattr(agent, "act", None)):
        raise ArenaError(
            f"agent {entry_point!r} built a {type(agent).__name__}, not an agent (one with act(observation, info))"
        )
    return agent


def check_agent_spec(agent_spec: str, env_id: str) -> None:
    """Raise :class:`ArenaError` (one line) when ``make_agent(agent_spec, env_id)`` would fail on the spec
    itself, without building the agent: nothing is loaded, so every seat can be checked before any work."""
    text = agent_spec.strip()
    kind, _, rest = text.partition(":")
    if kind == "llm":
        if not rest:
            raise ArenaError("llm agents need a model: llm:PATH_OR_NAME[,backend=transformers|vllm|openai,...]")
        _check_llm_spec(rest)
        return
    if (kind in ("random", "human") and not rest) or text in env_spec(env_id).agents:
        return
    if ":" in text and "." in kind:
        if not callable(_load(text)):
            raise ArenaError(f"agent {text!r} is not a class or factory")
        return
    choices = ", ".join([*available_agents(env_id), "llm:PATH", "module:Class"])
    raise ArenaError(f"unknown agent {text!r} for {env_id}; choose one of: {choices}")


def _check_llm_spec(rest: str) -> None:
    """The llm spec parses, its backend accepts every option given, and a local model path exists."""
    from arena.agents.llm import parse_agent_spec

    parsed = parse_agent_spec(rest)
    check_backend_options(parsed, rest)
    model = Path(parsed.model).expanduser()
    looks_local = (
        parsed.model.startswith((".", "/", "~"))
        or model.exists()
        or (str(model.parent) != "." and model.parent.is_dir())
    )
    if parsed.backend == "transformers" and looks_local and not (model / "config.json").exists():
        raise ArenaError(
            f"no model directory at {parsed.model} (one with config.json, e.g. from `arena model init-tiny`)"
        )


def check_backend_options(parsed: AgentSpec, spec_text: str) -> None:
    """Raise :class:`ArenaError` naming the options of an llm spec that its backend does not take (they once
    reached the backend's constructor and failed there with a bare ``TypeError``)."""
    from arena.agents import backends

    classes = {
        "transformers": "arena.agents.backends.transformers_backend:TransformersBackend",
        "vllm": "arena.agents.backends.vllm_backend:VLLMBackend",
        "openai": "arena.agents.backends.openai_backend:OpenAIBackend",
    }
    if parsed.backend not in classes:
        raise ArenaError(f"unknown backend {parsed.backend!r}; choose one of {', '.join(backends.BACKENDS)}")
    params = list(inspect.signature(_load(classes[parsed.backend]).__init__).parameters.values())[2:]
    if not any(p.kind is p.VAR_KEYWORD for p in params):
        valid = [p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
        unknown = sorted(set(parsed.backend_options) - set(valid))
        if unknown:
            raise ArenaError(
                f"llm spec {spec_text!r}: unknown option(s) {', '.join(unknown)}; the {parsed.backend} backend takes "
                f"{', '.join(valid)} (agent options: constrained, sample, answer_format, name, system_prompt, "
                "show_legal, think, max_model_len, history_lines, retry_temperature; sampling: temperature, top_p, "
                "max_new_tokens, seed, stop)"
            )


_SEAT_NAME = re.compile(r"[A-Za-z_][\w-]*")


def parse_seat_specs(items: list[str], possible_agents: list[str], default: str = "random") -> dict[str, str]:
    """Turn CLI ``--agent player_0=scripted`` items into ``{seat: spec}``; unnamed seats get ``default``.
    A bare spec (no ``=``) fills the next free seat in order. A seat named twice, an unknown seat or a
    seat with no spec is an error."""
    seats: dict[str, str] = {}
    bare: list[str] = []
    for item in items:
        seat, sep, spec_text = item.partition("=")
        seat = seat.strip()
        if item.strip() in possible_agents:
            raise ArenaError(f"--agent {item.strip()} needs a spec: {item.strip()}=SPEC, e.g. {item.strip()}=random")
        if sep and _SEAT_NAME.fullmatch(seat):
            if seat not in possible_agents:
                raise ArenaError(f"unknown seat {seat!r}; seats are {', '.join(possible_agents)}")
            if seat in seats:
                raise ArenaError(f"seat {seat} is given twice (--agent {seat}={seats[seat]}, --agent {item})")
            if not spec_text.strip():
                raise ArenaError(f"--agent {item} needs a spec after '='")
            seats[seat] = spec_text.strip()
        else:
            bare.append(item)
    free = [a for a in possible_agents if a not in seats]
    if len(bare) > len(free):
        raise ArenaError(f"{len(bare)} agents given for {len(free)} free seats")
    seats.update(zip(free, bare, strict=False))
    return {a: seats.get(a, default) for a in possible_agents}
