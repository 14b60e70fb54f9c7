"""Observations whose text is put together when first read.

An arena observation is ``{"text": ...}`` (plus ``"image"`` in visual games). Its text is the header,
the visible history and the prompt joined (:func:`arena.core.transcript.compose_observation`): work that a
loop driving random or scripted agents, which read ``infos``, never needs. :class:`LazyObservation` is a
real ``dict`` that holds those three parts as of the ``observe`` call (the history copied, so later moves do
not change it) and joins them the first time ``"text"`` is read, by any read path (see
:class:`arena.core.infos.BuildOnRead`). The text read is the one an eager ``observe`` would have returned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from arena.core.infos import BuildOnRead

Compose = Callable[[str, list[str], str], str]
_getitem, _setitem, _get = dict.__getitem__, dict.__setitem__, dict.get


class LazyObservation(BuildOnRead):
    """``{"text": compose(header, lines, prompt)}`` with the join done on first read. Made by
    :func:`lazy_observation`."""

    __slots__ = ("_parts",)
    _parts: tuple[Compose, str, list[str], str] | None

    def __getitem__(self, key: Any) -> Any:  # obs["text"]: the one read most loops make
        if key == "text" and self._parts is not None:
            return self._make(key)
        return _getitem(self, key)

    def get(self, key: Any, default: Any = None) -> Any:
        if key == "text" and self._parts is not None:
            return self._make(key)
        return _get(self, key, default)

    def _is_pending(self, key: Any) -> bool:
        return key == "text" and self._parts is not None

    def _make(self, key: Any) -> str:
        compose, header, lines, prompt = self._parts  # type: ignore[misc]
        self._parts = None
        text = compose(header, lines, prompt)
        _setitem(self, "text", text)
        return text

    def _settled(self, key: Any) -> None:
        if key == "text":
            self._parts = None


def lazy_observation(compose: Compose, header: str, lines: list[str], prompt: str) -> LazyObservation:
    """An observation whose text is ``compose(header, lines, prompt)``, joined when first read. ``lines`` is
    copied here (a game appends to and clears its history lists in place); the strings are immutable."""
    made = LazyObservation(text=None)
    made._parts = (compose, header, lines[:], prompt)
    return made
