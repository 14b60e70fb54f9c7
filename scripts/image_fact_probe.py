"""Can a vision-language model learn the check a visual-spy civilian needs: does a stated fact hold in my picture?

Usage::

    python3 scripts/image_fact_probe.py --model DIR --steps 3000            # one object's fact or one chart value
    python3 scripts/image_fact_probe.py --model DIR --steps 300 --question kind   # the sanity check: the picture's kind
    python3 scripts/image_fact_probe.py --model DIR --blank                 # the same with grey pictures
    python3 scripts/image_fact_probe.py --model DIR --question colour --save D2 && \
        python3 scripts/image_fact_probe.py --model D2                      # a curriculum: colours first

The scripted civilians of ``visual-spy-v0`` find the spy by checking each clue's facts (``large red circle top``,
``v3=7``: :func:`arena.agents.scripted.spy.image_facts`) against their own picture. This isolates that check as a
yes/no task with a label on every example: a fresh picture as the game deals it (scene or chart, 96 pixels) and
"Is this true of your image: FACT? Answer yes or no.", FACT half the time one the exact reader takes from the
picture and half the time one of a copy with one edit (:func:`arena.envs.scenes.edit_scene`, ``edit_chart``).
``--question kind`` asks instead whether the picture is a bar chart, a line chart or shapes, which a model that sees
its picture at all learns in about a hundred steps; ``--question colour`` whether a scene holds an object of a
colour (``a red object``; the foils the palette's absent colours), one attribute instead of four. It trains the
model in memory (AdamW, loss on the answer's tokens, saved only with ``--save``) and prints, every ``--eval-every``
steps, one JSON line: the accuracy on ``--test`` held-out pictures by which answer is likelier, with the shares of
"yes" said and of facts that hold (docs/results.md, visual spy).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arena.agents.captions import random_picture
from arena.agents.scripted.spy import image_facts
from arena.envs import scenes

QUESTIONS = ("fact", "kind", "colour")
KINDS = {"bar chart": "a bar chart", "line chart": "a line chart", "objects": "shapes"}
SIDE = 96  # the cpu-visual-spy preset's image size
TEST_SEED = 10_000


class Question(NamedTuple):
    """One example: the prompt's ids, the ids of the ``yes`` and ``no`` replies, the picture, whether it holds."""

    prompt: list[int]
    yes: list[int]
    no: list[int]
    image: np.ndarray
    holds: bool


def facts_and_foils(rng: np.random.Generator, question: str = "fact") -> tuple[np.ndarray, list[str], list[str]]:
    """A fresh picture with the statements that hold for it and some that do not. ``fact``: one object's or one
    value's fact, the foils those of a copy with one edit; ``kind``: what the picture is; ``colour``: the colours a
    scene's objects have, the foils the palette's others."""
    if question not in QUESTIONS:
        raise ValueError(f"question must be one of {QUESTIONS}, got {question!r}")
    while True:
        picture = random_picture(rng)
        if question == "colour":  # read off the scene itself: nothing to render for a chart, nor to read
            if not isinstance(picture, scenes.Scene):
                continue
            present = {obj.colour for obj in picture.objects}
            absent = sorted(set(scenes.PALETTE) - present)
            colours = [f"a {c} object" for c in sorted(present)], [f"a {c} object" for c in absent]
            return scenes.render(picture, SIDE), *colours
        image = scenes.render(picture, SIDE)
        facts = image_facts(image)
        if question == "kind":
            mine = next(kind for kind in KINDS if facts[0].endswith(kind))
            return image, [KINDS[mine]], [said for kind, said in KINDS.items() if kind != mine]
        if isinstance(picture, scenes.Scene):
            edited, _ = scenes.edit_scene(picture, 1, rng, "medium")
        else:
            edited, _ = scenes.edit_chart(picture, rng, "medium")
        true = facts[1:]  # the first fact is the kind ("5 objects", "bar chart")
        foils = sorted(set(image_facts(scenes.render(edited, SIDE))) - set(facts))
        if true and foils:  # an edit may change nothing the reader reports: draw again
            return image, true, foils


