"""Synthetic pretraining of a freshly built tiny model: a few minutes on random tokens aimed at two skills a
pretrained LLM brings and every game's choice turn relies on, so the warm start need not grow them from game
text (where they appear only after hundreds of steps, and on some seeds only partly). Opt-in: what the tiny
model learns from these rows is tied to their layout (a copy at the rows' fixed offset, picks at their length
only) and carries nothing measurable to a game's prompt; it fixed seed 1's votes and broke seed 0's household
(docs/agents.md, "Why: what the tiny model learns from these rows is tied to their layout").

- **Induction**: a random run of tokens seen earlier is continued as it went (Olsson et al. 2022, "In-context
  learning and induction heads"): the copy that reading a legal move off the prompt needs. The repeat always
  starts a third of a row after the run, so a copy by offset solves these rows as well as one by content.
- **Pick from the latest list**: lines that mention bracketed names (`` [x]``), then a list of bracketed
  names, then ``>[``; the next token must be one of that list's names, while the earlier lines (and earlier
  lists) mention others. This is a vote's or a cell's shape: the history names dead players, the list only
  the legal ones. The loss is cross-entropy on a uniformly drawn name of the list plus the warm start's
  legality term (:func:`arena.agents.warmstart.legality_loss`) on the list's names.

No game text is used, so no game's rules, moves or strategy are taught here; the warm start does that."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from arena.core.errors import ArenaError
from arena.core.options import integer_option, number_option

#: Steps of a pretraining run (``arena model init-tiny --pretrain-steps``): both skills form after a few hundred
#: steps (docs/agents.md); 1,000 took 4 min 35 s on 2 threads.
PRETRAIN_STEPS = 1000
PRETRAIN_BATCH = 32
PRETRAIN_LR = 3e-3
ROW_TOKENS = 96
LEGAL_WEIGHT = 3.0
#: Names a pick row draws from; each list shows 2 to 6 of them.
NAMES_PER_ROW = 12


@dataclass
class Row:
    """One training sequence: ``ids``, the ``labels`` (-100 where no loss) and, for pick rows, each answer's
    position (the token that predicts the name) with the list's names."""

    ids: list[int]
    labels: list[int]
    picks: list[tuple[int, list[int]]] = field(default_factory=list)


class RowMaker:
    """Draws the two kinds of rows from ``tokenizer``'s ordinary tokens (special tokens and the bracket marks
    left out), seeded."""

    def __init__(self, tokenizer: Any, seed: int = 0, row_tokens: int = ROW_TOKENS) -> None:
        def ids(text: str) -> list[int]:
            return list(tokenizer(text, add_special_tokens=False)["input_ids"])

        self.open, self.close, self.answer, self.end, self.newline = (
            ids(" ["),
            ids("]"),
            ids(">["),
            ids("]</"),
            ids("\n"),
        )
        marks = {i for m in (self.open, self.close, self.answer, self.end, self.newline) for i in m}
        special = set(tokenizer.all_special_ids)
        self.vocab = np.array([i for i in range(len(tokenizer)) if i not in special and i not in marks])
        if len(self.vocab) < 2 * NAMES_PER_ROW:
            raise ArenaError(f"the tokenizer has too few ordinary tokens ({len(self.vocab)}) for synthetic pretraining")
        self.rng = np.random.default_rng(seed)
        self.row_tokens = row_tokens

    def words(self, n: int) -> list[int]:
        """``n`` ordinary tokens drawn uniformly (repeats allowed): filler and runs."""
        return [int(i) for i in self.rng.choice(self.vocab, n)]

    def induction(self) -> Row:
        """Random prefix, a random run, the run again: loss on the repeat."""
        run = self.row_tokens // 3
        prefix, segment = self.words(self.row_tokens - 2 * run), self.words(run)
        ids = prefix + segment + segment
        return Row(ids, [-100] * (len(ids) - run) + segment)

    def pick(self) -> Row:
        """Episodes of history lines naming bracketed names, a list, then the answer: loss on each answer."""
        rng = self.rng
        names = [int(i) for i in rng.choice(self.vocab, NAMES_PER_ROW, replace=False)]
        ids: list[int] = []
        picks: list[tuple[int, list[int]]] = []
        while len(ids) < self.row_tokens - 24:
            for _ in range(int(rng.integers(1, 4))):
                ids += self.newline + self.open + [names[int(rng.integers(len(names)))]] + self.close
                ids += self.words(int(rng.integers(2, 7)))
            shown = [names[int(i)] for i in rng.choice(len(names), int(rng.integers(2, 7)), replace=False)]
            ids += self.newline + self.words(2)
            for name in shown:
                ids += [*self.open, name, *self.close]
            ids += self.newline + self.answer
            picks.append((len(ids) - 1, shown))
            ids += [shown[int(rng.integers(len(shown)))], *self.end]
        labels = [-100] * len(ids)
        for position, _ in picks:
            labels[position + 1] = ids[position + 1]
        return Row(ids, labels, picks)

    def batch(self, size: int) -> list[Row]:
        """Half induction rows, half pick rows."""
        return [self.induction() if r % 2 == 0 else self.pick() for r in range(size)]


