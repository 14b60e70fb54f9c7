# Sourced by scripts/gpu_check.sh and scripts/gpu_check_hf.sh from the repository root: the output folder and its
# summary, the step and note helpers, and step 1, the GPU and the stack's versions (`gpu_stack vllm` also stops
# when vllm is missing).
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
export VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
OUT=${GPU_CHECK_OUT:-$(mktemp -d /tmp/arena-gpu-check-XXXX)}
mkdir -p "$OUT"
SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"
start=$SECONDS
step() { echo; echo "== [$((SECONDS - start))s] $*"; }
note() { echo "$*" | tee -a "$SUMMARY"; }

gpu_stack() {  # [vllm]
    step "1. stack"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$SUMMARY" || {
        echo "no NVIDIA GPU visible (nvidia-smi failed)" >&2
        exit 1
    }
    python3 - "${1:-}" <<'EOF' | tee -a "$SUMMARY" || exit 1
import importlib.metadata as md
import sys

import torch

line = [f"python {sys.version.split()[0]}", f"torch {torch.__version__} (CUDA {torch.version.cuda})"]
missing = []
for dist in ("vllm", "transformers", "peft", "safetensors", "pettingzoo", "gymnasium"):
    try:
        line.append(f"{dist} {md.version(dist)}")
    except md.PackageNotFoundError:
        line.append(f"{dist} missing")
        missing.append(dist)
print(", ".join(line))
if not torch.cuda.is_available():
    sys.exit("torch sees no CUDA device")
if sys.argv[1] == "vllm" and "vllm" in missing:
    sys.exit("vllm is not installed: install it (pip install -e '.[train,vllm,dev]') where there is network")
EOF
}
