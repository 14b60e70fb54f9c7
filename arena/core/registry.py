"""The env registry: ``register``, ``make``, ``make_parallel``, ``list_envs``.

Built-in games register in :mod:`arena.envs`; third-party packages register through the entry-point
group ``arena.envs`` (each entry point names a zero-argument callable that calls ``arena.register``,
or an ``EnvSpec``). Entry points load lazily, on the first lookup.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils.conversions import aec_to_parallel, parallel_to_aec

from arena.core.actions import TextTurnBasedToParallel, text_parallel_to_aec
from arena.core.episode import EpisodeBook
from arena.core.errors import ArenaError, RegistrationError, UnknownEnvError

ENTRY_POINT_GROUP = "arena.envs"


@dataclass(frozen=True)
class EnvSpec:
    """What the registry knows about a game."""

    id: str
    entry_point: str | Callable[..., Any]
    kwargs: dict[str, Any] = field(default_factory=dict)
    min_players: int = 2
    max_players: int = 2
    modalities: tuple[str, ...] = ("text",)
    kind: str = "competitive"  # "competitive", "cooperative" or "mixed"
    description: str = ""
    simultaneous: bool = False  # True when the entry point builds a native ParallelEnv
    #: Named built-in agents for this game, e.g. {"scripted": "arena.agents.scripted.kuhn:KuhnNash"}.
    agents: dict[str, str] = field(default_factory=dict)
    #: Named kwarg bundles for ``make(env_id, preset=name)``: ``{"name": {...}, "alias": "name"}``, or an
    #: entry point ``"pkg.module:PRESETS"`` naming such a dict (imported on first use, like the game).
    presets: str | dict[str, Any] = field(default_factory=dict)

    def load(self) -> Callable[..., Any]:
        """Import and return the env class or factory."""
        if callable(self.entry_point):
            return self.entry_point
        module_name, _, attr = self.entry_point.partition(":")
        if not attr:
            raise RegistrationError(f"{self.id}: entry point {self.entry_point!r} must look like 'pkg.module:Class'")
        module = sys.modules.get(module_name)  # imported: no import machinery
        if module is None:
            try:
                module = importlib.import_module(module_name)
            except ImportError as err:
                raise RegistrationError(f"{self.id}: cannot import entry point {self.entry_point!r}: {err}") from err
        try:
            return getattr(module, attr)
        except AttributeError:
            raise RegistrationError(f"{self.id}: {module_name} has no attribute {attr!r}") from None

    def load_presets(self) -> dict[str, dict[str, Any]]:
        """Every preset name, aliases included, mapped to its kwargs."""
        table = self.presets
        if isinstance(table, str):
            module_name, _, attr = table.partition(":")
            table = getattr(importlib.import_module(module_name), attr)
        return {name: dict(_resolve_preset(self.id, table, name)) for name in table}


def _resolve_preset(env_id: str, table: dict[str, Any], name: str) -> dict[str, Any]:
    value = table[name]
    if isinstance(value, str):  # an alias names another preset
        if value not in table or isinstance(table[value], str):
            raise RegistrationError(f"{env_id}: preset alias {name!r} must name a preset, got {value!r}")
        value = table[value]
    return value


_REGISTRY: dict[str, EnvSpec] = {}
_SOURCES: dict[str, str] = {}  # env id -> who registered it (named in duplicate-registration errors)
_KINDS = ("competitive", "cooperative", "mixed")
_plugins_loaded = False
_loading: str | None = None  # the plugin whose entry point is running


def _source(entry_point: str | Callable[..., Any]) -> str:
    """``entry point X`` plus the plugin or module registering it, for error messages."""
    target = entry_point if isinstance(entry_point, str) else f"{entry_point.__module__}:{entry_point.__qualname__}"
    return f"entry point {target}" + (f", by {_loading}" if _loading else "")


def register(
    env_id: str,
    entry_point: str | Callable[..., Any],
    kwargs: dict[str, Any] | None = None,
    *,
    override: bool = False,
    **metadata: Any,
) -> EnvSpec:
    """Register a game under ``env_id`` (``name-vN``). ``metadata`` fills the other ``EnvSpec`` fields."""
    if not isinstance(env_id, str) or not env_id or any(c.isspace() for c in env_id):
        raise RegistrationError(
            f"env_id must be a non-empty string without spaces such as 'my-game-v0', got {env_id!r}"
        )
    if not (isinstance(entry_point, str) or callable(entry_point)):
        raise RegistrationError(
            f"{env_id}: entry_point must be 'pkg.module:Class' or a callable, got {type(entry_point).__name__}"
        )
    _load_builtins()  # a built-in id is taken even before the first lookup
    if env_id in _REGISTRY and not override:
        raise RegistrationError(
            f"{env_id!r} is already registered ({_SOURCES.get(env_id, 'unknown source')}); registering it again "
            f"({_source(entry_point)}) needs override=True. A plugin should register only in its entry-point "
            "function, not also when its module is imported"
        )
    allowed = set(EnvSpec.__dataclass_fields__) - {"id", "entry_point", "kwargs"}
    unknown = set(metadata) - allowed
    if unknown:
        raise RegistrationError(f"unknown metadata {sorted(unknown)}; allowed: {sorted(allowed)}")
    if "agents" in metadata:
        metadata["agents"] = dict(metadata["agents"])
    if "presets" in metadata and not isinstance(metadata["presets"], str):
        metadata["presets"] = dict(metadata["presets"])
    if "modalities" in metadata:
        metadata["modalities"] = tuple(metadata["modalities"])
    if metadata.get("kind", "competitive") not in _KINDS:
        raise RegistrationError(f"kind must be one of {_KINDS}")
    spec = EnvSpec(id=env_id, entry_point=entry_point, kwargs=dict(kwargs or {}), **metadata)
    _REGISTRY[env_id] = spec
    _SOURCES[env_id] = _source(entry_point)
    return spec


def _load_builtins() -> None:
    """Register the built-in games (importing ``arena.envs`` registers them; while it runs, this does nothing)."""
    importlib.import_module("arena.envs")


def _register_spec(env_spec: EnvSpec) -> EnvSpec:
    """Register a ready ``EnvSpec`` (a plugin's entry point may name one) through :func:`register`'s checks."""
    fields = {name: getattr(env_spec, name) for name in EnvSpec.__dataclass_fields__}
    env_id, entry_point, kwargs = fields.pop("id"), fields.pop("entry_point"), fields.pop("kwargs")
    return register(env_id, entry_point, kwargs, **fields)


def _load_plugins() -> None:
    global _plugins_loaded, _loading
    if _plugins_loaded:
        return
    _plugins_loaded = True
    _load_builtins()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        _loading = f"plugin {ep.name!r} ({ep.value})"
        try:  # a broken plugin must not break arena: it is skipped with a warning that names it
            obj = ep.load()
            if isinstance(obj, EnvSpec):  # the same checks as register(): an id taken or malformed is refused
                _register_spec(obj)
            elif callable(obj):
                obj()
            else:
                raise RegistrationError(
                    f"the entry point must name a function that calls arena.register or an EnvSpec, got "
                    f"{type(obj).__name__}"
                )
        except Exception as err:
            import warnings

            warnings.warn(f"arena: env {_loading} failed: {err}", stacklevel=2)
        finally:
            _loading = None


def spec(env_id: str) -> EnvSpec:
    """The ``EnvSpec`` for ``env_id``; an unknown id names the valid ones."""
    _load_plugins()
    try:
        return _REGISTRY[env_id]
    except KeyError:
        known = sorted(_REGISTRY)
        close = difflib.get_close_matches(str(env_id), known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownEnvError(f"unknown env {env_id!r}.{hint} Registered envs: {', '.join(known)}") from None


def list_envs() -> list[EnvSpec]:
    """Every registered game, sorted by id."""
    _load_plugins()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def _build(env_id: str, kwargs: dict[str, Any], preset: str | None) -> AECEnv | ParallelEnv:
    env_spec = spec(env_id)
    factory = env_spec.load()
    bundle = _preset_kwargs(env_spec, preset) if preset is not None else {}
    if preset is not None and not env_spec.presets:
        accepted = _accepted_kwargs(factory)
        if accepted is not None and "preset" not in accepted:
            raise ArenaError(f"{env_id} has no presets (asked for preset {preset!r})")
        kwargs = {"preset": preset, **kwargs}  # a game without registered presets may take its own
    merged = {**env_spec.kwargs, **bundle, **kwargs}
    _check_kwargs(env_spec, factory, merged)
    env = factory(**merged)
    if not hasattr(env, "possible_agents"):
        raise ArenaError(
            f"{env_id}: its entry point returned {type(env).__name__}, not a PettingZoo AEC or parallel env"
        )
    raw = getattr(env, "unwrapped", env)
    raw.env_id = env_id
    raw.env_kwargs = merged
    raw.env_preset = preset
    return env


def _preset_kwargs(env_spec: EnvSpec, preset: str) -> dict[str, Any]:
    """The kwargs of a registered preset (explicit kwargs override them); an unknown name lists the known ones."""
    if not env_spec.presets:
        return {}
    table = env_spec.load_presets()
    if preset not in table:
        raise ArenaError(f"{env_spec.id} has no preset {preset!r}; presets: {', '.join(sorted(table))}")
    return table[preset]


@functools.lru_cache(maxsize=256)
def _accepted_kwargs(factory: Callable[..., Any]) -> tuple[str, ...] | None:
    """The keyword arguments ``factory`` takes (None: any, or unknown); read once per factory."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return None
    return tuple(n for n, p in params.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and n != "self")


@functools.lru_cache(maxsize=256)
def _as_set(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(names)


def _check_kwargs(env_spec: EnvSpec, factory: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    valid = _accepted_kwargs(factory)
    if valid is None or kwargs.keys() <= _as_set(valid):
        return
    bad = sorted(set(kwargs) - set(valid))
    if bad:
        raise ArenaError(f"{env_spec.id} does not accept {', '.join(map(repr, bad))}; valid kwargs: {', '.join(valid)}")


def make(env_id: str, preset: str | None = None, **kwargs: Any) -> AECEnv:
    """Build a game as a PettingZoo ``AECEnv`` (simultaneous games through ``parallel_to_aec``).
    ``preset`` applies a registered bundle of kwargs (e.g. ``"vision-zero"``); explicit kwargs override it."""
    return as_aec(_build(env_id, kwargs, preset))


def as_aec(env: AECEnv | ParallelEnv) -> AECEnv:
    """``env`` itself if it is an ``AECEnv``; a simultaneous game in the AEC form ``make`` gives it; the AEC game
    inside a turn-based game's parallel form (``make_parallel``)."""
    if isinstance(env, TextTurnBasedToParallel):
        return env.aec_env
    if isinstance(env, ParallelEnv):
        return text_parallel_to_aec(env) if isinstance(env, EpisodeBook) else parallel_to_aec(env)
    return env


def make_parallel(env_id: str, preset: str | None = None, **kwargs: Any) -> ParallelEnv:
    """Build a game as a PettingZoo ``ParallelEnv``: native for simultaneous games, otherwise a
    conversion (:class:`~arena.core.actions.TextTurnBasedToParallel` for turn-based games). ``preset`` as in
    :func:`make`."""
    env = _build(env_id, kwargs, preset)
    if isinstance(env, ParallelEnv):
        return env
    if env.metadata.get("is_parallelizable", False):
        return aec_to_parallel(env)
    return TextTurnBasedToParallel(env)
