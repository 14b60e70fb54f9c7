"""Evaluate household-v0: the expert on every split, the random agent per task type, and robustness runs.

Usage: ``python3 scripts/household_eval.py [--episodes 1000] [--json out.json]``

* expert (single agent): success rate, mean/max steps per split, over seeds 0..N-1 (must be 100%);
* expert pair (``num_agents=2``): the same, counting the joint steps;
* random agent (uniform over the admissible commands): success rate per task type and split;
* robustness: N seeded episodes per mode of conformance's policy (20% hostile strings) without error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import arena
from arena.agents.random_agent import RandomAgent
from arena.agents.scripted.household import HouseholdExpert
from arena.core import conformance
from arena.envs.household.scenes import SPLITS
from arena.envs.household.tasks import SHORT_NAMES, TASK_TYPES

ENV = "household-v0"


def run(env, make_agent, seed: int) -> tuple[bool, int, str]:
    """One episode; returns (won, steps taken by all agents, task type)."""
    env.reset(seed=seed)
    agents = {a: make_agent(seed) for a in env.possible_agents}
    steps = 0
    for agent in env.agent_iter(max_iter=1_000):
        obs, _, term, trunc, info = env.last()
        if term or trunc:
            env.step(None)
            continue
        env.step(agents[agent].act(obs, info))
        steps += 1
    raw = env.unwrapped
    return bool(raw.winners), steps, raw.task.goal.task_type


def evaluate(split: str, make_agent, episodes: int, num_agents: int = 1) -> dict:
    """Success overall and per task type, and step statistics, over seeds 0..episodes-1."""
    env = arena.make(ENV, split=split, num_agents=num_agents)
    wins: dict[str, list[bool]] = defaultdict(list)
    steps: list[int] = []
    for seed in range(episodes):
        won, n, task_type = run(env, make_agent, seed)
        wins[task_type].append(won)
        if won:
            steps.append(n)
    total = sum(len(v) for v in wins.values())
    return {
        "success": sum(sum(v) for v in wins.values()) / total,
        "per_type": {SHORT_NAMES[t]: (float(np.mean(wins[t])), len(wins[t])) for t in TASK_TYPES if wins[t]},
        "mean_steps": float(np.mean(steps)) if steps else None,
        "max_steps": max(steps) if steps else None,
    }


def robustness(episodes: int, num_agents: int) -> dict:
    """Seeded episodes under conformance's mixed legal/hostile policy; counts errors (must be 0)."""
    errors, finished = 0, 0
    for seed in range(episodes):
        env = arena.make(ENV, num_agents=num_agents, split=SPLITS[seed % 3])
        try:
            conformance.run_episode(env, seed, garbage=0.2)
            finished += int(env.unwrapped.finished)
        except Exception as err:  # we count every failure
            errors += 1
            print(f"seed {seed} num_agents={num_agents}: {type(err).__name__}: {err}", file=sys.stderr)
    return {"episodes": episodes, "errors": errors, "finished": finished}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    n = args.episodes
    start = time.time()
    report: dict = {"episodes": n, "expert": {}, "expert_pair": {}, "random": {}, "robustness": {}}
    for split in SPLITS:
        report["expert"][split] = evaluate(split, HouseholdExpert, n)
        report["expert_pair"][split] = evaluate(split, HouseholdExpert, n, num_agents=2)
        report["random"][split] = evaluate(split, RandomAgent, n)
    for agents in (1, 2):
        report["robustness"][f"num_agents={agents}"] = robustness(n, agents)
    report["seconds"] = round(time.time() - start, 1)

    print(f"household-v0 evaluation, {n} episodes per row (seeds 0..{n - 1})\n")
    header = "| agent | split | success | " + " | ".join(SHORT_NAMES.values()) + " | mean steps | max steps |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name in ("expert", "expert_pair", "random"):
        for split, row in report[name].items():
            cells = [f"{row['per_type'].get(s, (float('nan'), 0))[0]:.1%}" for s in SHORT_NAMES.values()]
            mean = f"{row['mean_steps']:.1f}" if row["mean_steps"] is not None else "-"
            print(
                f"| {name} | {split} | {row['success']:.1%} | "
                + " | ".join(cells)
                + f" | {mean} | {row['max_steps'] or '-'} |"
            )
    print()
    for mode, row in report["robustness"].items():
        print(f"robustness {mode}: {row['episodes']} episodes, {row['errors']} errors, {row['finished']} finished")
    print(f"\n{report['seconds']} s")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    ok = all(r["success"] == 1.0 for r in report["expert"].values())
    ok = ok and all(r["errors"] == 0 for r in report["robustness"].values())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
