"""arena's benchmark suite: one command, one table, one JSON file.

    python -m benchmarks [--quick] [--repeats N] [--json FILE] [--only envs,peers,rollout,batching,advantages,trainer]

Sections: env steps/s with random agents for every registered game; the same games next to TextArena 0.7
and PettingZoo classic (ratios, skipped with a message when the optional ``bench`` extra is missing);
env overhead as a share of rollout time with the tiny model; scheduler vs sequential play vs raw batched
generate; whole matches through the scheduler (lock-step and continuous) vs the same decisions as full
raw batches, with the batch occupancy per tick; advantage functions at 10^3..10^6 turns; trainer steps/s and peak memory (through
``benchmarks.trainer_speed`` when that module exists). Medians over repeats; the machine is printed first.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

SECTIONS = ("envs", "peers", "rollout", "batching", "advantages", "trainer")


def machine() -> dict[str, Any]:
    """What the numbers were measured on: CPU model and cores, memory, Python and library versions."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": platform.processor() or "",
        "cores": os.cpu_count(),
        "python": platform.python_version(),
    }
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        info["cpu"] = names[0] if names else info["cpu"]
        with open("/proc/meminfo", encoding="utf-8") as f:
            kib = int(next(line.split()[1] for line in f if line.startswith("MemTotal")))
        info["memory_gib"] = round(kib / 2**20, 1)
    except (OSError, StopIteration, ValueError):
        pass
    with contextlib.suppress(AttributeError):
        info["affinity_cores"] = len(os.sched_getaffinity(0))
    from importlib import metadata

    for package in ("arena-selfplay", "numpy", "pettingzoo", "torch", "transformers", "textarena"):
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            info[package] = None
    return info


def _median_rate(fn: Callable[[], tuple[float, int]], repeats: int) -> float:
    return statistics.median(fn()[0] for _ in range(repeats))


def bench_envs(seconds: float, repeats: int) -> list[dict[str, Any]]:
    """Steps/s with random agents for every registered game (default settings)."""
    import arena
    from benchmarks.games import arena_rate

    rows = []
    for spec in arena.list_envs():
        rate = _median_rate(lambda spec=spec: arena_rate(spec.id, seconds), repeats)
        rows.append({"env": spec.id, "steps_per_s": rate})
        print(f"  {spec.id:<30}{rate:>12,.0f} steps/s", flush=True)
    return rows


#: The peer table splits each repeat into this many shorter slices per side, ours and the peer taking turns
#: to go first: the machine's drift then moves both sides of a pair alike, at the same timing budget.
PEER_SLICES = 4


