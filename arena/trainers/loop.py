"""The self-play loop: collect → advantages → update → sync weights → log → checkpoint → evaluate.

One :class:`Trainer` owns the model, optimizer, RNG, role baselines and opponent pool; its
``state_dict`` is everything a resumed run needs to reproduce the next iteration exactly.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from arena.agents.llm import POLICY_FILE
from arena.core.errors import ArenaError
from arena.trainers.config import TrainConfig, apply_override
from arena.trainers.episodes import compute_advantages, return_metrics
from arena.trainers.pool import OpponentPool
from arena.trainers.rollout import PastPolicies, build_specs, collect, learner_agents, plan_groups, policy_agent

Log = Callable[[str], None]


def check_games(config: TrainConfig, backends: tuple[Any, ...] = ()) -> None:
    """Refuse, before any work, what would train wrongly: a game with images on a text-only model (the
    ``backends`` that play or learn; without any, the tiny text model that ``prepare_model`` builds), and
    GiGPO with ``anchor: state`` on a game that publishes no ``infos["state_key"]``. Builds and resets
    every game once with its kwargs, so bad env kwargs fail here too."""
    from arena.core.registry import make, spec

    for env_id, kwargs in config.games().items():
        if "image" in spec(env_id).modalities:
            text_only = [repr(b) for b in backends if not getattr(b, "multimodal", False)]
            if text_only or not (backends or config.model or config.tiny_model.get("vlm")):
                which = ", ".join(text_only) or "the tiny text model"
                raise ArenaError(
                    f"{env_id} shows images, but the policy model is text-only ({which}): set model to an "
                    "image-text-to-text model (e.g. one built by arena.agents.tiny.build_tiny_vlm)"
                )
        env = make(env_id, **kwargs)
        env.reset(seed=config.seed)
        state_anchors = config.advantage == "gigpo" and config.anchor == "state"
        if state_anchors and "state_key" not in env.infos.get(env.agent_selection, {}):
            raise ArenaError(
                f"GiGPO anchors: {env_id} publishes no infos['state_key']; set anchor: observation "
                "(a digest of the observation text, as verl-agent) or another advantage"
            )


def prepare_model(config: TrainConfig, log: Log) -> Path:
    """The policy's starting directory: ``config.model``, or the tiny model warm-started on random play
    (built once under ``<out>/warmstart`` and reused by later runs)."""
    check_games(config)
    if config.model:
        return Path(config.model)
    from arena.agents import tiny

    out = Path(config.out) / "warmstart"
    if (out / "config.json").exists():
        log(f"reusing warm-started model {out}")
        return out
    base = Path(config.out) / "tiny-base"
    t0 = time.perf_counter()
    options = dict(config.tiny_model)  # builder kwargs; vlm: true builds the tiny vision-language model
    builder = tiny.build_tiny_vlm if options.pop("vlm", False) else tiny.build_tiny_model
    builder(base, seed=config.seed, **options)
    log(
        f"built tiny model in {time.perf_counter() - t0:.0f}s; warm start on {config.warmstart.get('agents', 'random')} play"
    )
    return warm_start(config, base, out, log)


def warm_start(config: TrainConfig, base: str | Path, out: str | Path, log: Log) -> Path:
    """Warm-start the model in ``base`` into ``out`` on the config's games as they are trained, with its
    ``warmstart`` options, prompt settings and seed; returns ``out``."""
    from arena.agents.warmstart import warmstart

    return warmstart(
        base,
        out,
        env_ids=tuple(config.envs),
        env_kwargs=config.games(),  # the variants trained (negotiation's legal list, invalid_rule), as played
        hide_legal=config.hide_legal,
        history_lines={env_id: config.history_lines_for(env_id) for env_id in config.envs},
        blank_images=config.blank_images,  # the blank twin greys its warm start's pictures too
        seed=config.seed,
        device=config.device,  # the warm start trains where the run does
        log=log,
        **config.warmstart,
    )


class Trainer:
    """Self-play trainer for one policy (see the module docstring)."""

    def __init__(self, config: TrainConfig, model_dir: str | Path, log: Log = print) -> None:
        import torch

        from arena.core.options import output_folder
        from arena.trainers.advantages import RoleBaseline
        from arena.trainers.memory import load_learner, reference_policy

        self.config = config
        self.log = log
        self.out = Path(config.out)
        output_folder(self.out, "out")  # a file there (e.g. --resume ... --set out=FILE): one line, before the model
        self.out.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(config.seed)
        self.backend = load_learner(  # the learner: trained in place (precision, checkpointing, LoRA: memory.py)
            model_dir,
            device=config.device,
            precision=config.precision,
            gradient_checkpointing=config.gradient_checkpointing,
            lora=config.lora,
        )
        self.model = self.backend.model
        self.rollout_backend = self._rollout_backend(model_dir)
        check_games(config, (self.backend, self.rollout_backend))
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(trainable, lr=config.lr, weight_decay=0.0)
        self.lr_scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._lr_factor)
        if config.lr_warmup_steps:
            self.optimizer.register_step_pre_hook(self._warm_up)
        self.rng = np.random.default_rng(config.seed)
        self.baseline = RoleBaseline()
        self.pool = OpponentPool(config.opponents, game_agents=config.opponent_agents)
        self.iteration = 0
        self.learners = learner_agents(self.rollout_backend, config)
        self.greedy = {  # seeded for their retries after an invalid move, which sample (RETRY_TEMPERATURE)
            env_id: policy_agent(self.rollout_backend, config, env_id, sample=False, seed=config.seed + 20_000 + i)
            for i, env_id in enumerate(config.envs)
        }
        self.past_policies = PastPolicies(config, keep=self.pool.max_snapshots)
        # the frozen starting policy: LoRA's base with the adapters off, else a copy
        self.reference = reference_policy(self.model) if config.kl_coef else None
        self.metrics_file = self.out / "metrics.jsonl"
        self._tb = _tensorboard(self.out)
        self.ray_rollouts = None
        if config.rollout_workers > 0:
            from arena.trainers.ray_rollout import RayRollouts

            self.ray_rollouts = RayRollouts(model_dir, config, config.rollout_workers)

    def _lr_factor(self, iteration: int) -> float:
        """The learning rate's factor at ``iteration``: 1, or with ``lr_schedule: linear`` a decay to 0 at the
        config's last iteration (read at every step, so a resume with more iterations stretches it)."""
        if self.config.lr_schedule != "linear":
            return 1.0
        return max(0.0, 1.0 - iteration / max(1, self.config.iterations))

    def _scheduled_lr(self) -> float:
        """The learning rate ``lr_schedule`` gives the current iteration (from this run's config, so also right
        after a resume that changed ``lr`` or ``iterations``)."""
        return float(self.config.lr) * self._lr_factor(self.lr_scheduler.last_epoch)

    def _warm_up(self, optimizer: Any, *_: Any) -> None:
        """Before each of the first ``lr_warmup_steps`` optimizer steps, scale the scheduled learning rate by
        (step + 1) / warmup: Adam's first steps move every weight by about the full rate whatever its gradient,
        which from a warm start is a jump (household: KL 0.52 to the acting policy in the first iteration at
        lr 1e-3, 0.06-0.08 after). The step count is the optimizer's own, so a resume continues the ramp."""
        done = next((int(state["step"]) for state in optimizer.state.values() if "step" in state), 0)
        ramp = min(1.0, (done + 1) / self.config.lr_warmup_steps)
        for group in optimizer.param_groups:
            group["lr"] = self._scheduled_lr() * ramp

    def eval_agent(self, env_id: str) -> Any:
        """The policy as evaluated: argmax (default), or with ``eval_sample`` a fresh agent that samples at
        the training temperature from a fixed seed (mixed strategies, as in Kuhn Poker, need sampling)."""
        if not self.config.eval_sample:
            return self.greedy[env_id]
        return policy_agent(self.rollout_backend, self.config, env_id, seed=self.config.seed + 10_000)

    def _rollout_backend(self, model_dir: str | Path) -> Any:
        """The engine that plays rollouts and evaluations: the learner's own model (``shared``), or a
        separate ``transformers`` or ``vllm`` engine that receives the learner's weights after every update."""
        if self.config.rollout_backend == "shared":
            return self.backend
        from arena.agents.backends import load_backend

        engine = load_backend(str(model_dir), self.config.rollout_backend, **self.config.rollout_backend_options)
        vocab = getattr(engine.tokenizer, "get_vocab", None)
        if callable(vocab) and vocab() != self.backend.tokenizer.get_vocab():
            raise ArenaError("the rollout backend's tokenizer differs from the learner's: token ids would not match")
        return engine

    # -- pieces ------------------------------------------------------------------------------------
    def step(self) -> dict[str, Any]:
        """One iteration; returns its metrics."""
        from arena.trainers import learner as learner_mod

        cfg = self.config
        t0 = time.perf_counter()
        plans = plan_groups(
            cfg.games(), cfg.groups_per_env, cfg.group_size, self.pool, self.rng, cfg.learner_sides, cfg.side_seats
        )
        if self.ray_rollouts is None:
            specs, labels = build_specs(plans, self.learners, self.pool, self.past_policies)
            episodes, _ = collect(specs, labels, cfg)
        else:  # the iteration seed is drawn only here, so the in-process RNG sequence is unchanged
            iteration_seed = int(self.rng.integers(2**31 - 1))
            episodes = self.ray_rollouts.collect(plans, iteration_seed=iteration_seed)
        t_rollout = time.perf_counter() - t0
        turns, advantages = compute_advantages(
            episodes,
            cfg.advantage,
            gamma=cfg.gamma,
            mars_variant=cfg.mars_variant,
            baseline=self.baseline,
            gigpo_omega=cfg.gigpo_omega,
            gigpo_scale_std=cfg.gigpo_scale_std,
            turn_weight=cfg.turn_weight,
        )
        pad_id = int(self.backend.tokenizer.pad_token_id)
        if self.rollout_backend is not self.backend:  # a separate engine frees its GPU memory while we train
            getattr(self.rollout_backend, "sleep", lambda: None)()
        update = learner_mod.update(
            self.model,
            self.optimizer,
            turns,
            advantages,
            pad_id=pad_id,
            epochs=cfg.ppo_epochs,
            micro_batch=cfg.micro_batch,
            clip_low=cfg.clip_low,
            clip_high=cfg.clip_high,
            dual_clip=cfg.dual_clip,
            aggregation=cfg.aggregation,
            reference=self.reference,
            kl_coef=cfg.kl_coef,
            entropy_coef=cfg.entropy_coef,
            minibatches=cfg.minibatches,
            rng=np.random.default_rng([cfg.seed, self.iteration]),  # mini-batch shuffle: a function of the step
            precision=cfg.precision,
            tis_cap=cfg.tis_cap,
            processor=self.backend.processor,
        )
        with warnings.catch_warnings():  # an iteration with no usable turn skips optimizer.step(): still decay
            warnings.filterwarnings("ignore", message="Detected call of `lr_scheduler.step()`")
            self.lr_scheduler.step()
        self.backend.sync_from(self.model)  # the learner's serving side: version + 1
        if self.rollout_backend is not self.backend:  # a separate engine (vLLM): push the new weights
            self.rollout_backend.sync_from(self.model)
            self.rollout_backend.version = self.backend.version
        if self.ray_rollouts is not None:
            self.ray_rollouts.sync(self.model, self.backend.version)
        self.iteration += 1
        metrics: dict[str, Any] = {
            "iteration": self.iteration,
            "episodes": len(episodes),
            "turns": len(turns),
            "rollout_s": round(t_rollout, 2),
            "step_s": round(time.perf_counter() - t0, 2),
            "invalid_rate": float(np.mean([t.invalid for t in turns])) if turns else 0.0,
            "advantage/nonzero": float(np.mean(np.abs(advantages) > 1e-8)) if turns else 0.0,
            "advantage/abs_mean": float(np.mean(np.abs(advantages))) if turns else 0.0,
            "policy_version": int(self.backend.version),
            "lr": float(self.optimizer.param_groups[0]["lr"]),
        }
        if self.rollout_backend is not self.backend:
            metrics["sync_s"] = round(float(getattr(self.rollout_backend, "last_sync_s", 0.0)), 3)
        metrics.update(return_metrics(episodes, cfg.envs, cfg.learner_sides))
        metrics.update({f"update/{k}": v for k, v in update.items()})
        for env_id, kwargs in cfg.games().items():  # exact and cheap (12 information sets): every iteration
            if _exact_kuhn(env_id, kwargs):
                from arena.trainers.evaluation import kuhn_exploitability

                metrics[f"{env_id}/exploitability"] = kuhn_exploitability(self.greedy[env_id], env_id)
        if cfg.snapshot_every and self.iteration % cfg.snapshot_every == 0 and "past" in self.pool.weights:
            path = self.backend.save(self.out / "snapshots" / f"iter_{self.iteration:05d}")
            self.write_policy_file(path)
            self.pool.add_snapshot(path)
        return metrics

    def evaluate(self, games: int | None = None) -> dict[str, Any]:
        """Each env against its evaluation opponents (``eval_opponents``; default random and scripted) over
        ``games`` games (default ``eval_games``; 0: none): win/loss rates and mean returns per seat, or per
        side with ``learner_sides``; the success rate of a single-agent game; the game's outcome metrics
        (negotiation's agreement, Pareto rate and Nash ratio, public goods' contribution rate); Kuhn
        exploitability."""
        from arena.core.registry import make
        from arena.trainers.evaluation import evaluate_against, evaluate_side, kuhn_exploitability

        cfg = self.config
        games = games if games is not None else cfg.eval_games
        results: dict[str, Any] = {}
        for env_id, kwargs in cfg.games().items():
            opponents = cfg.eval_opponents_for(env_id) if games > 0 else []
            solo = len(make(env_id, **kwargs).possible_agents) == 1
            if solo or cfg.learner_sides:
                sides = {"solo": None} if solo else cfg.learner_sides
                for side, roles in sides.items():
                    for opponent in (["random"] if opponents else []) if solo else opponents:  # nobody to face alone
                        row = evaluate_side(
                            self.eval_agent(env_id), env_id, kwargs, opponent, games, roles, side_seats=cfg.side_seats
                        )
                        where = side if solo else f"{side}_vs_{opponent}"
                        for key, value in row.items():
                            if isinstance(value, int | float) and key != "games":
                                results[f"eval/{env_id}/{where}/{key}"] = value
                opponents = []  # evaluated per side above
            for opponent in opponents:
                row = evaluate_against(self.eval_agent(env_id), env_id, kwargs, opponent, games)
                for key, value in row.items():
                    if key not in ("games", "opponent"):
                        results[f"eval/{env_id}/vs_{opponent}/{key}"] = value
            if _exact_kuhn(env_id, kwargs):
                results[f"eval/{env_id}/exploitability"] = kuhn_exploitability(self.greedy[env_id], env_id)
        return results

    def record(self, metrics: dict[str, Any]) -> None:
        with self.metrics_file.open("a") as fh:
            fh.write(json.dumps(metrics, sort_keys=True) + "\n")
        if self._tb is not None:
            for key, value in metrics.items():
                if isinstance(value, int | float):
                    self._tb.add_scalar(key, value, self.iteration)

    # -- checkpoints -------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        import torch

        return {
            "iteration": self.iteration,
            "optimizer": self.optimizer.state_dict(),
            "lr_scheduler": self.lr_scheduler.state_dict(),
            "rng": self.rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
            "learner_state": {e: (a._calls, a.rng.bit_generator.state) for e, a in self.learners.items()},
            "baseline": self.baseline.state_dict(),
            "pool": self.pool.state_dict(),
            "policy_version": self.backend.version,
            "config": self.config.to_dict(),
        }

    def save_checkpoint(self, path: str | Path | None = None) -> Path:
        """Model (``save_pretrained``, loadable as a policy), optimizer, RNG, baselines, pool and, with a
        KL term, the frozen reference policy's weights (``reference.pt``)."""
        import torch

        from arena.trainers.memory import save_adapter

        path = Path(path) if path is not None else self.out / "checkpoint"
        tmp = path.with_name(path.name + ".tmp")
        self.backend.save(tmp)
        save_adapter(self.model, tmp)  # LoRA: resume trains this adapter on the same base
        self.write_policy_file(tmp)
        torch.save(self.state_dict(), tmp / "trainer_state.pt")
        if isinstance(self.reference, torch.nn.Module):  # the KL anchor is the starting policy, not this checkpoint's
            torch.save(self.reference.state_dict(), tmp / "reference.pt")
        if path.exists():
            import shutil

            shutil.rmtree(path)
        os.replace(tmp, path)
        return path

    def policy_settings(self) -> dict[str, Any]:
        """How this policy plays (what ``policy.json`` records): the answer format and think prefix of its
        agents, the games it plays constrained or without the legal list in its prompt, whether its images were
        blanked, each game's history window, and each game's generation budget and temperature."""
        agents = self.learners
        first = next(iter(agents.values()))
        return {
            "answer_format": first.answer_format,
            "think": first.think,
            "constrained": [env_id for env_id, a in agents.items() if a.constrained],
            "max_new_tokens": {env_id: int(a.sampling.max_new_tokens) for env_id, a in agents.items()},
            "temperature": float(self.config.temperature),
            "hide_legal": [env_id for env_id, a in agents.items() if not a.show_legal],
            "blank_images": bool(self.config.blank_images),
            "history_lines": {env_id: a.history_lines for env_id, a in agents.items() if a.history_lines is not None},
            "envs": list(agents),
        }

    def write_policy_file(self, directory: str | Path) -> Path:
        """Write ``policy.json`` (:meth:`policy_settings`) into a model directory, so that ``llm:DIR``
        plays the policy the way it was trained."""
        path = Path(directory) / POLICY_FILE
        path.write_text(json.dumps(self.policy_settings(), indent=2, sort_keys=True) + "\n")
        return path

    def load_state(self, path: str | Path) -> None:
        import torch

        state = torch.load(Path(path) / "trainer_state.pt", weights_only=False)
        reference = Path(path) / "reference.pt"
        if isinstance(self.reference, torch.nn.Module) and reference.exists():  # else (KL added on resume): anchor here
            self.reference.load_state_dict(torch.load(reference, weights_only=True))
        self.iteration = int(state["iteration"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.lr_scheduler.load_state_dict(state["lr_scheduler"])
        # The saved learning rate belongs to the saved run's schedule; a resume may change the iterations (and
        # so the linear decay) or the lr: continue from the saved step on this run's schedule.
        self.lr_scheduler.base_lrs = [float(self.config.lr)] * len(self.optimizer.param_groups)
        for group in self.optimizer.param_groups:
            group["lr"] = self._scheduled_lr()
        self.rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        for env_id, (calls, rng_state) in state["learner_state"].items():
            self.learners[env_id]._calls = int(calls)
            self.learners[env_id].rng.bit_generator.state = rng_state
        self.baseline.load_state_dict(state["baseline"])
        self.pool.load_state_dict(state["pool"])
        self.backend.version = int(state["policy_version"])
        self.rollout_backend.version = self.backend.version  # it loaded the same checkpoint's weights
        if self.ray_rollouts is not None:
            self.ray_rollouts.sync(self.model, self.backend.version)

    def close(self) -> None:
        """Stop the Ray rollout workers, if any (the trainer can still evaluate and save afterwards)."""
        if self.ray_rollouts is not None:
            self.ray_rollouts.shutdown()
            self.ray_rollouts = None

    @classmethod
    def resume(
        cls,
        path: str | Path,
        log: Log = print,
        overrides: dict[str, Any] | None = None,
        sets: list[str] | None = None,
    ) -> Trainer:
        """Rebuild a trainer from a checkpoint directory written by :meth:`save_checkpoint`. ``sets`` are
        ``key=value`` overrides applied to the checkpoint's config as ``--set`` applies them to a preset (a dotted
        key changes one entry of a mapping, keeping the others); then ``overrides`` replace whole keys."""
        import copy

        import torch

        path = Path(path)
        if not (path / "trainer_state.pt").exists():
            raise ArenaError(f"no checkpoint at {path} (expected {path / 'trainer_state.pt'})")
        try:
            state = torch.load(path / "trainer_state.pt", weights_only=False)
        except Exception as err:  # a truncated or foreign file: torch and pickle raise many kinds
            raise ArenaError(
                f"{path / 'trainer_state.pt'}: not a readable checkpoint ({type(err).__name__}: {err})"
            ) from None
        if not isinstance(state, dict) or not isinstance(state.get("config"), dict):
            raise ArenaError(f"{path / 'trainer_state.pt'}: not an arena checkpoint (no config in it)")
        data = copy.deepcopy(state["config"])
        for item in sets or []:
            apply_override(data, item)
        data.update(overrides or {})
        # the optimizer's state belongs to the checkpoint's trainable weights: adding, dropping or resizing LoRA
        # adapters would not fit it
        fixed = [k for k in ("envs", "model", "lora") if data.get(k) != state["config"].get(k)]
        if fixed:
            raise ArenaError(
                f"a resume keeps the checkpoint's {' and '.join(fixed)}; start a new run (--set model=CHECKPOINT) instead"
            )
        unknown = set(data) - {f.name for f in dataclasses.fields(TrainConfig)}
        if unknown:  # a checkpoint of another arena version
            raise ArenaError(f"{path / 'trainer_state.pt'}: unknown config keys {sorted(unknown)} in the checkpoint")
        trainer = cls(TrainConfig(**data).validate(), path, log=log)
        try:
            trainer.load_state(path)
        except KeyError as err:
            raise ArenaError(f"{path / 'trainer_state.pt'}: incomplete checkpoint (no {err.args[0]!r})") from None
        except (ValueError, TypeError, RuntimeError, pickle.UnpicklingError) as err:  # damaged, or another model's
            raise ArenaError(
                f"{path}: a damaged checkpoint, or state that does not fit its model ({type(err).__name__}: {err})"
            ) from None
        return trainer


def _exact_kuhn(env_id: str, kwargs: dict[str, Any]) -> bool:
    """Whether the exact exploitability applies: Kuhn Poker played one hand per episode."""
    return env_id.startswith("kuhn-poker") and int(kwargs.get("num_hands", 1)) == 1


def _tensorboard(out: Path) -> Any:
    """A TensorBoard writer when ``tensorboard`` is installed, else None."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except Exception:
        return None
    return SummaryWriter(str(out / "tensorboard"))


def run(trainer: Trainer, progress: bool = True) -> dict[str, Any]:
    """Train for the configured iterations with a rich progress bar; evaluate before (unless the config's
    ``eval_before`` is false: a run from a model whose evaluation is known) and after. With no iteration to
    run (``iterations: 0``, the way to evaluate a model) the one evaluation is both: the policy and the
    seeded games are the same, so a second pass would only repeat it."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    cfg = trainer.config
    log = trainer.log
    summary: dict[str, Any] = {}
    try:
        if trainer.iteration == 0 and cfg.eval_before:
            before = trainer.evaluate()
            trainer.record({"iteration": 0, **before})
            summary["before"] = before
            log(_format_eval("before training", before))
        t0 = time.perf_counter()
        columns = (
            TextColumn("[bold]train"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
        )
        with Progress(*columns, disable=not progress, transient=False) as bar:
            task = bar.add_task("", total=cfg.iterations, completed=trainer.iteration)
            while trainer.iteration < cfg.iterations:
                metrics = trainer.step()
                if cfg.eval_every and trainer.iteration % cfg.eval_every == 0 and trainer.iteration < cfg.iterations:
                    metrics.update(trainer.evaluate(min(cfg.eval_games, 200)))
                trainer.record(metrics)
                if cfg.checkpoint_every and trainer.iteration % cfg.checkpoint_every == 0:
                    trainer.save_checkpoint()
                shown = {
                    k.split("/")[0][:4] + "/" + k.split("/")[-1]: v
                    for k, v in metrics.items()
                    if not k.startswith("eval/") and k.endswith(("/return_vs_pool", "/return_self", "/exploitability"))
                }
                desc = f"invalid {metrics['invalid_rate']:.2f} " + " ".join(f"{k} {v:+.2f}" for k, v in shown.items())
                bar.update(task, completed=trainer.iteration, description=desc)
                if not progress:
                    log(f"iter {trainer.iteration}: {desc} ({metrics['step_s']:.1f}s)")
        unchanged = "before" in summary and trainer.iteration == 0
        after = summary["before"] if unchanged else trainer.evaluate()
        trainer.record({"iteration": trainer.iteration, **after, "train_s": round(time.perf_counter() - t0, 1)})
        trainer.save_checkpoint()
        summary["after"] = after
        log(_format_eval("after training", after))
    finally:
        trainer.close()  # stop Ray rollout workers, if any
    return summary


def _format_eval(title: str, results: dict[str, Any]) -> str:
    lines = [f"evaluation {title}:"]
    for key, value in sorted(results.items()):
        lines.append(f"  {key.removeprefix('eval/')}: {value:.3f}")
    return "\n".join(lines)
