"""Rollout workers as Ray actors (the ``ray`` extra: ``pip install -e '.[ray]'``).

The trainer plans an iteration's groups as usual (:func:`arena.trainers.rollout.plan_groups`, plain
picklable data) and hands them to :class:`RayRollouts`, which deals them round-robin to ``num_workers``
:class:`RolloutWorker` actors. Each worker holds its own copy of the policy (a
:class:`~arena.agents.backends.transformers_backend.TransformersBackend` loaded from the starting model
directory, one torch thread), builds the matches with the same code as the in-process path
(:func:`~arena.trainers.rollout.build_specs` + :func:`~arena.trainers.rollout.collect`) and returns the
learner :class:`~arena.trainers.episodes.Episode`\\ s. After every update the trainer pushes its weights
(one ``ray.put`` of the CPU state dict, loaded by every worker) and its policy version.

Sampling inside a worker is reseeded every iteration from (iteration seed, worker index), the iteration
seed being drawn from the trainer's RNG: runs are reproducible for a fixed ``rollout_workers``, but they
do not reproduce the in-process (``rollout_workers: 0``) run, whose learner agents keep their own streams.

``past`` opponents are loaded by each worker from the snapshot directory named in the plan, so workers
must see the trainer's output directory (one machine, or a shared filesystem across a Ray cluster).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from arena.core.errors import ArenaError
from arena.trainers.config import TrainConfig
from arena.trainers.episodes import Episode
from arena.trainers.rollout import GroupPlan


def _require_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ArenaError(
            "rollout_workers > 0 needs Ray: pip install -e '.[ray]' (or set rollout_workers=0 for in-process rollouts)"
        ) from None
    return ray


class RolloutWorker:
    """One rollout actor: its own policy backend, learner agents and opponent pool (see the module docstring)."""

    def __init__(self, model_dir: str, config: dict[str, Any], index: int) -> None:
        import torch

        from arena.agents.backends.transformers_backend import TransformersBackend
        from arena.trainers.pool import OpponentPool
        from arena.trainers.rollout import PastPolicies, learner_agents

        torch.set_num_threads(1)
        self.config = TrainConfig(**config)
        self.index = index
        self.backend = TransformersBackend(str(model_dir))
        self.learners = learner_agents(self.backend, self.config)
        self.pool = OpponentPool(self.config.opponents, game_agents=self.config.opponent_agents)
        self.past_policies = PastPolicies(self.config, keep=self.pool.max_snapshots)

    def _reseed(self, iteration_seed: int) -> None:
        children = np.random.SeedSequence([int(iteration_seed), self.index]).spawn(len(self.learners))
        for agent, child in zip(self.learners.values(), children, strict=True):
            rng_seq, sampling_seq = child.spawn(2)
            agent.rng = np.random.default_rng(rng_seq)
            agent.sampling = replace(agent.sampling, seed=int(sampling_seq.generate_state(1)[0] % (2**31 - 1)))
            agent._calls = 0

    def collect(self, plans: Sequence[GroupPlan], iteration_seed: int) -> list[list[Episode]]:
        """Play the planned groups; one list of episodes per plan, in order."""
        from arena.trainers.rollout import build_specs, collect

        self._reseed(iteration_seed)
        specs, labels = build_specs(plans, self.learners, self.pool, self.past_policies)
        episodes, _ = collect(specs, labels, self.config)
        out, start = [], 0
        for plan in plans:
            out.append(episodes[start : start + len(plan.matches)])
            start += len(plan.matches)
        return out

    def load(self, state: dict[str, Any], version: int) -> int:
        """Take the trainer's weights (a CPU state dict) and policy version."""
        import torch

        with torch.no_grad():
            self.backend.model.load_state_dict(state)
        self.backend.model.eval()
        self.backend.version = int(version)
        return self.backend.version

    def version(self) -> int:
        return int(self.backend.version)

    def score(self, prompts: list[Any], continuations: list[str]) -> list[Any]:
        """The worker policy's :meth:`TransformersBackend.score` (to check that weights are in sync)."""
        return self.backend.score(prompts, continuations)


class RayRollouts:
    """``num_workers`` :class:`RolloutWorker` actors behind the trainer's rollout step.

    Starts a local Ray instance (``num_cpus=num_workers``, no dashboard) unless Ray is already initialized;
    each actor reserves one CPU. ``model_dir`` is the policy's starting directory (the trainer's).
    """

    def __init__(self, model_dir: str | Path, config: TrainConfig, num_workers: int) -> None:
        ray = _require_ray()
        if num_workers < 1:
            raise ArenaError(f"RayRollouts needs at least one worker, got {num_workers}")
        self._ray = ray
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            ray.init(num_cpus=num_workers, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
        remote = ray.remote(num_cpus=1)(RolloutWorker)
        config_data = config.to_dict()
        model = os.path.abspath(str(model_dir)) if Path(model_dir).exists() else str(model_dir)
        self.workers = [remote.remote(model, config_data, i) for i in range(num_workers)]
        ray.get([w.version.remote() for w in self.workers])  # wait until every worker has loaded the policy

    def collect(self, plans: Sequence[GroupPlan], iteration_seed: int) -> list[Episode]:
        """Play the plans round-robin across the workers; the episodes in plan order (as the local path)."""
        n = len(self.workers)
        shares = [list(range(w, len(plans), n)) for w in range(n)]
        futures = [
            (idx, worker.collect.remote([plans[i] for i in idx], iteration_seed))
            for worker, idx in zip(self.workers, shares, strict=True)
            if idx
        ]
        by_plan: dict[int, list[Episode]] = {}
        for idx, groups in zip([f[0] for f in futures], self._ray.get([f[1] for f in futures]), strict=True):
            by_plan.update(zip(idx, groups, strict=True))
        return [e for i in range(len(plans)) for e in by_plan[i]]

    def sync(self, model: Any, version: int) -> None:
        """Push the trainer's weights (one ``ray.put``) and policy version to every worker."""
        from arena.agents.backends.weights import full_state_dict

        state = {k: v.detach().cpu() for k, v in full_state_dict(model).items()}
        ref = self._ray.put(state)
        self._ray.get([w.load.remote(ref, int(version)) for w in self.workers])

    def versions(self) -> list[int]:
        return list(self._ray.get([w.version.remote() for w in self.workers]))

    def score(self, prompts: list[Any], continuations: list[str], worker: int = 0) -> list[Any]:
        return self._ray.get(self.workers[worker].score.remote(prompts, continuations))

    def shutdown(self) -> None:
        """Stop the workers (and the Ray instance if this object started it)."""
        for worker in self.workers:
            self._ray.kill(worker)
        self.workers = []
        if self._owns_ray and self._ray.is_initialized():
            self._ray.shutdown()