def bench_peers(seconds: float, repeats: int) -> list[dict[str, Any]]:
    """Our games next to TextArena's / PettingZoo's, configured alike; ratio = ours / peer. Measured twice:
    ours reusing one env (the peer: a new env per game, built untimed), and both building a new env for
    every game, construction timed ("new env"). Timed in ``repeats`` x :data:`PEER_SLICES` pairs of slices
    of ``seconds / PEER_SLICES`` each, the side that goes first alternating. The ratio is the median of the
    pairs' ratios (ours over the peer timed next to it): on a machine whose speed drifts by +-10 % from one
    minute to the next, a pair sees one speed, and alternating the order cancels a first-slice effect. The
    interquartile range of the pairs' ratios shows how precise the median is; the ratio of the two sides'
    median rates and of their best slices are kept in the JSON for comparison with older runs."""
    from benchmarks.games import PEERS, arena_rate, peer_available, peer_rate

    slices, span = repeats * PEER_SLICES, seconds / PEER_SLICES
    rows = []
    print(
        f"  {'':<18}    {'':<34}{'ours':>9}{'peer':>9}{'ratio':>7}  {'new env: ours':>14}{'peer':>9}{'ratio':>7}"
        f"  {'ratio IQR':>11}  {'new':>11}"
    )
    for pair in PEERS:
        label = f"{pair.library} {pair.peer}"
        skip = peer_available(pair.library, pair.peer)
        rates: dict[str, list[float]] = {"ours": [], "peer": [], "ours_new": [], "peer_new": []}
        for k in range(slices):
            for fresh in (False, True):
                suffix = "_new" if fresh else ""
                sides = ("ours", "peer") if k % 2 == 0 else ("peer", "ours")
                for side in sides:
                    if side == "ours":
                        rates["ours" + suffix].append(arena_rate(pair.ours, span, fresh=fresh, **pair.ours_kwargs)[0])
                    elif not skip:
                        rates["peer" + suffix].append(peer_rate(pair, span, fresh=fresh)[0])
        median = {k: statistics.median(v) for k, v in rates.items() if v}
        best = {k: max(v) for k, v in rates.items() if v}  # the least-disturbed slice of each side
        row: dict[str, Any] = {
            "ours": pair.ours,
            "ours_kwargs": pair.ours_kwargs,
            "peer": label,
            "slices": slices,
            "slice_seconds": span,
            "ours_steps_per_s": median["ours"],
            "ours_new_env_steps_per_s": median["ours_new"],
        }
        if skip:
            row["skipped"] = skip
            print(f"  {pair.ours:<18} vs {label:<34} skipped: {skip}", flush=True)
        else:
            paired = [o / p for o, p in zip(rates["ours"], rates["peer"], strict=True)]
            paired_new = [o / p for o, p in zip(rates["ours_new"], rates["peer_new"], strict=True)]
            row.update(
                peer_steps_per_s=median["peer"],
                ratio=statistics.median(paired),
                peer_new_env_steps_per_s=median["peer_new"],
                new_env_ratio=statistics.median(paired_new),
                ratio_iqr=_quartiles(paired),
                new_env_ratio_iqr=_quartiles(paired_new),
                ratio_of_medians=median["ours"] / median["peer"],
                new_env_ratio_of_medians=median["ours_new"] / median["peer_new"],
                ratio_best=best["ours"] / best["peer"],
                new_env_ratio_best=best["ours_new"] / best["peer_new"],
                paired_ratios=paired,
                new_env_paired_ratios=paired_new,
            )
            (q1, q3), (n1, n3) = row["ratio_iqr"], row["new_env_ratio_iqr"]
            print(
                f"  {pair.ours:<18} vs {label:<34}{median['ours']:>9,.0f}{median['peer']:>9,.0f}{row['ratio']:>6.2f}x"
                f"  {median['ours_new']:>14,.0f}{median['peer_new']:>9,.0f}{row['new_env_ratio']:>6.2f}x"
                f"  {q1:>5.2f}–{q3:<5.2f}  {n1:>5.2f}–{n3:<5.2f}",
                flush=True,
            )
        rows.append(row)
    return rows


def _quartiles(values: list[float]) -> tuple[float, float]:
    """First and third quartiles (both the value itself for a single value)."""
    if len(values) < 2:
        return values[0], values[0]
    q1, _, q3 = statistics.quantiles(values, n=4)
    return q1, q3


def bench_rollout(quick: bool) -> dict[str, Any]:
    """Env share of rollout time, and scheduler / sequential / raw generate decisions per second."""
    from benchmarks.rollout import measure

    result = measure(matches=16 if quick else 64, repeats=1 if quick else 3)
    print(
        f"  tiny model {result['model_params'] / 1e6:.2f} M params, {result['matches']} matches, "
        f"{result['decisions']} decisions, {result['new_tokens']} new tokens, greedy, "
        f"{result['torch_threads']} torch thread(s)"
    )
    print(f"  env share of rollout time: {result['env_share']:.2%}  (model: {result['model_share']:.1%})")
    raw = result["decisions_per_s"]["raw generate"]
    for name, rate in result["decisions_per_s"].items():
        print(f"  {name:<14}{rate:>10,.1f} decisions/s{rate / raw:>8.2f} of raw")
    return result


def bench_batching(quick: bool) -> dict[str, Any]:
    """Whole matches, lock-step and continuous, against the same decisions as full raw batches: constrained
    agents (score) and generating agents, TicTacToe and Kuhn Poker matches taking turns."""
    import torch

    from benchmarks import match_batching

    torch.set_num_threads(1)  # as the rollout section: one thread is fastest on a shared CPU
    matches, concurrency, repeats = (32, 8, 1) if quick else (48, 16, 2)
    backend = match_batching.tiny_backend(concurrency)
    results = {}
    for mode, generate in (("constrained", False), ("generate", True)):
        results[mode] = match_batching.measure(
            "tictactoe-v0,kuhn-poker-v0", matches, concurrency, generate=generate, backend=backend, repeats=repeats
        )
        match_batching.report(results[mode])
    return results


