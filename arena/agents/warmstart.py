"""Behaviour-cloning warm start: teach a (tiny) model the answer format and legal moves of every game
before any RL.

Matches of every registered game (or the chosen ones) are played by random agents (uniform over the legal
moves, a random short message on free-text turns: the model learns the format and the legal moves and
nothing of strategy), by scripted agents (each game's registered ``"scripted"`` agent, falling back to
random where a game has none) or by both (``"mixed"``: each move is the scripted one or, half the time, a
random one, and the move played is the example's target; ``"mixed-expert"``: the same play, but every
example's target is the scripted agent's move in that position, whichever move was played, so the model
learns the expert's choices in the more varied positions random moves lead to, never the random moves;
noise injection as in DART, Laskey et al. 2017). :data:`AGENTS_PER_ENV` picks per game: mixed play where random play never makes the game's
structured moves (negotiation proposals) or keeps repeating itself (spy clues), random elsewhere. Every
valid decision becomes one supervised example: the prompt the :class:`~arena.agents.llm.LLMAgent` would
build for that observation (context budget included), and the target reply
``<think>{think}</think><answer>{action}</answer>`` followed by the end-of-turn token.

The loss is cross-entropy on the reply tokens plus ``legal_weight`` times the *legality term*: minus the
log of the probability that the model gives to the legal moves at each reply token where the legal replies
that agree with the target so far differ (the cell digit, the poker verb, each digit of ``player_12``, the
verb and the object of a household command). Cross-entropy toward one chosen move spreads its gradient
over every other move, legal or not; the legality term says directly that only illegal moves are wrong.
With ``mistake_rate`` a share of decisions first plays an illegal move, so the model also learns the retry
that follows the game's invalid-move warning. With ``observation_weight`` the loss also predicts the last
tokens of each prompt's observation (the board and the legal moves, before the answer instructions): a
model trained from scratch learns there to read which cells are taken; ``endgame_weight`` draws the
positions with one or two legal moves more often, and ``game_weights`` sets each game's share of the
batches. After the default schedule, a game whose legal moves were not learned (held-out legal mass under
:data:`TOPUP_BELOW`) gets top-up cycles in which it is drawn more often. Prompts that share a prefix (system
prompt, rules) run it once per batch (:func:`arena.agents.logits.completion_logits`).

Invalid-move rates and timings of each recipe are in ``docs/agents.md`` (``benchmarks/invalid_rate.py``).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from arena.agents.answers import format_answer
from arena.agents.backends.base import images_of
from arena.agents.captions import train_captions
from arena.agents.legal_mass import legal_mass
from arena.agents.llm import LLMAgent
from arena.agents.logits import completion_logits, image_completion_logits, pixel_values
from arena.agents.prompts import INSTRUCTIONS_START, answer_spec
from arena.agents.random_agent import RandomAgent
from arena.core.errors import ArenaError
from arena.core.options import integer_option, number_option, output_folder

#: Defaults of :func:`warmstart` (see docs/agents.md for how they were chosen).
#: Matches played per game, sized to a few thousand decisions each: Kuhn Poker's decisions repeat (a card
#: and a short betting history) so 300 matches cover them; a household or werewolf match holds dozens.
MATCHES_PER_ENV: dict[str, int] = {
    "tictactoe-v0": 1000,
    "kuhn-poker-v0": 300,
    "household-v0": 75,
    "negotiation-v0": 450,
    "public-goods-v0": 40,
    "sequential-public-goods-v0": 400,
    "spy-v0": 240,
    "visual-spy-v0": 240,
    "werewolf-v0": 120,
}
MATCHES = 200  # for games not in MATCHES_PER_ENV
#: Whose play each game imitates (see the module docstring); other games: random.
AGENTS_PER_ENV: dict[str, str] = {"negotiation-v0": "mixed", "spy-v0": "mixed", "visual-spy-v0": "mixed"}
#: Each game's share of the batches, relative to 1 for games not listed: TicTacToe's legal cells are the
#: hardest to read from the prompt; household's commands and werewolf's targets come from long lists in
#: long prompts; the contributions of the public-goods games are always all legal, the easiest.
GAME_WEIGHTS: dict[str, float] = {
    "tictactoe-v0": 5.0,
    "household-v0": 2.0,
    "werewolf-v0": 2.0,
    "public-goods-v0": 0.5,
    "sequential-public-goods-v0": 0.5,
}
BATCH_SIZE = 24
#: Optimizer steps per unit of game weight when ``steps`` is not given (1,820 for every game; measured:
#: docs/agents.md): each game's batches stay the same whichever games are warm-started together.
STEPS_PER_WEIGHT = 130
LEGAL_WEIGHT = 3.0
MISTAKE_RATE = 0.15
OBSERVATION_WEIGHT = 1.0
#: The observation's last tokens that the observation loss predicts: TicTacToe's board and legal moves, the
#: end of a Kuhn Poker history, a vote's candidates (the system prompt and the rules repeat in every prompt).
OBSERVATION_TOKENS = 64
ENDGAME_WEIGHT = 3.0
THREAT_WEIGHT = 1.0
#: Positions with at most this many legal moves count as end-game positions (in games that offer more).
ENDGAME_MOVES = 2
#: Held-out choice turns per game on which :func:`warmstart` measures each game's legal mass
#: (:mod:`arena.agents.legal_mass`), from matches seeded apart from the training matches.
HELDOUT_PER_GAME = 48
HELDOUT_SEED_OFFSET = 50_000
#: Top-ups after the default schedule (docs/agents.md): while a choice game's held-out legal mass is under
#: :data:`TOPUP_BELOW`, up to :data:`TOPUPS` more cycles of :data:`TOPUP_STEPS` steps on every game at
#: :data:`TOPUP_LR_SCALE` of the learning rate, the lagging games drawn :data:`TOPUP_BOOST` times as often
#: (top-ups on the lagging games alone made the others forget). Runs that learned their lists end at 0.98 or
#: more and get none; the one run measured to miss stopped with its votes at 0.80-0.91.
TOPUPS = 3
TOPUP_BELOW = 0.97
TOPUP_STEPS = 260
TOPUP_LR_SCALE = 0.3
TOPUP_BOOST = 3.0


def game_share(env_id: str, game_weights: Mapping[str, float] | None) -> float:
    """``env_id``'s share of the batches under ``game_weights`` (1 for a game not listed)."""
    return (game_weights or {}).get(env_id, 1.0)


