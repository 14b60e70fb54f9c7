"""Gymnasium spaces for text games.

PettingZoo's ``api_test`` only accepts text observations nested in a ``Dict`` (a bare ``Text`` crashes its
dtype check), and gymnasium's ``Text`` rejects any character outside its charset. Agent messages are
arbitrary unicode, so :class:`TextSpace` samples from printable ASCII but *contains* any printable
unicode string (plus newline and tab) within its length bounds.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np
from gymnasium import spaces

#: Largest observation text, in characters. Longer histories are cut from the front (see ``clip_text``).
MAX_OBSERVATION_CHARS = 1 << 16
#: Largest action text an agent may send; longer actions are clipped to their last characters.
MAX_ACTION_CHARS = 1 << 14

_SAMPLE_CHARSET = string.digits + string.ascii_letters + string.punctuation + " \n\t"


class TextSpace(spaces.Text):
    """A ``Text`` space over printable unicode; sampling draws printable ASCII."""

    def __init__(self, max_length: int, *, min_length: int = 0, seed: int | np.random.Generator | None = None):
        super().__init__(max_length=max_length, min_length=min_length, charset=_SAMPLE_CHARSET, seed=seed)

    def contains(self, x: Any) -> bool:
        if not isinstance(x, str):
            return False
        return self.min_length <= len(x) <= self.max_length and is_clean_text(x)

    def __repr__(self) -> str:
        return f"TextSpace({self.min_length}, {self.max_length})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TextSpace) and (self.min_length, self.max_length) == (
            other.min_length,
            other.max_length,
        )

    __hash__ = None  # type: ignore[assignment]


#: The ASCII characters ``str.isprintable`` accepts (space to ``~``), plus newline and tab.
_CLEAN_ASCII = bytes(range(0x20, 0x7F)) + b"\n\t"


def is_clean_text(text: str) -> bool:
    """True when every character is printable or a newline/tab."""
    if text.isascii():  # the usual case (rules, headers): a byte-level check, about 8x faster than isprintable
        return not text.encode("ascii").translate(None, _CLEAN_ASCII)
    return text.isprintable() or text.replace("\n", "").replace("\t", "").isprintable()


def clean_text(text: str) -> str:
    """Drop control and other non-printable characters, keeping newlines and tabs."""
    if is_clean_text(text):
        return text
    return "".join(c for c in text if c.isprintable() or c in "\n\t")


def clip_text(text: str, max_chars: int, *, keep: str = "end") -> str:
    """Clip ``text`` to ``max_chars``, keeping its end (default) or its start, marking the cut."""
    if len(text) <= max_chars:
        return text
    mark = "…"
    if keep == "end":
        return mark + text[len(text) - max_chars + len(mark) :]
    return text[: max_chars - len(mark)] + mark


def text_observation_space(image_shape: tuple[int, int, int] | None = None) -> spaces.Dict:
    """The observation space every arena env uses: ``{"text": ...}`` plus ``"image"`` for visual games."""
    fields: dict[str, spaces.Space] = {"text": TextSpace(MAX_OBSERVATION_CHARS)}
    if image_shape is not None:
        fields["image"] = spaces.Box(low=0, high=255, shape=image_shape, dtype=np.uint8)
    return spaces.Dict(fields)


def text_action_space() -> TextSpace:
    """Actions are free text; each game parses them with its own documented grammar."""
    return TextSpace(MAX_ACTION_CHARS)
