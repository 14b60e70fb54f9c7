"""Trainer iterations per second and peak memory for the CPU preset's settings on the tiny model.

Uses the preset's batch shape (groups × group size per game, constrained scoring, PPO epochs) on a
freshly built tiny model (no warm start: the timing does not depend on the policy's skill).
"""

from __future__ import annotations

import resource
import tempfile
import time
from typing import Any


def measure(quick: bool = False) -> dict[str, Any]:
    """Time ``iterations`` trainer steps of the CPU preset; return iterations/s, turns/s and peak RSS."""
    from arena.agents.tiny import cached_tiny_model
    from arena.trainers.config import load_config
    from arena.trainers.loop import Trainer

    iterations = 2 if quick else 5
    with tempfile.TemporaryDirectory() as out:
        cfg = load_config("cpu", overrides=[f"out={out}"])
        trainer = Trainer(cfg, cached_tiny_model(), log=lambda _: None)
        trainer.step()  # warm-up
        turns, start = 0, time.perf_counter()
        for _ in range(iterations):
            turns += trainer.step()["turns"]
        elapsed = time.perf_counter() - start
    return {
        "iterations_per_s": iterations / elapsed,
        "learner_turns_per_s": turns / elapsed,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


if __name__ == "__main__":
    print(measure())
