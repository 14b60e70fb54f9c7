"""What a viewer shows at one moment, folded from transcript events (generic over games).

Uses only the transcript's generic events — ``reset``, ``message`` (sender, recipients, phase),
``section``, ``eliminated``, ``reward``, ``prompt``/``action``, ``end`` and optional ``vote`` events —
plus the ``"Votes: a -> b, ..."`` announcements the social games make, so any game renders.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from arena.core.messages import GAME, Message
from arena.core.transcript import Transcript, message_from_event

_VOTE_PAIR = re.compile(r"(\S+?)\s*->\s*\[?([^,\]\s]+)\]?")
_ROUND = re.compile(r"(\d+)\s*$")
SHOWN_EVENTS = frozenset({"message", "eliminated", "section", "reward", "end", "vote", "reasoning"})
#: A model's whole reply (``<think>`` text included), recorded by the match runners for spectators only.
REASONING = "reasoning"
MAX_REASONING_CHARS = 600


@dataclass
class ViewState:
    """The viewer's picture after some prefix of the events, filtered for one viewer.

    ``viewer`` None is a spectator: with ``reveal`` it sees every message, role and score; without,
    only public messages. A player sees exactly its own messages, role and score.
    """

    env_id: str
    seed: Any
    players: list[str]
    viewer: str | None = None
    reveal: bool = False
    roles: dict[str, str] = field(default_factory=dict)
    alive: dict[str, bool] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    phase: str = ""
    sections: int = 0
    section_title: str = ""
    votes: dict[str, str] = field(default_factory=dict)
    vote_phase: str = ""
    scores: dict[str, float] = field(default_factory=dict)
    acting: str | None = None
    result: dict[str, Any] | None = None
    step: int = 0
    steps: int = 0

    @property
    def round(self) -> int:
        """The number at the end of the phase name (``"day 2"`` → 2), else the section count."""
        found = _ROUND.search(self.phase)
        return int(found.group(1)) if found else self.sections

    @property
    def tally(self) -> list[tuple[str, int]]:
        """Votes per target, most first (ties by name)."""
        return sorted(Counter(self.votes.values()).items(), key=lambda kv: (-kv[1], kv[0]))

    def sees(self, message: Message) -> bool:
        if self.viewer is not None:
            return message.visible_to(self.viewer)
        return self.reveal or message.to is None

    @property
    def sees_reasoning(self) -> bool:
        """Only a revealing spectator sees what the models thought (never a player, never by default)."""
        return self.viewer is None and self.reveal


def reasoning_message(event: dict[str, Any]) -> Message:
    """A ``reasoning`` event as a chat line for revealing spectators (long replies clipped)."""
    text = str(event.get("text", ""))
    if len(text) > MAX_REASONING_CHARS:
        text = text[:MAX_REASONING_CHARS] + f"… ({len(text) - MAX_REASONING_CHARS} more characters)"
    return Message(sender=str(event.get("agent", "?")), text=f"(thinks) {text}", kind="reasoning")


def event_line(event: dict[str, Any], probe: ViewState) -> Any:
    """The chat line ``probe``'s viewer sees for one transcript event, or None."""
    from arena.view.text import message_line

    kind = event.get("event")
    if kind == "message":
        message = message_from_event(event)
        return message_line(message, show_recipients=probe.viewer is None) if probe.sees(message) else None
    if kind == REASONING and probe.sees_reasoning:
        return message_line(reasoning_message(event))
    return None


def parse_votes(text: str) -> dict[str, str]:
    """``"Votes: player_0 -> player_3, player_1 -> abstain"`` → ``{voter: target}``; {} if not a tally."""
    if not text.startswith("Votes:"):
        return {}
    return dict(_VOTE_PAIR.findall(text[len("Votes:") :]))


def fold(
    transcript: Transcript, upto: int | None = None, *, viewer: str | None = None, reveal: bool = False
) -> ViewState:
    """The state after the first ``upto`` events (all when None) as ``viewer`` sees it."""
    header = transcript.header
    players = list(header.get("agents", []))
    events = transcript.events if upto is None else transcript.events[:upto]
    state = ViewState(
        env_id=str(header.get("env_id", "")),
        seed=header.get("seed"),
        players=players,
        viewer=viewer,
        reveal=reveal,
        alive=dict.fromkeys(players, True),
        scores=dict.fromkeys(players if (viewer is None and reveal) else [viewer] if viewer in players else [], 0.0),
        steps=len(transcript.events),
        step=len(events),
    )
    roles = dict(header.get("roles", {}))
    state.roles = _visible_roles(roles, viewer, reveal)
    for event in events:
        _apply(state, event)
    if state.result is not None and reveal:
        state.roles.update({k: str(v) for k, v in (state.result.get("info") or {}).get("roles", {}).items()})
    return state


def _visible_roles(roles: dict[str, str], viewer: str | None, reveal: bool) -> dict[str, str]:
    if viewer is None:
        return dict(roles) if reveal else {}
    return {viewer: roles[viewer]} if viewer in roles else {}


def _apply(state: ViewState, event: dict[str, Any]) -> None:
    kind = event.get("event")
    if kind == "message":
        message = message_from_event(event)
        if not state.sees(message):
            return
        state.messages.append(message)
        if message.phase:
            state.phase = message.phase
        if message.sender == GAME:
            votes = parse_votes(message.text)
            if votes:
                state.votes, state.vote_phase = votes, message.phase
    elif kind == REASONING and state.sees_reasoning:
        state.messages.append(reasoning_message(event))
    elif kind == "section":
        state.sections += 1
        state.section_title = str(event.get("title", ""))
    elif kind == "eliminated":
        state.alive[event["agent"]] = False
    elif kind == "reward":
        agent = event.get("agent")
        if agent in state.scores:  # holds exactly the scores this viewer may see
            state.scores[agent] += float(event.get("value", 0.0))
    elif kind == "vote" and (state.reveal or state.viewer is None):
        state.votes[str(event.get("voter"))] = str(event.get("target"))
    elif kind == "prompt":  # whose turn it is can reveal a role (the seer acting at night): shown only
        agent = event.get("agent")  # to a revealing spectator, or to the viewer about itself
        state.acting = agent if (state.viewer is None and state.reveal) or agent == state.viewer else None
    elif kind == "action" and event.get("agent") == state.acting:
        state.acting = None
    elif kind == "end":
        state.result = event
        state.acting = None
        state.scores.update({k: float(v) for k, v in (event.get("returns") or {}).items() if k in state.players})


def steps(transcript: Transcript, *, viewer: str | None = None, reveal: bool = True) -> list[int]:
    """Event counts worth stopping at when stepping through a replay: after each event that changes
    what ``viewer`` (or a spectator) sees — a visible message, a section, an elimination, the end."""
    probe = ViewState("", None, [], viewer=viewer, reveal=reveal)
    stops = []
    for i, event in enumerate(transcript.events):
        kind = event.get("event")
        if kind not in SHOWN_EVENTS:
            continue
        if kind == "message" and not probe.sees(message_from_event(event)):
            continue
        if kind == "reward" and not (viewer == event.get("agent") or (viewer is None and reveal)):
            continue
        if kind == "vote" and viewer is not None:
            continue
        if kind == REASONING and not probe.sees_reasoning:
            continue
        stops.append(i + 1)
    return stops or [len(transcript.events)]
