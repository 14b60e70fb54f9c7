"""Behaviour-cloning warm start: teach a (tiny) model the answer format from scripted or random play.

Matches of the chosen games are played by scripted agents (``agents="scripted"``, each game's registered
``"scripted"`` agent, falling back to random where a game has none) or by random agents
(``agents="random"``: the model then learns the answer format and nothing of strategy -- the self-play
preset uses this). Every valid decision becomes one supervised example: the prompt the
:class:`~arena.agents.llm.LLMAgent` would build for that observation, and the target reply
``<think>{think}</think><answer>{action}</answer>`` followed by the end-of-turn token. The loss is
cross-entropy on the reply tokens only.

Logits are computed only at the positions that predict a reply token (:mod:`arena.agents.logits`).
After the default warm start the unconstrained invalid-move rate at temperature 1 is 1-1.3 % on Kuhn
Poker and 18-20 % on TicTacToe (``benchmarks/invalid_rate.py``; numbers and timings in ``docs/agents.md``).
"""

from __future__ import annotations

import importlib
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from arena.agents.llm import LLMAgent, format_answer
from arena.agents.logits import window_logits
from arena.agents.random_agent import RandomAgent
from arena.core.errors import ArenaError

DEFAULT_ENVS = ("tictactoe-v0", "kuhn-poker-v0")


@dataclass
class Example:
    prompt_ids: list[int]
    target_ids: list[int]
    env_id: str


def _make_agent(env_id: str, kind: str, seed: int) -> Any:
    if kind == "random":
        return RandomAgent(seed=seed)
    if kind != "scripted":
        raise ArenaError(f"agents must be 'random' or 'scripted', got {kind!r}")
    import arena

    entry = arena.spec(env_id).agents.get("scripted")
    if entry:
        module, _, attr = entry.partition(":")
        try:
            return getattr(importlib.import_module(module), attr)(seed=seed)
        except (ImportError, AttributeError):
            pass
    return RandomAgent(seed=seed)


def collect_examples(
    backend: Any,
    env_ids: Sequence[str] = DEFAULT_ENVS,
    *,
    agents: str = "random",
    matches_per_env: int = 200,
    seed: int = 0,
    answer_format: str = "tags",
    think: str = "",
    max_steps: int = 500,
) -> list[Example]:
    """Play ``matches_per_env`` matches per game and return (prompt ids, reply ids) pairs of valid moves."""
    import arena

    eos = backend.tokenizer.eos_token_id
    examples: list[Example] = []
    for env_id in env_ids:
        env = arena.make(env_id)
        llm = LLMAgent(backend, env_id=env_id, answer_format=answer_format, think=think)
        for m in range(matches_per_env):
            players = {a: _make_agent(env_id, agents, seed + 1000 * m + i) for i, a in enumerate(env.possible_agents)}
            env.reset(seed=seed + m)
            for steps, seat in enumerate(env.agent_iter()):
                if steps >= max_steps:
                    break
                obs, _, term, trunc, info = env.last()
                if term or trunc:
                    env.step(None)
                    continue
                action = str(players[seat].act(obs, info))
                prompt = llm.build_prompt(obs, info)
                env.step(action)
                if "invalid_move" in env.infos.get(seat, {}):
                    continue
                target = backend.encode(format_answer(action, answer_format, think))
                if eos is not None:
                    target = [*target, int(eos)]
                examples.append(Example(backend.apply_chat(prompt), target, env_id))
    return examples


def train_examples(
    model: Any,
    examples: Sequence[Example],
    *,
    steps: int = 300,
    batch_size: int = 32,
    lr: float = 3e-3,
    weight_decay: float = 0.0,
    seed: int = 0,
    pad_id: int = 0,
    log: Callable[[str], None] | None = None,
    log_every: int = 50,
) -> list[float]:
    """Cross-entropy on reply tokens (AdamW, linear warmup then cosine decay). Returns the loss curve."""
    import torch

    if not examples:
        raise ArenaError("no warm-start examples were collected")
    rng = np.random.default_rng(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    warmup = max(1, steps // 20)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    model.train()
    losses: list[float] = []
    start = time.perf_counter()
    for step in range(steps):
        batch = [examples[int(i)] for i in rng.integers(len(examples), size=batch_size)]
        width = max(len(e.prompt_ids) + len(e.target_ids) for e in batch)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        labels = torch.full((len(batch), width), -100, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for r, e in enumerate(batch):
            seq = e.prompt_ids + e.target_ids
            ids[r, : len(seq)] = torch.tensor(seq)
            mask[r, : len(seq)] = 1
            labels[r, len(e.prompt_ids) : len(seq)] = torch.tensor(e.target_ids)
        lo = min(len(e.prompt_ids) for e in batch) - 1  # logits only where some reply token is predicted
        hi = width - 1
        logits = window_logits(model, ids, mask, lo, hi)
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), labels[:, lo + 1 : hi + 1].reshape(-1), ignore_index=-100
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if log and (step % log_every == 0 or step == steps - 1):
            log(f"step {step + 1}/{steps}  loss {np.mean(losses[-log_every:]):.4f}  {time.perf_counter() - start:.0f}s")
    model.eval()
    return losses


def warmstart(
    model_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] | None = None,
    *,
    env_ids: Sequence[str] = DEFAULT_ENVS,
    agents: str = "scripted",
    matches_per_env: int = 150,
    steps: int = 300,
    batch_size: int = 32,
    lr: float = 3e-3,
    seed: int = 0,
    think: str = "",
    log: Callable[[str], None] | None = None,
) -> Path:
    """Fine-tune the model in ``model_dir`` on scripted (or random, ``agents="random"``) play and save it to
    ``out_dir`` (default: overwrite ``model_dir``). Returns the output directory."""
    import torch

    from arena.agents.backends.transformers_backend import TransformersBackend

    backend = TransformersBackend(str(model_dir))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        t0 = time.perf_counter()
        examples = collect_examples(
            backend, env_ids, agents=agents, matches_per_env=matches_per_env, seed=seed, think=think
        )
        if log:
            lengths = [len(e.prompt_ids) + len(e.target_ids) for e in examples]
            log(
                f"{len(examples)} examples from {agents} play of {', '.join(env_ids)} "
                f"(mean {np.mean(lengths):.0f} tokens) in {time.perf_counter() - t0:.1f}s"
            )
        train_examples(
            backend.model,
            examples,
            steps=steps,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
            pad_id=int(backend.tokenizer.pad_token_id),
            log=log,
        )
    return backend.save(out_dir if out_dir is not None else model_dir)
