"""Training forward + backward with and without the shared prompt prefix, side by side in one run.

    python benchmarks/prefix_sharing.py            # tiny model (default size), 1 thread, 32-turn batches
    python benchmarks/prefix_sharing.py --tail 64  # the warm start's rows: the prompt's last 64 tokens too

``arena.agents.logits.completion_logits`` runs the prompt prefix that a batch's turns share (system prompt
and rules) once and repeats its KV cache, then runs the rows' own tokens in length buckets;
``share_prefix=False`` is the plain padded forward pass, "1 bucket" the shared prefix with every row padded
to the longest. All compute the loss of the warm start and of the PPO update (cross-entropy / logprobs of
completion tokens) on the same batches; the table prints seconds per step for each, the ratio of plain to
shared and the largest logprob gap. ``--tail N`` moves each prompt's last N tokens into the completion,
as the warm start's observation term does.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def step_seconds(model, batches, pad_id: int, share: bool, buckets: bool = True) -> tuple[float, list]:
    """Mean seconds for forward + backward of each batch; the completion logprobs of the first batch.
    ``buckets=False`` pads every row of a group to the longest (no length buckets)."""
    import torch

    from arena.agents import logits as logits_module
    from arena.agents.logits import completion_logits

    saved = logits_module.BUCKET_MIN_SAVING
    logits_module.BUCKET_MIN_SAVING = saved if buckets else 10**9

    first = None
    start = time.perf_counter()
    for prompts, completions in batches:
        model.zero_grad(set_to_none=True)
        logits, targets, mask = completion_logits(model, prompts, completions, pad_id, share_prefix=share)
        logp = torch.log_softmax(logits, -1).gather(-1, targets[..., None]).squeeze(-1) * mask
        (-logp.sum() / mask.sum()).backward()
        if first is None:
            first = logp.detach()
    logits_module.BUCKET_MIN_SAVING = saved
    return (time.perf_counter() - start) / len(batches), first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=8, help="batches timed per game and mode")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tail", type=int, default=0, help="prompt tokens moved into the completion")
    args = parser.parse_args()
    import numpy as np
    import torch

    from arena.agents.backends.transformers_backend import TransformersBackend
    from arena.agents.logits import common_prefix
    from arena.agents.tiny import build_tiny_model
    from arena.agents.warmstart import collect_examples

    torch.set_num_threads(args.threads)
    backend = TransformersBackend(str(build_tiny_model(tempfile.mkdtemp(prefix="arena-prefix-"))))
    model, pad_id = backend.model, int(backend.tokenizer.pad_token_id)
    model.train()
    print(
        f"{'game':<16}{'tokens/row':>11}{'shared':>8}{'plain s':>9}{'1 bucket s':>12}{'shared s':>10}"
        f"{'ratio':>7}{'max |dlogp|':>13}"
    )
    for env_id in ("tictactoe-v0", "kuhn-poker-v0"):
        examples = collect_examples(backend, [env_id], agents="random", matches_per_env=60, seed=0)
        rng = np.random.default_rng(0)
        batches = []
        for _ in range(args.steps):
            rows = [examples[int(i)] for i in rng.integers(len(examples), size=args.batch)]
            cut = [len(e.prompt_ids) - min(args.tail, len(e.prompt_ids) - 1) for e in rows]
            batches.append(
                (
                    [e.prompt_ids[:k] for e, k in zip(rows, cut, strict=True)],
                    [e.prompt_ids[k:] + e.target_ids for e, k in zip(rows, cut, strict=True)],
                )
            )
        step_seconds(model, batches[:1], pad_id, True)  # warm-up
        plain, logp_plain = step_seconds(model, batches, pad_id, False)
        one_bucket, logp_one = step_seconds(model, batches, pad_id, True, buckets=False)
        shared, logp_shared = step_seconds(model, batches, pad_id, True)
        common = common_prefix(batches[0][0])
        tokens = np.mean([len(p) + len(c) for p, c in zip(*batches[0], strict=True)])
        gap = max(float((logp_plain - other).abs().max()) for other in (logp_one, logp_shared))
        print(
            f"{env_id:<16}{tokens:>11.0f}{common:>8}{plain:>9.3f}{one_bucket:>12.3f}{shared:>10.3f}"
            f"{plain / shared:>6.1f}x{gap:>13.1e}"
        )


if __name__ == "__main__":
    main()
