"""How many tokens the every-game warm start runs, and how many any sharing of prompt prefixes could save.

    python -m benchmarks.warmstart_tokens                      # a tenth of each game's matches, a fresh tiny tokenizer
    python -m benchmarks.warmstart_tokens --model DIR --fraction 1 --games household-v0

For each game, the warm start's examples (its default collection: whose play, mistake rate, the LLM
agent's prompts) are counted three ways, in tokens per example: ``plain`` (prompt and reply, every
example on its own), ``batch prefix`` (what training runs now: a batch of one game's examples runs the
prefix its rows share once, :func:`arena.agents.logits.completion_logits`; measured on random batches
of the recipe's size) and ``prefix trie`` (the distinct prefixes of all the game's examples: every token
that any scheme reusing the computation of earlier identical prefixes must still run, e.g. packing a
match's decisions into one sequence). ``weighted`` sums each game's tokens per example times its share of
the batches (``GAME_WEIGHTS``), as the recipe draws them. No model runs and nothing is timed: counts only.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Sequence
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def trie_size(sequences: Sequence[Sequence[int]]) -> int:
    """Number of distinct non-empty prefixes of ``sequences`` (the nodes of their prefix trie)."""
    root: dict[int, Any] = {}
    nodes = 0
    for seq in sequences:
        node = root
        for token in seq:
            child = node.get(token)
            if child is None:
                child = node[token] = {}
                nodes += 1
            node = child
    return nodes


def batch_prefix_tokens(
    sequences: Sequence[Sequence[int]], prompts: Sequence[Sequence[int]], batch: int, draws: int, seed: int
) -> float:
    """Mean tokens per example that a batch of ``batch`` random examples runs when the prompt prefix its
    rows share runs once (the shared prefix, then each row's own tokens)."""
    import numpy as np

    from arena.agents.logits import common_prefix

    rng = np.random.default_rng(seed)
    total = 0
    for _ in range(draws):
        rows = rng.choice(len(sequences), size=min(batch, len(sequences)), replace=False)
        shared = common_prefix([prompts[int(i)] for i in rows])
        total += shared + sum(len(sequences[int(i)]) - shared for i in rows)
    return total / (draws * min(batch, len(sequences)))


def count(backend: Any, games: Sequence[str], fraction: float, seed: int, draws: int) -> list[dict[str, Any]]:
    """One row per game: examples and tokens per example under each scheme."""
    from arena.agents.warmstart import BATCH_SIZE, MATCHES_PER_ENV, MISTAKE_RATE, collect_examples, matches_for

    rows = []
    for env_id in games:
        matches = max(4, round(matches_for(env_id, MATCHES_PER_ENV) * fraction))
        examples = collect_examples(backend, [env_id], matches_per_env=matches, seed=seed, mistake_rate=MISTAKE_RATE)
        if not examples:
            continue
        sequences = [e.prompt_ids + e.target_ids for e in examples]
        n = len(sequences)
        rows.append(
            {
                "env": env_id,
                "matches": matches,
                "examples": n,
                "plain": sum(map(len, sequences)) / n,
                "batch prefix": batch_prefix_tokens(
                    sequences, [e.prompt_ids for e in examples], BATCH_SIZE, draws, seed
                ),
                "prefix trie": trie_size(sequences) / n,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", default=None, help="model directory whose tokenizer counts (default: a fresh tiny model)"
    )
    parser.add_argument("--games", default="", help="comma-separated env ids (default: every registered game)")
    parser.add_argument("--fraction", type=float, default=0.1, help="share of the recipe's matches played per game")
    parser.add_argument("--draws", type=int, default=50, help="random batches per game for the batch-prefix count")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not 0 < args.fraction <= 1:
        parser.error("--fraction must be in (0, 1]")
    from arena.agents.backends.transformers_backend import TransformersBackend
    from arena.agents.tiny import build_tiny_model
    from arena.agents.warmstart import GAME_WEIGHTS, game_share, registered_games

    games = [g for g in args.games.split(",") if g] or list(registered_games())
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = args.model or str(build_tiny_model(os.path.join(tmp, "tiny"), seed=args.seed))
        rows = count(TransformersBackend(model_dir), games, args.fraction, args.seed, args.draws)
    print("| game | matches | examples | plain | batch prefix | prefix trie | batch prefix / trie |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['env']} | {r['matches']} | {r['examples']} | {r['plain']:.0f} | {r['batch prefix']:.0f} "
            f"| {r['prefix trie']:.0f} | {r['batch prefix'] / r['prefix trie']:.1f} |"
        )
    weights = {r["env"]: game_share(r["env"], GAME_WEIGHTS) for r in rows}
    weighted = {k: sum(weights[r["env"]] * r[k] for r in rows) for k in ("plain", "batch prefix", "prefix trie")}
    print(
        f"| weighted (GAME_WEIGHTS) | | | {weighted['plain']:.0f} | {weighted['batch prefix']:.0f} "
        f"| {weighted['prefix trie']:.0f} | {weighted['batch prefix'] / weighted['prefix trie']:.1f} |"
    )
    return rows


if __name__ == "__main__":
    main()
