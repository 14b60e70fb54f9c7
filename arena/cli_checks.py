"""Checks the CLI runs on its input before any work starts (each failure is one :class:`ArenaError` line
naming the option and the value), and :class:`Interrupted`, how a command reports a Ctrl-C."""

from __future__ import annotations

import os
from pathlib import Path

from arena.core.errors import ArenaError
from arena.core.options import output_folder, writable

__all__ = ["Interrupted", "at_least", "input_file", "output_file", "output_folder"]


class Interrupted(Exception):
    """A command stopped by Ctrl-C (or end of input); the message says what was stored. The CLI prints
    ``interrupted: <message>`` and exits 130. Deliberately not a ``KeyboardInterrupt``, which click and
    typer turn into their own exit codes and messages."""


def output_file(path: Path | None, option: str) -> Path | None:
    """``path`` can be written: not a folder, and its nearest existing parent folder is writable."""
    if path is None:
        return None
    path = Path(path).expanduser()
    if path.is_dir():
        raise ArenaError(f"{option} {path}: is a folder, give a file name")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not writable(parent):
        raise ArenaError(f"{option} {path}: cannot write there ({parent} is not a writable folder)")
    return path


def input_file(path: Path, what: str) -> Path:
    """``path`` is an existing, readable file."""
    path = Path(path).expanduser()
    if not path.exists():
        raise ArenaError(f"no such file: {path}")
    if path.is_dir():
        raise ArenaError(f"{path} is a folder, not {what}")
    if not os.access(path, os.R_OK):
        raise ArenaError(f"cannot read {path}: permission denied")
    return path


def at_least(value: float, low: float, option: str) -> None:
    """``value >= low`` or a one-line error naming ``option``."""
    if value < low:
        raise ArenaError(f"{option} must be at least {low:g}, got {value:g}")
