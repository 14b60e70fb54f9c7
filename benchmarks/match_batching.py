"""Whole matches through the scheduler vs the same decisions as full raw batches (batch occupancy per tick).

    python -m benchmarks.match_batching [--games tictactoe-v0,kuhn-poker-v0] [--matches 256] [--concurrency 64] [--generate]
        [--backend transformers|vllm] [--model DIR] [--options JSON] [--device cpu|cuda] [--new-tokens 16]
        [--threads 1] [--repeats 3] [--json FILE]

On a GPU (``scripts/gpu_check.sh`` runs this as its step 5): ``--backend vllm --model DIR --generate``.

``--matches`` matches, taking turns among ``--games`` (by default the two games of the CPU training
presets, default settings: matches of 5-9 and 4-6 moves), every seat an :class:`~arena.agents.llm.LLMAgent`
on one backend, are played to the end in two ways:

* **lock-step** -- waves of ``--concurrency`` matches, each wave one :func:`~arena.agents.scheduler.play_many`
  call (all matches start together, and the batch shrinks as they end);
* **continuous** -- one ``play_many(..., concurrency=N)`` over all matches: a new match starts whenever one
  ends, so the batch stays full until the input runs out.

Every backend call the scheduler makes is recorded. The **full-batch baseline** replays the same
decisions (the same chat prompts, in play order) straight to the backend in batches of exactly
``--concurrency`` decisions: the model cost alone at full occupancy, an upper bound for any rollout loop.
"share" is baseline time / scheduler time for the same decisions, in wall time and in process CPU time.

By default the agents are constrained (``backend.score`` over the legal actions, sampling from the
model's distribution): with the tiny model's random weights, generation answers only invalid moves, so
every match would last exactly two decisions; constrained play gives matches of natural, varying length.
``--generate`` uses generation instead (for a trained model, e.g. with vLLM on a GPU).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


@dataclass
class _Decision:
    """One LLM decision as the backend saw it: a generation prompt, or a prompt's scored continuations."""

    prompt: Any
    continuations: list[str] = field(default_factory=list)


