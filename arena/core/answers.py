"""``infos[agent]["answer"]``: how the acting agent should reply on this turn (architecture.md §6).

Three kinds of turn:

* ``choice``: pick one of ``infos[agent]["legal_actions"]`` (read tolerantly, see :mod:`arena.core.parsing`);
  with ``labels`` (one short label per legal action, such as ``[3]``), the game lists the actions under
  those labels and accepts a label in place of its action: an LLM answers ``[3]``, not a long command;
* ``text``: free text, at most ``max_chars`` characters (a game clips longer text and says how in its docs);
* ``structured``: text following a small grammar, described in one line by ``syntax``.

Every spec carries an ``example``: a reply the game would accept right now. Games build their specs with
the constructors below so the keys are always the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from arena.core.errors import ArenaError

ANSWER_KINDS = ("choice", "text", "structured")


def choice_answer(
    legal: Sequence[str],
    example: str | None = None,
    *,
    syntax: str | None = None,
    labels: Sequence[str] | None = None,
) -> dict[str, Any]:
    """A choice among ``legal`` (the first legal action, or its label, is the example unless one is given).
    ``syntax`` describes replies accepted beyond the list (household's ``say <message>``); ``labels``
    names each legal action by a short label the game accepts in its place (household's ``[3]``)."""
    if not legal:
        raise ArenaError("a choice turn needs at least one legal action")
    if labels is not None and (len(labels) != len(legal) or len(set(labels)) != len(labels)):
        raise ArenaError("labels must give one distinct label per legal action")
    first = legal[0] if labels is None else labels[0]
    spec: dict[str, Any] = {"kind": "choice", "example": first if example is None else example}
    if syntax is not None:
        spec["syntax"] = syntax
    if labels is not None:
        spec["labels"] = [str(label) for label in labels]
    return spec


def numbered_labels(count: int) -> list[str]:
    """``[1]`` … ``[count]``: the labels of a numbered legal list."""
    return [f"[{i}]" for i in range(1, count + 1)]


def labelled_actions(labels: Sequence[str], legal: Sequence[str]) -> list[str]:
    """``[1] go to desk 1``, …: each legal action after its label, as a game lists a labelled choice (the
    LLM agent looks for exactly these entries in the observation)."""
    return [f"{label} {action}" for label, action in zip(labels, legal, strict=True)]


def text_answer(example: str, max_chars: int) -> dict[str, Any]:
    """Free text of at most ``max_chars`` characters."""
    if len(example) > max_chars:
        raise ArenaError("the example must respect the length limit")
    return {"kind": "text", "example": example, "max_chars": int(max_chars)}


def structured_answer(example: str, syntax: str, max_chars: int | None = None) -> dict[str, Any]:
    """Text in a grammar described by ``syntax`` (one line); ``max_chars`` bounds its free-text part."""
    spec: dict[str, Any] = {"kind": "structured", "example": example, "syntax": syntax}
    if max_chars is not None:
        spec["max_chars"] = int(max_chars)
    return spec