def default_steps(env_ids: Sequence[str] | None = None, game_weights: Mapping[str, float] | None = GAME_WEIGHTS) -> int:
    """:data:`STEPS_PER_WEIGHT` times the summed weights of ``env_ids`` (default: every registered game)."""
    games = games_of(env_ids)
    return max(1, round(STEPS_PER_WEIGHT * sum(game_share(g, game_weights) for g in games)))


def registered_games() -> tuple[str, ...]:
    """Every registered game id: what :func:`warmstart` covers by default."""
    import arena

    return tuple(spec.id for spec in arena.list_envs())


def games_of(env_ids: Sequence[str] | None) -> Sequence[str]:
    """``env_ids``, or every registered game when it is None."""
    return env_ids if env_ids is not None else registered_games()


def matches_for(env_id: str, matches_per_env: int | Mapping[str, int]) -> int:
    """The matches ``env_id`` plays: ``matches_per_env`` itself, or its entry (:data:`MATCHES` when absent)."""
    return matches_per_env if isinstance(matches_per_env, int) else matches_per_env.get(env_id, MATCHES)


@dataclass
class Example:
    """One supervised decision. ``branches`` lists ``(k, legal_ids)``: the target token ``k`` at which the
    replies that agree with the target so far (legal ones and the match's no-longer-legal ones) differ, and
    the tokens the legal ones have there; the legality term puts probability mass on them. ``num_legal`` is
    the number of legal moves (0 on free-text turns); the observation term predicts the prompt tokens
    before ``observation_end`` (where the answer instructions begin; None: the prompt's end)."""

    prompt_ids: list[int]
    target_ids: list[int]
    env_id: str
    branches: list[tuple[int, list[int]]] = field(default_factory=list)
    num_legal: int = 0
    observation_end: int | None = None
    images: list[Any] = field(default_factory=list)  # the prompt's images (visual games), fed again in training
    threat: bool = False  # a move of this position wins or must block at once (THREATS)

    @property
    def observed(self) -> int:
        """Index one past the observation's last prompt token."""
        return len(self.prompt_ids) if self.observation_end is None else self.observation_end


def branch_points(
    target: Sequence[int], legal: Sequence[Sequence[int]], others: Sequence[Sequence[int]] = ()
) -> list[tuple[int, list[int]]]:
    """Where the reply ``target`` (one of ``legal``) is told apart from the other replies: each index
    ``k`` at which the replies that share ``target[:k]`` (``legal`` ones and ``others``, illegal replies
    such as the match's earlier moves) differ, with the distinct tokens the legal ones among them have
    there. A point where some legal reply sharing the prefix ends is skipped (no token says "stop here")."""
    target = list(target)
    legal_alive = [list(r) for r in legal]
    all_alive = legal_alive + [list(r) for r in others]
    points: list[tuple[int, list[int]]] = []
    for k, token in enumerate(target):
        if len(all_alive) < 2:
            break
        ended = any(len(r) <= k for r in legal_alive)
        if not ended and len({r[k] for r in all_alive if len(r) > k}) > 1:
            points.append((k, sorted({int(r[k]) for r in legal_alive})))
        legal_alive = [r for r in legal_alive if len(r) > k and r[k] == token]
        all_alive = [r for r in all_alive if len(r) > k and r[k] == token]
    return points


def _tictactoe_threat(env: Any) -> bool:
    """A line of the board holds two of one mark and an empty cell: a win to take or a block to make."""
    from arena.envs.tictactoe import completing_cells

    board = list(env.unwrapped.board)
    return bool(completing_cells(board, "X") or completing_cells(board, "O"))


