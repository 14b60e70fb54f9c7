"""What the LLM agent tells a model: the system prompt, each turn's answer instructions, reply lengths.

The game says how to answer each turn in ``infos[agent]["answer"]`` (``{"kind": "choice" | "text" |
"structured", "example", "max_chars", "syntax"}``, architecture §6); :func:`answer_spec` reads it and
falls back, while a game does not set it yet, to ``choice`` when the turn has ``legal_actions`` and
``text`` otherwise. The instructions are built only from that spec and the legal actions: never from the
registry description (it may name the solution) nor from any equilibrium hint. The system prompt is the
same for every turn of every game in one answer format, so its tokens are shared across prompts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from arena.agents.answers import format_answer
from arena.core.answers import labelled_actions

ANSWER_KINDS = ("choice", "text", "structured")
#: Tokens a model may spend on its private reasoning before it answers (``default_max_new_tokens``).
REASONING_TOKENS = 512
#: The tags around reasoning and answer, and the end-of-turn token.
FORMAT_TOKENS = 16
#: Longest answer, in characters, of each built-in game (its longest free-text turn, else its longest
#: legal action): what ``default_max_new_tokens`` reserves when no turn is given.
ANSWER_CHARS: dict[str, int] = {
    "tictactoe-v0": 8,
    "kuhn-poker-v0": 8,
    "sequential-public-goods-v0": 8,
    "household-v0": 300,
    "negotiation-v0": 500,
    "public-goods-v0": 300,
    "werewolf-v0": 400,
    "spy-v0": 200,
    "visual-spy-v0": 300,
}
#: Answer length assumed for a game not listed above, or a free-text turn without ``max_chars``.
DEFAULT_ANSWER_CHARS = 300
TEXT_EXAMPLE = "I agree."
#: How every turn's instructions begin (they close the user message; warm start finds them by it).
INSTRUCTIONS_START = "Now reply"
_THINK_EXAMPLE = "..."


@dataclass(frozen=True)
class AnswerSpec:
    """How to answer one turn (``infos[agent]["answer"]`` normalised; ``legal`` from ``legal_actions``)."""

    kind: str
    example: str | None = None
    max_chars: int | None = None
    syntax: str | None = None
    legal: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()  # a labelled choice: one label per legal action, answered in its place

    @property
    def replies(self) -> tuple[str, ...]:
        """What a choice turn's answer names: the labels of a labelled choice, else the legal actions."""
        return self.labels or self.legal

    def reply_for(self, action: str) -> str:
        """The answer that plays ``action`` (its label in a labelled choice; the action itself otherwise)."""
        if self.labels and action in self.legal:
            return self.labels[self.legal.index(action)]
        return action


def answer_spec(info: Mapping[str, Any] | None) -> AnswerSpec:
    """The turn's answer spec from ``info``; without a usable ``info["answer"]``: ``choice`` when the
    turn lists ``legal_actions``, else ``text``. A ``choice`` turn without a legal list is read as text."""
    info = info or {}
    legal = tuple(str(a) for a in info.get("legal_actions") or ())
    raw = info.get("answer")
    raw = raw if isinstance(raw, Mapping) else {}
    kind = raw.get("kind") if raw.get("kind") in ANSWER_KINDS else ("choice" if legal else "text")
    if kind == "choice" and not legal:
        kind = "text"
    max_chars = raw.get("max_chars")
    max_chars = int(max_chars) if isinstance(max_chars, int | float) and max_chars > 0 else None
    example = raw.get("example")
    example = str(example) if isinstance(example, str | int | float) and str(example).strip() else None
    syntax = raw.get("syntax")
    syntax = str(syntax) if isinstance(syntax, str) and syntax.strip() else None
    labels = raw.get("labels")
    labels = tuple(str(x) for x in labels) if isinstance(labels, list | tuple) and kind == "choice" else ()
    if len(labels) != len(legal) or len(set(labels)) != len(labels):
        labels = ()  # a label list that does not name each legal action once is ignored
    return AnswerSpec(kind, example, max_chars, syntax, legal, labels)


