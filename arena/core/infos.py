"""``env.infos`` built on read: nothing in a step pays for an info value nobody reads.

* :class:`LazyInfos` (``env.infos``): each agent's info dict is computed from the env's state the first
  time it is read after a move. The env calls :meth:`LazyInfos.refresh` at the end of every
  ``reset``/``step``, when its state is final; between two calls the state does not change, so a value
  built late equals the one an eager env would have stored.
* :class:`TurnInfo` (the acting agent's info): its ``state_key`` digest is computed from the information
  state captured when the info was built, the first time the key is read (the digest is the costliest
  part of a turn's info, and only training reads it).

Both are real ``dict``s (PettingZoo's checks ask for one) holding a placeholder until a value is built.
Every read path (``[]``, ``get``, iteration of values/items, copies, comparison, ``repr``, pickling,
``dict(d)``, ``{**d}``, ``json.dumps``) sees built values, never placeholders.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar

Info = dict[str, Any]
# dict's own methods, looked up once (the reads below run on every step)
_contains, _getitem, _setitem, _get = dict.__contains__, dict.__getitem__, dict.__setitem__, dict.get


class BuildOnRead(dict):
    """A dict some of whose values are built when first read; subclasses say which and how."""

    __slots__ = ()

    def _is_pending(self, key: Any) -> bool:
        raise NotImplementedError

    def _make(self, key: Any) -> Any:
        """Build, store and return the value of a pending ``key``."""
        raise NotImplementedError

    def _settled(self, key: Any) -> None:
        """``key`` now holds a real value (written or deleted by the caller)."""

    def freeze(self) -> None:
        """Build every pending value now."""
        for key in list(dict.keys(self)):
            if self._is_pending(key):
                self._make(key)

    # -- reads that build --------------------------------------------------------------------------
    def __getitem__(self, key: Any) -> Any:
        if self._is_pending(key):
            return self._make(key)
        return dict.__getitem__(self, key)

    def get(self, key: Any, default: Any = None) -> Any:
        return self[key] if dict.__contains__(self, key) else default

    def __iter__(self) -> Iterator[Any]:  # defined so dict(d) and {**d} read through __getitem__
        return dict.__iter__(self)

    def values(self) -> Any:
        self.freeze()
        return dict.values(self)

    def items(self) -> Any:
        self.freeze()
        return dict.items(self)

    def copy(self) -> dict[Any, Any]:
        self.freeze()
        return dict(dict.items(self))

    __copy__ = copy

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (self.copy(),))

    def __eq__(self, other: object) -> bool:
        self.freeze()
        if isinstance(other, BuildOnRead):
            other.freeze()
        return dict.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]

    def __or__(self, other: Any) -> dict[Any, Any]:
        return self.copy() | other

    def __ror__(self, other: Any) -> dict[Any, Any]:
        return dict(other) | self.copy()

    def __repr__(self) -> str:
        self.freeze()
        return dict.__repr__(self)

    def pop(self, key: Any, *default: Any) -> Any:
        if dict.__contains__(self, key):
            value = self[key]
            del self[key]
            return value
        return dict.pop(self, key, *default)

    def popitem(self) -> tuple[Any, Any]:
        key = next(reversed(dict.keys(self)))
        return key, self.pop(key)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if dict.__contains__(self, key):
            return self[key]
        self[key] = default
        return default

    # -- writes ------------------------------------------------------------------------------------
    def __setitem__(self, key: Any, value: Any) -> None:
        dict.__setitem__(self, key, value)
        self._settled(key)

    def __delitem__(self, key: Any) -> None:
        dict.__delitem__(self, key)
        self._settled(key)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __ior__(self, other: Any) -> BuildOnRead:
        self.update(other)
        return self

    def clear(self) -> None:
        for key in list(dict.keys(self)):
            del self[key]


class LazyInfos(BuildOnRead):
    """``{agent: info}`` whose entries are rebuilt by ``build(agent)`` when first read after a refresh."""

    __slots__ = ("_build", "_fresh", "refresh")

    def __init__(self, build: Callable[[str], Info], agents: Iterable[str] = ()) -> None:
        super().__init__(dict.fromkeys(agents))
        self._build = build
        self._fresh: set[str] = set()  # entries built (or written) since the last refresh
        #: refresh(): the env's state changed, every entry is rebuilt when next read (the set's own
        #: clear, bound once: called after every move).
        self.refresh: Callable[[], None] = self._fresh.clear

    def __getitem__(self, agent: Any) -> Any:  # the read of every step: _is_pending and _make inlined
        if agent not in self._fresh and _contains(self, agent):
            info = self._build(agent)
            _setitem(self, agent, info)
            self._fresh.add(agent)
            return info
        return _getitem(self, agent)

    def detach(self, freeze: bool = True) -> None:
        """Hold ``build`` (the env's bound method) weakly from now on: the env and its infos no longer keep
        each other alive, so a closed env is freed at once instead of by the cycle collector. The infos
        still work while the env lives. ``freeze``: build what is pending now first (the env passes False
        when nobody else holds the infos: then nothing can read them once the env is gone)."""
        if freeze:
            self.freeze()
        build = self._build
        owner = getattr(build, "__self__", None)
        if owner is not None:  # a bound method: its function, called on a weak reference to its object
            function, owner_ref = build.__func__, weakref.ref(owner)  # type: ignore[attr-defined]
            self._build = lambda agent: function(_alive(owner_ref), agent)

    def _is_pending(self, agent: Any) -> bool:
        return agent not in self._fresh and dict.__contains__(self, agent)

    def _make(self, agent: Any) -> Info:
        info = self._build(agent)
        dict.__setitem__(self, agent, info)
        self._fresh.add(agent)
        return info

    def _settled(self, agent: Any) -> None:
        if dict.__contains__(self, agent):
            self._fresh.add(agent)
        else:
            self._fresh.discard(agent)


def _alive(owner_ref: weakref.ref) -> Any:
    """The object ``owner_ref`` refers to; a clear error once it has been freed."""
    owner = owner_ref()
    if owner is None:
        raise ReferenceError("these infos belong to an env that was closed and freed before they were read")
    return owner


class OnePendingKey(BuildOnRead):
    """A dict with one value (the class's ``pending_key``) built on first read: ``_build(*_source)``, where
    ``_source`` (a tuple of what the value is made from, captured when the dict was made) is None once the
    value is there. Subclasses name the key and say how to build it."""

    __slots__ = ("_source",)
    pending_key: ClassVar[str]
    _source: tuple[Any, ...] | None

    @staticmethod
    def _build(*source: Any) -> Any:
        raise NotImplementedError

    def __getitem__(self, key: Any) -> Any:  # the reads of every step: _is_pending inlined
        if self._source is not None and key == self.pending_key:
            return self._make(key)
        return _getitem(self, key)

    def get(self, key: Any, default: Any = None) -> Any:
        if self._source is not None and key == self.pending_key:
            return self._make(key)
        return _get(self, key, default)

    def _is_pending(self, key: Any) -> bool:
        return self._source is not None and key == self.pending_key

    def _make(self, key: Any) -> Any:
        source, self._source = self._source, None
        value = self._build(*source)  # type: ignore[misc]
        _setitem(self, key, value)
        return value

    def _settled(self, key: Any) -> None:
        if key == self.pending_key:
            self._source = None


class TurnInfo(OnePendingKey):
    """An info dict whose ``state_key`` is ``digest(*state)``, computed when first read. ``state`` is what the
    information state is made from, captured when the info was built: plain data the game no longer changes.
    Made by :func:`turn_info`."""

    __slots__ = ()
    pending_key = "state_key"

    @staticmethod
    def _build(digest: Callable[..., str], *state: Any) -> str:  # type: ignore[override]
        return digest(*state)


def turn_info(info: Info, digest: Callable[..., str], *state: Any) -> TurnInfo:
    """``info`` plus a pending ``state_key``, ``digest(*state)`` (``info`` is a new dict the caller hands over:
    it gets the key). Built on every turn, so without a Python ``__init__``: the dict's own constructor copies it."""
    info["state_key"] = None
    made = TurnInfo(info)
    made._source = (digest, *state)
    return made