def _household_take(env: Any) -> bool:
    """The object the task names can be taken here: the step an ALFWorld-like task hinges on (the model must
    match a name in the task line against the 1-8 listed ``take`` commands; the rest stand alone)."""
    world = env.unwrapped
    prefix = f"take {world.task.goal.obj} "
    return any(command.startswith(prefix) for command in world.legal_actions(world.agent_selection))


#: Per game, whether the position about to be played holds a *threat*: a decisive move that must be read from
#: the position (TicTacToe: a win to take or a block to make; household: the take of the task's object).
#: ``threat_weight`` draws those positions more often (the tactics a model must compute, not a cell preference).
THREATS: dict[str, Callable[[Any], bool]] = {"tictactoe-v0": _tictactoe_threat, "household-v0": _household_take}

AGENT_KINDS = ("scripted", "random", "mixed", "mixed-expert")


class _Mixed:
    """The scripted move or, with probability 1/2, a uniformly random legal one: the scripted agent's
    choices seen from the more varied positions that random moves lead to. ``expert_label``: the
    scripted move of the last ``act`` (the example's target in ``"mixed-expert"`` play), else None."""

    def __init__(self, scripted: Any, seed: int, *, label_with_expert: bool = False) -> None:
        self.scripted, self.random = scripted, RandomAgent(seed=seed + 7919)
        self.rng = np.random.default_rng(seed)
        self.label_with_expert = label_with_expert
        self.expert_label: str | None = None

    def act(self, observation: Any, info: Any) -> str:
        move = str(self.scripted.act(observation, info))  # always asked: a scripted agent may keep state
        self.expert_label = move if self.label_with_expert else None
        return str(self.random.act(observation, info)) if self.rng.random() < 0.5 else move


