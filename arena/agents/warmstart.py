"""Behaviour-cloning warm start: teach a (tiny) model the answer format and legal moves before any RL.

Matches of the chosen games are played by scripted agents (``agents="scripted"``, each game's registered
``"scripted"`` agent, falling back to random where a game has none), by random agents (``"random"``:
uniform over the legal moves, so the model learns the format and the legal moves and nothing of strategy)
or by both (``"mixed"``: each move is the scripted one or, half the time, a random one). Every valid
decision becomes one supervised example: the prompt the :class:`~arena.agents.llm.LLMAgent` would build
for that observation, and the target reply ``<think>{think}</think><answer>{action}</answer>`` followed
by the end-of-turn token.

The loss is cross-entropy on the reply tokens plus ``legal_weight`` times the *legality term*: minus the
log of the probability that the model gives to the legal moves at the one reply token where they differ
(the cell digit, the poker verb). Cross-entropy toward one chosen move spreads its gradient over every
other move, legal or not; the legality term says directly that only illegal moves are wrong. With
``mistake_rate`` a share of decisions first plays an illegal move, so the model also learns the retry
that follows the game's invalid-move warning. With ``observation_weight`` the loss also predicts each
prompt's last tokens (the board and the legal moves): a model trained from scratch learns there to read
which cells are taken; ``endgame_weight`` draws the positions with one or two legal moves more often.
Prompts that share a prefix (system prompt, rules) run it once per batch
(:func:`arena.agents.logits.completion_logits`).

Invalid-move rates and timings of each recipe are in ``docs/agents.md`` (``benchmarks/invalid_rate.py``).
"""

from __future__ import annotations

import functools
import importlib
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from arena.agents.llm import LLMAgent, format_answer
from arena.agents.logits import completion_logits
from arena.agents.random_agent import RandomAgent
from arena.core.errors import ArenaError

DEFAULT_ENVS = ("tictactoe-v0", "kuhn-poker-v0")
#: Defaults of :func:`warmstart` (see docs/agents.md for how they were chosen).
#: Matches played per game: Kuhn Poker's decisions repeat (a card and a short betting history), so 300
#: matches cover them, and the batches' rows go to TicTacToe's thousands of positions instead.
MATCHES_PER_ENV: dict[str, int] = {"tictactoe-v0": 1000, "kuhn-poker-v0": 300}
MATCHES = 1000  # for games not in MATCHES_PER_ENV
BATCH_SIZE = 24
STEPS = 400
LEGAL_WEIGHT = 3.0
MISTAKE_RATE = 0.15
OBSERVATION_WEIGHT = 1.0
#: The prompt's last tokens that the observation loss predicts: TicTacToe's board and legal moves, the
#: end of a Kuhn Poker history (the system prompt and the rules are the same in every prompt).
OBSERVATION_TOKENS = 64
ENDGAME_WEIGHT = 3.0
#: Positions with at most this many legal moves count as end-game positions (in games that offer more).
ENDGAME_MOVES = 2


@dataclass
class Example:
    """One supervised decision. ``branch`` is the index of the first target token at which the replies of
    the legal actions and of the match's no-longer-legal ones differ, and ``legal_ids`` the tokens that
    the legal replies have there (empty when nothing is told apart): the legality term of the loss puts
    probability mass on them."""

    prompt_ids: list[int]
    target_ids: list[int]
    env_id: str
    branch: int = 0
    legal_ids: list[int] = field(default_factory=list)


def branch_tokens(legal: Sequence[Sequence[int]], others: Sequence[Sequence[int]] = ()) -> tuple[int, list[int]]:
    """The first index at which the token sequences ``legal`` and ``others`` (illegal replies, e.g. the
    match's earlier moves) differ, and the distinct tokens that the ``legal`` ones have there. ``(k, [])``
    when there is nothing to tell apart or when some legal reply ends before index ``k``."""
    replies = [*legal, *others]
    k = 0
    while all(len(r) > k for r in replies) and len({r[k] for r in replies}) == 1:
        k += 1
    if not legal or len(replies) < 2 or any(len(r) <= k for r in legal):
        return k, []
    return k, sorted({int(r[k]) for r in legal})


AGENT_KINDS = ("scripted", "random", "mixed")


class _Mixed:
    """The scripted move or, with probability 1/2, a uniformly random legal one: the scripted agent's
    choices seen from the more varied positions that random moves lead to."""

    def __init__(self, scripted: Any, seed: int) -> None:
        self.scripted, self.random = scripted, RandomAgent(seed=seed + 7919)
        self.rng = np.random.default_rng(seed)

    def act(self, observation: Any, info: Any) -> str:
        move = str(self.scripted.act(observation, info))  # always asked: a scripted agent may keep state
        return str(self.random.act(observation, info)) if self.rng.random() < 0.5 else move


