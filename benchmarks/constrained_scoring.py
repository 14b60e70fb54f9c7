"""Constrained-mode scoring: every legal action scored after its prompt, with and without a shared prefix.

    python benchmarks/constrained_scoring.py [--model DIR] [--matches 32] [--threads 1] [--repeats 3]

The prompts are the LLM prompts of ``--matches`` TicTacToe and Kuhn Poker positions (random play, several
plies in); each is paired with every legal action's formatted reply, as ``LLMAgent(constrained=True)``
sends them. "full" runs every prompt + reply through the model (``share_prefix=False``); "cache" runs
each distinct prompt once and scores its replies from the prompt's KV cache copied per reply
(``prefix_tree=False``); "own" runs each prompt once as one sequence with all its replies, masked so that
each reply sees only the prompt and itself (``group_prefix=False``); "tree" (the default) does the same
after running once the prefix that the distinct prompts share (system prompt, rules) and keeping its KV
cache for every row. All four are timed side by side in one run; the table also gives the largest logprob
difference from "full".
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def positions(env_id: str, matches: int, plies: int) -> list[tuple[dict, dict]]:
    """(observation, info) of the player to move after ``plies`` random moves, one per match."""
    import arena
    from arena.agents.random_agent import RandomAgent

    out = []
    for m in range(matches):
        env = arena.make(env_id)
        env.reset(seed=m)
        mover = RandomAgent(seed=m)
        for _ in range(plies):
            obs, _, term, trunc, info = env.last()
            if term or trunc:
                break
            env.step(mover.act(obs, info))
        obs, _, term, trunc, info = env.last()
        if not (term or trunc):
            out.append((obs, info))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="model directory (default: build a tiny model)")
    parser.add_argument("--matches", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import tempfile

    import torch

    from arena.agents.backends.transformers_backend import TransformersBackend
    from arena.agents.llm import LLMAgent
    from arena.agents.tiny import build_tiny_model

    torch.set_num_threads(args.threads)
    model = args.model or str(build_tiny_model(tempfile.mkdtemp(prefix="arena-bench-"), matches_per_env=2))
    backend = TransformersBackend(model)
    print(
        f"{'game':<16}{'prompts':>8}{'pairs':>7}{'full s':>9}{'cache s':>9}{'own s':>9}{'tree s':>9}"
        f"{'own/tree':>10}{'max |Δ|':>10}"
    )
    for env_id, plies in (("tictactoe-v0", 2), ("kuhn-poker-v0", 0), ("household-v0", 2)):
        agent = LLMAgent(backend, env_id=env_id, constrained=True)
        requests = positions(env_id, args.matches, plies)
        prompts, replies = agent.scoring_requests(requests)
        prompt_ids = [backend.apply_chat(p) for p in prompts]
        reply_ids = [backend.encode(r) for r in replies]
        timings, results = {}, {}
        variants = (("full", False, True, True), ("cache", True, False, True), ("own", True, True, False))
        for name, share, tree, group in (*variants, ("tree", True, True, True)):
            backend.prefix_tree, backend.group_prefix = tree, group
            best = float("inf")
            for _ in range(args.repeats):
                start = time.perf_counter()
                results[name] = backend.score_ids(prompt_ids, reply_ids, share_prefix=share)
                best = min(best, time.perf_counter() - start)
            timings[name] = best
        backend.prefix_tree = backend.group_prefix = True
        diff = max(
            abs(a - b)
            for other in ("cache", "own", "tree")
            for x, y in zip(results["full"], results[other], strict=True)
            for a, b in zip(x.logprobs, y.logprobs, strict=True)
        )
        print(
            f"{env_id:<16}{len(requests):>8}{len(prompt_ids):>7}{timings['full']:>9.3f}{timings['cache']:>9.3f}"
            f"{timings['own']:>9.3f}{timings['tree']:>9.3f}{timings['own'] / timings['tree']:>9.1f}×{diff:>10.1e}"
        )


if __name__ == "__main__":
    main()
