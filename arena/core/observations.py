"""Observations whose text is put together when first read.

An arena observation is ``{"text": ...}`` (plus ``"image"`` in visual games). Its text is the header,
the visible history and the prompt joined (:func:`arena.core.transcript.compose_observation`): work that a
loop driving random or scripted agents, which read ``infos``, never needs. :class:`LazyObservation` is a
real ``dict`` that holds those three parts as of the ``observe`` call (the history as its live list and its
length then: the message log only appends to a list, so later moves do not change those lines) and joins
them the first time ``"text"`` is read, by any read path (see :class:`arena.core.infos.OnePendingKey`).
The text read is the one an eager ``observe`` would have returned.
"""

from __future__ import annotations

from collections.abc import Callable

from arena.core.infos import OnePendingKey

Compose = Callable[[str, list[str], str], str]


class LazyObservation(OnePendingKey):
    """``{"text": compose(header, lines, prompt)}`` with the join done on first read. Made by
    :func:`lazy_observation`."""

    __slots__ = ()
    pending_key = "text"

    @staticmethod
    def _build(compose: Compose, header: str, lines: list[str], count: int, prompt: str) -> str:  # type: ignore[override]
        return compose(header, lines[:count], prompt)


def lazy_observation(compose: Compose, header: str, lines: list[str], prompt: str) -> LazyObservation:
    """An observation whose text is ``compose(header, lines, prompt)``, joined when first read. ``lines`` is
    a :class:`arena.core.messages.MessageLog` list, which only grows: its length now marks the lines shown
    (no copy, however long the history)."""
    made = LazyObservation(text=None)
    made._source = (compose, header, lines, len(lines), prompt)
    return made
