"""Can a vision-language model learn to read its images here? Captioning on the visual-spy scene generator.

Usage::

    python3 scripts/caption_probe.py --model runs/cpu-visual-spy/tiny-base --steps 1050 --lr 1e-3
    python3 scripts/caption_probe.py --model DIR --steps 800 --lr 3e-3      # the warm start's rate

Trains ``--model`` on the pictures visual spy deals (``--kind``: CLEVR-like scenes, charts or either, drawn by
:mod:`arena.envs.scenes`; nothing is downloaded), each with its caption (``large purple circle top left; small
red square middle centre; ...``, ``bar chart: 3 7 2 5``), ``--batch`` pictures per step
(:mod:`arena.agents.captions`, whose ``train_captions`` the visual warm start runs with ``caption_steps``).
Every ``--eval-every`` steps it prints the mean caption loss on 64 held-out pictures with their images and with each image a flat grey picture (what ``blank_images``
shows): a gap above zero means the model reads its images. Results: ``docs/results.md`` (visual spy).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def probe(
    backend: Any,
    steps: int,
    lr: float,
    batch: int = 16,
    eval_every: int = 150,
    held_out: int = 64,
    kind: str = "clevr",
    seed: int = 0,
    log: Any = print,
) -> list[tuple[int, float, float]]:
    """Train on ``steps`` batches of captions; return ``(step, held-out loss with images, with grey)`` at step 0,
    every ``eval_every`` steps and at the end."""
    from arena.agents.captions import caption_example, held_out_gap, train_captions

    held = [caption_example(backend, np.random.default_rng(10_000 + i), kind=kind) for i in range(held_out)]
    rows: list[tuple[int, float, float]] = []

    def evaluate(step: int) -> None:
        if step % eval_every and step != steps:
            return
        seen, grey = held_out_gap(backend, held, batch)
        rows.append((step, seen, grey))
        log(f"step {step}: held-out caption loss with image {seen:.3f}, grey {grey:.3f}, gap {grey - seen:+.3f}")

    evaluate(0)
    train_captions(backend, steps=steps, lr=lr, batch_size=batch, kind=kind, seed=seed, after_step=evaluate)
    return rows


def main(argv: Sequence[str] | None = None) -> list[tuple[int, float, float]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a vision-language model directory (it is not changed)")
    parser.add_argument("--steps", type=int, default=1050)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--kind", choices=("clevr", "chart", "mixed"), default="clevr", help="which pictures")
    parser.add_argument("--eval-every", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=None, help="save the trained model here")
    args = parser.parse_args(argv)
    import torch

    from arena.agents.backends.transformers_backend import TransformersBackend

    torch.set_num_threads(args.threads)
    backend = TransformersBackend(args.model)
    rows = probe(backend, args.steps, args.lr, args.batch, args.eval_every, kind=args.kind, seed=args.seed)
    if args.out:
        backend.save(args.out)
    return rows


if __name__ == "__main__":
    main()
