"""Invalid moves and well-formed answers of a (warm-started) model with unconstrained generation, per game.

    python benchmarks/invalid_rate.py                    # builds + warm-starts a tiny model first
    python benchmarks/invalid_rate.py --model models/tiny-ws --turns 400
    python benchmarks/invalid_rate.py --model models/tiny-ws --envs tictactoe-v0 --details
    python benchmarks/invalid_rate.py --model runs/cpu-household/warmstart --train-preset cpu-household

Every seat is played by the LLM agent (sampling at temperature 1, no constraint to legal actions, the
game's default ``max_new_tokens``); every LLM decision counts as a turn. Turns with a legal list
(``choice``) count as invalid when the game rejected the move (a reply without a closed answer included);
target below 5 %. Free-text turns (``text`` and ``structured``) count as well formed when the reply has a
closed answer (``arena.agents.answers``) that is not empty and within the turn's ``max_chars``, and, for
structured turns, that the game accepted; target above 95 %. The ``closed`` column counts the first part
alone (a closed, non-empty answer within the length limit, whatever the game then made of it: issue 17's
"a closed answer tag"), so a well-formed proposal the game refused (keeping more books than there are)
counts there and not in ``formed``. With ``--train-preset`` the games are played
as that training preset plays them (its games, their settings, its history window and hidden legal lists),
so that a preset's own warm-started model is measured where it was trained; still unconstrained.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

#: Matches played at once (one batched generate call per tick).
CONCURRENT = 32


@dataclass
class Tally:
    """One game's counts."""

    env_id: str
    choice: int = 0
    invalid: int = 0
    text: int = 0
    well_formed: int = 0
    closed: int = 0  # free-text turns with a closed, non-empty answer within max_chars (accepted or not)
    seconds: float = 0.0
    records: list[Any] = field(default_factory=list)

    def row(self) -> str:
        invalid = f"{self.invalid / self.choice:.1%}" if self.choice else "-"
        formed = f"{self.well_formed / self.text:.1%}" if self.text else "-"
        closed = f"{self.closed / self.text:.1%}" if self.text else "-"
        ok = (not self.choice or self.invalid / self.choice < 0.05) and (
            not self.text or self.well_formed / self.text > 0.95
        )
        return (
            f"{self.env_id:<28}{self.choice:>8}{self.invalid:>9}{invalid:>9}{self.text:>8}{self.well_formed:>8}"
            f"{formed:>9}{closed:>9}{self.seconds:>9.0f}  {'yes' if ok else 'NO'}"
        )


HEADER = f"{'game':<28}{'choice':>8}{'invalid':>9}{'rate':>9}{'text':>8}{'formed':>8}{'rate':>9}{'closed':>9}{'seconds':>9}  target"


def closed_answer(turn: Any) -> bool:
    """A free-text turn's reply has a closed, non-empty answer within ``max_chars`` (the game may still refuse it)."""
    from arena.agents.prompts import answer_spec
    from arena.core import InvalidReply

    action = turn.trace.action
    if isinstance(action, InvalidReply) or not action.strip():
        return False
    spec = answer_spec(turn.info)
    return spec.max_chars is None or len(action) <= spec.max_chars


def well_formed(turn: Any, closed: bool | None = None) -> bool:
    """A free-text turn's reply: a closed, non-empty answer within ``max_chars`` (structured: accepted).
    ``closed``: :func:`closed_answer` of the turn when the caller has it already."""
    from arena.agents.prompts import answer_spec

    if not (closed_answer(turn) if closed is None else closed):
        return False
    return answer_spec(turn.info).kind != "structured" or turn.invalid is None


