"""Advantage-estimator ablation: the CPU preset with each estimator, same warm-started model, seeds and budget.

Run: ``python scripts/ablation.py --model runs/cpu/warmstart --seeds 0,1``. Each estimator trains once per
trainer seed into ``<out>/<name>`` (seed 0) or ``<out>/<name>-seed<N>`` (a run whose metrics already end with
the final evaluation is read, not rerun); every run starts from the same warm-started model. Prints a
markdown table of the exact Kuhn Poker exploitability along training and the final win rate, one row per
estimator and seed, then each estimator's final exploitability over the seeds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ESTIMATORS = ("mars", "grpo", "rae", "gigpo")
KEY = "kuhn-poker-v0/exploitability"


def finished(out: Path) -> list[dict] | None:
    """The run's metrics lines when it completed (its last line is the final evaluation), else None."""
    path = out / "metrics.jsonl"
    if not path.exists():
        return None
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return lines if lines and "train_s" in lines[-1] else None


def train(name: str, seed: int, out: Path, model: str, eval_games: int, extra: list[str]) -> None:
    sets = [f"model={model}", f"out={out}", f"advantage={name}", f"seed={seed}", f"eval_games={eval_games}", *extra]
    command = [sys.executable, "-m", "arena.cli", "train", "--preset", "cpu", "--quiet"]
    for item in sets:
        command += ["--set", item]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="the warm-started model directory shared by every run")
    parser.add_argument("--out", default="runs/ablation")
    parser.add_argument("--estimators", default=",".join(ESTIMATORS))
    parser.add_argument("--seeds", default="0", help="trainer seeds, comma-separated (e.g. 0,1)")
    parser.add_argument("--eval-games", type=int, default=200)
    parser.add_argument("--set", action="append", default=[], help="more preset overrides, e.g. iterations=20")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    for name in args.estimators.split(","):
        for seed in seeds:
            out = Path(args.out) / (name if seed == 0 else f"{name}-seed{seed}")
            lines = finished(out)
            if lines is None:
                train(name, seed, out, args.model, args.eval_games, args.set)
                lines = finished(out)
                assert lines is not None, f"{out} did not finish"
            per_iter = {m["iteration"]: m[KEY] for m in lines if KEY in m}
            rows.append((name, seed, lines[0], lines[-1], per_iter))
    marks = sorted({i for *_, p in rows for i in p if i % 10 == 0})
    head = ["estimator", "seed", "warm start", *[f"iter {i}" for i in marks], "best", "final change", "win vs random"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    finals: dict[str, list[float]] = {}
    for name, seed, before, after, per_iter in rows:
        start = before["eval/" + KEY]
        end = after["eval/" + KEY]
        finals.setdefault(name, []).append(end)
        cells = [
            name,
            str(seed),
            f"{start:.3f}",
            *[f"{per_iter[i]:.3f}" if i in per_iter else "" for i in marks],
            f"{min(per_iter.values()):.3f}",
            f"{100 * (end - start) / start:+.0f}%",
            f"{after['eval/kuhn-poker-v0/vs_random/win_rate']:.3f}",
        ]
        print("| " + " | ".join(cells) + " |")
    if len(seeds) > 1:
        print()
        print("| estimator | final exploitability per seed | mean |")
        print("|---|---|---|")
        for name, values in finals.items():
            print(f"| {name} | {' / '.join(f'{v:.3f}' for v in values)} | {sum(values) / len(values):.3f} |")


if __name__ == "__main__":
    main()
