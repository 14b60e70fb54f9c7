"""Invalid-move rate of a (warm-started) model with unconstrained generation on TicTacToe and Kuhn Poker.

    python benchmarks/invalid_rate.py                    # builds + warm-starts a tiny model first (~6-9 min)
    python benchmarks/invalid_rate.py --model models/tiny-ws --turns 400
    python benchmarks/invalid_rate.py --model models/tiny-ws --details   # + where the invalid moves are

Both seats are played by the LLM agent (sampling at temperature 1, no constraint to legal actions); every
LLM decision counts as a turn, an invalid one is a move the game rejected. Target: below 5 %.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def measure(
    model_dir: str, env_id: str, min_turns: int, temperature: float, seed: int
) -> tuple[int, int, float, list[Any]]:
    """(turns, invalid turns, seconds, the turn records) over enough concurrent matches to reach ``min_turns``."""
    import arena
    from arena.agents.backends.base import SamplingParams
    from arena.agents.backends.transformers_backend import TransformersBackend
    from arena.agents.llm import LLMAgent
    from arena.agents.scheduler import play_many

    backend = TransformersBackend(model_dir)
    agent = LLMAgent(
        backend, env_id=env_id, sampling=SamplingParams(temperature=temperature, max_new_tokens=24, seed=seed)
    )
    turns = invalid = 0
    records: list[Any] = []
    start = time.perf_counter()
    batch = 0
    while turns < min_turns:
        matches = []
        for m in range(32):
            env = arena.make(env_id)
            matches.append((env, {s: agent for s in env.possible_agents}, seed + 1000 * batch + m))
        for outcome in play_many(matches, traced=False):
            turns += len(outcome.turns)
            invalid += sum(t.invalid is not None for t in outcome.turns)
            records.extend(outcome.turns)
        batch += 1
    return turns, invalid, time.perf_counter() - start, records


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
            replies[(kind, t.trace.text if t.trace else "", legal)] += 1
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
        print(f"  {count:>3} x {kind:<5} {text[-40:]!r}  legal: {' '.join(legal)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="model directory (default: build and warm-start a tiny model)")
    parser.add_argument("--turns", type=int, default=200, help="minimum LLM turns per game")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a shared CPU)")
    parser.add_argument("--details", action="store_true", help="also print where the invalid moves are")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    model = args.model
    if model is None:
        from arena.agents.tiny import build_tiny_model
        from arena.agents.warmstart import warmstart

        model = str(build_tiny_model(tempfile.mkdtemp(prefix="arena-ws-")))
        start = time.perf_counter()
        warmstart(model, log=print)
        print(f"warm start took {time.perf_counter() - start:.0f}s")
    print(f"{'game':<16}{'turns':>7}{'invalid':>9}{'rate':>8}{'seconds':>9}")
    for env_id in ("tictactoe-v0", "kuhn-poker-v0"):
        turns, invalid, seconds, records = measure(model, env_id, args.turns, args.temperature, args.seed)
        print(f"{env_id:<16}{turns:>7}{invalid:>9}{invalid / turns:>8.1%}{seconds:>9.1f}")
        if args.details:
            print_details(records)


if __name__ == "__main__":
    main()