def scripted_factory(env_id: str, scripted: str = "scripted") -> Callable[..., Any]:
    """The constructor (``factory(seed=...)``) of ``env_id``'s registered agent ``scripted`` (such as spy's
    ``scripted-naive``); random play where the game registers no ``scripted`` agent. Resolved once per game."""
    import arena

    entries = arena.spec(env_id).agents
    if scripted != "scripted" and scripted not in entries:
        raise ArenaError(f"{env_id} has no agent {scripted!r}; it has {', '.join(sorted(entries)) or 'none'}")
    entry = entries.get(scripted)
    if entry:
        module, _, attr = entry.partition(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            pass
    return RandomAgent


def _make_agent(kind: str, seed: int, scripted: Callable[..., Any]) -> Any:
    """A player of ``kind`` (random, scripted, mixed or mixed-expert) whose scripted moves come from the
    agent that ``scripted`` (:func:`scripted_factory`) builds."""
    if kind == "random":
        return RandomAgent(seed=seed)
    if kind not in AGENT_KINDS:
        raise ArenaError(f"agents must be one of {', '.join(AGENT_KINDS)}, got {kind!r}")
    if kind in ("mixed", "mixed-expert"):
        return _Mixed(scripted(seed=seed), seed, label_with_expert=kind == "mixed-expert")
    return scripted(seed=seed)


def collect_examples(
    backend: Any,
    env_ids: Sequence[str] | None = None,
    *,
    agents: str | None = None,
    matches_per_env: int | Mapping[str, int] = 200,
    seed: int = 0,
    answer_format: str = "tags",
    think: str = "",
    max_steps: int = 500,
    mistake_rate: float = 0.0,
    env_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
    hide_legal: Sequence[str] = (),
    history_lines: Mapping[str, int | None] | None = None,
    blank_images: bool = False,
    scripted_agent: Mapping[str, str] | None = None,
) -> list[Example]:
    """Play ``matches_per_env`` matches per game (one number, or one per game id with :data:`MATCHES` for
    the others; every registered game when ``env_ids`` is None) and return (prompt ids, reply ids) pairs
    of valid moves. ``agents`` (random, scripted, mixed or mixed-expert) applies to every game; None takes
    :data:`AGENTS_PER_ENV`. A game's prompts are tokenized in one batch after its matches.

    With ``mistake_rate`` > 0, that fraction of decisions first plays an illegal move (one of the match's
    earlier legal actions that is no longer legal, such as an occupied cell), so the examples include the
    game's invalid-move warning and the correct retry that follows it: what a model sees after its own
    mistakes. ``env_kwargs`` gives a game's ``arena.make`` kwargs (the variant a trainer plays, such as
    negotiation's ``proposal_list``); in the games of ``hide_legal`` the prompts leave the legal list out
    (as the agent does with ``show_legal=False``); ``history_lines`` gives a game's history window (the
    agent's ``history_lines``); ``blank_images`` makes every prompt's image flat grey (the agent's option of
    that name, for the twin run that proves a policy reads its images); ``scripted_agent`` names, per game id,
    the registered agent that plays the scripted moves (default ``scripted``): spy's ``scripted-naive`` spy,
    which the scripted civilians can find, makes their votes worth imitating."""
    import arena

    rng = np.random.default_rng(seed)
    eos = backend.tokenizer.eos_token_id

    @functools.cache
    def reply_ids(action: str) -> tuple[int, ...]:
        ids = backend.encode(format_answer(action, answer_format, think))
        return (*ids, int(eos)) if eos is not None else tuple(ids)

    examples: list[Example] = []
    multimodal = bool(getattr(backend, "multimodal", False))
    for env_id in games_of(env_ids):
        env = arena.make(env_id, **(env_kwargs or {}).get(env_id, {}))
        kind = agents or AGENTS_PER_ENV.get(env_id, "random")
        scripted = scripted_factory(env_id, (scripted_agent or {}).get(env_id, "scripted"))
        threatened = THREATS.get(env_id)
        llm = LLMAgent(
            backend,
            env_id=env_id,
            answer_format=answer_format,
            think=think,
            show_legal=env_id not in hide_legal,
            history_lines=(history_lines or {}).get(env_id),
            blank_images=blank_images,
        )
        matches = matches_for(env_id, matches_per_env)
        prompts: list[Any] = []
        turns: list[tuple[Any, Any]] = []  # (observation, info) of each prompt, to refit an overlong one
        # each decision's target, branches, number of legal moves and threat flag
        decisions: list[tuple[list[int], list[tuple[int, list[int]]], int, bool]] = []
        for m in range(matches):
            players = {a: _make_agent(kind, seed + 1000 * m + i, scripted) for i, a in enumerate(env.possible_agents)}
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
                player = players[seat]
                action = str(player.act(obs, info))
                # mixed-expert play: the scripted move is the target whichever move is played (a move the
                # list does not hold, where there is one, teaches nothing and is left out)
                label = getattr(player, "expert_label", None) or action
                prompt = llm.build_prompt(obs, info, fit=False)  # fitted below, after one batched count
                threat = bool(threatened and threatened(env))
                env.step(action)
                if "invalid_move" in env.infos.get(seat, {}) or (label != action and legal and label not in legal):
                    continue
                action = label
                turn = answer_spec(info)  # a labelled choice (household's [3]) is answered by the label
                target = reply_ids(turn.reply_for(action))
                others = [] if turn.labels else [reply_ids(a) for a in illegal]
                # a legal move the list does not spell out (a tolerated form) gets no legality term
                branches = (
                    branch_points(target, [reply_ids(turn.reply_for(a)) for a in legal], others)
                    if action in legal
                    else []
                )
                prompts.append(prompt)
                turns.append((obs, info))
                decisions.append((list(target), branches, len(legal), threat))
        tokenized = _tokenize(backend, prompts)
        budget = llm.prompt_budget
        if budget is not None:  # the few prompts over the context budget: shortened as the agent would
            over = [k for k, (ids, _) in enumerate(tokenized) if len(ids) > budget]
            refit = _tokenize(backend, [llm.build_prompt(*turns[k]) for k in over])
            for k, item in zip(over, refit, strict=True):
                tokenized[k] = item
        for (ids, end), (target, branches, num_legal, threat), prompt in zip(
            tokenized, decisions, prompts, strict=True
        ):
            images = images_of(prompt) if multimodal else []  # a text-only model's prompts carry no image
            examples.append(Example(ids, target, env_id, branches, num_legal, end, images, threat))
    return examples


def _tokenize(backend: Any, prompts: Sequence[Any]) -> list[tuple[list[int], int | None]]:
    """Each prompt's ids exactly as ``backend.apply_chat`` gives them, in one tokenizer call where the
    backend offers one, with the index of the first token of the answer instructions (None where it
    cannot be told: then the observation term reads the prompt's last tokens)."""
    if not prompts:
        return []
    chat_text = getattr(backend, "chat_text", None)
    tokenizer = getattr(backend, "tokenizer", None)
    if chat_text is None or getattr(backend, "multimodal", False) or not getattr(tokenizer, "is_fast", False):
        many = getattr(backend, "apply_chat_many", None)
        ids = many(prompts) if many else [backend.apply_chat(p) for p in prompts]
        return [(list(i), None) for i in ids]
    texts = [chat_text(p) for p in prompts]
    encoded = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True)
    out: list[tuple[list[int], int | None]] = []
    for text, ids, offsets in zip(texts, encoded["input_ids"], encoded["offset_mapping"], strict=True):
        cut = text.rfind(INSTRUCTIONS_START)
        end = next((k for k, (start, _) in enumerate(offsets) if start >= cut), None) if cut >= 0 else None
        out.append((list(ids), end))
    return out


