#!/usr/bin/env bash
# The GPU check without vLLM: the transformers backend, the warm start and the trainer on one CUDA GPU. Steps 1-5
# ran in 222 s on one H200 (2026-12-04); step 6 is expected to take about 4 minutes more, and every step's limit
# together is 15.5 minutes, over a device lease's 10-minute command: run steps 2 and 6 alone (GPU_CHECK_STEPS) on a
# short lease. Needs no network: every model is built here (random weights, or warm-started here); arena runs
# from the checkout (PYTHONPATH), its few missing pure-Python dependencies installed beforehand (docs/gpu.md says
# how). scripts/gpu_check.sh is the check with vLLM.
#
#   bash scripts/gpu_check_hf.sh            # artifacts (logs, metrics, summary.txt) under $GPU_CHECK_OUT
#   GPU_CHECK_STEPS="2 6" bash scripts/gpu_check_hf.sh   # only these steps (the stack, step 1, always runs)
#
# Steps, each under its own time limit (a step that fails or runs out of time is noted and the next one runs):
#   1. the stack (GPU, driver, python, torch/CUDA, transformers, peft; whether vllm is there);
#   2. the GPU tests that need no vLLM (tests/test_cuda.py), and tests/test_vllm_backend.py (skips without vllm);
#   3. generation throughput of the transformers backend on a ~180M-parameter model, bf16, 64 and 256 prompts;
#   4. the README's main job on the GPU: `arena train --preset cpu --set device=cuda` (warm start and RL there);
#   5. whole matches batched on the GPU with the transformers backend and the 180M model (issue 24):
#      lock-step and continuous episode batching against the same decisions as full raw batches;
#   6. the same with the tiny model warm-started here on TicTacToe and Kuhn Poker (matches of natural length from
#      generated answers, as in training), 1,024 matches so that the last wave's tail is a small part, 3 repeats;
#      then constrained play (scored legal actions), 3 repeats.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/gpu_common.sh
source scripts/gpu_common.sh
ARENA=(python3 -c "import sys; from arena.cli import main; sys.argv[0] = 'arena'; main()")  # arena from the checkout
gpu_stack
STEPS=" ${GPU_CHECK_STEPS:-2 3 4 5 6} "
wanted() { [[ "$STEPS" == *" $1 "* ]]; }

if wanted 2; then
step "2. GPU tests (limit 150 s)"
timeout 150 python3 -m pytest -p no:cacheprovider -m gpu tests/test_cuda.py tests/test_vllm_backend.py -rs \
    --durations=8 >"$OUT/gpu_tests.log" 2>&1
note "GPU tests (exit $?): $(grep -E '[0-9]+ (passed|failed|skipped|error)' "$OUT/gpu_tests.log" | tail -1 || tail -1 "$OUT/gpu_tests.log")"
grep -E "^(FAILED|ERROR|SKIPPED)" "$OUT/gpu_tests.log" | head -8 | sed 's/^/  /' | tee -a "$SUMMARY"

fi

if wanted 3; then
step "3. generation throughput, transformers backend, 180M bf16 (limit 75 s)"
timeout 75 python3 - "$OUT" <<'EOF' >"$OUT/throughput.log" 2>&1
import sys
import time
from pathlib import Path

import torch

from arena.agents.backends.base import SamplingParams
from arena.agents.backends.transformers_backend import TransformersBackend
from arena.agents.tiny import build_tiny_model

out = Path(sys.argv[1])
t0 = time.perf_counter()
model = build_tiny_model(out / "model-180m", hidden_size=1024, num_layers=16, intermediate_size=2816,
                         num_heads=16, num_kv_heads=4, initializer_range=0.02, matches_per_env=2)
backend = TransformersBackend(str(model), device="cuda", dtype="bfloat16", max_batch_size=256)
n = sum(p.numel() for p in backend.model.parameters())
print(f"model: {n / 1e6:.0f}M parameters, built and loaded in {time.perf_counter() - t0:.0f}s")
prompts = [[{"role": "user", "content": f"Game {i}: your move. " * 8}] for i in range(256)]
sampling = SamplingParams(temperature=1.0, max_new_tokens=128, seed=0)
backend.generate(prompts[:16], sampling)  # warm-up
for batch in (64, 256):
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    done = backend.generate(prompts[:batch], sampling)
    torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    tokens = sum(len(c.completion_ids) for c in done)
    print(f"tokens/s: {tokens / seconds:,.0f} ({batch} prompts, {tokens} new tokens in {seconds:.2f}s, temperature 1)")
