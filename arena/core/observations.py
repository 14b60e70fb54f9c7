"""Observations whose text is put together when first read.

An arena observation is ``{"text": ...}`` (plus ``"image"`` in visual games). Its text is the header,
the visible history and the prompt joined (:func:`arena.core.transcript.compose_observation`): work that a
loop driving random or scripted agents, which read ``infos``, never needs. :class:`LazyObservation` is a
real ``dict`` that holds those three parts as of the ``observe`` call (the history as the log, the start of
its section and its number of messages then: the log only appends, so later moves do not change those lines)
and renders and joins them the first time ``"text"`` is read, by any read path (see
:class:`arena.core.infos.OnePendingKey`).
The text read is the one an eager ``observe`` would have returned.
"""

from __future__ import annotations

from collections.abc import Callable

from arena.core.errors import UnknownAgentError
from arena.core.infos import OnePendingKey
from arena.core.messages import MessageLog

Compose = Callable[[str, list[str], str], str]


class LazyObservation(OnePendingKey):
    """``{"text": compose(header, lines, prompt)}`` with the join done on first read. Made by
    :func:`lazy_observation`."""

    __slots__ = ()
    pending_key = "text"

    @staticmethod
    def _build(  # type: ignore[override]
        compose: Compose, header: str, log: MessageLog, agent: str, start: int, count: int, prompt: str
    ) -> str:
        return compose(header, log.lines_before(agent, start, count), prompt)


def lazy_observation(compose: Compose, header: str, log: MessageLog, agent: str, prompt: str) -> LazyObservation:
    """An observation whose text is ``compose(header, lines, prompt)``, the lines being those ``log`` shows
    ``agent`` now, rendered and joined when first read. The section's start and the log's message count now
    mark the lines shown (the log only appends): nothing is copied or rendered, however long the history."""
    if agent not in log.known:
        raise UnknownAgentError(agent, log.known)
    made = LazyObservation(text=None)
    made._source = (compose, header, log, agent, log.section_start, len(log.messages), prompt)
    return made