def sampling_weights(
    examples: Sequence[Example],
    endgame_weight: float,
    game_weights: Mapping[str, float] | None = None,
    threat_weight: float = 1.0,
) -> np.ndarray | None:
    """Probabilities of drawing each example into a batch. With several games, each game's share of the
    draws is proportional to its ``game_weights`` entry (1 when absent), whatever its number of examples;
    within a game, positions with at most ``ENDGAME_MOVES`` legal moves are ``endgame_weight`` times as
    likely, in games whose other positions offer more (TicTacToe's last cells, not every Kuhn Poker
    decision). ``None`` when every example is equally likely. Random play rarely reaches end games (7.5 %
    of TicTacToe examples), but every long self-play game does, and there a model that copies a familiar
    cell number has nothing legal left to stumble on. Positions that hold a threat (:data:`THREATS`: a win to
    take or a block to make) are ``threat_weight`` times as likely, on top of that."""
    most: dict[str, int] = {}
    for e in examples:
        most[e.env_id] = max(most.get(e.env_id, 0), e.num_legal)
    weights = np.array(
        [
            (endgame_weight if 0 < e.num_legal <= ENDGAME_MOVES < most[e.env_id] else 1.0)
            * (threat_weight if e.threat else 1.0)
            for e in examples
        ]
    )
    if len(most) > 1:
        mass: dict[str, float] = {}
        for e, w in zip(examples, weights, strict=True):
            mass[e.env_id] = mass.get(e.env_id, 0.0) + w
        share = {env: game_share(env, game_weights) for env in mass}
        weights = np.array([w * share[e.env_id] / mass[e.env_id] for e, w in zip(examples, weights, strict=True)])
    if np.allclose(weights, weights[0]):
        return None
    return weights / weights.sum()


def batch_sampler(
    examples: Sequence[Example], weights: np.ndarray | None, batch_size: int
) -> Callable[[np.random.Generator], list[int]]:
    """``draw(rng) -> example indices`` of one batch. With several games each batch comes from one game,
    drawn with its share of ``weights`` (examples within it by theirs): a batch of one game's prompts runs
    their shared prefix (system prompt, rules) once, where a mixed batch runs one prefix per game."""
    p = np.full(len(examples), 1.0 / len(examples)) if weights is None else np.asarray(weights, dtype=float)
    games: dict[str, list[int]] = {}
    for i, e in enumerate(examples):
        games.setdefault(e.env_id, []).append(i)
    rows = [np.array(idx) for idx in games.values()]
    mass = np.array([p[idx].sum() for idx in rows])
    within = [p[idx] / p[idx].sum() for idx in rows]

    def draw(rng: np.random.Generator) -> list[int]:
        g = int(rng.choice(len(rows), p=mass / mass.sum())) if len(rows) > 1 else 0
        return [int(i) for i in rng.choice(rows[g], size=batch_size, p=within[g])]

    return draw


def legality_loss(branch_logits: Any, legal_ids: Sequence[Sequence[int]]) -> Any:
    """Mean over rows of ``-log sum(softmax(branch_logits[i])[legal_ids[i]])``: zero when every row puts
    all its mass on legal tokens, whichever legal token that is."""
    import torch

    legal = torch.zeros(branch_logits.shape, dtype=torch.bool, device=branch_logits.device)
    for row, ids in enumerate(legal_ids):
        legal[row, list(ids)] = True
    logp = torch.log_softmax(branch_logits.float(), dim=-1)
    return -torch.logsumexp(logp.masked_fill(~legal, -math.inf), dim=-1).mean()


