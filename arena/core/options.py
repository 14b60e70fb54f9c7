"""Checks for a game's constructor options of two shapes that ``bool(...)`` and ``tuple(...)`` would take
silently or crash on: a true/false flag (``bool(nan)`` is True) and a list (``tuple("abc")`` is three letters,
``tuple(1.5)`` a ``TypeError``). Each wrong value is an :class:`ArenaError` that names the option."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from arena.core.errors import ArenaError


def flag_option(value: Any, name: str) -> bool:
    """A true/false option: a bool (numpy's too), or 0 / 1 (what ``--kw name=1`` parses to)."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ArenaError(f"{name} must be true or false, got {value!r}")


def list_option(value: Any, name: str) -> tuple[Any, ...]:
    """A list option as a tuple; a string or anything that is not a collection is refused."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ArenaError(f"{name} must be a list, got {value!r}")
    return tuple(value)
