"""Print a run's learning curve from ``<out>/metrics.jsonl`` as a markdown table (for docs/results.md).

Run: ``python scripts/curves.py runs/cpu``. Rows are the evaluations (iteration 0 = the warm-started
policy); below them, the exact Kuhn exploitability logged at every iteration.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(run_dir: str) -> None:
    lines = [json.loads(line) for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]
    evals = [m for m in lines if any(k.startswith("eval/") for k in m)]
    envs = sorted({k.split("/")[1] for m in evals for k in m if k.startswith("eval/")})
    for env in envs:
        keys = sorted(
            {
                k
                for m in evals
                for k in m
                if k.startswith(f"eval/{env}/") and ("exploit" in k or k.endswith(("/win_rate", "/loss_rate")))
            }
        )
        names = [k.removeprefix(f"eval/{env}/") for k in keys]
        print(f"\n{env}\n\n| iteration | " + " | ".join(names) + " |")
        print("|---|" + "---|" * len(names))
        seen = set()
        for m in evals:
            if m["iteration"] in seen and "train_s" not in m:
                continue
            seen.add(m["iteration"])
            print(f"| {m['iteration']} | " + " | ".join(f"{m[k]:.3f}" if k in m else "" for k in keys) + " |")
    every = [
        (m["iteration"], v) for m in lines for k, v in m.items() if k.endswith("/exploitability") and "eval/" not in k
    ]
    if every:  # the per-iteration exact exploitability (Kuhn Poker, one hand)
        print("\nexploitability by iteration: " + ", ".join(f"{i}: {v:.3f}" for i, v in every))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/cpu")