def warmup_cosine(steps: int, warmup: int) -> Callable[[int], float]:
    """The learning-rate factor of step ``step``: linear warmup over ``warmup`` steps, then cosine decay to 0 at
    ``steps``."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))

    return factor


def adamw_warmup_cosine(model: Any, lr: float, steps: int, warmup: int, weight_decay: float = 0.0) -> tuple[Any, ...]:
    """``(params, optimizer, scheduler)``: the model's trainable parameters, AdamW over them and its schedule
    (:func:`warmup_cosine`): the optimizer of the warm start and of synthetic pretraining
    (:mod:`arena.agents.pretrain`)."""
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    return params, opt, torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine(steps, warmup))


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
    game_weights: Mapping[str, float] | None = None,
    threat_weight: float = 1.0,
    processor: Any = None,
    on_step: Callable[[int], None] | None = None,
) -> list[float]:
    """Cross-entropy on reply tokens (AdamW, linear warmup then cosine decay). Returns the loss curve
    (cross-entropy only).

    ``legal_weight`` adds that multiple of the legality term: minus the log of the probability that the
    model gives, at each branch token, to the legal actions (``Example.branches``). Cross-entropy alone
    says which legal move to play; this term says directly that every illegal move is wrong.

    ``observation_weight`` adds that multiple of the cross-entropy on the last ``observation_tokens``
    tokens of each prompt's observation (the current state, before the answer instructions). A model
    trained from scratch has never read a board: predicting the legal-move list from the board, and the
    board from the history, teaches it to read which cells are taken, which the answer then needs.
    ``endgame_weight``, ``game_weights`` and ``threat_weight`` set how often examples are drawn
    (:func:`sampling_weights`).
    Examples with images (visual games) need ``processor``, the model's ``AutoProcessor``. ``on_step(step)``
    runs after each optimizer step (0-based), to watch held-out :func:`arena.agents.legal_mass.legal_mass`."""
    import torch

    if not examples:
        raise ArenaError("no warm-start examples were collected")
    rng = np.random.default_rng(seed)
    params, opt, sched = adamw_warmup_cosine(model, lr, steps, max(1, steps // 20), weight_decay)
    model.train()
    losses: list[float] = []
    start = time.perf_counter()
    draw = batch_sampler(examples, sampling_weights(examples, endgame_weight, game_weights, threat_weight), batch_size)
    for step in range(steps):
        batch = [examples[i] for i in draw(rng)]
        # The last `window[i]` tokens of the observation run as part of the completion, so that they get
        # logits too; so do the answer instructions after them. The reply starts at `offset[i]`.
        window = [max(0, min(observation_tokens, e.observed - 1)) if observation_weight else 0 for e in batch]
        cut = [e.observed - w if w else len(e.prompt_ids) for e, w in zip(batch, window, strict=True)]
        offset = [len(e.prompt_ids) - c for e, c in zip(batch, cut, strict=True)]
        heads = [e.prompt_ids[:c] for e, c in zip(batch, cut, strict=True)]
        tails = [e.prompt_ids[c:] + e.target_ids for e, c in zip(batch, cut, strict=True)]
        if any(e.images for e in batch):  # visual games: the images go in again, as generation saw them
            pixels = pixel_values([img for e in batch for img in e.images], processor)
            logits, targets, mask = image_completion_logits(model, heads, tails, pad_id, pixels)
        else:
            logits, targets, mask = completion_logits(model, heads, tails, pad_id)
        position = torch.arange(mask.shape[1], device=mask.device)[None]
        observed = position < torch.tensor(window, device=mask.device)[:, None]
        reply = mask & (position >= torch.tensor(offset, device=mask.device)[:, None])
        # per-position cross-entropy, then masked means: no boolean indexing of the [B, C, V] logits
        nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
        loss = (nll * reply).sum() / reply.sum()
        total = loss
        if observation_weight and observed.any():
            total = total + observation_weight * (nll * observed).sum() / observed.sum()
        points = [(r, offset[r] + k, ids) for r, e in enumerate(batch) for k, ids in e.branches]
        if legal_weight and points:
            branch_logits = logits[[p[0] for p in points], [p[1] for p in points]]
            total = total + legal_weight * legality_loss(branch_logits, [p[2] for p in points])
        opt.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(step)
        if log and (step % log_every == 0 or step == steps - 1):
            log(f"step {step + 1}/{steps}  loss {np.mean(losses[-log_every:]):.4f}  {time.perf_counter() - start:.0f}s")
    model.eval()
    return losses


def check_options(**options: Any) -> None:
    """Refuse out-of-range :func:`warmstart` options (its keyword arguments; one not given takes warmstart's
    default) with one :class:`ArenaError` naming the first, before any work: ``warmstart`` calls it, and so does a
    training config as it is read, so that a bad ``warmstart.lr`` fails before the model is built."""
    defaults = {
        name: p.default for name, p in inspect.signature(warmstart).parameters.items() if p.default is not p.empty
    }
    value = {**defaults, **options}
    # numbers first, each named (a zero batch size once failed only after the games were played)
    for name in ("restarts", "batch_size", "caption_batch_size"):
        integer_option(value[name], name, 1)
    for name in ("steps", "topups"):  # None: the default schedule, and its top-ups
        if value[name] is not None:
            integer_option(value[name], name, 0)
    for name in ("heldout_per_game", "caption_steps", "seed"):
        integer_option(value[name], name, 0)
    for name in ("legal_weight", "observation_weight"):
        number_option(value[name], name)
    for name in ("lr", "caption_lr", "endgame_weight", "threat_weight"):
        number_option(value[name], name, positive=True)
    rate = value["mistake_rate"]
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise ArenaError(f"mistake_rate must be between 0 and 1, got {rate!r}")
    matches = value["matches_per_env"]
    counts = matches.values() if isinstance(matches, Mapping) else [matches]
    if any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in counts):
        raise ArenaError(f"matches per game must be positive integers, got {matches!r}")
    if value["agents"] is not None and value["agents"] not in AGENT_KINDS:
        raise ArenaError(f"agents must be one of {', '.join(AGENT_KINDS)} (or null: per game), got {value['agents']!r}")
    weights = value["game_weights"]
    if weights is not None and (
        not isinstance(weights, Mapping)
        or not all(
            isinstance(w, int | float) and not isinstance(w, bool) and 0 <= w < math.inf for w in weights.values()
        )
    ):
        raise ArenaError(f"game_weights must map games to numbers >= 0, got {weights!r}")
    chosen = value["scripted_agent"]
    if chosen is not None and (
        not isinstance(chosen, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in chosen.items())
    ):
        raise ArenaError(
            f"scripted_agent must map games to agent names, e.g. {{spy-v0: scripted-naive}}, got {chosen!r}"
        )
    if not isinstance(value["think"], str):
        raise ArenaError(f"think must be text (the reasoning the targets open with), got {value['think']!r}")


def caption_pictures(env_kwargs: Mapping[str, Mapping[str, Any]] | None) -> tuple[str, int]:
    """The kind (``scene``) and side (``image_size``) of the pictures to caption: those of the first game
    whose kwargs set them, else visual spy's defaults (either kind, 336 pixels)."""
    kind, side = "mixed", 336
    for kwargs in (env_kwargs or {}).values():
        if "image_size" in kwargs or "scene" in kwargs:
            return str(kwargs.get("scene", kind)), int(kwargs.get("image_size", side))
    return kind, side


