#!/usr/bin/env bash
# The GPU check (issues 20, 24): everything on this project that needs a CUDA GPU, in one run of under 10 minutes
# on one H200. Needs no network: vllm (and the project with its train extra) must already be installed,
# and every model is built here from random weights.
#
#   bash scripts/gpu_check.sh            # artifacts (logs, metrics, summary.txt) under $GPU_CHECK_OUT
#
# Steps (each under its own time limit, 550 s together; a step that fails or runs out of time is noted in the
# summary and the next one still runs):
#   1. versions of the stack and the GPU;
#   2. the GPU tests: tests/test_vllm_backend.py (engine logprobs, seeds, guards, weight sync in-process and
#      across worker processes with sleep mode, the trainer on a vLLM engine);
#   3. engine throughput and sync time on a ~180M-parameter model (bf16, sleep mode on);
#   4. a short self-play run of Kuhn Poker with rollouts on the vLLM engine (TIS on, sleep mode), and a shorter
#      one with the bf16 + LoRA + gradient-checkpointing learner; their learning numbers;
#   5. whole matches batched on the vLLM engine (issue 24): lock-step and continuous episode batching against
#      the same decisions as full raw batches (benchmarks/match_batching.py; 90 s more, 550 s in all).
# The limits are estimates: this script has not run on a GPU yet (docs/gpu.md).
# Paste the summary at the end into docs/gpu.md.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/gpu_common.sh
source scripts/gpu_common.sh
gpu_stack vllm

step "2. GPU tests (limit 230 s)"
if timeout 230 python3 -m pytest -p no:cacheprovider -s -m gpu tests/test_vllm_backend.py -rs 2>&1 | tee "$OUT/gpu_tests.log"; then
    note "GPU tests: $(grep -E '[0-9]+ (passed|failed)' "$OUT/gpu_tests.log" | tail -1)"
else
    note "GPU tests: FAILED or timed out ($(grep -E '[0-9]+ (passed|failed)' "$OUT/gpu_tests.log" | tail -1)); see $OUT/gpu_tests.log"
fi
grep -E "sync|TIS" "$OUT/gpu_tests.log" | sed 's/^/  /' | tee -a "$SUMMARY" || true

step "3. throughput and sync time (limit 100 s)"
timeout 100 python3 - "$OUT" <<'EOF' 2>&1 | tee "$OUT/bench.log" | grep -E "^(model|tokens/s|sync|sleep|check)" | tee -a "$SUMMARY" || note "bench: FAILED or timed out; see $OUT/bench.log"
import statistics
import sys
import time
from pathlib import Path

import torch

from arena.agents.backends.base import SamplingParams
from arena.agents.backends.transformers_backend import TransformersBackend
from arena.agents.backends.vllm_backend import VLLMBackend
from arena.agents.tiny import build_tiny_model

out = Path(sys.argv[1])
t0 = time.perf_counter()
model = build_tiny_model(out / "model-180m", hidden_size=1024, num_layers=16, intermediate_size=2816,
                         num_heads=16, num_kv_heads=4, initializer_range=0.02, matches_per_env=2)
learner = TransformersBackend(str(model), device="cuda", dtype="bfloat16")
n = sum(p.numel() for p in learner.model.parameters())
print(f"model: {n / 1e6:.0f}M parameters, built in {time.perf_counter() - t0:.0f}s")
t0 = time.perf_counter()
engine = VLLMBackend(str(model), dtype="bfloat16", gpu_memory_utilization=0.3, max_model_len=2048,
                     enforce_eager=True, sleep_level=1)
print(f"model: vLLM engine up in {time.perf_counter() - t0:.0f}s (in-process, eager, sleep mode)")
prompts = [[{"role": "user", "content": f"Game {i}: your move. " * 8}] for i in range(512)]
sampling = SamplingParams(temperature=1.0, max_new_tokens=128, seed=0)
engine.generate(prompts[:32], sampling)  # warm-up
for batch in (64, 512):
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    done = engine.generate(prompts[:batch], sampling)
    seconds = time.perf_counter() - t0
    tokens = sum(len(c.completion_ids) for c in done)
    print(f"tokens/s: {tokens / seconds:,.0f} ({batch} prompts, {tokens} new tokens in {seconds:.2f}s, temperature 1)")
times = []
for seed in range(3):
    with torch.no_grad():
        for p in learner.model.parameters():
            p.add_(1e-3 * torch.randn_like(p))
    engine.sync_from(learner.model)
    times.append(engine.last_sync_s)
