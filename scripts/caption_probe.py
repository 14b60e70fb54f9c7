"""Can a vision-language model learn to read its images here? Captioning on the visual-spy scene generator.

Usage::

    python3 scripts/caption_probe.py --model runs/cpu-visual-spy/tiny-base --steps 1050 --lr 1e-3
    python3 scripts/caption_probe.py --model DIR --steps 800 --lr 3e-3      # the warm start's rate

Trains ``--model`` on CLEVR-like scenes drawn by :mod:`arena.envs.scenes` (nothing is downloaded), each with
the caption the generator's own objects give (``large purple circle top left; small red square middle
centre; ...``), ``--batch`` scenes per step. Every ``--eval-every`` steps it prints the mean caption loss
on 64 held-out scenes with their images and with each image a flat grey picture (what ``blank_images``
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

PROMPT = "Describe your image."
ROWS, COLUMNS = ("top", "middle", "bottom"), ("left", "centre", "right")


def caption(scene: Any) -> str:
    """The scene's objects in reading order, each as size, colour, shape and its cell of a 3×3 grid."""

    def cell(obj: Any) -> tuple[int, int]:
        return min(2, int(obj.y * 3)), min(2, int(obj.x * 3))

    objects = sorted(scene.objects, key=cell)
    return "; ".join(f"{o.size} {o.colour} {o.shape} {ROWS[cell(o)[0]]} {COLUMNS[cell(o)[1]]}" for o in objects)


def example(backend: Any, rng: np.random.Generator, side: int = 96) -> tuple[list[int], list[int], np.ndarray]:
    """One (prompt ids, caption ids, image) of a fresh random scene."""
    from arena.envs import scenes

    scene = scenes.random_scene(rng)
    image = scenes.render(scene, side)
    prompt = [{"role": "user", "content": [{"type": "image", "image": image}, {"type": "text", "text": PROMPT}]}]
    return backend.apply_chat(prompt), backend.encode(f"<answer>{caption(scene)}</answer>"), image


def caption_loss(backend: Any, batch: Sequence[tuple[list[int], list[int], np.ndarray]], grey: bool = False) -> Any:
    """Mean token cross-entropy of the captions after their prompts (images grey with ``grey``)."""
    import torch

    from arena.agents.logits import image_completion_logits, pixel_values

    images = [np.full_like(image, 128) if grey else image for _, _, image in batch]
    logits, targets, mask = image_completion_logits(
        backend.model,
        [p for p, _, _ in batch],
        [c for _, c, _ in batch],
        backend.tokenizer.pad_token_id,
        pixel_values(images, backend.processor),
    )
    logp = torch.log_softmax(logits.float(), dim=-1).gather(-1, targets[..., None]).squeeze(-1)
    return -(logp * mask).sum() / mask.sum()


def probe(
    backend: Any,
    steps: int,
    lr: float,
    batch: int = 16,
    eval_every: int = 150,
    held_out: int = 64,
    seed: int = 0,
    log: Any = print,
) -> list[tuple[int, float, float]]:
    """Train on ``steps`` batches of captions; return ``(step, held-out loss with images, with grey)`` at step 0,
    every ``eval_every`` steps and at the end."""
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    held = [example(backend, np.random.default_rng(10_000 + i)) for i in range(held_out)]
    model = backend.model
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    rows: list[tuple[int, float, float]] = []

    def evaluate(step: int) -> None:
        model.eval()
        with torch.no_grad():
            chunks = [held[i : i + batch] for i in range(0, len(held), batch)]
            seen = float(np.mean([caption_loss(backend, c).item() for c in chunks]))
            grey = float(np.mean([caption_loss(backend, c, grey=True).item() for c in chunks]))
        rows.append((step, seen, grey))
        log(f"step {step}: held-out caption loss with image {seen:.3f}, grey {grey:.3f}, gap {grey - seen:+.3f}")
        model.train()

    evaluate(0)
    model.train()
    for step in range(1, steps + 1):
        loss = caption_loss(backend, [example(backend, rng) for _ in range(batch)])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % eval_every == 0 or step == steps:
            evaluate(step)
    optimizer.zero_grad(set_to_none=True)
    model.eval()
    return rows


def main(argv: Sequence[str] | None = None) -> list[tuple[int, float, float]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a vision-language model directory (it is not changed)")
    parser.add_argument("--steps", type=int, default=1050)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--eval-every", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=None, help="save the trained model here")
    args = parser.parse_args(argv)
    import torch

    from arena.agents.backends.transformers_backend import TransformersBackend

    torch.set_num_threads(args.threads)
    backend = TransformersBackend(args.model)
    rows = probe(backend, args.steps, args.lr, args.batch, args.eval_every, seed=args.seed)
    if args.out:
        backend.save(args.out)
    return rows


if __name__ == "__main__":
    main()
