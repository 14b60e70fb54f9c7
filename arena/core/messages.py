"""A message store with explicit recipient sets.

Every line of text a game emits is a :class:`Message` addressed to a set of agents (``None`` means
everyone). Posting a message appends it to one list; each agent's visible history is rendered from that
list when it is first read (a loop of random or scripted agents never reads it), then kept and extended
incrementally, so reading it again costs only the new messages. Visibility is a set-membership test, never
a substring test (ChatArena's "Player 1" matched "Player 10").
"""

from __future__ import annotations

import bisect
from typing import NamedTuple

from arena.core.errors import UnknownAgentError

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


class SectionView:
    """One agent's visible lines of one section of the log (the messages from index ``start`` on), rendered from
    the log's messages as they are read; ``lines`` only ever grows."""

    __slots__ = ("agent", "ends", "lines", "messages", "upto")

    def __init__(self, agent: str, messages: list[Message], start: int) -> None:
        self.agent = agent
        self.messages = messages  # the log's list (append-only)
        self.lines: list[str] = []
        self.ends: list[int] = []  # the message index of each line
        self.upto = start  # messages before this index are rendered

    def catch_up(self, count: int) -> list[str]:
        """Render the visible messages before index ``count``; the live list. ``count`` must not pass the
        section's end (the log's callers take it while the section is the current one)."""
        if count > self.upto:
            agent, messages, lines, ends = self.agent, self.messages, self.lines, self.ends
            for index in range(self.upto, count):
                message = messages[index]
                if message.to is None or agent in message.to:
                    lines.append(message.render())
                    ends.append(index)
            self.upto = count
        return self.lines

    def lines_before(self, count: int) -> list[str]:
        """The visible lines of the messages before index ``count`` (a new list)."""
        lines = self.catch_up(count)
        if self.upto == count:
            return lines[:]
        return lines[: bisect.bisect_left(self.ends, count)]


class MessageLog:
    """All messages of an episode. Each agent's visible lines of a section are rendered when first read and
    kept (:class:`SectionView`); posting a message only appends it."""

    __slots__ = ("_views", "agents", "known", "messages", "section_start")

    def __init__(self, agents: tuple[str, ...], messages: list[Message] | None = None) -> None:
        self.agents = agents
        self.messages: list[Message] = [] if messages is None else messages
        self.known = frozenset(agents)  #: the agents messages may be addressed to
        self.section_start = 0  #: index of the current section's first message
        self._views: dict[tuple[str, int], SectionView] = {}  # (agent, section start) -> view, made on first read

    def __repr__(self) -> str:
        return f"MessageLog(agents={self.agents!r}, messages={self.messages!r})"

    def add(self, message: Message) -> None:
        """Append ``message``; ``ValueError`` when it is addressed to an agent the log does not know."""
        to = message.to
        if to is not None and not to <= self.known:
            raise ValueError(f"message addressed to unknown agents {sorted(to - self.known)}")
        self.messages.append(message)

    def new_section(self) -> None:
        """Start a fresh visible history for every agent (e.g. a new hand); the full record is kept."""
        self.section_start = len(self.messages)
        self._views = {}  # a view of an earlier section read later is made again from the messages

    def _view(self, agent: str, start: int) -> SectionView:
        view = self._views.get((agent, start))
        if view is None:
            if agent not in self.known:
                raise UnknownAgentError(agent, self.known)
            view = self._views[agent, start] = SectionView(agent, self.messages, start)
        return view

    def lines(self, agent: str) -> list[str]:
        """Rendered lines visible to ``agent`` in the current section, oldest first: the live list, which is
        only ever appended to (a new section starts a new list); its first ``n`` lines stay what they were."""
        return self._view(agent, self.section_start).catch_up(len(self.messages))

    def lines_before(self, agent: str, start: int, count: int) -> list[str]:
        """The lines visible to ``agent`` of the section that starts at message ``start``, as they were when the
        log held ``count`` messages (taken while that section was the current one); a new list."""
        return self._view(agent, start).lines_before(count)

    def visible(self, agent: str) -> list[Message]:
        return [m for m in self.messages if m.visible_to(agent)]