class RecordingBackend:
    """Forwards to a backend and records every decision it was asked for, in call order."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.decisions: list[_Decision] = []
        self.sampling: Any = None
        self.calls = 0
        self.seconds = 0.0  # wall time inside the backend

    def _call(self, fn: Any, *args: Any) -> Any:
        self.calls += 1
        start = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.seconds += time.perf_counter() - start

    @property
    def version(self) -> int:
        return int(getattr(self.inner, "version", 0))

    def generate(self, prompts: Sequence[Any], sampling: Any) -> list[Any]:
        self.sampling = self.sampling or sampling
        self.decisions.extend(_Decision(p) for p in prompts)
        return self._call(self.inner.generate, prompts, sampling)

    def score(self, prompts: Sequence[Any], continuations: Sequence[str]) -> list[Any]:
        previous = None
        for prompt, continuation in zip(prompts, continuations, strict=True):
            if prompt is not previous:  # an agent repeats one prompt object for each legal action
                self.decisions.append(_Decision(prompt))
                previous = prompt
            self.decisions[-1].continuations.append(continuation)
        return self._call(self.inner.score, prompts, continuations)


@dataclass
class Timing:
    """Wall and process CPU seconds of one variant, and the decisions it made."""

    wall: float
    cpu: float
    decisions: int
    calls: int


def _timed(fn: Any) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def replay_full_batches(backend: Any, decisions: Sequence[_Decision], batch: int, sampling: Any) -> Timing:
    """Send ``decisions`` to ``backend`` in batches of ``batch`` decisions (generate or score calls)."""

    def run() -> int:
        calls = 0
        for start in range(0, len(decisions), batch):
            chunk = decisions[start : start + batch]
            generated = [d.prompt for d in chunk if not d.continuations]
            if generated:
                backend.generate(generated, sampling)
                calls += 1
            pairs = [(d.prompt, c) for d in chunk for c in d.continuations]
            if pairs:
                backend.score([p for p, _ in pairs], [c for _, c in pairs])
                calls += 1
        return calls

    wall, cpu, calls = _timed(run)
    return Timing(wall, cpu, len(decisions), calls)


def _matches(agents: dict[str, Any], count: int) -> Iterator[tuple[Any, dict, int]]:
    """``count`` matches (seeds 0..count-1) cycling through the games of ``agents`` ({env id: agent}),
    every seat of a game played by its agent."""
    import arena

    games = list(agents)
    for seed in range(count):
        env_id = games[seed % len(games)]
        env = arena.make(env_id)
        yield env, dict.fromkeys(env.possible_agents, agents[env_id]), seed


def run_length(sizes: Sequence[int]) -> str:
    """``[64, 64, 64, 30, 2]`` -> ``"64x3 30 2"``: the batch sizes of successive ticks."""
    parts = []
    for size, group in itertools.groupby(sizes):
        n = len(list(group))
        parts.append(f"{size}x{n}" if n > 1 else str(size))
    return " ".join(parts)


def measure(
    games: str | Sequence[str] = "tictactoe-v0",
    matches: int = 256,
    concurrency: int = 64,
    *,
    generate: bool = False,
    backend: Any = None,
    new_tokens: int = 16,
    temperature: float = 1.0,
    repeats: int = 1,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Play ``matches`` matches lock-step (waves of ``concurrency``) and continuously; replay each as full
    batches. ``games`` (a list or comma-separated ids, default settings) take turns match by match; all
    share one backend and sampling settings, so one call serves every game's pending turns.
    ``backend`` defaults to the tiny model on CPU. Times are medians over ``repeats`` (every repeat plays
    the same decisions). Returns timings, shares and occupancies. ``progress``, if given, is called with a line
    per variant and repeat as soon as it is timed (a run cut short by a time limit still leaves its timings)."""
    from arena.agents.backends.base import SamplingParams
    from arena.agents.llm import LLMAgent
    from arena.agents.scheduler import BatchScheduler

    if backend is None:
        backend = tiny_backend(concurrency)
    sampling = SamplingParams(temperature=0.0 if generate else temperature, max_new_tokens=new_tokens, seed=0)
    games = [g.strip() for g in games.split(",")] if isinstance(games, str) else list(games)

    def agents(policy: Any) -> dict[str, Any]:
        return {
            env_id: LLMAgent(  # greedy retries: every decision of a tick in one call, as the replay sends them
                policy,
                env_id=env_id,
                sampling=sampling,
                constrained=not generate,
                sample=True,
                seed=0,
                retry_temperature=None,
            )
            for env_id in games
        }

    def play(continuous: bool) -> tuple[RecordingBackend, Timing, list[list[int]]]:
        """All matches through the scheduler; the recorded decisions, the timing and each run's occupancy."""
        recorder = RecordingBackend(backend)
        specs = _matches(agents(recorder), matches)
        schedulers: list[BatchScheduler] = []

        def run() -> None:
            if continuous:
                schedulers.append(BatchScheduler())
                schedulers[-1].run(specs, concurrency=concurrency)
                return
            while wave := list(itertools.islice(specs, concurrency)):
                schedulers.append(BatchScheduler())
                schedulers[-1].run(wave)

        wall, cpu, _ = _timed(run)
        return recorder, Timing(wall, cpu, len(recorder.decisions), recorder.calls), [s.occupancy for s in schedulers]

    result: dict[str, Any] = {
        "games": games,
        "matches": matches,
        "concurrency": concurrency,
        "mode": "generate" if generate else "constrained (score)",
        "new_tokens": new_tokens if generate else None,
        "repeats": repeats,
    }
    # Warm up kernels and caches on one full wave: a GPU picks its kernels per batch shape, so a small warm-up
    # leaves the full batches' first calls to whichever variant runs first (docs/gpu.md, 2026-12-04).
    BatchScheduler().run(_matches(agents(backend), min(concurrency, matches)))
    runs: dict[str, list[dict[str, float]]] = {"lock-step": [], "continuous": []}
    for repeat in range(repeats):  # the variants alternate, so machine load affects them alike
        for name, times in runs.items():
            recorder, played, occupancy = play(continuous=name == "continuous")
            raw = replay_full_batches(backend, recorder.decisions, concurrency, recorder.sampling or sampling)
            ticks = [n for run in occupancy for n in run]
            times.append({"wall": played.wall, "cpu": played.cpu, "raw_wall": raw.wall, "raw_cpu": raw.cpu})
            if progress:
                progress(
                    f"  repeat {repeat + 1}/{repeats} {name}: {played.decisions} decisions in {played.calls} calls, "
                    f"{played.wall:.2f}s; full batches {raw.calls} calls, {raw.wall:.2f}s; share {raw.wall / played.wall:.2f}"
                )
            result[name] = {  # the same every repeat: seeds, agents and greedy/seeded choices repeat
                "decisions": played.decisions,
                "backend_calls": played.calls,
                "full_batch_calls": raw.calls,
                "ticks": len(ticks),
                "mean_occupancy": sum(ticks) / max(1, len(ticks)) / concurrency,
                "occupancy": occupancy[0] if occupancy else [],  # lock-step: the first wave's
                "model_share": recorder.seconds / played.wall,
            }
    for name, times in runs.items():
        row = result[name]
        median = {key: statistics.median(t[key] for t in times) for key in times[0]}
        row.update({f"{key}_s": value for key, value in median.items()})
        row["decisions_per_s"] = row["decisions"] / median["wall"]
        row["share_wall"] = median["raw_wall"] / median["wall"]
        row["share_cpu"] = median["raw_cpu"] / median["cpu"]
    lock, cont = result["lock-step"], result["continuous"]
    result["gain_wall"] = cont["decisions_per_s"] / lock["decisions_per_s"]
    result["gain_cpu"] = (cont["decisions"] / cont["cpu_s"]) / (lock["decisions"] / lock["cpu_s"])
    return result