def system_prompt_for(env_id: str | None, answer_format: str = "tags") -> str:
    """The system prompt: which game (by id only) and how a reply reaches it. No rules or hints: the
    game's own rules open every observation."""
    game = f"the game {env_id}" if env_id else "a text game"
    lines = [
        f"You are a player in {game}.",
        "The user message holds the rules, your private information, what you have seen so far and what "
        "you must do now.",
    ]
    if answer_format == "tags":
        lines.append(
            "Reply in two parts: your private reasoning inside <think></think>, which no other player ever "
            "sees, then your move inside <answer></answer>. Only the text inside the answer tags reaches the "
            "game; a reply without a closed </answer> is an invalid move."
        )
    elif answer_format == "raw":
        lines.append("Reply with your move only: your whole reply reaches the game.")
    else:
        lines.append("Give your move in the form the instructions ask for.")
    return " ".join(lines)


def example_answer(spec: AnswerSpec) -> str:
    """A valid answer for the turn: the game's example (for a choice turn, only if it is legal now),
    else the first legal action, else a neutral one-line message."""
    if spec.kind == "choice":
        return spec.example if spec.example in spec.replies else spec.replies[0]
    return spec.example or TEXT_EXAMPLE


def turn_instructions(
    spec: AnswerSpec, observation_text: str = "", answer_format: str = "tags", *, show_legal: bool = True
) -> str:
    """One paragraph closing the user message: what to answer this turn, with a correct example.
    A choice turn lists its legal actions unless the observation already shows every one of them."""
    if spec.kind == "choice" and spec.labels:
        entries = labelled_actions(spec.labels, spec.legal)
        if all(entry in observation_text for entry in entries):
            what = "the label of exactly one of the legal actions listed above"
        else:
            what = "the label of exactly one of these legal actions: " + "; ".join(entries)
    elif spec.kind == "choice":
        listed = all(a in observation_text for a in spec.legal)
        if listed:
            what = "exactly one of the legal actions listed above"
        elif not show_legal:  # the list is left out on purpose (hide_legal): the rules say what is legal
            what = "exactly one legal move"
        else:
            what = "exactly one of these legal actions: " + " ".join(spec.legal)
    elif spec.kind == "structured" and spec.syntax:
        what = f"your move (the form: {spec.syntax.rstrip('.')})"
    else:
        limit = f" (one line, at most {spec.max_chars} characters)" if spec.max_chars else " (one line)"
        what = f"your message{limit}"
    example = example_answer(spec)
    if answer_format == "tags":
        shown = format_answer(example, "tags", _THINK_EXAMPLE)
        return f"{INSTRUCTIONS_START}: think inside <think></think>, then write {what} inside <answer></answer>. Example: {shown}"
    return f"{INSTRUCTIONS_START} with {what}. Example: {example}"


def answer_tokens(chars: int) -> int:
    """Tokens reserved for an answer of ``chars`` characters (two characters a token: generous for
    English text under a large vocabulary, about right for a tiny one)."""
    return math.ceil(max(1, chars) / 2)


def default_max_new_tokens(env_id: str | None = None, spec: AnswerSpec | Mapping[str, Any] | None = None) -> int:
    """Reply tokens that leave room to think (:data:`REASONING_TOKENS`) and to answer in full, rounded
    up to a multiple of 32. With a turn's ``spec`` (an :class:`AnswerSpec` or an ``infos[agent]``
    entry) the answer part fits that turn; otherwise the game's longest answer (:data:`ANSWER_CHARS`)."""
    if spec is not None and not isinstance(spec, AnswerSpec):
        spec = answer_spec(spec)
    if spec is None:
        chars = ANSWER_CHARS.get(env_id or "", DEFAULT_ANSWER_CHARS)
    elif spec.kind == "choice":
        chars = max(len(a) for a in spec.replies)
    elif spec.kind == "structured":
        chars = spec.max_chars or max(len(spec.syntax or ""), len(spec.example or ""), 64)
    else:
        chars = spec.max_chars or DEFAULT_ANSWER_CHARS
    total = REASONING_TOKENS + FORMAT_TOKENS + answer_tokens(chars)
    return 32 * math.ceil(total / 32)
