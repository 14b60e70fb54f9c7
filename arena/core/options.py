"""Checks for options (a game's constructor, a model builder's, a training recipe's) that Python would take
silently or crash on later: a true/false flag (``bool(nan)`` is True), a list (``tuple("abc")`` is three letters,
``tuple(1.5)`` a ``TypeError``), a whole number (``True`` is an ``int``, ``2.5`` steps a crash deep in a loop), a
finite number (``nan`` passes every ``<`` test), and an output folder (a file there, or a read-only place, found
only when a long run saves). Each wrong value is an :class:`ArenaError` that names the option."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterable
from pathlib import Path
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


def integer_option(value: Any, name: str, low: int = 0) -> int:
    """A Python ``int`` ``>= low``: not a bool, not ``2.0``, not a numpy integer (the strict fields of a
    transformers config refuse ``hidden_size=np.int64(32)``, mid-build)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ArenaError(f"{name} must be an integer >= {low}, got {value!r}")
    return value


def number_option(value: Any, name: str, *, positive: bool = False, hint: str = "") -> float:
    """A finite Python ``int`` or ``float`` (numpy's float64 is one), ``> 0`` when ``positive`` else ``>= 0``;
    ``hint`` (e.g. ``"the weights' init std"``) goes in the error's parentheses."""
    bad = isinstance(value, bool) or not isinstance(value, int | float)
    if bad or not (0 < value < math.inf if positive else 0 <= value < math.inf):
        note = f" ({hint})" if hint else ""
        raise ArenaError(f"{name} must be a number {'>' if positive else '>='} 0{note}, got {value!r}")
    return float(value)


def writable(folder: Path) -> bool:
    """Whether a file can be created in ``folder`` (tried, since permission bits do not stop root)."""
    if not folder.is_dir():
        return False
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def output_folder(path: Path | None, option: str) -> Path | None:
    """``path`` is, or can be made, a writable folder (an output option: ``--out``, a config's ``out``), checked
    before any work so that a run does not fail when it saves."""
    if path is None:
        return None
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise ArenaError(f"{option} {path}: is a file, give a folder")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not writable(existing):
        raise ArenaError(f"{option} {path}: cannot write there ({existing} is not writable)")
    return path
