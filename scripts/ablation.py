"""Advantage-estimator ablation: the CPU preset with each estimator, same warm-started model, seeds and budget.

Run: ``python scripts/ablation.py --model runs/cpu/warmstart --iterations 20``. Prints a markdown table of
Kuhn Poker exploitability and win/loss rates against random and scripted play after training.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ESTIMATORS = ("mars", "grpo", "rae", "gigpo")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="the warm-started model directory shared by every run")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--out", default="runs/ablation")
    parser.add_argument("--estimators", default=",".join(ESTIMATORS))
    parser.add_argument("--eval-games", type=int, default=500)
    args = parser.parse_args()
    rows = []
    for name in args.estimators.split(","):
        out = Path(args.out) / name
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "arena.cli",
                "train",
                "--preset",
                "cpu",
                "--quiet",
                "--set",
                f"model={args.model}",
                "--set",
                f"out={out}",
                "--set",
                f"advantage={name}",
                "--set",
                f"iterations={args.iterations}",
                "--set",
                "eval_every=0",
                "--set",
                f"eval_games={args.eval_games}",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
        before, after = lines[0], lines[-1]
        key = "eval/kuhn-poker-v0/"
        rows.append(
            (
                name,
                before[key + "exploitability"],
                after[key + "exploitability"],
                after[key + "vs_random/win_rate"],
                after[key + "vs_scripted/loss_rate"],
                time.perf_counter() - start,
            )
        )
        print(f"{name}: done in {rows[-1][-1]:.0f}s", flush=True)
    print("| estimator | exploitability before | after | change | win rate vs random | loss rate vs scripted | time |")
    print("|---|---|---|---|---|---|---|")
    for name, b, a, win, loss, secs in rows:
        print(f"| {name} | {b:.3f} | {a:.3f} | {100 * (a - b) / b:+.0f}% | {win:.3f} | {loss:.3f} | {secs:.0f}s |")


if __name__ == "__main__":
    main()
