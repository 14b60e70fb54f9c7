"""Each game's held-out legal mass along a warm start: when does the model learn each game's legal moves?

Usage::

    arena model init-tiny /tmp/tiny
    python3 scripts/warmstart_curve.py --model /tmp/tiny --every 91 --json curve.json   # the default recipe
    python3 scripts/warmstart_curve.py --model /tmp/tiny --envs tictactoe-v0 --steps 300 --every 50

Runs :func:`arena.agents.warmstart.warmstart` with its defaults (``--steps`` sets the schedule's length) on the
model in ``--model``, writing the result to ``--out`` (default: a temporary folder), and every ``--every`` steps prints
each game's legal mass (:mod:`arena.agents.legal_mass`) on ``--heldout`` choice turns per game from matches
seeded apart from the training ones (and at the end of the schedule and of each top-up the default schedule
adds, :data:`arena.agents.warmstart.TOPUPS`): the same numbers the warm start logs at its end. Results: docs/agents.md
(warm start).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def curve(
    model_dir: str,
    envs: list[str] | None,
    steps: int | None,
    every: int,
    heldout: int,
    matches: int | None,
    seed: int,
    out: Path | None = None,
) -> list[dict[str, Any]]:
    """The rows ``{"step", "train_s", game: legal mass, ...}`` measured along :func:`warmstart` (its defaults but
    for ``steps``, ``matches`` and ``seed``), whose model goes to ``out`` (None: a temporary folder)."""
    from arena.agents import warmstart as ws
    from arena.agents.backends.transformers_backend import TransformersBackend
    from arena.agents.legal_mass import legal_mass

    backend = TransformersBackend(model_dir)  # the tokenizer and processor of the held-out turns
    matches_per_env = ws.MATCHES_PER_ENV if matches is None else matches
    play = {"agents": None, "mistake_rate": ws.MISTAKE_RATE}  # warmstart's defaults
    held = ws.heldout_examples(backend, envs, matches_per_env, heldout, seed, play)
    pad_id = int(backend.tokenizer.pad_token_id)
    processor = getattr(backend, "processor", None)
    total = ws.default_steps(envs) if steps is None else steps
    rows: list[dict[str, Any]] = []
    start, probing = time.perf_counter(), 0.0

    def ends_a_cycle(n: int) -> bool:  # the schedule's last step, or a top-up's
        return n == total or (n > total and (n - total) % ws.TOPUP_STEPS == 0)

    def probe(step: int, model: Any) -> None:
        nonlocal probing
        if (step + 1) % every and not ends_a_cycle(step + 1):
            return
        t = time.perf_counter()
        masses = legal_mass(model, held, pad_id=pad_id, processor=processor)
        probing += time.perf_counter() - t
        rows.append({"step": step + 1, "train_s": round(time.perf_counter() - start - probing, 1), **masses})
        print(step + 1, "  ".join(f"{g} {m:.3f}" for g, m in sorted(masses.items())), flush=True)

    with tempfile.TemporaryDirectory() as scratch:
        ws.warmstart(
            model_dir,
            out or scratch,
            env_ids=envs,
            steps=steps,  # None: the default schedule, and its top-ups where a game's legal mass is low
            matches_per_env=matches_per_env,
            seed=seed,
            on_step=probe,
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="model directory (e.g. from `arena model init-tiny`)")
    parser.add_argument("--envs", action="append", help="game ids (repeatable; default: every registered game)")
    parser.add_argument("--steps", type=int, help="schedule length (default: the warm start's default steps)")
    parser.add_argument("--every", type=int, default=91, help="measure every this many steps (and at the end)")
    parser.add_argument("--heldout", type=int, default=48, help="held-out choice turns per game")
    parser.add_argument("--matches", type=int, help="matches per game (default: the warm start's, per game)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--out", type=Path, help="keep the warm-started model here (default: not kept)")
    args = parser.parse_args(argv)
    if args.every < 1 or args.heldout < 1 or (args.steps is not None and args.steps < 1):
        parser.error("--every, --heldout and --steps must be positive")
    rows = curve(args.model, args.envs, args.steps, args.every, args.heldout, args.matches, args.seed, args.out)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