print(f"sync: in-process push of {n / 1e6:.0f}M bf16 parameters: median {statistics.median(times):.3f}s of {len(times)}")
free_before = torch.cuda.mem_get_info()[0]
t0 = time.perf_counter()
engine.sleep()
sleep_s = time.perf_counter() - t0
freed = (torch.cuda.mem_get_info()[0] - free_before) / 2**30
engine.sync_from(learner.model)
print(f"sleep: level 1 in {sleep_s:.2f}s freed {freed:.1f} GiB; wake + push + wake KV: {engine.last_sync_s:.2f}s")
greedy = SamplingParams(temperature=0, max_new_tokens=16)
worst = 0.0
for c in engine.generate(prompts[:16], greedy):
    (s,) = learner.score_ids([c.prompt_ids], [c.completion_ids])
    worst = max(worst, max(abs(a - b) for a, b in zip(c.logprobs, s.logprobs)))
print(f"check: engine vs learner logprobs after the syncs, largest difference {worst:.3f} (bf16 both)")
EOF

step "4. self-play on the vLLM engine (limits 85 s and 45 s)"
python3 -c "from arena.agents.tiny import build_tiny_model; build_tiny_model('$OUT/model-kuhn', hidden_size=256, num_layers=4, intermediate_size=768, matches_per_env=2)" >/dev/null
ENGINE_OPTIONS="{dtype: float32, gpu_memory_utilization: 0.2, max_model_len: 2048, enforce_eager: true, sleep_level: 1}"
run_train() {  # name, limit (s), extra --set options...
    local name=$1 limit=$2
    shift 2
    timeout "$limit" arena train --preset cpu --quiet --set "model=$OUT/model-kuhn" --set device=cuda \
        --set rollout_backend=vllm --set "rollout_backend_options=$ENGINE_OPTIONS" --set "out=$OUT/$name" \
        --set eval_every=0 --set eval_games=100 --set checkpoint_every=0 "$@" >"$OUT/$name.log" 2>&1 \
        || { note "$name: FAILED or timed out; see $OUT/$name.log"; return 0; }
    python3 - "$OUT/$name/metrics.jsonl" "$name" <<'EOF' | tee -a "$SUMMARY"
import json
import sys

rows = [json.loads(line) for line in open(sys.argv[1])]
steps = [r for r in rows if "step_s" in r]
evals = [r for r in rows if any(k.startswith("eval/") for k in r)]
def pick(r, suffix):
    return next((v for k, v in r.items() if k.endswith(suffix)), float("nan"))
print(f"{sys.argv[2]}: {len(steps)} iterations, step {sum(r['step_s'] for r in steps) / len(steps):.1f}s "
      f"(rollout {sum(r['rollout_s'] for r in steps) / len(steps):.1f}s, sync {sum(r.get('sync_s', 0) for r in steps) / len(steps):.3f}s)")
print(f"  exploitability {pick(evals[0], 'exploitability'):.3f} -> {pick(evals[-1], 'exploitability'):.3f}; "
      f"win rate vs random {pick(evals[0], 'vs_random/win_rate'):.2f} -> {pick(evals[-1], 'vs_random/win_rate'):.2f}; "
      f"TIS mean weight {pick(steps[-1], 'tis_weight_mean'):.3f}, engine-learner KL {pick(steps[-1], 'engine_learner_kl'):.2e}")
EOF
}
run_train selfplay 85 --set iterations=6 --set tis_cap=2.0
run_train selfplay-lora 45 --set iterations=2 --set precision=bf16 --set "lora={r: 8, alpha: 16}" \
    --set gradient_checkpointing=true --set lr=0.005

# ---------------------------------------------------------------------------------------------------------
# 5. Whole-match batching on the GPU (issue 24; independent of steps 2-4, uses step 3's 180M model when present).
step "5. whole-match batching on the vLLM engine (limit 90 s)"
MODEL_180M="$OUT/model-180m"
if [ -f "$MODEL_180M/config.json" ]; then
    timeout 90 python3 -m benchmarks.match_batching --backend vllm --model "$MODEL_180M" --generate \
        --options '{"dtype": "bfloat16", "gpu_memory_utilization": 0.3, "max_model_len": 2048, "enforce_eager": true}' \
        --matches 256 --concurrency 64 --new-tokens 32 --repeats 1 --json "$OUT/match_batching.json" \
        >"$OUT/match_batching.log" 2>&1 || note "match batching: FAILED or timed out; see $OUT/match_batching.log"
    grep -E "^  (lock-step|continuous)" "$OUT/match_batching.log" | sed 's/^/match batching: /' | tee -a "$SUMMARY" || true
else
    note "match batching: skipped (step 3 built no model)"
fi
# ---------------------------------------------------------------------------------------------------------

step "done in $((SECONDS - start))s; summary ($SUMMARY):"
cat "$SUMMARY"
