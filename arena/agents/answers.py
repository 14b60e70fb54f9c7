"""The answer policy: which part of a model's reply reaches the game, and what a reply without one becomes.

A reply is untrusted text that may hold private reasoning, so only an answer the model explicitly
closed is ever sent to a game; everything else becomes :class:`~arena.core.InvalidReply` and the game
applies its invalid-move rule. For the default ``"tags"`` format
(``<think>reasoning</think><answer>move</answer>``):

* **Reasoning is removed first.** Every closed ``<think>…</think>`` block is private, and so is
  everything after a ``<think>`` that is never closed and everything before a ``</think>`` that has no
  opening tag (models whose chat template opens the think block for them). Answer tags inside reasoning
  do not count.
* **The final answer must be closed.** The content of the last ``<answer>…</answer>`` outside the
  reasoning is the move (several closed answers: the last is the model's final word). A reply whose last
  ``<answer>`` is never closed (cut off by ``max_new_tokens``) has no move, even when an earlier answer
  was closed: the model was changing it.
* **Nested or stray tags are ambiguous.** Answer tags outside the reasoning must alternate open,
  close, open, close: ``<answer>a<answer>b</answer></answer>`` or a stray ``</answer>`` is invalid
  ("nested answer tags"), and so is a think tag inside the answer.
* Tags are case-insensitive and may carry spaces inside the brackets (``< /Answer >``). Text outside
  both tags is private too: only the answer's content, stripped of surrounding whitespace, is sent.

``"raw"``: the whole reply minus its reasoning is the move, and a reply cut off by ``max_new_tokens``
has none (nothing marks where a raw move ends). Any other format is a regular expression searched in
the reply minus its reasoning: the first group (else the whole match) of the last match is the move.
"""

from __future__ import annotations

import re
from typing import Any

from arena.core.replies import InvalidReply

NO_CLOSED_ANSWER = "no closed answer"
NESTED_TAGS = "nested answer tags"
CUT_OFF = "reply cut off at max_new_tokens"
NO_MATCH = "no answer in the expected format"
TOO_LONG = "reply too long"
#: Longest reply examined; a longer one has no move (parsing stays fast whatever a model emits).
MAX_REPLY_CHARS = 200_000

_THINK_OPEN = re.compile(r"<\s*think\s*>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"<\s*/\s*think\s*>", re.IGNORECASE)
_ANSWER_OPEN = re.compile(r"<\s*answer\s*>", re.IGNORECASE)
_ANSWER_CLOSE = re.compile(r"<\s*/\s*answer\s*>", re.IGNORECASE)
_ANY_TAG = re.compile(r"<\s*/?\s*(?:answer|think)\s*>", re.IGNORECASE)

Answer = str | InvalidReply


def format_answer(action: str, answer_format: str = "tags", think: str = "") -> str:
    """The reply that plays ``action`` in ``answer_format`` (warm-start targets, constrained scoring)."""
    if answer_format == "tags":
        return f"<think>{think}</think><answer>{action}</answer>"
    return action


def public_text(reply: str) -> str | None:
    """``reply`` without its reasoning, or None when a ``<think>`` is never closed (everything after it
    is reasoning, so nothing is left that could be an answer)."""
    text = reply
    closers = list(_THINK_CLOSE.finditer(text))
    first_open = _THINK_OPEN.search(text)
    if closers and (first_open is None or closers[0].start() < first_open.start()):
        text = text[closers[0].end() :]  # reasoning whose opening tag the chat template supplied
    parts: list[str] = []
    pos = 0
    while True:
        opened = _THINK_OPEN.search(text, pos)
        if opened is None:
            parts.append(text[pos:])
            break
        parts.append(text[pos : opened.start()])
        closed = _THINK_CLOSE.search(text, opened.end())
        if closed is None:
            return None
        pos = closed.end()
    return "".join(parts)


def extract_answer(reply: Any, answer_format: str = "tags", *, finish_reason: str = "stop") -> Answer:
    """The move in a model ``reply`` under the answer policy (module docstring), or an
    :class:`InvalidReply` saying why there is none. Never raises."""
    text = reply if isinstance(reply, str) else ("" if reply is None else str(reply))
    if len(text) > MAX_REPLY_CHARS:
        return InvalidReply(TOO_LONG)
    public = public_text(text)
    if public is None:
        return InvalidReply(NO_CLOSED_ANSWER)
    if answer_format == "tags":
        return _tagged_answer(public)
    if answer_format == "raw":
        if finish_reason == "length":
            return InvalidReply(CUT_OFF)
        return public.strip()
    try:
        found = list(re.finditer(answer_format, public, re.DOTALL))
    except re.error:
        return InvalidReply(NO_MATCH)
    if not found:
        return InvalidReply(NO_MATCH)
    match = found[-1]
    return (match.group(1) if match.groups() and match.group(1) is not None else match.group(0)).strip()


def _tagged_answer(public: str) -> Answer:
    """The last answer of a reply whose answer tags alternate open, close, open, close…; a final open
    tag means the answer was never closed, any other order (nesting, stray tags) is ambiguous."""
    tags = sorted(
        [(m.start(), m.end(), True) for m in _ANSWER_OPEN.finditer(public)]
        + [(m.start(), m.end(), False) for m in _ANSWER_CLOSE.finditer(public)]
    )
    if not tags or tags[-1][2]:
        return InvalidReply(NO_CLOSED_ANSWER)
    if any(is_open != (k % 2 == 0) for k, (_, _, is_open) in enumerate(tags)):
        return InvalidReply(NESTED_TAGS)
    content = public[tags[-2][1] : tags[-1][0]]
    if _ANY_TAG.search(content):  # a stray </think> inside the answer
        return InvalidReply(NESTED_TAGS)
    return content.strip()


def is_well_formed(reply: Any, answer_format: str = "tags", *, finish_reason: str = "stop") -> bool:
    """True when the reply carries a move under the answer policy (a closed answer of the format)."""
    return not isinstance(extract_answer(reply, answer_format, finish_reason=finish_reason), InvalidReply)
