"""Training configuration: a YAML preset or file, then ``key=value`` overrides from the command line."""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from arena.core.errors import ArenaError
from arena.trainers.episodes import ANCHORS, TURN_WEIGHTS, RewardOptions

PRESETS_DIR = Path(__file__).with_name("presets")
ADVANTAGES = ("mars", "grpo", "rae", "gigpo", "reinforce", "rebn")
REWARD_KEYS = ("scale", "invalid_penalty")
ROLLOUT_BACKENDS = ("shared", "transformers", "vllm")
#: How the policy loss reduces its per-token terms (``arena.trainers.loss.aggregate``); here, not in the loss
#: module, so that reading a config does not import torch.
AGGREGATIONS = ("token-mean", "seq-mean-token-mean", "seq-mean-token-sum")
#: Warm-start arguments that a run sets from its own settings (arena.trainers.loop.warm_start), not from ``warmstart``.
WARMSTART_SET_BY_RUN = frozenset(
    {
        "model_dir",
        "out_dir",
        "env_ids",
        "env_kwargs",
        "hide_legal",
        "history_lines",
        "blank_images",
        "seed",
        "device",
        "log",
    }
)


@dataclass
class TrainConfig:
    """Every knob of ``arena train``; ``presets/cpu.yaml`` documents each one."""

    envs: dict[str, dict[str, Any]] = field(default_factory=lambda: {"kuhn-poker-v0": {"num_hands": 1}})
    out: str = "runs/train"
    seed: int = 0
    threads: int = 2
    rollout_workers: int = 0
    device: str = "cpu"
    rollout_backend: str = "shared"
    rollout_backend_options: dict[str, Any] = field(default_factory=dict)
    model: str | None = None
    warmstart: dict[str, Any] = field(default_factory=lambda: {"agents": "random", "steps": 120})
    iterations: int = 30
    groups_per_env: int = 6
    group_size: int = 4
    opponents: dict[str, Any] = field(default_factory=lambda: {"self": 0.5, "random": 0.5})
    snapshot_every: int = 10
    advantage: str = "mars"
    mars_variant: str = "paper"
    gamma: float = 1.0
    anchor: str = "state"
    gigpo_omega: float = 1.0
    gigpo_scale_std: bool = False
    turn_weight: str = "turn"
    invalid_penalty: float = -0.5
    rewards: dict[str, dict[str, float]] = field(default_factory=dict)
    invalid_rule: str | None = None
    lr: float = 2e-3
    lr_schedule: str = "constant"
    lr_warmup_steps: int = 0
    ppo_epochs: int = 2
    minibatches: int = 1
    micro_batch: int = 32
    clip_low: float = 0.2
    clip_high: float = 0.28
    dual_clip: float | None = None
    kl_coef: float = 0.0
    entropy_coef: float = 0.0
    aggregation: str = "token-mean"
    temperature: float = 1.0
    constrained: list[str] = field(default_factory=list)
    hide_legal: list[str] = field(default_factory=list)
    max_new_tokens: int | dict[str, int] | None = None
    history_lines: int | dict[str, int] | None = None
    eval_every: int = 0
    eval_before: bool = True
    eval_sample: bool = False
    eval_opponents: list[str] | dict[str, list[str]] | None = None
    eval_games: int = 500
    checkpoint_every: int = 10
    learner_sides: dict[str, list[str]] = field(default_factory=dict)
    side_seats: int = 0
    blank_images: bool = False
    tiny_model: dict[str, Any] = field(default_factory=dict)
    precision: str = "fp32"
    gradient_checkpointing: bool = False
    lora: dict[str, Any] | None = None
    tis_cap: float | None = None

    def validate(self) -> TrainConfig:
        self._check_values()
        if self.advantage not in ADVANTAGES:
            raise ArenaError(f"advantage must be one of {', '.join(ADVANTAGES)}, got {self.advantage!r}")
        if self.mars_variant not in ("paper", "code"):
            raise ArenaError(f"mars_variant must be 'paper' or 'code', got {self.mars_variant!r}")
        if self.anchor not in ANCHORS:
            raise ArenaError(f"anchor must be one of {', '.join(ANCHORS)}, got {self.anchor!r}")
        if not isinstance(self.gigpo_scale_std, bool) or not _number(self.gigpo_omega) or self.gigpo_omega < 0:
            raise ArenaError("gigpo_omega must be a number ≥ 0 and gigpo_scale_std true or false")
        if self.turn_weight not in TURN_WEIGHTS:
            raise ArenaError(f"turn_weight must be one of {', '.join(TURN_WEIGHTS)}, got {self.turn_weight!r}")
        if not _number(self.gamma) or not 0 < self.gamma <= 1:
            raise ArenaError(f"gamma must be in (0, 1], got {self.gamma!r}")
        self._validate_rewards()
        if self.invalid_rule is not None and not isinstance(self.invalid_rule, str):
            raise ArenaError(f"invalid_rule must be null or a rule name such as spiral, got {self.invalid_rule!r}")
        self._validate_per_game_integer("max_new_tokens", 1, "each game's default")
        self._validate_per_game_integer("history_lines", 0, "the whole history")
        self._validate_opponents()
        if isinstance(self.minibatches, bool) or not isinstance(self.minibatches, int) or self.minibatches < 1:
            raise ArenaError(f"minibatches must be an integer >= 1, got {self.minibatches!r}")
        if self.lr_schedule not in ("constant", "linear"):
            raise ArenaError(f"lr_schedule must be 'constant' or 'linear', got {self.lr_schedule!r}")
        if not self.envs:
            raise ArenaError("envs must name at least one game")
        if self.group_size < 1 or self.groups_per_env < 1 or self.iterations < 0:
            raise ArenaError("group_size and groups_per_env must be ≥ 1, iterations ≥ 0")
        if not isinstance(self.rollout_workers, int) or self.rollout_workers < 0:
            raise ArenaError(f"rollout_workers must be an integer ≥ 0 (0: in-process), got {self.rollout_workers!r}")
        if not re.fullmatch(r"cpu|cuda(:\d+)?|mps", str(self.device)):
            raise ArenaError(f"device must be cpu, cuda, cuda:N or mps, got {self.device!r}")
        self._validate_eval_opponents()
        if not isinstance(self.eval_sample, bool):
            raise ArenaError(f"eval_sample must be true or false, got {self.eval_sample!r}")
        if self.rollout_backend not in ROLLOUT_BACKENDS:
            raise ArenaError(
                f"rollout_backend must be one of {', '.join(ROLLOUT_BACKENDS)}, got {self.rollout_backend!r}"
            )
        if self.rollout_backend != "shared" and self.rollout_workers:
            raise ArenaError(
                "rollout_backend and rollout_workers exclude each other: Ray workers run their own backends"
            )
        if not isinstance(self.rollout_backend_options, dict):
            raise ArenaError(f"rollout_backend_options must be a mapping, got {self.rollout_backend_options!r}")
        self._validate_gpu_options()
        self._check_sides()
        self._check_tiny_model()
        self._check_warmstart()
        return self

    def _check_sides(self) -> None:
        """``learner_sides`` maps side names to lists of roles, and every game deals each side a seat."""
        from arena.trainers.rollout import side_seats_of

        sides = self.learner_sides
        if not all(isinstance(r, list) and r and all(isinstance(x, str) for x in r) for r in sides.values()):
            raise ArenaError(f"learner_sides must map side names to lists of roles, got {sides!r}")
        for env_id, kwargs in self.envs.items():
            for roles in sides.values():
                side_seats_of(env_id, kwargs, self.seed, roles)  # no seat with those roles: a clear error

    def _check_tiny_model(self) -> None:
        """``tiny_model`` holds keyword arguments of the tiny model's builder (``vlm: true`` builds the tiny
        vision-language model instead)."""
        import inspect

        from arena.agents import tiny

        options = dict(self.tiny_model)
        builder = tiny.build_tiny_vlm if options.pop("vlm", False) else tiny.build_tiny_model
        accepted = set(inspect.signature(builder).parameters) - {"out_dir", "seed", "log"}
        unknown = set(options) - accepted
        if unknown:
            raise ArenaError(f"tiny_model: unknown keys {sorted(unknown)}; {builder.__name__} takes {sorted(accepted)}")
        if builder is tiny.build_tiny_model:
            try:
                tiny.check_model_options(**options)
            except ArenaError as err:
                raise ArenaError(f"tiny_model: {err}") from None

    def _check_warmstart(self) -> None:
        """``warmstart`` holds keyword arguments of :func:`arena.agents.warmstart.warmstart`, except those the run
        sets itself (its games and their settings, seed, device): an unknown key fails here, not after the model
        is built."""
        import inspect

        from arena.agents.warmstart import check_options, warmstart

        if not isinstance(self.warmstart, dict):
            raise ArenaError(f"warmstart must be a mapping of warm-start options, got {self.warmstart!r}")
        accepted = set(inspect.signature(warmstart).parameters) - WARMSTART_SET_BY_RUN
        unknown = set(self.warmstart) - accepted
        if unknown:
            raise ArenaError(f"warmstart: unknown keys {sorted(unknown)}; the warm start takes {sorted(accepted)}")
        try:
            check_options(**self.warmstart)
        except ArenaError as err:
            raise ArenaError(f"warmstart: {err}") from None

    def eval_opponents_for(self, env_id: str) -> list[str]:
        """Who the policy is evaluated against in ``env_id``: ``eval_opponents`` (one list for every game, or
        ``{game: list}``), else ``random`` and the game's ``scripted`` agent where it has one."""
        from arena.core.registry import spec

        chosen = self.eval_opponents
        if isinstance(chosen, dict):
            chosen = chosen.get(env_id)
        if chosen:
            return [str(name) for name in chosen]
        return ["random"] + (["scripted"] if "scripted" in spec(env_id).agents else [])

    def opponent_agents(self, game: str | None) -> list[str]:
        """The agents ``game`` registers, usable as opponent kinds (None: those every game of the run registers)."""
        from arena.core.registry import spec

        def registered(env_id: str) -> list[str]:
            try:
                return list(spec(env_id).agents)
            except ArenaError:  # an unknown game is reported by the check of envs
                return []

        if game is not None:
            return registered(game) if game in self.envs else []
        names = [registered(env_id) for env_id in self.envs]
        return [n for n in names[0] if all(n in other for other in names[1:])] if names else []

    def _validate_opponents(self) -> None:
        """``opponents``: one set of kind weights, or one per game naming exactly the games of ``envs``."""
        from arena.trainers.pool import per_game_weights

        try:
            weights = per_game_weights(self.opponents, self.opponent_agents)
        except ValueError as error:
            raise ArenaError(str(error)) from None
        if None not in weights and set(weights) != set(self.envs):
            raise ArenaError(
                f"opponents per game must name exactly the games of envs {sorted(self.envs)}, got {sorted(map(str, weights))}"
            )

    def _validate_eval_opponents(self) -> None:
        from arena.core.registry import spec

        value = self.eval_opponents
        lists = value.values() if isinstance(value, dict) else [] if value is None else [value]
        if not all(isinstance(names, list) and all(isinstance(n, str) for n in names) for names in lists):
            raise ArenaError(f"eval_opponents must be a list of agent names or {{game: list}}, got {value!r}")
        if isinstance(value, dict) and set(value) - set(self.envs):
            raise ArenaError(
                f"eval_opponents names games that are not among envs: {sorted(set(value) - set(self.envs))}"
            )
        for env_id in self.envs:
            known = {"random", "self", *spec(env_id).agents}
            unknown = [n for n in self.eval_opponents_for(env_id) if n not in known]
            if unknown:
                raise ArenaError(f"eval_opponents: {env_id} has no agent {unknown[0]!r}; choose from {sorted(known)}")

    def _validate_rewards(self) -> None:
        if not _number(self.invalid_penalty):
            raise ArenaError(f"invalid_penalty must be a finite number, got {self.invalid_penalty!r}")
        if not isinstance(self.rewards, dict):
            raise ArenaError(f"rewards must map games to {{scale, invalid_penalty}}, got {self.rewards!r}")
        for env_id, options in self.rewards.items():
            if env_id not in self.envs:
                raise ArenaError(f"rewards names {env_id!r}, which is not among envs ({', '.join(self.envs)})")
            if not isinstance(options, dict) or set(options) - set(REWARD_KEYS):
                raise ArenaError(f"rewards.{env_id} takes the keys {', '.join(REWARD_KEYS)}, got {options!r}")
            if not all(_number(v) for v in options.values()):
                raise ArenaError(f"rewards.{env_id} values must be finite numbers, got {options!r}")

    def _validate_per_game_integer(self, key: str, minimum: int, null_means: str) -> None:
        """``key`` is null, an integer ≥ ``minimum``, or ``{game: such an integer}``."""
        value = getattr(self, key)
        values = value.values() if isinstance(value, dict) else [] if value is None else [value]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= minimum for v in values):
            raise ArenaError(
                f"{key} must be null ({null_means}), an integer ≥ {minimum} or {{game: integer}}, got {value!r}"
            )
        # a misspelt game would be ignored; like `constrained`, the map may name games not in envs
        if isinstance(value, dict):
            from arena.core.registry import spec

            for env_id in value:
                spec(str(env_id))

    def history_lines_for(self, env_id: str) -> int | None:
        """How many of the latest history lines ``env_id``'s prompts show (None: all that fit)."""
        value = self.history_lines
        return value.get(env_id) if isinstance(value, dict) else value

    def reward_options(self, env_id: str) -> RewardOptions:
        """The reward scale and invalid-move penalty of ``env_id`` (``rewards.<env>``, else the defaults)."""
        options = self.rewards.get(env_id, {})
        return RewardOptions(
            scale=float(options.get("scale", 1.0)),
            invalid_penalty=float(options.get("invalid_penalty", self.invalid_penalty)),
        )

    def env_kwargs(self, env_id: str) -> dict[str, Any]:
        """The kwargs ``arena.make`` gets for ``env_id``: its entry in ``envs``, plus ``invalid_rule`` when
        set (the game's own entry wins)."""
        kwargs = dict(self.envs[env_id] or {})
        if self.invalid_rule is not None:
            kwargs.setdefault("invalid_rule", self.invalid_rule)
        return kwargs

    def games(self) -> dict[str, dict[str, Any]]:
        """Every trained game with its ``arena.make`` kwargs (:meth:`env_kwargs`)."""
        return {env_id: self.env_kwargs(env_id) for env_id in self.envs}

    def _validate_gpu_options(self) -> None:
        """Learner memory options (:mod:`arena.trainers.memory`), TIS, and vLLM's temperature range."""
        from arena.trainers.memory import validate

        validate(self.precision, self.lora)
        if not isinstance(self.gradient_checkpointing, bool):
            raise ArenaError(f"gradient_checkpointing must be true or false, got {self.gradient_checkpointing!r}")
        if self.tis_cap is not None and (not _number(self.tis_cap) or not self.tis_cap > 0):
            raise ArenaError(f"tis_cap must be a number > 0 (e.g. 2.0) or null, got {self.tis_cap!r}")
        if self.rollout_backend == "vllm" and not 0 <= self.temperature <= 2:
            raise ArenaError(f"vLLM samples at temperatures in [0, 2], got temperature={self.temperature}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    # Checked before anything is built (issue 23): each value's type, the positive knobs, and that every
    # game in envs exists and accepts its kwargs; one line naming the key each.
    _POSITIVE = ("lr", "temperature", "threads", "ppo_epochs", "micro_batch", "clip_low", "clip_high")
    _NON_NEGATIVE = (
        "kl_coef",
        "entropy_coef",
        "eval_every",
        "checkpoint_every",
        "snapshot_every",
        "iterations",
        "eval_games",
    )
    _NON_NEGATIVE += ("side_seats", "lr_warmup_steps", "seed")

    def _check_values(self) -> None:
        for f in dataclasses.fields(self):
            default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            value = getattr(self, f.name)
            if default is None:  # optional knobs (model, dual_clip, tis_cap, lora...): checked one by one
                continue
            kinds = {bool: (bool,), int: (int,), float: (int, float), str: (str,), dict: (dict,), list: (list,)}
            wanted = kinds.get(type(default))
            if wanted and (not isinstance(value, wanted) or (isinstance(value, bool) and bool not in wanted)):
                name = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
                raise ArenaError(f"{f.name} must be {name.get(type(default), type(default).__name__)}, got {value!r}")
            if type(default) is float and not math.isfinite(value):  # nan or inf: training would diverge silently
                raise ArenaError(f"{f.name} must be a finite number, got {value!r}")
        if self.model is not None and (not isinstance(self.model, str) or not self.model.strip()):
            raise ArenaError(f"model must be null (build the tiny model) or a model path or name, got {self.model!r}")
        if self.dual_clip is not None and (not _number(self.dual_clip) or not 1 < self.dual_clip < math.inf):
            raise ArenaError(f"dual_clip must be null or a number > 1 (e.g. 3.0), got {self.dual_clip!r}")
        if self.aggregation not in AGGREGATIONS:
            raise ArenaError(f"aggregation must be one of {', '.join(AGGREGATIONS)}, got {self.aggregation!r}")
        for key in self._POSITIVE:
            if isinstance(getattr(self, key, 1), int | float) and getattr(self, key, 1) <= 0:
                raise ArenaError(f"{key} must be > 0, got {getattr(self, key)!r}")
        for key in self._NON_NEGATIVE:
            if isinstance(getattr(self, key, 0), int | float) and getattr(self, key, 0) < 0:
                raise ArenaError(f"{key} must be ≥ 0, got {getattr(self, key)!r}")
        from arena.core.registry import make, spec

        for env_id, kwargs in self.envs.items():
            if not isinstance(kwargs, dict):
                raise ArenaError(f"envs.{env_id} must be a mapping of game kwargs, got {kwargs!r}")
            make(env_id, **self.env_kwargs(env_id))  # unknown id or bad kwargs: the registry's one-line error
        for env_id in [*self.constrained, *self.hide_legal]:  # may list more games than envs (one list, many runs)
            spec(str(env_id))


def _number(value: Any) -> bool:
    """A finite int or float (not a bool): NaN or infinity in a reward or a knob would spread silently."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _parse_value(text: str, key: str) -> Any:
    return _yaml(text, f"the value of {key} ({text!r})") if text.strip() else ""


def _yaml(text: str, where: str) -> Any:
    """``text`` parsed as YAML; a syntax error is one line naming ``where`` and the position, not yaml's own."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise ArenaError(f"{where} is not valid YAML{at}: {getattr(err, 'problem', None) or err}") from None


def _config_file(path: str | Path, where: str) -> dict[str, Any]:
    """A preset or config file's keys: its YAML must be a mapping (or empty), as UTF-8 text."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ArenaError(f"{where} {path} is not a YAML text file (not UTF-8)") from None
    data = _yaml(text, f"{where} {path}")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ArenaError(f"{where} {path} must be a mapping of config keys (key: value), got {type(data).__name__}")
    return data


def apply_override(data: dict[str, Any], override: str) -> None:
    """Apply ``a.b=value`` (value parsed as YAML) to nested ``data``."""
    if "=" not in override:
        raise ArenaError(f"override {override!r} must look like key=value")
    key, value = override.split("=", 1)
    parts = key.strip().split(".")
    if parts[0] not in {f.name for f in dataclasses.fields(TrainConfig)}:
        valid = ", ".join(f.name for f in dataclasses.fields(TrainConfig))
        raise ArenaError(f"unknown config key {parts[0]!r}; valid keys: {valid}")
    target = data
    for part in parts[:-1]:
        if not isinstance(target.get(part), dict):
            target[part] = {}
        target = target[part]
    target[parts[-1]] = _parse_value(value, key.strip())


def load_config(
    preset: str | None = None, path: str | Path | None = None, overrides: list[str] | None = None
) -> TrainConfig:
    """A preset name (``cpu``) or a YAML file, then overrides; unknown keys are an error."""
    data: dict[str, Any] = {}
    if preset is not None:
        file = PRESETS_DIR / f"{preset}.yaml"
        if not file.exists():
            names = ", ".join(sorted(p.stem for p in PRESETS_DIR.glob("*.yaml")))
            raise ArenaError(f"unknown preset {preset!r}; presets: {names}")
        data.update(_config_file(file, "preset"))
    if path is not None:
        data.update(_config_file(path, "config"))
    for override in overrides or []:
        apply_override(data, override)
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = set(data) - names
    if unknown:
        raise ArenaError(f"unknown config keys {sorted(unknown)}; valid keys: {', '.join(sorted(names))}")
    if isinstance(data.get("envs"), list):
        ids = data["envs"]
        bad = [env for env in ids if not isinstance(env, str)]
        if bad or len(set(ids)) < len(ids):
            raise ArenaError(
                f"envs must list game ids, each once (or map them to their kwargs), got {ids!r}"
            )  # a list in the list crashed; a game listed twice was trained once, silently
        data["envs"] = {env: {} for env in ids}
    return TrainConfig(**data).validate()