def warmstart(
    model_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] | None = None,
    *,
    env_ids: Sequence[str] | None = None,
    agents: str | None = None,
    matches_per_env: int | Mapping[str, int] = MATCHES_PER_ENV,
    steps: int | None = None,
    batch_size: int = BATCH_SIZE,
    lr: float = 3e-3,
    seed: int = 0,
    think: str = "",
    legal_weight: float = LEGAL_WEIGHT,
    mistake_rate: float = MISTAKE_RATE,
    observation_weight: float = OBSERVATION_WEIGHT,
    endgame_weight: float = ENDGAME_WEIGHT,
    threat_weight: float = THREAT_WEIGHT,
    game_weights: Mapping[str, float] | None = GAME_WEIGHTS,
    env_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
    hide_legal: Sequence[str] = (),
    history_lines: Mapping[str, int | None] | None = None,
    blank_images: bool = False,
    scripted_agent: Mapping[str, str] | None = None,
    caption_steps: int = 0,
    caption_lr: float = 1e-3,
    caption_batch_size: int = 16,
    restarts: int = 1,
    heldout_per_game: int = HELDOUT_PER_GAME,
    topups: int | None = None,
    device: str = "cpu",
    log: Callable[[str], None] | None = None,
    on_step: Callable[[int, Any], None] | None = None,
) -> Path:
    """Fine-tune the model in ``model_dir`` on play of ``env_ids`` (default: every registered game) by
    ``agents`` (random, scripted, mixed or mixed-expert; default per game, :data:`AGENTS_PER_ENV`) and save it to
    ``out_dir`` (default: overwrite ``model_dir``). Returns the output directory. ``env_kwargs``,
    ``hide_legal``, ``history_lines`` and ``scripted_agent`` as in :func:`collect_examples`; ``steps`` defaults to
    :func:`default_steps` of the games.

    ``caption_steps`` > 0 (vision-language models) first trains that many steps of captions of the visual
    games' pictures at ``caption_lr`` (:mod:`arena.agents.captions`): without them the model learns to ignore
    its image. ``blank_images`` greys every picture, captions included (a run's blank-image twin). ``restarts``
    splits the steps into that many cycles, each with a fresh optimizer, its own warmup and cosine decay and its
    own draws (``seed + cycle``): warm restarts (SGDR, Loshchilov & Hutter 2017). ``device``
    (``cpu``, ``cuda``, ``cuda:N``) is where the model trains; the saved weights are the same either way.

    ``heldout_per_game`` choice turns per game, from matches played apart from the training ones, measure each
    game's legal mass at the end (:func:`arena.agents.legal_mass.legal_mass`: the probability of a legal reply,
    teacher-forced), logged per game (0: not measured). While a game's mass is under :data:`TOPUP_BELOW`, up to
    ``topups`` top-up cycles follow (default: :data:`TOPUPS` after the default schedule, none when ``steps`` is
    given; :func:`topup_weights`). With neither a log nor top-ups nothing is measured. ``on_step(step, model)`` runs
    after each optimizer step (0-based, counted across cycles and top-ups), to watch the model as it trains
    (``scripts/warmstart_curve.py``)."""
    import torch

    from arena.agents.backends.transformers_backend import TransformersBackend

    check_options(
        agents=agents,
        matches_per_env=matches_per_env,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        think=think,
        legal_weight=legal_weight,
        mistake_rate=mistake_rate,
        observation_weight=observation_weight,
        endgame_weight=endgame_weight,
        threat_weight=threat_weight,
        caption_steps=caption_steps,
        caption_lr=caption_lr,
        caption_batch_size=caption_batch_size,
        restarts=restarts,
        game_weights=game_weights,
        heldout_per_game=heldout_per_game,
        topups=topups,
    )
    output_folder(out_dir, "out_dir")  # before the collection and the training, not when saving after them
    backend = TransformersBackend(str(model_dir), device=device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        t0 = time.perf_counter()
        play = {
            "agents": agents,
            "think": think,
            "mistake_rate": mistake_rate,
            "env_kwargs": env_kwargs,
            "hide_legal": hide_legal,
            "history_lines": history_lines,
            "blank_images": blank_images,
            "scripted_agent": scripted_agent,
        }
        examples = collect_examples(backend, env_ids, matches_per_env=matches_per_env, seed=seed, **play)
        if log:
            lengths = [len(e.prompt_ids) + len(e.target_ids) for e in examples]
            counts = {env: sum(e.env_id == env for e in examples) for env in dict.fromkeys(e.env_id for e in examples)}
            log(
                f"{len(examples)} examples ({', '.join(f'{env} {n}' for env, n in counts.items())}; "
                f"mean {np.mean(lengths):.0f} tokens) in {time.perf_counter() - t0:.1f}s"
            )
        if caption_steps:
            kind, side = caption_pictures(env_kwargs)
            train_captions(
                backend,
                steps=caption_steps,
                lr=caption_lr,
                batch_size=caption_batch_size,
                kind=kind,
                side=side,
                blank=blank_images,
                seed=seed,
                log=log,
            )
        pad_id = int(backend.tokenizer.pad_token_id)
        processor = getattr(backend, "processor", None)
        total = default_steps(env_ids, game_weights) if steps is None else steps
        max_topups = (TOPUPS if steps is None else 0) if topups is None else topups
        done = 0
        train = functools.partial(
            train_examples,
            backend.model,
            examples,
            batch_size=batch_size,
            pad_id=pad_id,
            log=log,
            legal_weight=legal_weight,
            observation_weight=observation_weight,
            endgame_weight=endgame_weight,
            threat_weight=threat_weight,
            processor=processor,
        )

        def watch(base: int) -> Callable[[int], None] | None:
            return None if on_step is None else lambda k: on_step(base + k, backend.model)

        for cycle in range(restarts):  # warm restarts: a fresh optimizer, warmup and cosine decay per cycle
            n = total // restarts + (cycle < total % restarts)
            train(steps=n, lr=lr, seed=seed + cycle, game_weights=game_weights, on_step=watch(done))
            done += n
        masses: dict[str, float] = {}
        if heldout_per_game and (log or max_topups):  # after training, which it cannot disturb
            heldout = heldout_examples(backend, env_ids, matches_per_env, heldout_per_game, seed, play)

            def measure() -> dict[str, float]:
                return legal_mass(backend.model, heldout, pad_id=pad_id, processor=processor, batch_size=batch_size)

            masses = measure()
            for k in range(max_topups):
                lagging = lagging_games(masses)
                if not lagging:
                    break
                if log:
                    log(
                        f"top-up {k + 1}/{max_topups} after step {done}, {', '.join(lagging)} drawn "
                        f"{TOPUP_BOOST:g} times as often: held-out legal mass {report(masses, sorted(masses))}"
                    )
                weights = topup_weights(games_of(env_ids), game_weights, lagging)
                train(
                    steps=TOPUP_STEPS,
                    lr=lr * TOPUP_LR_SCALE,
                    seed=seed + restarts + k,
                    game_weights=weights,
                    on_step=watch(done),
                )
                done += TOPUP_STEPS
                masses = measure()
    path = backend.save(out_dir if out_dir is not None else model_dir)
    if masses and log:  # none where every game is free text
        log(
            "held-out legal mass (the probability of a legal reply at choice turns, docs/agents.md): "
            + report(masses, sorted(masses))
        )
        lagging = lagging_games(masses)
        if max_topups and lagging:
            log(
                f"warning: {', '.join(lagging)} still under {TOPUP_BELOW} after {max_topups} top-up(s): expect invalid "
                "moves there; more top-ups (--topups) or another seed may learn them (docs/agents.md)"
            )
    return path


def lagging_games(masses: Mapping[str, float]) -> list[str]:
    """The games whose held-out legal mass is under :data:`TOPUP_BELOW`, sorted: those a top-up boosts."""
    return sorted(env for env, m in masses.items() if m < TOPUP_BELOW)


def report(masses: Mapping[str, float], games: Sequence[str]) -> str:
    """``games``' legal masses, as the warm start logs them: ``env 0.987, ...``."""
    return ", ".join(f"{env} {masses[env]:.3f}" for env in games)


def topup_weights(
    env_ids: Sequence[str], game_weights: Mapping[str, float] | None, lagging: Sequence[str]
) -> dict[str, float]:
    """Each game's share of a top-up's batches: its usual share (:func:`game_share`), :data:`TOPUP_BOOST` times
    that for the ``lagging`` games. Every game stays in: top-ups on the lagging games alone made the others
    forget theirs (Kuhn Poker 0.993 -> 0.045, docs/agents.md)."""
    return {g: game_share(g, game_weights) * (TOPUP_BOOST if g in lagging else 1.0) for g in env_ids}


def heldout_examples(
    backend: Any,
    env_ids: Sequence[str] | None,
    matches_per_env: int | Mapping[str, int],
    per_game: int,
    seed: int,
    play: Mapping[str, Any],
) -> list[Example]:
    """Up to ``per_game`` choice turns (examples with branch points) of each game, drawn (seeded by ``seed``)
    from a tenth as many matches as it trains on (at least 4), played with seeds :data:`HELDOUT_SEED_OFFSET`
    apart from the training matches' and otherwise as they are (``play``: :func:`collect_examples`' options)."""
    games = games_of(env_ids)
    rows = collect_examples(
        backend,
        games,
        matches_per_env={g: max(4, matches_for(g, matches_per_env) // 10) for g in games},
        seed=seed + HELDOUT_SEED_OFFSET,
        **play,
    )
    rng = np.random.default_rng(seed)
    picked: list[Example] = []
    for g in games:
        choices = [e for e in rows if e.env_id == g and e.branches]
        picked += [choices[int(i)] for i in rng.permutation(len(choices))[:per_game]]
    return picked