def _make_agent(env_id: str, kind: str, seed: int) -> Any:
    if kind == "random":
        return RandomAgent(seed=seed)
    if kind not in AGENT_KINDS:
        raise ArenaError(f"agents must be one of {', '.join(AGENT_KINDS)}, got {kind!r}")
    if kind == "mixed":
        return _Mixed(_make_agent(env_id, "scripted", seed), seed)
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
    matches_per_env: int | Mapping[str, int] = 200,
    seed: int = 0,
    answer_format: str = "tags",
    think: str = "",
    max_steps: int = 500,
    mistake_rate: float = 0.0,
    env_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
    hide_legal: Sequence[str] = (),
) -> list[Example]:
    """Play ``matches_per_env`` matches per game (one number, or one per game id with :data:`MATCHES` for
    the others) and return (prompt ids, reply ids) pairs of valid moves. A game's prompts are tokenized
    in one batch after its matches (the tokenizer's batch call runs on every core).

    With ``mistake_rate`` > 0, that fraction of decisions first plays an illegal move (one of the match's
    earlier legal actions that is no longer legal, such as an occupied cell), so the examples include the
    game's invalid-move warning and the correct retry that follows it: what a model sees after its own
    mistakes. ``env_kwargs`` gives a game's ``arena.make`` kwargs (the variant a trainer plays, such as
    negotiation's ``proposal_list``); in the games of ``hide_legal`` the prompts leave the legal list out
    (as the agent does with ``show_legal=False``)."""
    import arena

    rng = np.random.default_rng(seed)
    eos = backend.tokenizer.eos_token_id

    @functools.cache
    def reply_ids(action: str) -> list[int]:
        ids = backend.encode(format_answer(action, answer_format, think))
        return [*ids, int(eos)] if eos is not None else ids

    examples: list[Example] = []
    for env_id in env_ids:
        env = arena.make(env_id, **(env_kwargs or {}).get(env_id, {}))
        llm = LLMAgent(
            backend, env_id=env_id, answer_format=answer_format, think=think, show_legal=env_id not in hide_legal
        )
        matches = matches_per_env if isinstance(matches_per_env, int) else matches_per_env.get(env_id, MATCHES)
        prompts: list[Any] = []
        decisions: list[tuple[list[int], int, list[int]]] = []  # target, branch, legal ids
        for m in range(matches):
            players = {a: _make_agent(env_id, agents, seed + 1000 * m + i) for i, a in enumerate(env.possible_agents)}
            env.reset(seed=seed + m)
            seen: set[str] = set()  # every action that was legal at some point of this match
            erred = None  # the seat whose retry comes next
            for steps, seat in enumerate(env.agent_iter()):
                if steps >= max_steps:
                    break
                obs, _, term, trunc, info = env.last()
                if term or trunc:
                    env.step(None)
                    continue
                legal = [str(a) for a in info.get("legal_actions") or ()]
                seen.update(legal)
                illegal = sorted(seen.difference(legal))
                if mistake_rate and seat != erred and illegal and rng.random() < mistake_rate:
                    env.step(illegal[int(rng.integers(len(illegal)))])
                    erred = seat
                    continue
                erred = None
                action = str(players[seat].act(obs, info))
                prompt = llm.build_prompt(obs, info)
                env.step(action)
                if "invalid_move" in env.infos.get(seat, {}):
                    continue
                target = reply_ids(action)
                branch, legal_ids = branch_tokens([reply_ids(a) for a in legal], [reply_ids(a) for a in illegal])
                if branch >= len(target) or target[branch] not in legal_ids:
                    branch, legal_ids = 0, []  # a legal action the list does not spell out: no legality term
                prompts.append(prompt)
                decisions.append((target, branch, legal_ids))
        for ids, (target, branch, legal_ids) in zip(_prompt_ids(backend, prompts), decisions, strict=True):
            examples.append(Example(ids, target, env_id, branch, legal_ids))
    return examples


def _prompt_ids(backend: Any, prompts: Sequence[Any]) -> list[list[int]]:
    """``backend.apply_chat`` of every prompt, in one tokenizer call where the backend offers one."""
    many = getattr(backend, "apply_chat_many", None)
    return many(prompts) if many else [backend.apply_chat(p) for p in prompts]


def sampling_weights(examples: Sequence[Example], endgame_weight: float) -> np.ndarray | None:
    """Probabilities of drawing each example into a batch: ``endgame_weight`` times more for positions with at
    most ``ENDGAME_MOVES`` legal moves, in games whose other positions offer more (TicTacToe's last cells,
    not every Kuhn Poker decision). ``None`` when every example is equally likely. Random play rarely
    reaches them (7.5 % of TicTacToe examples), but every long self-play game does, and there a model
    that copies a familiar cell number has nothing legal left to stumble on."""
    most: dict[str, int] = {}
    for e in examples:
        most[e.env_id] = max(most.get(e.env_id, 0), len(e.legal_ids))
    weights = np.array(
        [endgame_weight if 0 < len(e.legal_ids) <= ENDGAME_MOVES < most[e.env_id] else 1.0 for e in examples]
    )
    if np.all(weights == 1.0):
        return None
    return weights / weights.sum()


