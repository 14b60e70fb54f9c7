#!/usr/bin/env bash
# Run the whole test suite (what the README's second command calls). pytest's exit code 5 (no tests) fails.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
ruff check arena tests benchmarks
ruff format --check --quiet arena tests benchmarks  # style drift fails here, not in a later diff
python3 -m pytest -p no:cacheprovider "$@"
python3 scripts/docs_check.py --quick  # every command shown in the docs still works
