"""Transcripts: the ordered events of one episode, saved as JSONL and replayed.

A transcript holds enough to re-render exactly what each player saw at every decision:
each agent's private header, every message with its recipients, and the prompt shown to the acting
agent at each turn. ``Transcript.view(agent, upto)`` rebuilds that observation text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arena.core.messages import Message


@dataclass
class Transcript:
    """Events of one episode. Each event is a JSON-serialisable dict with an ``"event"`` key."""

    events: list[dict[str, Any]] = field(default_factory=list)

    # -- recording -----------------------------------------------------------------------------
    def record(self, event: str, **data: Any) -> None:
        self.events.append({"event": event, **data})

    def record_message(self, message: Message) -> None:
        self.events.append(
            {
                "event": "message",
                "sender": message.sender,
                "to": None if message.to is None else sorted(message.to),
                "text": message.text,
                "kind": message.kind,
                "phase": message.phase,
                "turn": message.turn,
            }
        )

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
        """The observation text ``agent`` had after the first ``upto`` events (all when None)."""
        events = self.events if upto is None else self.events[:upto]
        header = self.header["headers"][agent]
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
    parts = [header]
    if lines:
        parts.append("\n".join(lines))
    if prompt:
        parts.append(prompt)
    return "\n\n".join(part for part in parts if part)


_MESSAGE_LINE = re.compile(r"^(?:…|\[[^\]\n]+\] )")


def split_observation(text: str) -> tuple[str, list[str], str]:
    """Undo :func:`compose_observation` for an acting agent's observation: (header, history lines,
    prompt). The prompt is the last paragraph; the paragraph before it is the history when every line
    there is a rendered message (``[sender] …``, an indented continuation, or a ``…`` clip mark);
    everything else is the header. History lines keep each message's continuation lines with it."""
    blocks = text.split("\n\n")
    if len(blocks) < 3:
        return text if len(blocks) == 1 else blocks[0], [], "" if len(blocks) == 1 else blocks[1]
    *head, history, prompt = blocks
    raw = history.split("\n")
    if not _MESSAGE_LINE.match(raw[0]) or any(not (_MESSAGE_LINE.match(x) or x.startswith("  ")) for x in raw):
        return "\n\n".join([*head, history]), [], prompt
    lines: list[str] = []
    for line in raw:
        if line.startswith("  ") and lines:
            lines[-1] += "\n" + line
        else:
            lines.append(line)
    return "\n\n".join(head), lines, prompt
