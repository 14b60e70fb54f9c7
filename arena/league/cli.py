"""``arena eval`` and ``arena leaderboard``: plain functions that ``arena.cli`` registers as commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from arena.core.errors import ArenaError

console = Console()

DbOption = Annotated[
    Path | None, typer.Option("--db", help="league database (default ~/.arena/league.db, or $ARENA_HOME)")
]


def eval_command(
    env_id: Annotated[str, typer.Argument(help="game id, see `arena list`")],
    agent: Annotated[
        list[str] | None,
        typer.Option("--agent", "-a", help="name=spec, e.g. r=random, s=scripted, ppo=llm:runs/ppo/ckpt"),
    ] = None,
    games: Annotated[int, typer.Option("--games", "-n", help="seeds; every lineup is played once per seed")] = 10,
    seed: Annotated[int, typer.Option(help="first seed")] = 0,
    workers: Annotated[int, typer.Option("--workers", "-j", help="parallel processes (1 plays inline)")] = 1,
    db: DbOption = None,
    transcripts: Annotated[
        Path | None, typer.Option(help="folder for match transcripts (default: transcripts/ next to the db)")
    ] = None,
    kw: Annotated[list[str] | None, typer.Option("--kw", help="env kwarg as key=value (value parsed as JSON)")] = None,
) -> None:
    """Play a round robin (all lineups × seeds) and store every match; re-running resumes."""
    from arena.cli import parse_kwargs
    from arena.core.registry import spec
    from arena.league.store import Store
    from arena.league.tournament import parse_entrants, run_tournament

    spec(env_id)  # unknown env: one-line error
    entrants = parse_entrants(agent or [])
    with Store(db) as store:
        folder = transcripts if transcripts is not None else store.transcript_root
        total = {"n": 0}

        def progress(record, report) -> None:
            total["n"] += 1
            if total["n"] % 50 == 0 and sys.stderr.isatty():
                Console(stderr=True).print(f"{report.played} played…", markup=False)

        report = run_tournament(
            env_id,
            entrants,
            games,
            store,
            seed=seed,
            workers=workers,
            transcript_dir=folder,
            env_kwargs=parse_kwargs(kw),
            on_match=progress,
        )
        console.print(
            f"{env_id}: {report.planned} matches planned, {report.skipped} already stored, "
            f"{report.played} played, {len(report.failed)} failed → {store.path}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        for key, error in report.failed[:5]:
            Console(stderr=True).print(f"match {key[:12]} failed: {error}", markup=False, highlight=False)
        if report.failed and not report.played and not report.skipped:
            raise ArenaError(f"every match failed, first error: {report.failed[0][1]}")


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
    from arena.league import leaderboard
    from arena.league.store import Store, default_db_path

    if format not in leaderboard.FORMATS:
        raise ArenaError(f"--format must be one of {', '.join(leaderboard.FORMATS)}, got {format!r}")
    path = Path(db).expanduser() if db is not None else default_db_path()
    if not path.exists():
        raise ArenaError(f"no league database at {path}; run `arena eval` first")
    with Store(path) as store:
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