def check_pretrain_options(steps: int, batch_size: int, lr: float) -> None:
    """Clear errors for options that cannot train."""
    integer_option(steps, "pretrain steps", 0)
    integer_option(batch_size, "pretrain batch_size", 2)
    number_option(lr, "pretrain lr", positive=True)


def batch_losses(model: Any, rows: list[Row]) -> tuple[Any, Any]:
    """Cross-entropy on ``rows``' labelled tokens and the legality term at their answers (minus the log of the
    probability of a listed name, averaged): the two tensors training adds up."""
    import torch

    from arena.agents.warmstart import legality_loss

    device = next(model.parameters()).device
    width = max(len(r.ids) for r in rows)
    ids = torch.tensor([r.ids + [0] * (width - len(r.ids)) for r in rows], device=device)
    labels = torch.tensor([r.labels + [-100] * (width - len(r.labels)) for r in rows], device=device)
    mask = torch.tensor([[1] * len(r.ids) + [0] * (width - len(r.ids)) for r in rows], device=device)
    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
    targets = labels[:, 1:]
    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)
    where = [(b, position) for b, r in enumerate(rows) for position, _ in r.picks]
    if not where:
        return ce, torch.zeros((), device=device)
    branch = logits[[b for b, _ in where], [p for _, p in where]]
    return ce, legality_loss(branch, [names for r in rows for _, names in r.picks])


def synthetic_pretrain(
    model: Any,
    tokenizer: Any,
    *,
    steps: int = PRETRAIN_STEPS,
    batch_size: int = PRETRAIN_BATCH,
    lr: float = PRETRAIN_LR,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> list[tuple[float, float]]:
    """Train ``model`` in place for ``steps`` steps (AdamW, warmup then cosine decay) on :class:`RowMaker`
    batches. Returns per step the cross-entropy and the pick rows' legal mass (the probability of a listed name)."""
    import torch

    from arena.agents.warmstart import adamw_warmup_cosine

    check_pretrain_options(steps, batch_size, lr)
    if steps == 0:
        return []
    torch.manual_seed(seed)
    maker = RowMaker(tokenizer, seed)
    params, opt, sched = adamw_warmup_cosine(model, lr, steps, max(1, steps // 10))
    model.train()
    curve: list[tuple[float, float]] = []
    start = time.perf_counter()
    for step in range(steps):
        ce, legal = batch_losses(model, maker.batch(batch_size))
        loss = ce + LEGAL_WEIGHT * legal
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        curve.append((float(ce.detach()), float(torch.exp(-legal.detach()))))
        if log and (step % 100 == 0 or step == steps - 1):
            log(
                f"pretrain step {step + 1}/{steps}: cross-entropy {curve[-1][0]:.3f}, "
                f"listed-name mass {curve[-1][1]:.3f} ({time.perf_counter() - start:.0f} s)"
            )
    model.eval()
    return curve