def measure(
    backend: Any,
    env_id: str,
    min_turns: int,
    temperature: float,
    seed: int,
    config: Any | None = None,
    env_kwargs: dict[str, Any] | None = None,
) -> Tally:
    """Play enough concurrent matches of ``env_id`` to reach ``min_turns`` LLM turns; count them. ``config``
    (a :class:`~arena.trainers.config.TrainConfig`): the game's settings, history window and hidden legal
    list as that training run has them; ``env_kwargs`` (``arena.make`` kwargs) override the game's settings."""
    import arena
    from arena.agents.backends.base import SamplingParams
    from arena.agents.llm import LLMAgent
    from arena.agents.prompts import answer_spec, default_max_new_tokens
    from arena.agents.scheduler import play_many

    sampling = SamplingParams(temperature=temperature, max_new_tokens=default_max_new_tokens(env_id), seed=seed)
    agent = LLMAgent(
        backend,
        env_id=env_id,
        sampling=sampling,
        show_legal=config is None or env_id not in config.hide_legal,
        history_lines=None if config is None else config.history_lines_for(env_id),
    )
    kwargs = {**({} if config is None else config.env_kwargs(env_id)), **(env_kwargs or {})}
    tally = Tally(env_id)
    start = time.perf_counter()
    batch = 0
    while tally.choice + tally.text < min_turns:
        matches = []
        for m in range(CONCURRENT):
            env = arena.make(env_id, **kwargs)
            matches.append((env, {s: agent for s in env.possible_agents}, seed + 1000 * batch + m))
        for outcome in play_many(matches, traced=False):
            for turn in outcome.turns:
                if answer_spec(turn.info).kind == "choice":
                    tally.choice += 1
                    tally.invalid += turn.invalid is not None
                else:
                    tally.text += 1
                    closed = closed_answer(turn)
                    tally.closed += closed
                    tally.well_formed += well_formed(turn, closed)
            tally.records.extend(outcome.turns)
        batch += 1
    tally.seconds = time.perf_counter() - start
    return tally


def print_details(records: list[Any], top: int = 8) -> None:
    """Invalid turns split into first attempts and retries after the game's warning, by the number of legal
    moves, and the most frequent invalid replies with the legal moves they missed."""
    by_kind: Counter[str] = Counter()
    by_legal: Counter[tuple[int, bool]] = Counter()
    replies: Counter[tuple[str, str, tuple[str, ...]]] = Counter()
    for t in records:
        kind = "retry" if "invalid_move" in t.info else "first"
        legal = tuple(str(a) for a in t.info.get("legal_actions") or ())
        bad = t.invalid is not None
        by_kind[kind] += 1
        by_kind[kind + " invalid"] += bad
        by_legal[(len(legal), bad)] += 1
        if bad:
            replies[(kind, t.trace.text if t.trace else "", legal[:12])] += 1
    print(
        f"  first attempts {by_kind['first invalid']}/{by_kind['first']} invalid, "
        f"retries after a warning {by_kind['retry invalid']}/{by_kind['retry']}"
    )
    counts = sorted({n for n, _ in by_legal})
    print(
        "  by legal moves: "
        + ", ".join(f"{n}: {by_legal[(n, True)]}/{by_legal[(n, True)] + by_legal[(n, False)]}" for n in counts)
    )
    for (kind, text, legal), count in replies.most_common(top):
        print(f"  {count:>3} x {kind:<5} {text[-60:]!r}  legal: {' '.join(legal)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="model directory (default: build and warm-start a tiny model)")
    parser.add_argument("--turns", type=int, default=200, help="minimum LLM turns per game")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--envs", action="append", help="game ids (repeatable; default: every registered game)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a shared CPU)")
    parser.add_argument("--details", action="store_true", help="also print where the invalid moves are")
    parser.add_argument(
        "--train-preset",
        help="play the games as this training preset does (its games and their settings, history window, "
        "hidden legal lists; still unconstrained)",
    )
    parser.add_argument(
        "--env-kwargs",
        type=json.loads,
        default={},
        help='arena.make kwargs per game, as JSON: \'{"household-v0": {"numbered": false}}\'',
    )
    args = parser.parse_args()
    if not isinstance(args.env_kwargs, dict) or not all(isinstance(v, dict) for v in args.env_kwargs.values()):
        parser.error("--env-kwargs must map game ids to objects of kwargs")
    config = None
    if args.train_preset:
        from arena.trainers.config import load_config

        config = load_config(args.train_preset)
        for env_id in args.envs or []:  # before a model is loaded or warm-started (that can take an hour)
            if env_id not in config.envs:
                parser.error(f"--train-preset {args.train_preset} does not play {env_id}")
    import torch

    import arena
    from arena.agents.backends.transformers_backend import TransformersBackend

    torch.set_num_threads(args.threads)
    model = args.model
    if model is None:
        from arena.agents.tiny import build_tiny_model
        from arena.agents.warmstart import warmstart

        model = str(build_tiny_model(tempfile.mkdtemp(prefix="arena-ws-")))
        start = time.perf_counter()
        warmstart(model, log=print)
        print(f"warm start took {time.perf_counter() - start:.0f}s")
    backend = TransformersBackend(model)
    print(HEADER)
    default_envs = list(config.envs) if config is not None else [spec.id for spec in arena.list_envs()]
    for env_id in args.envs or default_envs:
        tally = measure(backend, env_id, args.turns, args.temperature, args.seed, config, args.env_kwargs.get(env_id))
        print(tally.row(), flush=True)
        if args.details:
            print_details(tally.records)


if __name__ == "__main__":
    main()
