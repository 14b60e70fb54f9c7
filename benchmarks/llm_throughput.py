"""Tokens/s of the tiny model: 64 prompts one by one vs one batch, and the scheduler vs raw batched generate.

    python benchmarks/llm_throughput.py [--model DIR] [--prompts 64] [--new-tokens 32] [--threads 1] [--device cpu]

Prompts are the first-turn LLM prompts of 64 TicTacToe matches (different seeds). Decoding is greedy so
every variant generates the same tokens. "scheduler" is ``play_many`` over the 64 matches cut after one
move (env reset, prompt building, one batched backend call, parsing, env step); "raw" is
``backend.generate`` of the same prompts. Each number is the best of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def best_of(repeats: int, fn):
    """(best seconds, result of the last call)."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="model directory (default: build a tiny model)")
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a shared CPU)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import torch

    import arena
    from arena.agents.backends.base import SamplingParams
    from arena.agents.backends.transformers_backend import TransformersBackend
    from arena.agents.llm import LLMAgent
    from arena.agents.scheduler import BatchScheduler

    torch.set_num_threads(args.threads)
    if args.model is None:
        from arena.agents.tiny import build_tiny_model

        args.model = str(build_tiny_model(tempfile.mkdtemp(prefix="arena-bench-"), matches_per_env=2))
    backend = TransformersBackend(args.model, device=args.device, max_batch_size=max(64, args.prompts))
    sampling = SamplingParams(temperature=0, max_new_tokens=args.new_tokens)
    agent = LLMAgent(backend, env_id="tictactoe-v0", sampling=sampling)

    def matches():
        out = []
        for seed in range(args.prompts):
            env = arena.make("tictactoe-v0")
            out.append((env, {s: agent for s in env.possible_agents}, seed))
        return out

    prompts = []
    for env, _, seed in matches():
        env.reset(seed=seed)
        obs, _, _, _, info = env.last()
        prompts.append(agent.build_prompt(obs, info))
    backend.generate(prompts[:4], sampling)  # warm up

    def tokens(completions) -> int:
        return sum(len(c.completion_ids) for c in completions)

    t_single, single = best_of(
        args.repeats if args.prompts <= 16 else 1, lambda: [backend.generate([p], sampling)[0] for p in prompts]
    )
    t_batch, batch = best_of(args.repeats, lambda: backend.generate(prompts, sampling))

    def scheduled():
        scheduler = BatchScheduler(max_steps=1)
        outcomes = scheduler.run(matches())
        assert scheduler.backend_calls == 1
        return [o.turns[0].trace for o in outcomes]

    t_sched, traces = best_of(args.repeats, scheduled)
    n_single, n_batch, n_sched = tokens(single), tokens(batch), sum(len(t.completion_ids) for t in traces)
    assert n_sched == n_batch, (n_sched, n_batch)
    params = sum(p.numel() for p in backend.model.parameters())
    mean_prompt = sum(len(backend.apply_chat(p)) for p in prompts) / len(prompts)
    print(f"model {args.model} ({params / 1e6:.2f} M params), device {args.device}, torch threads {args.threads}")
    print(f"{len(prompts)} prompts (mean {mean_prompt:.0f} tokens), up to {args.new_tokens} new tokens, greedy")
    print(f"{'variant':<28}{'seconds':>9}{'tokens':>8}{'tokens/s':>10}")
    for name, t, n in (
        ("one by one", t_single, n_single),
        ("one batch (raw generate)", t_batch, n_batch),
        ("scheduler (play_many)", t_sched, n_sched),
    ):
        print(f"{name:<28}{t:>9.2f}{n:>8}{n / t:>10.0f}")
    print(f"batch speed-up over one by one: {t_single / t_batch * n_batch / max(1, n_single):.1f}x")
    print(f"scheduler / raw batched throughput: {t_batch / t_sched:.2f} (target >= 0.9)")


if __name__ == "__main__":
    main()
