"""Can a household model learn by RL? Its choice along the expert's path, and its policy's success rate.

Usage::

    python3 scripts/household_probe.py --model DIR                    # a household model (a warm start)
    python3 scripts/household_probe.py --base DIR --warmstart scripted --steps 400 --out OUT  # warm start first
    python3 scripts/household_probe.py --base DIR --warmstart scripted --steps 400 --matches 200 --out OUT \
        --set warmstart.observation_weight=1                          # with the observation term

With the ``cpu-household`` preset's settings (20 steps, two task types, the last 2 history lines,
constrained choice among the admissible commands), it prints

* for each kind of command the expert plays (``go``, ``open``, ``take``, ``move``, ``use``, ...), the mean
  probability the model's constrained distribution gives to the expert's command along the expert's own
  path (``--episodes`` seeds from 10,000), next to the uniform choice's;
* the success rate of the sampling and of the greedy policy over ``--games`` held-out seeds.

GRPO and GiGPO learn only from groups whose episodes differ in return: a policy that never succeeds
(every return 0) gets no advantage at all. The first table says which step of the task it cannot take.
Results: ``docs/results.md`` (household).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import arena
from arena.agents.specs import make_agent

ENV_ID = "household-v0"
UNIFORM = "(uniform)"

Distribution = Callable[[Any, Mapping[str, Any]], Mapping[str, float]]


def mass_on_expert(
    distribution: Distribution, seeds: Iterable[int], env_kwargs: Mapping[str, Any]
) -> dict[str, dict[str, float]]:
    """Follow the expert's path on each seed; at every step read ``distribution(observation, info)`` (legal
    command -> probability) and record the probability of the expert's command, by the command's first
    word. Returns ``{kind: {"steps", "mass", "top1"}}`` (mean probability, share of steps where the expert's
    command is the most likely), with the uniform choice's mean probability under :data:`UNIFORM`."""
    mass: dict[str, list[float]] = defaultdict(list)
    top1: dict[str, int] = defaultdict(int)
    for seed in seeds:
        env = arena.make(ENV_ID, **env_kwargs)
        env.reset(seed=seed)
        expert = make_agent("scripted", ENV_ID, seed=0)  # 100 % success on every split
        for _agent in env.agent_iter():
            observation, _, terminated, truncated, info = env.last()
            if terminated or truncated:
                env.step(None)
                continue
            move = str(expert.act(observation, info))
            probabilities = distribution(observation, info)
            kind = move.split(" ", 1)[0]
            mass[kind].append(float(probabilities.get(move, 0.0)))
            top1[kind] += max(probabilities, key=probabilities.__getitem__) == move
            mass[UNIFORM].append(1.0 / len(info["legal_actions"]))
            env.step(move)
        env.close()
    return {
        kind: {"steps": len(values), "mass": sum(values) / len(values), "top1": top1[kind] / len(values)}
        for kind, values in mass.items()
    }


def mass_table(rows: Mapping[str, Mapping[str, float]]) -> str:
    """The table :func:`mass_on_expert` returns, as Markdown (most frequent kinds first)."""
    lines = ["| expert's command | steps | mean probability of it | most likely |", "|---|---:|---:|---:|"]
    for kind, row in sorted(rows.items(), key=lambda item: (item[0] == UNIFORM, -item[1]["steps"])):
        top = "–" if kind == UNIFORM else f"{row['top1']:.2f}"
        lines.append(f"| {kind} | {int(row['steps'])} | {row['mass']:.3f} | {top} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", help="a household model directory (a warm start or a checkpoint)")
    parser.add_argument("--base", help="with --warmstart: the model to warm-start (e.g. arena model init-tiny)")
    parser.add_argument(
        "--warmstart", choices=("random", "scripted", "mixed", "mixed-expert"), help="warm-start --base first"
    )
    parser.add_argument("--steps", type=int, default=200, help="warm-start steps")
    parser.add_argument("--matches", type=int, default=100, help="warm-start matches")
    parser.add_argument("--out", default="runs/household-probe", help="where the warm start is saved")
    parser.add_argument("--preset", default="cpu-household")
    parser.add_argument("--episodes", type=int, default=12, help="expert paths probed")
    parser.add_argument("--games", type=int, default=48, help="held-out games per policy (0: none)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--set", action="append", default=[], help="a preset override, e.g. warmstart.observation_weight=1"
    )
    args = parser.parse_args(argv)
    if (args.model is None) == (args.warmstart is None) or (args.warmstart and not args.base):
        parser.error("give --model DIR, or --base DIR with --warmstart KIND")

    import torch

    torch.set_num_threads(args.threads)
    from arena.agents.backends.transformers_backend import TransformersBackend
    from arena.trainers.config import load_config
    from arena.trainers.evaluation import evaluate_side
    from arena.trainers.rollout import policy_agent

    overrides = [f"out={args.out}", f"threads={args.threads}"]
    if args.warmstart:
        overrides += [f"warmstart.agents={args.warmstart}", f"warmstart.steps={args.steps}"]
        overrides.append(f"warmstart.matches_per_env={args.matches}")
    config = load_config(args.preset, overrides=[*overrides, *args.set])
    env_kwargs = config.games()[ENV_ID]
    model = args.model
    if args.warmstart:
        from arena.trainers.loop import warm_start

        start = time.perf_counter()
        model = str(warm_start(config, args.base, Path(args.out) / "model", print))
        print(f"warm start ({args.warmstart}, {args.steps} steps): {time.perf_counter() - start:.0f} s")
    backend = TransformersBackend(model)
    greedy = policy_agent(backend, config, ENV_ID, seed=10_000, sample=False)
    rows = mass_on_expert(greedy.action_distribution, range(10_000, 10_000 + args.episodes), env_kwargs)
    print(mass_table(rows))
    for mode in ("sample", "greedy") if args.games else ():
        agent = policy_agent(backend, config, ENV_ID, seed=10_000, sample=mode == "sample")
        start = time.perf_counter()
        row = evaluate_side(agent, ENV_ID, env_kwargs, "self", args.games)
        keys = ("win_rate", "win_ci_low", "win_ci_high", "truncated_rate")
        print(mode, json.dumps({k: round(row[k], 3) for k in keys}), f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