def bench_advantages(quick: bool) -> list[dict[str, Any]]:
    """Seconds per call of every advantage function at 10^3..10^6 turns."""
    from benchmarks.advantage_speed import measure

    rows = measure(repeats=3 if quick else 5)
    sizes = sorted({r["turns"] for r in rows})
    print("  " + f"{'function':<14}" + "".join(f"{f'{n:.0e} turns':>14}" for n in sizes) + f"{'growth':>9}")
    for name in dict.fromkeys(r["function"] for r in rows):
        mine = {r["turns"]: r["seconds"] for r in rows if r["function"] == name}
        growth = mine[sizes[-1]] / max(mine[sizes[-2]], 1e-9)
        cells = "".join(f"{mine[n] * 1e3:>11.3f} ms" for n in sizes)
        print(f"  {name:<14}{cells}{growth:>8.1f}x")
    return rows


def bench_trainer(quick: bool) -> dict[str, Any]:
    """Trainer steps/s and peak memory for the CPU preset, via ``benchmarks.trainer_speed.measure(quick=...)``."""
    if importlib.util.find_spec("benchmarks.trainer_speed") is None:
        message = "benchmarks/trainer_speed.py not present; trainer row skipped"
        print(f"  skipped: {message}")
        return {"skipped": message}
    from benchmarks import trainer_speed

    result = dict(trainer_speed.measure(quick=quick))
    for key, value in result.items():
        print(f"  {key}: {value:,.3g}" if isinstance(value, float) else f"  {key}: {value}")
    return result


#: The committed report of the last full run (benchmarks/README.md is written from it).
LATEST = "benchmarks/latest.json"


def report_path(json_arg: str | None, sections: list[str], quick: bool) -> str:
    """Where the JSON report goes: ``--json`` when given ("" for nowhere); otherwise :data:`LATEST` for a full
    run (every section, full timings) and nowhere for a quick or partial one, so that a quick check never
    overwrites the committed report."""
    if json_arg is not None:
        return json_arg
    return LATEST if not quick and set(sections) == set(SECTIONS) else ""


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the selected sections, print them, and write the JSON report."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short timings and small rollouts (under 2 minutes)")
    parser.add_argument(
        "--json",
        default=None,
        help=f"where to write the results (default: {LATEST} for a full run; a --quick or --only run writes none)",
    )
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="repeats of each env timing (default 3; the peer table times 4 shorter slices per repeat)",
    )
    args = parser.parse_args(argv)
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    seconds, repeats = (0.2, 3) if args.quick else (1.0, 3)
    if args.repeats is not None:
        if args.repeats < 1:
            parser.error("--repeats must be at least 1")
        repeats = args.repeats
    report: dict[str, Any] = {
        "command": " ".join(["python -m benchmarks", *(argv or sys.argv[1:])]),
        "quick": args.quick,
    }
    report["machine"] = machine()
    m = report["machine"]
    print(
        f"machine: {m['cpu']}, {m['cores']} cores, {m.get('memory_gib', '?')} GiB, Python {m['python']}, {m['platform']}"
    )
    runners: dict[str, tuple[str, Callable[[], Any]]] = {
        "envs": ("env steps/s, random agents (median of repeats)", lambda: bench_envs(seconds, repeats)),
        "peers": ("ours vs peers: steps/s ours, peer, ratio", lambda: bench_peers(seconds, repeats)),
        "rollout": ("rollout with the tiny model (CPU)", lambda: bench_rollout(args.quick)),
        "batching": (
            "whole matches through the scheduler vs the same decisions as full raw batches (tiny model, CPU)",
            lambda: bench_batching(args.quick),
        ),
        "advantages": ("advantage functions, median seconds per call", lambda: bench_advantages(args.quick)),
        "trainer": ("trainer, CPU preset", lambda: bench_trainer(args.quick)),
    }
    start = time.perf_counter()
    for name in sections:
        title, run = runners[name]
        print(f"\n## {title}", flush=True)
        report[name] = run()
    report["total_seconds"] = time.perf_counter() - start
    print(f"\ntotal {report['total_seconds']:.0f}s")
    path = report_path(args.json, sections, args.quick)
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1, default=str)
        print(f"wrote {path}")
    return report


if __name__ == "__main__":
    main()