def tiny_backend(concurrency: int, device: str = "cpu") -> Any:
    """The tiny random-weight model on ``device`` (big enough batches for every legal action of a tick)."""
    from arena.agents.backends.transformers_backend import TransformersBackend
    from arena.agents.tiny import build_tiny_model

    model = build_tiny_model(tempfile.mkdtemp(prefix="arena-bench-"), matches_per_env=2)
    return TransformersBackend(str(model), device=device, max_batch_size=max(64, 16 * concurrency))


def report(result: dict[str, Any]) -> None:
    """Print the table of one :func:`measure` result."""
    print(
        f"  {', '.join(result['games'])}: {result['matches']} matches, concurrency {result['concurrency']}, "
        f"{result['mode']}" + (f", {result['new_tokens']} new tokens" if result["new_tokens"] else "")
    )
    print(
        f"  {'':<12}{'decisions':>10}{'calls':>7}{'full':>6}{'occupancy':>10}{'dec/s':>9}{'model':>7}{'share wall':>12}{'cpu':>6}"
    )
    for name in ("lock-step", "continuous"):
        row = result[name]
        print(
            f"  {name:<12}{row['decisions']:>10}{row['backend_calls']:>7}{row['full_batch_calls']:>6}"
            f"{row['mean_occupancy']:>10.2f}{row['decisions_per_s']:>9.1f}{row['model_share']:>7.0%}"
            f"{row['share_wall']:>12.2f}{row['share_cpu']:>6.2f}"
        )
    print(f"  continuous / lock-step decisions/s: {result['gain_wall']:.2f}x wall, {result['gain_cpu']:.2f}x cpu")
    print(f"  batch per tick, lock-step first wave: {run_length(result['lock-step']['occupancy'])}")
    print(f"  batch per tick, continuous:           {run_length(result['continuous']['occupancy'])}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.match_batching", description=__doc__.splitlines()[0])
    parser.add_argument("--games", default="tictactoe-v0,kuhn-poker-v0", help="comma-separated env ids")
    parser.add_argument("--matches", type=int, default=256)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--generate", action="store_true", help="agents generate replies (default: constrained)")
    parser.add_argument("--backend", default="transformers", help="transformers (default) or vllm")
    parser.add_argument("--options", default="{}", help='backend options as JSON, e.g. \'{"dtype": "bfloat16"}\'')
    parser.add_argument("--model", help="model directory or name (default: build the tiny model)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--new-tokens", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--repeats", type=int, default=3, help="median over this many alternating runs")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    if args.model is None:
        backend = tiny_backend(args.concurrency, args.device)
    else:
        from arena.agents.backends import load_backend

        options = {"device": args.device, "max_batch_size": max(64, 16 * args.concurrency)}
        options = options if args.backend == "transformers" else {}
        backend = load_backend(args.model, args.backend, **{**options, **json.loads(args.options)})
    result = measure(
        args.games,
        args.matches,
        args.concurrency,
        generate=args.generate,
        backend=backend,
        new_tokens=args.new_tokens,
        repeats=args.repeats,
        progress=lambda line: print(line, flush=True),
    )
    result["backend"] = f"{args.backend} {args.model or 'tiny'} on {args.device}"
    print(f"  backend {result['backend']}, torch threads {args.threads}")
    report(result)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == "__main__":
    main()
