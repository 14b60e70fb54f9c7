"""Training forward + backward with and without the shared prompt prefix, side by side in one run.

    python benchmarks/prefix_sharing.py            # tiny model (default size), 1 thread, 32-turn batches

``arena.agents.logits.completion_logits`` runs the prompt prefix that a batch's turns share (system prompt
and rules) once and repeats its KV cache; ``share_prefix=False`` is the plain padded forward pass. Both
compute the loss of the warm start and of the PPO update (cross-entropy / logprobs of completion tokens)
on the same batches; the table prints seconds per step for each, the ratio and the largest logprob gap.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def step_seconds(model, batches, pad_id: int, share: bool) -> tuple[float, list]:
    """Mean seconds for forward + backward of each batch; the completion logprobs of the first batch."""
    import torch

    from arena.agents.logits import completion_logits

    first = None
    start = time.perf_counter()
    for prompts, completions in batches:
        model.zero_grad(set_to_none=True)
        logits, targets, mask = completion_logits(model, prompts, completions, pad_id, share_prefix=share)
        logp = torch.log_softmax(logits, -1).gather(-1, targets[..., None]).squeeze(-1) * mask
        (-logp.sum() / mask.sum()).backward()
        if first is None:
            first = logp.detach()
    return (time.perf_counter() - start) / len(batches), first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=8, help="batches timed per game and mode")
    parser.add_argument("--threads", type=int, default=1)
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
    print(f"{'game':<16}{'tokens/row':>11}{'shared':>8}{'plain s':>9}{'shared s':>10}{'ratio':>7}{'max |dlogp|':>13}")
    for env_id in ("tictactoe-v0", "kuhn-poker-v0"):
        examples = collect_examples(backend, [env_id], agents="random", matches_per_env=60, seed=0)
        rng = np.random.default_rng(0)
        batches = []
        for _ in range(args.steps):
            rows = [examples[int(i)] for i in rng.integers(len(examples), size=args.batch)]
            batches.append(([e.prompt_ids for e in rows], [e.target_ids for e in rows]))
        step_seconds(model, batches[:1], pad_id, True)  # warm-up
        plain, logp_plain = step_seconds(model, batches, pad_id, False)
        shared, logp_shared = step_seconds(model, batches, pad_id, True)
        common = common_prefix(batches[0][0])
        tokens = np.mean([len(p) + len(c) for p, c in zip(*batches[0], strict=True)])
        gap = float((logp_plain - logp_shared).abs().max())
        print(f"{env_id:<16}{tokens:>11.0f}{common:>8}{plain:>9.3f}{shared:>10.3f}{plain / shared:>6.1f}x{gap:>13.1e}")


if __name__ == "__main__":
    main()