print(f"memory: peak {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB allocated")
EOF
note "throughput (exit $?):"
grep -E "^(model|tokens/s|memory)" "$OUT/throughput.log" | sed 's/^/  /' | tee -a "$SUMMARY"

fi

if wanted 4; then
step "4. the main job on the GPU (limit 200 s)"
t0=$SECONDS
timeout 200 "${ARENA[@]}" train --preset cpu --set device=cuda --set threads=4 --set "out=$OUT/main" >"$OUT/main.log" 2>&1
note "main job (exit $?) in $((SECONDS - t0)) s:"
grep -E "built tiny|examples|step [0-9]+/|exploitability|win_rate:|done|took" "$OUT/main.log" | grep -vE "player_|ci_" | head -24 \
    | sed 's/^/  /' | tee -a "$SUMMARY"
[ -f "$OUT/main/metrics.jsonl" ] && python3 - "$OUT/main/metrics.jsonl" <<'EOF' | tee -a "$SUMMARY"
import json
import sys

steps = [r for r in map(json.loads, open(sys.argv[1])) if "step_s" in r]
if steps:
    mean = lambda k: sum(r.get(k, 0.0) for r in steps) / len(steps)  # noqa: E731
    print(f"  {len(steps)} iterations: step {mean('step_s'):.2f}s, rollout {mean('rollout_s'):.2f}s")
EOF

fi

if wanted 5; then
step "5. whole-match batching, transformers backend on the GPU (limit 90 s)"
if [ -f "$OUT/model-180m/config.json" ]; then
    timeout 90 python3 -m benchmarks.match_batching --backend transformers --device cuda --model "$OUT/model-180m" \
        --generate --options '{"dtype": "bfloat16", "max_batch_size": 64}' --matches 256 --concurrency 64 \
        --new-tokens 32 --repeats 1 --threads 4 --json "$OUT/match_batching.json" >"$OUT/match_batching.log" 2>&1
    note "match batching (exit $?):"
    grep -E "lock-step|continuous|occupancy" "$OUT/match_batching.log" | sort -u | head -8 | sed 's/^/  /' | tee -a "$SUMMARY"
else
    note "match batching: skipped (step 3 built no model)"
fi
fi

if wanted 6; then
step "6. whole-match batching with a warm-started tiny model (limit 420 s)"
t0=$SECONDS
timeout 60 "${ARENA[@]}" model init-tiny "$OUT/tiny" >"$OUT/tiny_warmstart.log" 2>&1 &&
    timeout 100 "${ARENA[@]}" model warmstart "$OUT/tiny" --envs tictactoe-v0 --envs kuhn-poker-v0 --device cuda \
        >>"$OUT/tiny_warmstart.log" 2>&1
note "tiny model warm-started on the GPU (exit $?) in $((SECONDS - t0)) s"
if [ -f "$OUT/tiny/config.json" ]; then
    for mode in generate constrained; do
        flag=$([ $mode = generate ] && echo --generate)
        limit=$([ $mode = generate ] && echo 200 || echo 60)
        timeout "$limit" python3 -m benchmarks.match_batching --backend transformers --device cuda --model "$OUT/tiny" \
            $flag --matches 1024 --concurrency 64 --new-tokens 16 --repeats 3 --threads 4 \
            --json "$OUT/match_batching_tiny_$mode.json" >"$OUT/match_batching_tiny_$mode.log" 2>&1
        note "match batching, warm-started tiny model, $mode (exit $?):"
        grep -E "repeat|lock-step|continuous|batch per tick|matches" "$OUT/match_batching_tiny_$mode.log" | head -16 \
            | sed 's/^/  /' | tee -a "$SUMMARY"
    done
fi
fi
rm -rf "$OUT/model-180m" "$OUT/tiny" "$OUT/main/warmstart" "$OUT/main/tiny-base" "$OUT/main/checkpoint"

step "done in $((SECONDS - start))s; summary ($SUMMARY):"
cat "$SUMMARY"
