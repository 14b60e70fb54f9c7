"""The context budget: a prompt plus its reply must fit the model's maximum length.

A long game (16-player werewolf, a household episode) outgrows a small model's context, and a serving
engine rejects a whole batch for one prompt that does. :func:`fit_observation` keeps the observation's
header (the rules and the player's private setup) and its prompt (what to do now) whole and drops the
oldest history lines until the prompt fits, with a line saying how many were left out. Only if the
header and prompt alone are too long is the header's middle cut, then the text's start.
:func:`recent_history` keeps a fixed number of the latest history lines whatever the budget: a short,
constant context, as verl-agent's ALFWorld prompts (the last 2 steps) for the GiGPO paper.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable
from typing import Any

from arena.agents.backends.base import images_of, text_of
from arena.core.spaces import clip_text
from arena.core.transcript import compose_observation, split_observation

#: The line that replaces elided history (``{n}``: how many lines were left out).
ELISION_NOTE = "(The {n} earliest lines of the history are left out here to fit the model's context.)"
#: The paragraph before a history window (``{n}``: older lines left out, ``{k}``: lines shown).
WINDOW_NOTE = "(Only the last {k} lines of the history are shown; the {n} before them are left out.)"
#: The token estimate for backends without a tokenizer: English runs about 4 bytes a token.
BYTES_PER_TOKEN = 3
TOKENS_PER_MESSAGE = 8
#: ``tokenizer.model_max_length`` above this is a placeholder for "no limit", not a real length.
_NO_LIMIT = 10**7


def max_model_len(backend: Any) -> int | None:
    """The most tokens (prompt plus reply) the backend's model takes, or None when it cannot tell:
    a ``max_model_len`` attribute, vLLM's model config, the model's ``max_position_embeddings`` (also a
    multimodal model's text config), else the tokenizer's ``model_max_length``."""
    explicit = getattr(backend, "max_model_len", None)
    if isinstance(explicit, int) and explicit > 0:
        return explicit
    try:
        return int(backend.llm.llm_engine.model_config.max_model_len)
    except (AttributeError, TypeError, ValueError):
        pass
    config = getattr(getattr(backend, "model", None), "config", None)
    for source in (config, getattr(config, "text_config", None)):
        value = getattr(source, "max_position_embeddings", None)
        if isinstance(value, int) and value > 0:
            return value
    value = getattr(getattr(backend, "tokenizer", None), "model_max_length", None)
    if isinstance(value, int) and 0 < value < _NO_LIMIT:
        return value
    return None


def token_counter(backend: Any) -> Callable[[Any], int]:
    """``count(chat_prompt) -> tokens`` through the backend's own chat template and tokenizer; for a
    backend that cannot tokenize (an HTTP server), an estimate: a token per :data:`BYTES_PER_TOKEN`
    bytes of text plus :data:`TOKENS_PER_MESSAGE` per message."""
    apply_chat = getattr(backend, "apply_chat", None)
    if callable(apply_chat):
        return lambda prompt: len(apply_chat(prompt))
    return estimate_tokens


def estimate_tokens(prompt: Any) -> int:
    """A generous token estimate of a chat prompt without its tokenizer (see :func:`token_counter`)."""
    return sum(
        math.ceil(len(text_of(m.get("content")).encode("utf-8")) / BYTES_PER_TOKEN) + TOKENS_PER_MESSAGE for m in prompt
    )


class PromptBudget:
    """Whether a chat prompt fits in ``limit`` tokens, counted by the backend's tokenizer.

    Most prompts are far below the limit; those are told apart without tokenizing: no token of a
    byte-level or SentencePiece tokenizer covers less than one byte of text, so a prompt's tokens are at
    most its text's UTF-8 bytes plus the chat template's own tokens (measured once on empty messages) and
    :data:`TOKENS_PER_MESSAGE` per message. Prompts with images are always counted."""

    def __init__(self, backend: Any, limit: int) -> None:
        self.limit = int(limit)
        self.count = token_counter(backend)
        self.exact = self.count is not estimate_tokens
        self._template: dict[tuple[str, ...], int] = {}

    def fits(self, prompt: Any) -> bool:
        """Whether ``prompt`` has at most ``limit`` tokens."""
        return self.surely_fits(prompt) or self.count(prompt) <= self.limit

    def surely_fits(self, prompt: Any) -> bool:
        """True when the byte bound alone shows that ``prompt`` fits (no tokenizing)."""
        return self.exact and not images_of(prompt) and self._bound(prompt) <= self.limit

    def _bound(self, prompt: Any) -> int:
        roles = tuple(str(m.get("role", "")) for m in prompt)
        if roles not in self._template:
            self._template[roles] = self.count([{"role": r, "content": ""} for r in roles])
        text = sum(len(text_of(m.get("content")).encode("utf-8")) for m in prompt)
        return text + self._template[roles] + TOKENS_PER_MESSAGE * len(prompt)


def fit_observation(text: str, count: Callable[[str], int], limit: int) -> tuple[str, int]:
    """``text`` shortened until ``count(text) <= limit``: the fewest oldest history lines dropped, noted
    with :data:`ELISION_NOTE`; if even no history is too long, the header's middle is cut, then the
    text's start. Returns the text and the number of history lines left out. The search starts where
    the first count's tokens per character say the cut should be, so a long prompt costs a few counts."""
    total = count(text)
    if total <= limit:
        return text, 0
    header, lines, prompt = split_observation(text)
    n = len(lines)

    def elided(k: int, head: str = header) -> str:
        kept = lines[k:]
        return compose_observation(head, [ELISION_NOTE.format(n=k), *kept] if k else kept, prompt)

    def fits(candidate: str) -> bool:
        return count(candidate) <= limit

    per_char = total / max(1, len(text))
    dropped = list(itertools.accumulate(len(line) + 1 for line in lines))
    guess = bisect.bisect_left(dropped, (total - limit) / per_char + len(ELISION_NOTE)) + 1
    k = _smallest(1, n, lambda k: fits(elided(k)), guess)
    if k is not None:
        return elided(k), k
    cut = _smallest(0, len(header), lambda c: fits(elided(n, _clip_middle(header, len(header) - c))))
    if cut is not None:
        return elided(n, _clip_middle(header, len(header) - cut)), n
    bare = elided(n)
    cut = _smallest(0, len(bare) - 1, lambda c: fits(clip_text(bare, len(bare) - c)))
    return clip_text(bare, len(bare) - (cut if cut is not None else len(bare) - 1)), n


def recent_history(text: str, keep: int) -> tuple[str, int]:
    """``text`` with only its last ``keep`` history lines (each a message with its continuation lines),
    older ones replaced by :data:`WINDOW_NOTE` in its own paragraph before them, so that the result still
    splits into header, history and prompt. Returns the text and the number of lines left out."""
    header, lines, prompt = split_observation(text)
    drop = len(lines) - max(0, keep)
    if drop <= 0:
        return text, 0
    note = WINDOW_NOTE.format(n=drop, k=len(lines) - drop)
    return compose_observation("\n\n".join(filter(None, (header, note))), lines[drop:], prompt), drop


def _clip_middle(text: str, keep: int) -> str:
    """``text`` cut to ``keep`` characters by replacing its middle with ``…``."""
    if len(text) <= keep:
        return text
    if keep <= 1:
        return "…"
    head = (keep - 1) // 2
    return text[:head] + "…" + text[len(text) - (keep - 1 - head) :]


def _smallest(lo: int, hi: int, ok: Callable[[int], bool], guess: int | None = None) -> int | None:
    """The smallest ``k`` in [lo, hi] with ``ok(k)``, for ``ok`` monotone in ``k`` (None when none is).
    From ``guess``, steps of 1, 2, 4… find a bracket first, then bisection: few calls of ``ok`` when the
    guess is close."""
    if hi < lo:
        return None
    if guess is None:
        below, above = lo - 1, hi
        if not ok(hi):
            return None
    else:
        g = min(max(guess, lo), hi)
        step = 1
        if ok(g):
            below, above = lo - 1, g  # ok(above); below is not ok (or below lo)
            while above - step >= lo:
                if not ok(above - step):
                    below = above - step
                    break
                above -= step
                step *= 2
        else:
            below = g
            while True:
                probe = min(below + step, hi)
                if ok(probe):
                    above = probe
                    break
                if probe == hi:
                    return None
                below, step = probe, step * 2
    while above - below > 1:
        mid = (below + above) // 2
        if ok(mid):
            above = mid
        else:
            below = mid
    return above