def make_question(backend: Any, rng: np.random.Generator, question: str = "fact") -> Question:
    """A fresh picture and one statement about it, true or false with even odds, as the model's prompt."""
    from arena.agents.answers import format_answer

    image, true, foils = facts_and_foils(rng, question)
    holds = bool(rng.random() < 0.5)
    pool = true if holds else foils
    statement = pool[int(rng.integers(len(pool)))]
    text = f"Is this true of your image: {statement}? Answer yes or no."
    prompt = [{"role": "user", "content": [{"type": "image", "image": image}, {"type": "text", "text": text}]}]
    eos = backend.tokenizer.eos_token_id
    end = [int(eos)] if eos is not None else []
    yes, no = (list(backend.encode(format_answer(word))) + end for word in ("yes", "no"))
    return Question(list(backend.apply_chat(prompt)), yes, no, image, holds)


def reply_losses(backend: Any, batch: list[Question], replies: list[list[int]], blank: bool = False) -> Any:
    """Each row's mean token cross-entropy of its reply after its prompt and picture (grey with ``blank``)."""
    from arena.agents.captions import reply_token_nll

    nll, mask = reply_token_nll(backend, [q.prompt for q in batch], replies, [q.image for q in batch], blank=blank)
    return (nll * mask).sum(1) / mask.sum(1)


def score(backend: Any, questions: list[Question], blank: bool = False, batch_size: int = 16) -> dict[str, float]:
    """Accuracy of the likelier answer, the share of "yes" said and the share of statements that hold."""
    import torch

    right = said_yes = 0
    backend.model.eval()
    with torch.no_grad():
        for start in range(0, len(questions), batch_size):
            batch = questions[start : start + batch_size]
            yes = reply_losses(backend, batch, [q.yes for q in batch], blank).tolist()
            no = reply_losses(backend, batch, [q.no for q in batch], blank).tolist()
            for q, y, n in zip(batch, yes, no, strict=True):
                right += (y < n) == q.holds
                said_yes += y < n
    total = len(questions)
    return {
        "accuracy": round(right / total, 3),
        "says_yes": round(said_yes / total, 3),
        "holds": round(sum(q.holds for q in questions) / total, 3),
    }


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a vision-language model directory (a visual-spy warm start)")
    parser.add_argument("--question", choices=QUESTIONS, default="fact")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--test", type=int, default=400, help="held-out pictures scored")
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--blank", action="store_true", help="grey pictures (does the answer need the picture?)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", help="save the trained model here (to chain questions: colour, then fact)")
    args = parser.parse_args(argv)
    for name in ("steps", "batch_size", "test", "eval_every"):
        if getattr(args, name) < (0 if name == "steps" else 1):
            parser.error(f"--{name.replace('_', '-')} is too small: {getattr(args, name)}")
    import torch

    from arena.agents.backends.transformers_backend import TransformersBackend

    torch.manual_seed(args.seed)
    backend = TransformersBackend(args.model)
    if getattr(backend, "processor", None) is None:
        parser.error(f"{args.model} is not a vision-language model (it has no image processor)")
    test = [make_question(backend, np.random.default_rng(TEST_SEED + i), args.question) for i in range(args.test)]
    start = time.perf_counter()
    rows = [{"step": 0, **score(backend, test, args.blank), "seconds": 0.0}]
    print(json.dumps(rows[-1]), flush=True)
    params = [p for p in backend.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.lr)
    rng = np.random.default_rng(args.seed)
    for step in range(1, args.steps + 1):
        backend.model.train()
        batch = [make_question(backend, rng, args.question) for _ in range(args.batch_size)]
        loss = reply_losses(backend, batch, [q.yes if q.holds else q.no for q in batch], args.blank).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        if step % args.eval_every == 0 or step == args.steps:
            seconds = round(time.perf_counter() - start, 1)
            rows.append(
                {
                    "step": step,
                    "loss": round(float(loss.detach()), 4),
                    **score(backend, test, args.blank),
                    "seconds": seconds,
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    if args.save:
        backend.model.save_pretrained(args.save)
        backend.processor.save_pretrained(args.save)
    return rows


if __name__ == "__main__":
    main()