def legality_loss(branch_logits: Any, legal_ids: Sequence[Sequence[int]]) -> Any:
    """Mean over rows of ``-log sum(softmax(branch_logits[i])[legal_ids[i]])``: zero when every row puts
    all its mass on legal tokens, whichever legal token that is."""
    import torch

    legal = torch.zeros(branch_logits.shape, dtype=torch.bool, device=branch_logits.device)
    for row, ids in enumerate(legal_ids):
        legal[row, list(ids)] = True
    logp = torch.log_softmax(branch_logits.float(), dim=-1)
    return -torch.logsumexp(logp.masked_fill(~legal, -math.inf), dim=-1).mean()


def train_examples(
    model: Any,
    examples: Sequence[Example],
    *,
    steps: int = 300,
    batch_size: int = BATCH_SIZE,
    lr: float = 3e-3,
    weight_decay: float = 0.0,
    seed: int = 0,
    pad_id: int = 0,
    log: Callable[[str], None] | None = None,
    log_every: int = 50,
    legal_weight: float = 0.0,
    observation_weight: float = 0.0,
    observation_tokens: int = OBSERVATION_TOKENS,
    endgame_weight: float = 1.0,
) -> list[float]:
    """Cross-entropy on reply tokens (AdamW, linear warmup then cosine decay). Returns the loss curve
    (cross-entropy only).

    ``legal_weight`` adds that multiple of the legality term: minus the log of the probability that the
    model gives, at the branch token, to any legal action (``Example.legal_ids``). Cross-entropy alone
    says which legal move to play; this term says directly that every illegal move is wrong.

    ``observation_weight`` adds that multiple of the cross-entropy on each prompt's last
    ``observation_tokens`` tokens (the current state). A model trained from scratch has never read a
    board: predicting the legal-move list from the board, and the board from the history, teaches it to
    read which cells are taken, which the answer then needs. ``endgame_weight`` draws end-game positions
    that many times more often (:func:`sampling_weights`)."""
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
    weights = sampling_weights(examples, endgame_weight)
    for step in range(steps):
        drawn = (
            rng.integers(len(examples), size=batch_size)
            if weights is None
            else rng.choice(len(examples), size=batch_size, p=weights)
        )
        batch = [examples[int(i)] for i in drawn]
        # the last `tail[i]` prompt tokens run as part of the completion, so that they get logits too
        tail = [max(0, min(observation_tokens, len(e.prompt_ids) - 1)) if observation_weight else 0 for e in batch]
        logits, targets, mask = completion_logits(
            model,
            [e.prompt_ids[: len(e.prompt_ids) - k] for e, k in zip(batch, tail, strict=True)],
            [e.prompt_ids[len(e.prompt_ids) - k :] + e.target_ids for e, k in zip(batch, tail, strict=True)],
            pad_id,
        )
        observed = (
            torch.arange(mask.shape[1], device=mask.device)[None] < torch.tensor(tail, device=mask.device)[:, None]
        )
        # per-position cross-entropy, then masked means: no boolean indexing of the [B, C, V] logits
        nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
        reply = mask & ~observed
        loss = (nll * reply).sum() / reply.sum()
        total = loss
        if observation_weight and observed.any():
            total = total + observation_weight * (nll * observed).sum() / observed.sum()
        choices = [r for r, e in enumerate(batch) if e.legal_ids]
        if legal_weight and choices:
            branch_logits = logits[choices, [tail[r] + batch[r].branch for r in choices]]
            total = total + legal_weight * legality_loss(branch_logits, [batch[r].legal_ids for r in choices])
        opt.zero_grad(set_to_none=True)
        total.backward()
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
    agents: str = "random",
    matches_per_env: int | Mapping[str, int] = MATCHES_PER_ENV,
    steps: int = STEPS,
    batch_size: int = BATCH_SIZE,
    lr: float = 3e-3,
    seed: int = 0,
    think: str = "",
    legal_weight: float = LEGAL_WEIGHT,
    mistake_rate: float = MISTAKE_RATE,
    observation_weight: float = OBSERVATION_WEIGHT,
    endgame_weight: float = ENDGAME_WEIGHT,
    env_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
    hide_legal: Sequence[str] = (),
    log: Callable[[str], None] | None = None,
) -> Path:
    """Fine-tune the model in ``model_dir`` on ``agents`` play (random, scripted or mixed) and save it to
    ``out_dir`` (default: overwrite ``model_dir``). Returns the output directory. ``env_kwargs`` and
    ``hide_legal`` as in :func:`collect_examples`."""
    import torch

    from arena.agents.backends.transformers_backend import TransformersBackend

    backend = TransformersBackend(str(model_dir))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        t0 = time.perf_counter()
        examples = collect_examples(
            backend,
            env_ids,
            agents=agents,
            matches_per_env=matches_per_env,
            seed=seed,
            think=think,
            mistake_rate=mistake_rate,
            env_kwargs=env_kwargs,
            hide_legal=hide_legal,
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
            legal_weight=legal_weight,
            observation_weight=observation_weight,
            endgame_weight=endgame_weight,
        )
    return backend.save(out_dir if out_dir is not None else model_dir)
