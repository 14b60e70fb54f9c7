"""Transcripts: the ordered events of one episode, saved as JSONL and replayed.

A transcript holds enough to re-render exactly what each player saw at every decision:
each agent's private header, every message with its recipients, and the prompt shown to the acting
agent at each turn. ``Transcript.view(agent, upto)`` rebuilds that observation text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from arena.core.messages import GAME, Message


class Transcript:
    """Events of one episode. Each event is a JSON-serialisable dict with an ``"event"`` key.

    A game records thousands of messages a second, so a message is kept as the :class:`Message` itself
    and turned into its event dict when ``events`` is next read (the list it returns is the live
    list: hold the transcript, not the list, while the episode runs)."""

    __slots__ = ("_converted", "_events", "append", "record_message")

    def __init__(self, events: list[dict[str, Any]] | None = None) -> None:
        self._events: list[Any] = [] if events is None else events
        self._converted = 0  # entries before this index are dicts
        # append(event): an event dict (``{"event": kind, ...}``) or a Message (recorded as its event).
        # The list's own append, bound once: a game records several events a move.
        self.append: Callable[[dict[str, Any] | Message], None] = self._events.append
        self.record_message = self.append

    def __getstate__(self) -> dict[str, Any]:
        return {"events": self._events, "converted": self._converted}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A copy (``copy.deepcopy``, ``pickle``) records into its own event list: the bound ``append``
        is made again, not copied (a copied one would still write into the original's list)."""
        self._events = state["events"]
        self._converted = state["converted"]
        self.append = self._events.append
        self.record_message = self.append

    @property
    def events(self) -> list[dict[str, Any]]:
        events = self._events
        for i in range(self._converted, len(events)):
            if isinstance(events[i], Message):
                events[i] = message_event(events[i])
        self._converted = len(events)
        return events

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Transcript) and self.events == other.events

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Transcript(events={self.events!r})"

    # -- recording -----------------------------------------------------------------------------
    def record(self, event: str, **data: Any) -> dict[str, Any]:
        """Append an event; returns its dict (a game may add to it, e.g. an invalid move's reason)."""
        entry = {"event": event, **data}
        self._events.append(entry)
        return entry

    def record_first(self, event: str, **data: Any) -> None:
        """Put an event before all others (the ``reset`` event, written once the setup is known)."""
        self._events.insert(0, {"event": event, **data})
        self._converted += 1

    # -- reading -------------------------------------------------------------------------------
    @property
    def header(self) -> dict[str, Any]:
        """The ``reset`` event: env id, seed, kwargs, agents and each agent's private header."""
        for event in self.events:
            if event["event"] == "reset":
                return event
        raise ValueError("transcript has no reset event")

    @property
    def result(self) -> dict[str, Any] | None:
        """The ``end`` event (returns, winners, reason), or None when the episode did not finish."""
        for event in reversed(self.events):
            if event["event"] == "end":
                return event
        return None

    def messages(self) -> Iterator[Message]:
        for event in self.events:
            if event["event"] == "message":
                yield message_from_event(event)

    def view(self, agent: str, upto: int | None = None) -> str:
        """The observation text ``agent`` had after the first ``upto`` events (all when None); no header line
        where the reset event has none for ``agent`` (a hand-edited transcript)."""
        events = self.events if upto is None else self.events[:upto]
        header = self.header.get("headers", {}).get(agent, "")
        lines: list[str] = []
        prompt = ""
        for event in events:
            if event["event"] == "message":
                message = message_from_event(event)
                if message.visible_to(agent):
                    lines.append(message.render())
            elif event["event"] == "prompt" and event["agent"] == agent:
                prompt = event["text"]
            elif event["event"] == "action" and event["agent"] == agent:
                prompt = ""  # a prompt is shown until the agent answers it
            elif event["event"] == "section":
                lines = []
        return compose_observation(header, lines, prompt)

    # -- persistence ---------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as fh:
            for event in self.events:
                fh.write(json.dumps(event, ensure_ascii=False) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Transcript:
        events = []
        with Path(path).open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    events.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise ValueError(f"{path}:{number}: not a JSON line ({err.msg})") from None
        transcript = cls(events)
        transcript.header  # noqa: B018 - validates
        return transcript


def message_event(message: Message) -> dict[str, Any]:
    """The transcript event of a message."""
    return {
        "event": "message",
        "sender": message.sender,
        "to": None if message.to is None else sorted(message.to),
        "text": message.text,
        "kind": message.kind,
        "phase": message.phase,
        "turn": message.turn,
    }


def message_from_event(event: dict[str, Any]) -> Message:
    to = event.get("to")
    return Message(
        sender=event["sender"],
        text=event["text"],
        to=None if to is None else frozenset(to),
        kind=event.get("kind", "info"),
        phase=event.get("phase", ""),
        turn=event.get("turn", 0),
    )


def compose_observation(header: str, lines: list[str], prompt: str) -> str:
    """The one layout every arena observation uses: header, visible history, current prompt."""
    return "\n\n".join(filter(None, (header, "\n".join(lines), prompt)))


#: The first line of a rendered message: ``[game] …`` or ``[player_3] …`` (or werewolf's ``…`` clip mark).
_MESSAGE_LINE = re.compile(rf"^(?:…|\[(?:{GAME}|player_\d+)\] )")


def split_observation(text: str) -> tuple[str, list[str], str]:
    """Undo :func:`compose_observation` for an acting agent's observation: (header, history lines,
    prompt). The prompt is the last paragraph; the paragraph before it is the history when it starts
    with a rendered message (``[game] …``, ``[player_3] …``, or a ``…`` clip mark); everything else is
    the header. Each history line is one message with its continuation lines (any line that does not
    start a message)."""
    blocks = text.split("\n\n")
    if len(blocks) < 3:
        return text if len(blocks) == 1 else blocks[0], [], "" if len(blocks) == 1 else blocks[1]
    *head, history, prompt = blocks
    if not _MESSAGE_LINE.match(history):
        return "\n\n".join([*head, history]), [], prompt
    lines: list[str] = []
    for line in history.split("\n"):
        if lines and not _MESSAGE_LINE.match(line):
            lines[-1] += "\n" + line
        else:
            lines.append(line)
    return "\n\n".join(head), lines, prompt
