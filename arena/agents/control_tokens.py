"""Chat-control tokens in untrusted text, made inert before a prompt is tokenized.

A player's speech reaches the other players' observations. If it holds the literal text of a chat-control token
(``<|im_start|>system``, Llama 3's ``<|start_header_id|>``, ``</s>``), the tokenizer turns that text into the real
special token, and the reader's model sees a forged system or assistant turn: a policy could learn to write
instructions into its opponents' context. :func:`neutralize` puts a space after the first character of every such
token in the observation text (``<| im_start|>``), so it is read as plain characters. The patterns are the
chat formats' common families plus the exact special tokens of the backend's own tokenizer, when it has one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

#: Families of chat-control tokens, whatever the tokenizer: ChatML, Llama 3 and GPT (``<|...|>``), DeepSeek's
#: full-width bars, Gemma's turns, Llama 2 / Mistral's ``[INST]`` and ``<<SYS>>``, sentencepiece's ``<s>``.
GENERIC_PATTERNS = (
    r"<\|[^<>|\s]{1,64}\|>",
    r"<｜[^<>｜]{1,64}｜>",
    r"<(?:start|end)_of_turn>",
    r"\[/?INST\]",
    r"<</?SYS>>",
    r"</?s>",
)


def tokenizer_control_tokens(backend: Any) -> tuple[str, ...]:
    """The special tokens of ``backend.tokenizer`` (its named ones and every added token marked special), or
    none when the backend has no local tokenizer (an OpenAI-compatible server)."""
    tokenizer = getattr(backend, "tokenizer", None)
    if tokenizer is None:
        return ()
    found = {str(t) for t in getattr(tokenizer, "all_special_tokens", None) or ()}
    decoder = getattr(tokenizer, "added_tokens_decoder", None) or {}
    found |= {str(getattr(t, "content", t)) for t in decoder.values() if getattr(t, "special", False)}
    return tuple(sorted(t for t in found if len(t) > 1))


def control_pattern(exact: Iterable[str] = ()) -> re.Pattern[str]:
    """One regex for the generic families and the ``exact`` token strings (longest first)."""
    literal = [re.escape(t) for t in sorted(set(exact), key=len, reverse=True)]
    return re.compile("|".join([*literal, *GENERIC_PATTERNS]))


DEFAULT_PATTERN = control_pattern()


def neutralize(text: str, pattern: re.Pattern[str] = DEFAULT_PATTERN) -> str:
    """``text`` with a space after the first character of each control token ``pattern`` finds."""
    return pattern.sub(lambda m: f"{m.group(0)[0]} {m.group(0)[1:]}", text)
