"""``env.infos`` built on read: each agent's info dict is computed from the env's state the first time it
is read after a move, so a step costs nothing for the infos nobody reads.

:class:`LazyInfos` is a real ``dict`` (PettingZoo's checks ask for one) whose values are filled in on
first access. The env calls :meth:`LazyInfos.refresh` at the end of every ``reset``/``step``, when its
state is final; between two calls the state does not change, so a value built late equals the one an
eager env would have stored. Every read path (``[]``, ``get``, iteration of values/items, copies,
comparison, ``repr``, pickling, ``dict(infos)``, ``json.dumps``) sees built values, never placeholders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

Info = dict[str, Any]


class LazyInfos(dict):
    """``{agent: info}`` whose stale entries are built by ``build(agent)`` when first read."""

    __slots__ = ("_build", "_stale")

    def __init__(self, build: Callable[[str], Info], agents: Iterable[str] = ()) -> None:
        super().__init__(dict.fromkeys(agents))
        self._build = build
        self._stale: set[str] = set(dict.keys(self))

    def refresh(self) -> None:
        """The env's state changed: every entry is rebuilt when next read."""
        self._stale = set(dict.keys(self))

    def freeze(self) -> None:
        """Build every stale entry now (before the env's state moves on to something else, e.g. a reset)."""
        for agent in list(self._stale):
            self[agent]

    # -- reads that build --------------------------------------------------------------------------
    def __getitem__(self, agent: str) -> Info:
        if agent in self._stale:
            self._stale.discard(agent)
            info = self._build(agent)
            dict.__setitem__(self, agent, info)
            return info
        return dict.__getitem__(self, agent)

    def get(self, agent: str, default: Any = None) -> Any:
        return self[agent] if dict.__contains__(self, agent) else default

    def __iter__(self) -> Iterator[str]:  # defined so dict(infos) and {**infos} read through __getitem__
        return dict.__iter__(self)

    def values(self) -> Any:
        self.freeze()
        return dict.values(self)

    def items(self) -> Any:
        self.freeze()
        return dict.items(self)

    def copy(self) -> dict[str, Info]:
        self.freeze()
        return dict(dict.items(self))

    __copy__ = copy

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (self.copy(),))

    def __eq__(self, other: object) -> bool:
        self.freeze()
        if isinstance(other, LazyInfos):
            other.freeze()
        return dict.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]

    def __or__(self, other: Any) -> dict[str, Info]:
        return self.copy() | other

    def __ror__(self, other: Any) -> dict[str, Info]:
        return dict(other) | self.copy()

    def __repr__(self) -> str:
        self.freeze()
        return dict.__repr__(self)

    def pop(self, agent: str, *default: Any) -> Any:
        if dict.__contains__(self, agent):
            value = self[agent]
            dict.__delitem__(self, agent)
            return value
        return dict.pop(self, agent, *default)

    def popitem(self) -> tuple[str, Info]:
        agent = next(reversed(dict.keys(self)))
        return agent, self.pop(agent)

    def setdefault(self, agent: str, default: Any = None) -> Any:
        if dict.__contains__(self, agent):
            return self[agent]
        dict.__setitem__(self, agent, default)
        return default

    # -- writes ------------------------------------------------------------------------------------
    def __setitem__(self, agent: str, info: Info) -> None:
        self._stale.discard(agent)
        dict.__setitem__(self, agent, info)

    def __delitem__(self, agent: str) -> None:
        self._stale.discard(agent)
        dict.__delitem__(self, agent)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for agent, info in dict(*args, **kwargs).items():
            self[agent] = info

    def __ior__(self, other: Any) -> LazyInfos:
        self.update(other)
        return self

    def clear(self) -> None:
        self._stale = set()
        dict.clear(self)
