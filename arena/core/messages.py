"""A per-agent message store with explicit recipient sets.

Every line of text a game emits is a :class:`Message` addressed to a set of agents (``None`` means
everyone). Each agent's visible history is kept incrementally, so building an observation costs a
join, and visibility is a set-membership test, never a substring test (ChatArena's "Player 1"
matched "Player 10").
"""

from __future__ import annotations

from typing import NamedTuple

GAME = "game"  #: sender name for messages from the game itself


class Message(NamedTuple):
    """One line of the game's record (immutable; a named tuple because games make thousands a second)."""

    sender: str
    text: str
    to: frozenset[str] | None = None  # None: every agent, spectators included
    kind: str = "info"  # "info", "action", "private", "warning", "result", "chat", ...
    phase: str = ""
    turn: int = 0

    def visible_to(self, agent: str) -> bool:
        return self.to is None or agent in self.to

    def render(self) -> str:
        """The line as an agent reads it in its observation. Continuation lines of a player's text are
        indented, so no agent can forge a line that starts like ``[game] ...``."""
        text = self.text if self.sender == GAME or "\n" not in self.text else self.text.replace("\n", "\n  ")
        return f"[{self.sender}] {text}"


class MessageLog:
    """All messages of an episode plus each agent's visible slice."""

    __slots__ = ("_every", "_known", "_lines", "agents", "messages")

    def __init__(self, agents: tuple[str, ...], messages: list[Message] | None = None) -> None:
        self.agents = agents
        self.messages: list[Message] = [] if messages is None else messages
        self._lines: dict[str, list[str]] = {agent: [] for agent in agents}
        self._every = tuple(self._lines.values())  # every agent's lines, for a broadcast
        self._known = frozenset(agents)

    def __repr__(self) -> str:
        return f"MessageLog(agents={self.agents!r}, messages={self.messages!r})"

    def add(self, message: Message) -> None:
        self.post(message, message.render())

    def post(self, message: Message, line: str) -> None:
        """``add`` for a caller that has rendered the message already (``line`` must be ``message.render()``)."""
        to = message.to
        if to is None:
            self.messages.append(message)
            for lines in self._every:
                lines.append(line)
            return
        if not to <= self._known:
            raise ValueError(f"message addressed to unknown agents {sorted(to - self._known)}")
        self.messages.append(message)
        for agent in to:
            self._lines[agent].append(line)

    def new_section(self) -> None:
        """Start a fresh visible history for every agent (e.g. a new hand); the full record is kept."""
        # New lists, not cleared ones: a list handed out by ``lines`` only ever grows, so a reader may keep
        # it with its length instead of a copy (lazy observations do).
        self._lines = {agent: [] for agent in self.agents}
        self._every = tuple(self._lines.values())

    def lines(self, agent: str) -> list[str]:
        """Rendered lines visible to ``agent``, oldest first: the live list, which is only ever appended to
        (a new section starts a new list); its first ``n`` lines stay what they were."""
        return self._lines[agent]

    def visible(self, agent: str) -> list[Message]:
        return [m for m in self.messages if m.visible_to(agent)]
