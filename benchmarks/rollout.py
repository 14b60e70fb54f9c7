"""Rollout throughput with the tiny model: env overhead share, scheduler vs sequential play vs raw generate.

The model is :func:`arena.agents.tiny.build_tiny_model` (random weights, ~1.3 M parameters, CPU). Every
seat of ``matches`` TicTacToe games is an unconstrained :class:`~arena.agents.llm.LLMAgent` decoding
greedily, so all three variants generate the same tokens. (With random weights most answers are invalid
moves, so a match is short: a move, one retry, then a forfeit; the env still does all its work.)

* **scheduler** -- :func:`arena.agents.scheduler.play_many` over all matches (one batched generate per tick);
* **sequential** -- :func:`arena.play` one match after another (one generate per decision);
* **raw generate** -- ``backend.generate_ids`` on the scheduler's recorded prompt ids, batched per tick:
  the model cost of the scheduler's own batches (so it cannot show the cost of batches that shrink as
  matches end; :mod:`benchmarks.match_batching` compares whole matches with full batches).

During the scheduler run the env's ``reset``/``step``/``observe``/``last`` and the backend's ``generate``
are timed, giving the env's share of rollout time (the rest is the model and the agent's prompt
building and answer parsing).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

ENV_ID = "tictactoe-v0"


class _Clock:
    """Accumulates the time spent inside wrapped callables."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
                self.calls += 1

        return timed


def _timed_env(env_id: str, clock: _Clock) -> Any:
    """An env whose public methods add their run time to ``clock`` (instance attributes shadow the class)."""
    import arena

    env = arena.make(env_id)
    for name in ("reset", "step", "observe", "last"):
        setattr(env, name, clock.wrap(getattr(env, name)))
    return env


def measure(matches: int = 32, new_tokens: int = 16, threads: int = 1, repeats: int = 3) -> dict[str, Any]:
    """Run the three variants ``repeats`` times; return medians and the env share (see module doc)."""
    import statistics

    import torch

    import arena
    from arena.agents.backends.base import SamplingParams
    from arena.agents.backends.transformers_backend import TransformersBackend
    from arena.agents.llm import LLMAgent
    from arena.agents.scheduler import play_many
    from arena.agents.tiny import build_tiny_model

    torch.set_num_threads(threads)
    model = build_tiny_model(tempfile.mkdtemp(prefix="arena-bench-"), matches_per_env=2)
    backend = TransformersBackend(str(model), max_batch_size=max(64, matches))
    sampling = SamplingParams(temperature=0, max_new_tokens=new_tokens)
    agent = LLMAgent(backend, env_id=ENV_ID, sampling=sampling, retry_temperature=None)  # one call per tick
    params = sum(p.numel() for p in backend.model.parameters())
    backend.generate([[{"role": "user", "content": "warm up"}]], sampling)

    runs: dict[str, list[float]] = defaultdict(list)
    shares: list[float] = []
    model_shares: list[float] = []
    decisions = 0
    for _ in range(repeats):
        env_clock, model_clock = _Clock(), _Clock()
        generate = backend.generate
        backend.generate = model_clock.wrap(generate)
        specs = []
        for seed in range(matches):
            env = _timed_env(ENV_ID, env_clock)
            specs.append((env, dict.fromkeys(env.possible_agents, agent), seed))
        start = time.perf_counter()
        outcomes = play_many(specs)
        elapsed = time.perf_counter() - start
        backend.generate = generate
        decisions = sum(len(o.turns) for o in outcomes)
        runs["scheduler"].append(elapsed)
        shares.append(env_clock.seconds / elapsed)
        model_shares.append(model_clock.seconds / elapsed)

        ticks: dict[int, list[list[int]]] = defaultdict(list)
        for outcome in outcomes:
            for k, turn in enumerate(outcome.turns):
                ticks[k].append(list(turn.trace.prompt_ids))
        start = time.perf_counter()
        for prompts in ticks.values():
            backend.generate_ids(prompts, sampling)
        runs["raw generate"].append(time.perf_counter() - start)

        start = time.perf_counter()
        for seed in range(matches):
            env = arena.make(ENV_ID)
            arena.play(env, dict.fromkeys(env.possible_agents, agent), seed=seed)
        runs["sequential"].append(time.perf_counter() - start)

    seconds = {name: statistics.median(values) for name, values in runs.items()}
    return {
        "model_params": params,
        "matches": matches,
        "decisions": decisions,
        "new_tokens": new_tokens,
        "torch_threads": threads,
        "seconds": seconds,
        "decisions_per_s": {name: decisions / s for name, s in seconds.items()},
        "env_share": statistics.median(shares),
        "model_share": statistics.median(model_shares),
    }
