"""``arena eval`` and ``arena leaderboard``: plain functions that ``arena.cli`` registers as commands."""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from arena.core.errors import ArenaError

if TYPE_CHECKING:
    from arena.league.store import Store

console = Console()

DbOption = Annotated[
    Path | None, typer.Option("--db", help="league database (default ~/.arena/league.db, or $ARENA_HOME)")
]


def open_store(db: Path | None) -> Store:
    """The league database, or a one-line error that names its path."""
    from arena.league.store import Store, default_db_path

    path = Path(db).expanduser() if db is not None else default_db_path()
    if path.is_dir():
        raise ArenaError(f"--db {path}: is a folder, give a database file")
    try:
        return Store(path)
    except (sqlite3.Error, OSError) as err:
        raise ArenaError(f"cannot open the league database {path}: {err}") from None


def eval_command(
    env_id: Annotated[str, typer.Argument(help="game id, see `arena list`", metavar="ENV_ID")],
    agent: Annotated[
        list[str] | None,
        typer.Option("--agent", "-a", help="name=spec, e.g. r=random, s=scripted, ppo=llm:runs/ppo/ckpt"),
    ] = None,
    games: Annotated[int, typer.Option("--games", "-n", help="seeds; every lineup is played once per seed")] = 10,
    seed: Annotated[int, typer.Option(help="first seed")] = 0,
    workers: Annotated[
        int, typer.Option("--workers", "-j", help="parallel processes (1 plays inline; llm matches are batched)")
    ] = 1,
    db: DbOption = None,
    transcripts: Annotated[
        Path | None, typer.Option(help="folder for match transcripts (default: transcripts/ next to the db)")
    ] = None,
    kw: Annotated[list[str] | None, typer.Option("--kw", help="env kwarg as key=value (value parsed as JSON)")] = None,
) -> None:
    """Play a round robin (all lineups × seeds) and store every match; re-running resumes.

    Exits 1 when some matches failed (how many and why on stderr), 130 on Ctrl-C after saying what was stored."""
    from arena.agents.specs import check_agent_spec
    from arena.cli import parse_kwargs
    from arena.cli_checks import Interrupted, at_least, output_folder
    from arena.core.registry import make
    from arena.league.tournament import check_seeds, parse_entrants, run_tournament

    kwargs = parse_kwargs(kw)
    make(env_id, **kwargs)  # unknown env or bad --kw: one line, before anything runs
    entrants = parse_entrants(agent or [])
    for entrant in entrants:
        check_agent_spec(entrant.spec, env_id)
    at_least(games, 1, "--games")
    at_least(seed, 0, "--seed")
    check_seeds(seed, games)
    at_least(workers, 1, "--workers")
    output_folder(transcripts, "--transcripts")
    err = Console(stderr=True)
    if workers > 1 and any(e.spec.startswith("llm:") for e in entrants):
        err.print(
            "note: llm matches are batched in this process (one model load); --workers is not used", soft_wrap=True
        )
    with open_store(db) as store:
        folder = transcripts if transcripts is not None else store.transcript_root
        with EvalProgress(env_id, err) as progress:
            try:
                report = run_tournament(
                    env_id,
                    entrants,
                    games,
                    store,
                    seed=seed,
                    workers=workers,
                    transcript_dir=folder,
                    env_kwargs=kwargs,
                    on_start=progress.start,
                    on_match=progress.advance,
                )
            except KeyboardInterrupt as stop:
                raise Interrupted(str(stop) or "nothing was stored") from None
        console.print(
            f"{env_id}: {report.planned} matches planned, {report.skipped} already stored, "
            f"{report.played} played"
            + (f" ({report.stored_elsewhere} more, stored first by another run)" if report.stored_elsewhere else "")
            + f", {len(report.failed)} failed → {store.path}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if report.failed:
        reasons = Counter(error for _, error in report.failed)
        for reason, count in reasons.most_common(5):
            err.print(f"  {count} × {reason}", markup=False, highlight=False, soft_wrap=True)
        tried = len(report.failed) + report.played
        err.print(
            f"error: {len(report.failed)} of {tried} matches failed (first: {report.failed[0][1]}); "
            "they are not stored and a re-run retries them",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)


class EvalProgress:
    """Progress of ``arena eval`` on stderr: a rich bar with the total and ETA on a terminal, otherwise a
    plain line at most every ``every_s`` seconds (and at the end)."""

    def __init__(self, env_id: str, console: Console, every_s: float = 10.0) -> None:
        self.env_id = env_id
        self.console = console
        self.every_s = every_s
        self.bar: Any = None
        self.total = 0
        self.done = 0
        self.failed = 0
        self.last_done = 0
        self.started = self.last = 0.0

    def __enter__(self) -> EvalProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
        elif self.total and self.done and self.done != self.last_done:
            self._line()

    def start(self, report: Any) -> None:
        self.total = report.planned - report.skipped
        self.started = self.last = time.monotonic()
        if not self.total:
            return
        if self.console.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[failed]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self.task = self.bar.add_task(self.env_id, total=self.total, failed="")
            self.bar.start()
        else:
            self.console.print(f"{self.env_id}: {self.total} matches to play", markup=False, highlight=False)

    def advance(self, record: Any, report: Any) -> None:
        self.done += 1
        self.failed += record is None
        if self.bar is not None:
            self.bar.update(self.task, advance=1, failed=f"{self.failed} failed" if self.failed else "")
        elif time.monotonic() - self.last >= self.every_s:
            self._line()

    def _line(self) -> None:
        now = time.monotonic()
        rate = self.done / max(now - self.started, 1e-9)
        eta = (self.total - self.done) / rate if rate else float("inf")
        failed = f", {self.failed} failed" if self.failed else ""
        self.console.print(
            f"{self.env_id}: {self.done}/{self.total} matches ({100 * self.done / self.total:.0f}%){failed}, "
            f"ETA {_clock(eta)}",
            markup=False,
            highlight=False,
        )
        self.last, self.last_done = now, self.done


def _clock(seconds: float) -> str:
    if seconds == float("inf"):
        return "?"
    minutes, secs = divmod(int(seconds + 0.5), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


def leaderboard_command(
    env_id: Annotated[str | None, typer.Argument(help="game id (default: every game in the db)")] = None,
    db: DbOption = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table, md, csv or json")] = "table",
    plot: Annotated[
        Path | None, typer.Option(help="also draw win rates and ratings to this PNG (needs matplotlib)")
    ] = None,
    bootstrap: Annotated[int, typer.Option(help="bootstrap resamples for the intervals")] = 200,
) -> None:
    """Ratings (Bradley–Terry, 95% bootstrap CI), games, win rates by role, openskill and exploitability."""
    from arena.cli_checks import at_least, output_file
    from arena.league import leaderboard
    from arena.league.store import default_db_path

    if format not in leaderboard.FORMATS:
        raise ArenaError(f"--format must be one of {', '.join(leaderboard.FORMATS)}, got {format!r}")
    at_least(bootstrap, 0, "--bootstrap")
    output_file(plot, "--plot")
    path = Path(db).expanduser() if db is not None else default_db_path()
    if not path.exists():
        raise ArenaError(f"no league database at {path}; run `arena eval` first")
    with open_store(path) as store:
        envs = [env_id] if env_id else store.envs()
        boards = [leaderboard.compute(e, store.matches(e), bootstrap=bootstrap) for e in envs]
    boards = [b for b in boards if b.matches]
    if not boards:
        raise ArenaError(f"no matches stored for {env_id}" if env_id else "the league database is empty")
    if format == "table":
        for board in boards:
            console.print(leaderboard.rich_table(board))
    elif format == "md":
        print("\n\n".join(leaderboard.markdown(b) for b in boards))
    elif format == "csv":
        print(leaderboard.csv_text(boards), end="")
    else:
        print(leaderboard.json_text(boards))
    if plot is not None:
        console.print(f"plot saved to {leaderboard.plot(boards, plot)}", markup=False, highlight=False)
