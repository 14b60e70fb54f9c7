"""The league store: every finished match as one row of an SQLite database.

Each match has a deterministic key (a hash of env id, env kwargs, seed and the agent name and spec in
every seat) with a UNIQUE constraint, so re-running a tournament skips what is already stored and an
interrupted run loses nothing that finished (each match is committed on its own). The database runs in
WAL mode with a busy timeout, and writes retry on ``database is locked``, so several ``arena eval``
processes may write to one file at once. Transcripts live as JSONL files in ``transcripts/`` next to
the database; rows store their path relative to the database's folder.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arena.core.errors import ArenaError

SCHEMA = """
CREATE TABLE IF NOT EXISTS matches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    env_id TEXT NOT NULL,
    env_kwargs TEXT NOT NULL,
    seed INTEGER,
    agents TEXT NOT NULL,
    specs TEXT NOT NULL,
    roles TEXT NOT NULL,
    teams TEXT NOT NULL,
    returns TEXT NOT NULL,
    winners TEXT NOT NULL,
    truncated INTEGER NOT NULL DEFAULT 0,
    steps INTEGER NOT NULL DEFAULT 0,
    transcript TEXT,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS matches_env ON matches (env_id, id);
"""

_COLUMNS = (
    "key",
    "env_id",
    "env_kwargs",
    "seed",
    "agents",
    "specs",
    "roles",
    "teams",
    "returns",
    "winners",
    "truncated",
    "steps",
    "transcript",
    "created",
)
_JSON_COLUMNS = ("env_kwargs", "agents", "specs", "roles", "teams", "returns", "winners")


def arena_home() -> Path:
    """``$ARENA_HOME`` or ``~/.arena``: where the default database and transcripts live."""
    return Path(os.environ.get("ARENA_HOME") or "~/.arena").expanduser()


def default_db_path() -> Path:
    """The league database used when no ``--db`` is given."""
    return arena_home() / "league.db"


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal values give equal strings (used for keys)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def match_key(
    env_id: str,
    env_kwargs: Mapping[str, Any],
    seed: int | None,
    seats: Mapping[str, tuple[str, str]],
) -> str:
    """The deterministic identity of a match: ``seats`` maps each seat to ``(agent name, agent spec)``."""
    payload = {
        "env": env_id,
        "kwargs": dict(env_kwargs),
        "seed": seed,
        "seats": {seat: list(pair) for seat, pair in seats.items()},
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


@dataclass
class MatchRecord:
    """One stored match. Dicts are keyed by seat (``player_k``)."""

    key: str
    env_id: str
    seed: int | None
    agents: dict[str, str]
    specs: dict[str, str]
    roles: dict[str, str]
    returns: dict[str, float]
    winners: list[str]
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    teams: dict[str, str] = field(default_factory=dict)  # empty when the game has no teams
    truncated: bool = False
    steps: int = 0
    transcript: str | None = None  # path relative to the database folder
    created: float = 0.0
    id: int | None = None

    def row(self) -> tuple[Any, ...]:
        """The values of an INSERT, in ``_COLUMNS`` order (dicts as canonical JSON)."""
        values = {name: getattr(self, name) for name in _COLUMNS}
        for name in _JSON_COLUMNS:
            values[name] = canonical_json(values[name])
        values["truncated"] = int(bool(self.truncated))
        values["created"] = self.created or time.time()
        return tuple(values[name] for name in _COLUMNS)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> MatchRecord:
        """Rebuild a record from a ``SELECT *`` row; ``ValueError`` names the field of a corrupt row."""
        data = {name: row[name] for name in _COLUMNS}
        for name in _JSON_COLUMNS:
            try:
                data[name] = json.loads(data[name])
            except (TypeError, ValueError):
                raise ValueError(f"{name} is not JSON") from None
        for name in ("agents", "specs", "roles", "teams"):
            if not _maps(data[name], str):
                raise ValueError(f"{name} must map seats to text")
        if not _maps(data["returns"], float):
            raise ValueError("returns must map seats to finite numbers")
        if not isinstance(data["env_kwargs"], dict):
            raise ValueError("env_kwargs must be an object")
        if not isinstance(data["winners"], list) or not all(isinstance(w, str) for w in data["winners"]):
            raise ValueError("winners must be a list of seats")
        if not isinstance(data["key"], str) or not (data["seed"] is None or isinstance(data["seed"], int)):
            raise ValueError("key must be text and seed an integer")
        data["truncated"] = bool(data["truncated"])
        return cls(id=row["id"], **data)


def _maps(value: Any, kind: type) -> bool:
    """``value`` is a dict of strings to ``kind`` (``float``: finite numbers, not bools; a NaN return
    would silently rate as a tie)."""
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        return False
    if kind is float:
        return all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value.values())
    return all(isinstance(v, kind) for v in value.values())


class Store:
    """An SQLite league database (created on first use). Use as a context manager or call ``close``."""

    #: Seconds a writer waits for another writer's lock before giving up.
    busy_timeout_s = 120.0

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        try:
            self._retry(self._init_schema)
        except BaseException:
            self.conn.close()
            raise

    # -- setup ------------------------------------------------------------------------------------
    def _init_schema(self) -> None:
        self.conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
        self._check_foreign()
        if self.conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.executescript(SCHEMA)

    def _check_foreign(self) -> None:
        """Refuse another program's SQLite file before anything is written to it (WAL mode, our table)."""
        tables = {row[0] for row in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "matches" in tables:
            columns = {row[1] for row in self.conn.execute("PRAGMA table_info(matches)")}
            missing = [name for name in ("id", *_COLUMNS) if name not in columns]
            if missing:
                raise ArenaError(
                    f"{self.path} is not an arena league database: its matches table has no {', '.join(missing)}"
                )
        elif tables - {"sqlite_sequence"}:
            raise ArenaError(
                f"{self.path} is not an arena league database (it holds tables {', '.join(sorted(tables))} "
                "and no matches table)"
            )

    def _retry(self, fn: Any, *args: Any) -> Any:
        """Run ``fn`` again while SQLite reports the database busy/locked (beyond the busy timeout,
        e.g. during WAL setup), with a growing pause; give up after ``busy_timeout_s``."""
        deadline = time.monotonic() + self.busy_timeout_s
        pause = 0.01
        while True:
            try:
                return fn(*args)
            except sqlite3.OperationalError as err:
                text = str(err).lower()
                if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                    raise
                if self.conn.in_transaction:
                    self.conn.rollback()
                time.sleep(pause)
                pause = min(pause * 2, 0.5)

    @property
    def transcript_root(self) -> Path:
        """Folder (next to the database) where match transcripts are written."""
        return self.path.parent / "transcripts"

    # -- writing ----------------------------------------------------------------------------------
    def _insert(self, record: MatchRecord) -> bool:
        placeholders = ", ".join("?" for _ in _COLUMNS)
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            cursor = self.conn.execute(
                f"INSERT OR IGNORE INTO matches ({', '.join(_COLUMNS)}) VALUES ({placeholders})", record.row()
            )
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return cursor.rowcount == 1

    def add(self, record: MatchRecord) -> bool:
        """Store one match and commit it. Returns False when a match with the same key was already there."""
        return bool(self._retry(self._insert, record))

    # -- reading ----------------------------------------------------------------------------------
    def keys(self, env_id: str | None = None) -> set[str]:
        """Keys of the stored matches (of one env): what a resumed tournament skips."""
        if env_id is None:
            rows = self.conn.execute("SELECT key FROM matches")
        else:
            rows = self.conn.execute("SELECT key FROM matches WHERE env_id = ?", (env_id,))
        return {row[0] for row in rows}

    def matches(self, env_id: str | None = None, agents: Sequence[str] | None = None) -> list[MatchRecord]:
        """Stored matches in insertion order, optionally for one env and only those whose every seat is
        played by one of ``agents``."""
        if env_id is None:
            rows = self.conn.execute("SELECT * FROM matches ORDER BY id")
        else:
            rows = self.conn.execute("SELECT * FROM matches WHERE env_id = ? ORDER BY id", (env_id,))
        records = []
        for row in rows:
            try:
                records.append(MatchRecord.from_row(row))
            except ValueError as err:
                raise ArenaError(f"{self.path}: match row {row['id']} is corrupt: {err}") from None
        if agents is not None:
            allowed = set(agents)
            records = [r for r in records if set(r.agents.values()) <= allowed]
        return records

    def envs(self) -> list[str]:
        """Env ids with at least one stored match."""
        return [row[0] for row in self.conn.execute("SELECT DISTINCT env_id FROM matches ORDER BY env_id")]

    def count(self, env_id: str | None = None) -> int:
        """Number of stored matches (of one env)."""
        if env_id is None:
            return int(self.conn.execute("SELECT COUNT(*) FROM matches").fetchone()[0])
        return int(self.conn.execute("SELECT COUNT(*) FROM matches WHERE env_id = ?", (env_id,)).fetchone()[0])

    def __iter__(self) -> Iterator[MatchRecord]:
        return iter(self.matches())

    # -- lifetime ---------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection (every match is already committed)."""
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
