"""Can a model learn the check a Who-is-the-Spy civilian needs: does a clue's fact hold for my own word?

Usage::

    python3 scripts/spy_fact_probe.py --out /tmp/probe --view spelled --prompt minimal --lr 1e-3 --steps 3000
    python3 scripts/spy_fact_probe.py --out /tmp/probe --view plain --prompt game --lr 3e-3   # the warm start's rate

The scripted civilians find the spy by checking each clue's facts (``starts with 'p'``, ``letter 2 is 'e'``,
``5 characters``: :func:`arena.agents.scripted.spy.word_facts`) against their own word; the tiny model does not
learn their votes (docs/results.md, spy). This isolates that check as a yes/no task with a label on every
example: a word from the shipped pairs, one fact that holds for it or, half the time, one of its pair's other
word that does not; the model answers ``yes`` or ``no`` (cross-entropy over the two answers' first tokens). ``--view``: the
word as the game shows it (``plain``), followed by its letters (``spelled``: ``pear (p-e-a-r)``), or followed by
its facts (``facts``, where the check is finding the clue's fact in a list). ``--prompt``: the game's secret line
and a clue line (``game``) or the bare word and fact (``minimal``). It trains on the training pairs and prints,
every ``--eval-every`` steps, the accuracy on fresh examples of the training pairs' words and of the held-out
pairs' words (600 each), overall and per kind of fact. A ``family`` fact always holds here (both words of a pair
share it), so only the other kinds measure the check; a rule that answers from the fact alone, ignoring the word,
scores about 0.58, the chance level here (docs/results.md). With ``--model`` it trains that model; otherwise a fresh
tiny model (``arena model init-tiny``) built under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arena.agents.scripted.spy import word_facts
from arena.envs.spy_words import HELD_OUT_PAIRS, TRAIN_PAIRS

VIEWS = ("plain", "spelled", "facts")
PROMPTS = ("game", "minimal")
Example = tuple[str, bool, str]  # text, whether the fact holds, the fact's kind


def word_view(word: str, view: str) -> str:
    """The word as ``view`` shows it to its holder."""
    if view == "plain":
        return word
    if view == "spelled":
        return f"{word} ({'-'.join(word)})"
    if view == "facts":
        return f"{word}; its facts: {'; '.join(word_facts(word))}"
    raise ValueError(f"view must be one of {VIEWS}, got {view!r}")


def fact_kind(fact: str) -> str:
    """``letter``, ``starts``, ``ends``, ``has``/``no`` (double letter), ``characters``, ``vowels`` or ``family``."""
    first = fact.split()[0]
    return first if first in {"letter", "starts", "ends", "has", "no"} else fact.split()[-1]


def example(pairs: Sequence[tuple[str, str, str]], rng: random.Random, view: str, prompt: str) -> Example:
    """One yes/no question: a word of a random pair and a fact that holds for it, or (half the time, where the
    pair's other word has a fact this one lacks) a fact of the other word that does not."""
    first, second, _ = pairs[rng.randrange(len(pairs))]
    mine, other = (first, second) if rng.random() < 0.5 else (second, first)
    own = word_facts(mine)
    own_set = set(own)
    foreign = [f for f in word_facts(other) if f not in own_set]
    holds = rng.random() < 0.5 or not foreign
    fact = rng.choice(own) if holds else rng.choice(foreign)
    if prompt == "minimal":
        text = f"{word_view(mine, view)} | {fact} |"
    elif prompt == "game":
        text = (
            f"Your secret word is: {word_view(mine, view)}.\nplayer_2 says: my word: {fact}.\n"
            "Does player_2's clue fit your word? Answer yes or no.\n"
        )
    else:
        raise ValueError(f"prompt must be one of {PROMPTS}, got {prompt!r}")
    return text, holds, fact_kind(fact)


def accuracy(predict: Callable[[list[str]], list[bool]], examples: Sequence[Example]) -> tuple[float, dict[str, float]]:
    """The share of ``examples`` that ``predict`` (texts -> "the fact holds") answers right, overall and by kind."""
    answers = predict([text for text, _, _ in examples])
    per_kind: dict[str, list[int]] = {}
    for (_, holds, kind), answer in zip(examples, answers, strict=True):
        tally = per_kind.setdefault(kind, [0, 0])
        tally[0] += answer == holds
        tally[1] += 1
    right = sum(t[0] for t in per_kind.values())
    return right / len(examples), {k: round(r / n, 3) for k, (r, n) in sorted(per_kind.items())}


def probe(
    model_dir: str | Path,
    steps: int,
    lr: float,
    *,
    view: str = "spelled",
    prompt: str = "game",
    batch: int = 32,
    eval_every: int = 200,
    eval_examples: int = 600,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Train the model in ``model_dir`` on ``steps`` batches of the yes/no task (AdamW at ``lr``, 30 warmup steps,
    linear decay to 5 %); return (and ``log`` as JSON) a row every ``eval_every`` steps and at the end, scored on
    ``eval_examples`` fresh examples of the training words and as many of the held-out words."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    rng = random.Random(seed)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    yes, no = tokenizer(" yes")["input_ids"][0], tokenizer(" no")["input_ids"][0]
    if yes == no:
        raise ValueError("' yes' and ' no' share their first token in this tokenizer")

    def answer_logits(texts: list[str]) -> Any:
        enc = tokenizer(texts, return_tensors="pt", padding=True)
        return model(**enc).logits[:, -1][:, [no, yes]]

    def predict(texts: list[str]) -> list[bool]:
        model.eval()
        with torch.no_grad():
            out = [bool(x) for i in range(0, len(texts), 100) for x in answer_logits(texts[i : i + 100]).argmax(-1)]
        model.train()
        return out

    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / 30) * max(0.05, 1 - s / max(1, steps))
    )
    rows: list[dict[str, Any]] = []
    start = time.perf_counter()
    for step in range(1, steps + 1):
        data = [example(TRAIN_PAIRS, rng, view, prompt) for _ in range(batch)]
        target = torch.tensor([int(holds) for _, holds, _ in data])
        loss = torch.nn.functional.cross_entropy(answer_logits([t for t, _, _ in data]), target)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        if step % eval_every == 0 or step == steps:
            train_acc, train_kinds = accuracy(
                predict, [example(TRAIN_PAIRS, rng, view, prompt) for _ in range(eval_examples)]
            )
            held_acc, held_kinds = accuracy(
                predict, [example(HELD_OUT_PAIRS, rng, view, prompt) for _ in range(eval_examples)]
            )
            row = {
                "step": step, "seconds": round(time.perf_counter() - start), "loss": round(loss.item(), 3),
                "train_words": round(train_acc, 3), "held_out_words": round(held_acc, 3),
                "by_kind_train_words": train_kinds, "by_kind_held_out_words": held_kinds,
            }  # fmt: skip
            rows.append(row)
            log(json.dumps(row))
    return rows


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="where the fresh tiny model is built (needed without --model)")
    parser.add_argument("--model", help="train this model instead of a fresh tiny one")
    parser.add_argument("--view", choices=VIEWS, default="spelled")
    parser.add_argument("--prompt", choices=PROMPTS, default="game")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--eval-every", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    if args.model is None and args.out is None:
        parser.error("give --out (a fresh tiny model is built there) or --model")
    import torch

    torch.set_num_threads(args.threads)
    model_dir = args.model
    if model_dir is None:
        from arena.agents.tiny import build_tiny_model

        model_dir = build_tiny_model(Path(args.out) / "tiny", seed=args.seed)
    return probe(
        model_dir, args.steps, args.lr, view=args.view, prompt=args.prompt, batch=args.batch,
        eval_every=args.eval_every, seed=args.seed, log=lambda line: print(line, flush=True),
    )  # fmt: skip


if __name__ == "__main__":
    main()
