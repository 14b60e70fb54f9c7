"""Round-robin tournaments: every lineup of entrants over the seats (or sides) for every seed, played in
parallel processes and stored match by match.

A *lineup* assigns one entrant to each unit of play. Units are seats, or in team games (envs with a
``team(agent)`` method, e.g. Werewolf) the teams themselves: the env is reset with the match seed to
learn which seats form each team and every seat of a team gets the same entrant, so a side can be
rated as one entity. Team games play every assignment of entrants to teams, self-play included (an
agent's two sides are different entities, and those games tie the teams' rating scales together).
Otherwise, with at least as many entrants as units the lineups are all ordered selections
(``permutations``); with fewer, the cyclic rotations, so each entrant takes each unit equally often.

Every match is a pure function of its plan (env seed plus agent seeds derived from the match key), so
a resumed run computes exactly the rows an uninterrupted run would have.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arena.core.errors import ArenaError
from arena.league.store import MatchRecord, Store, match_key


@dataclass(frozen=True)
class Entrant:
    """A named agent in a tournament: ``name`` labels it in tables, ``spec`` builds it (see ``make_agent``)."""

    name: str
    spec: str


def parse_entrants(items: Iterable[str]) -> list[Entrant]:
    """``name=spec`` items (a bare ``spec`` is its own name) into entrants; names must be unique."""
    entrants: list[Entrant] = []
    for item in items:
        name, sep, spec = item.partition("=")
        if not sep:
            name, spec = item, item
        name, spec = name.strip(), spec.strip()
        if not name or not spec:
            raise ArenaError(f"--agent expects name=spec, got {item!r}")
        if any(e.name == name for e in entrants):
            raise ArenaError(f"agent name {name!r} given twice")
        entrants.append(Entrant(name, spec))
    if not entrants:
        raise ArenaError("give at least one --agent name=spec")
    return entrants


@dataclass(frozen=True)
class MatchPlan:
    """One scheduled match: the entrant in every seat, the seed and the deterministic key."""

    env_id: str
    seed: int
    seats: tuple[tuple[str, Entrant], ...]
    env_kwargs: tuple[tuple[str, Any], ...] = ()
    key: str = field(default="", compare=False)

    @property
    def lineup(self) -> dict[str, Entrant]:
        """Seat → entrant."""
        return dict(self.seats)

    def agent_seed(self, index: int) -> int:
        """The seed of the agent in seat ``index``: derived from the key, not from run order."""
        return (int(self.key[:12], 16) + 7919 * index) % (2**31)


def _lineups(n_entrants: int, n_units: int, *, teams: bool = False) -> list[tuple[int, ...]]:
    if teams:  # sides are rated as "agent@team": self-play lineups link the two teams' ratings
        return list(itertools.product(range(n_entrants), repeat=n_units))
    if n_entrants >= n_units:
        return list(itertools.permutations(range(n_entrants), n_units))
    return [tuple((unit + shift) % n_entrants for unit in range(n_units)) for shift in range(n_entrants)]


def seat_teams(env: Any, seed: int) -> dict[str, str]:
    """Each seat's team after ``reset(seed)``; empty when the game has no teams."""
    raw = env.unwrapped
    if not callable(getattr(raw, "team", None)):
        return {}
    env.reset(seed=seed)
    return {seat: str(raw.team(seat)) for seat in raw.possible_agents}


#: The largest match seed: the store keeps seeds as SQLite integers (signed 64-bit).
MAX_SEED = 2**63 - 1


def check_seeds(seed: int, games: int) -> None:
    """``games`` >= 1 match seeds from ``seed`` on, all within the store's integers (a seed past them stopped a
    run after storing the matches before it)."""
    if games < 1:
        raise ArenaError(f"--games must be at least 1, got {games}")
    if seed < 0 or seed + games - 1 > MAX_SEED:
        raise ArenaError(
            f"--seed {seed} with --games {games}: match seeds must lie in 0 to 2**63 - 1 (the store's integers)"
        )


def plan_matches(
    env_id: str,
    entrants: Sequence[Entrant],
    games: int,
    *,
    seed: int = 0,
    env_kwargs: Mapping[str, Any] | None = None,
) -> list[MatchPlan]:
    """Every lineup for each of ``games`` seeds (``seed``, ``seed + 1``, ...), in a fixed order."""
    from arena.core.registry import make

    check_seeds(seed, games)
    kwargs = dict(env_kwargs or {})
    env = make(env_id, **kwargs)
    seats = list(env.possible_agents)
    plans: list[MatchPlan] = []
    for game_seed in range(seed, seed + games):
        teams = seat_teams(env, game_seed)
        units = sorted(set(teams.values())) if teams else seats
        for lineup in _lineups(len(entrants), len(units), teams=bool(teams)):
            chosen = dict(zip(units, (entrants[i] for i in lineup), strict=True))
            by_seat = tuple((s, chosen[teams[s]] if teams else chosen[s]) for s in seats)
            key = match_key(env_id, kwargs, game_seed, {s: (e.name, e.spec) for s, e in by_seat})
            plans.append(MatchPlan(env_id, game_seed, by_seat, tuple(sorted(kwargs.items())), key))
    return plans


_LLM_CACHE: dict[str, Any] = {}

#: Matches with an ``llm:`` agent played together, their turns batched into one backend call per tick.
LLM_BATCH = 32


def _build_agent(entrant: Entrant, env_id: str, seed: int) -> Any:
    """Build an agent; ``llm:`` agents are loaded once per process and reused (loading a model per
    match would dominate the run; they keep no state between matches)."""
    from arena.agents.specs import make_agent

    if entrant.spec.startswith("llm:"):
        if entrant.spec not in _LLM_CACHE:
            _LLM_CACHE[entrant.spec] = make_agent(entrant.spec, env_id, seed=seed)
        return _LLM_CACHE[entrant.spec]
    return make_agent(entrant.spec, env_id, seed=seed)


def _setup(plan: MatchPlan) -> tuple[Any, dict[str, Any]]:
    """The env and the agents (by seat) of a planned match."""
    from arena.core.registry import make

    env = make(plan.env_id, **dict(plan.env_kwargs))
    agents = {s: _build_agent(e, plan.env_id, plan.agent_seed(i)) for i, (s, e) in enumerate(plan.seats)}
    return env, agents


def _record(plan: MatchPlan, env: Any, steps: int, truncated: bool, transcript_dir: str | None) -> MatchRecord:
    """The stored row of a finished match (its transcript written to ``transcript_dir/<env>/<key>.jsonl``)."""
    raw = env.unwrapped
    seats = plan.lineup
    teams = {s: str(raw.team(s)) for s in seats} if callable(getattr(raw, "team", None)) else {}
    roles = raw.transcript.header.get("roles", {})
    path = None
    if transcript_dir is not None:
        path = str(raw.transcript.save(Path(transcript_dir) / plan.env_id / f"{plan.key[:24]}.jsonl"))
    return MatchRecord(
        key=plan.key,
        env_id=plan.env_id,
        seed=plan.seed,
        agents={s: e.name for s, e in seats.items()},
        specs={s: e.spec for s, e in seats.items()},
        roles={s: str(roles.get(s, "")) for s in seats},
        returns={s: float(raw.returns.get(s, 0.0)) for s in seats},
        winners=list(raw.winners),
        env_kwargs=dict(plan.env_kwargs),
        teams=teams,
        truncated=truncated,
        steps=steps,
        transcript=path,
    )


def run_match(plan: MatchPlan, transcript_dir: str | None = None) -> MatchRecord:
    """Play one planned match (in whichever process calls it) and return its record; the transcript is
    written to ``transcript_dir/<env>/<key>.jsonl`` when a folder is given."""
    from arena.agents.match import play

    env, agents = _setup(plan)
    result = play(env, agents, seed=plan.seed)
    return _record(plan, env, result.steps, result.truncated, transcript_dir)


def run_batch(plans: Sequence[MatchPlan], transcript_dir: str | None = None) -> list[MatchRecord]:
    """Play several planned matches at once through :func:`arena.agents.scheduler.play_many`, so the
    turns of every ``llm:`` agent across them go to its backend as one batch per tick."""
    from arena.agents.scheduler import play_many

    setups = [_setup(plan) for plan in plans]
    outcomes = play_many(
        [(env, agents, plan.seed) for plan, (env, agents) in zip(plans, setups, strict=True)], traced=False
    )
    return [
        _record(plan, env, outcome.steps, outcome.truncated, transcript_dir)
        for plan, (env, _), outcome in zip(plans, setups, outcomes, strict=True)
    ]


@dataclass
class TournamentReport:
    """What a tournament call did: matches planned, already stored, played now, and failures."""

    planned: int = 0
    skipped: int = 0
    played: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    #: Played here, but another process writing to the same database stored the same match first.
    stored_elsewhere: int = 0

    @property
    def remaining(self) -> int:
        """Matches neither stored before nor finished (played or failed) in this call."""
        return self.planned - self.skipped - self.played - self.stored_elsewhere - len(self.failed)


class TournamentInterrupted(KeyboardInterrupt):
    """Ctrl-C during a tournament: every finished match is stored; the message says how many."""

    def __init__(self, report: TournamentReport, db: Path) -> None:
        self.report = report
        super().__init__(
            f"{report.played} matches stored in {db} this run ({report.skipped} were already there, "
            f"{len(report.failed)} failed, {report.remaining} not played); run it again to resume"
        )


MatchCallback = Callable[[MatchRecord | None, TournamentReport], None]


def run_tournament(
    env_id: str,
    entrants: Sequence[Entrant],
    games: int,
    store: Store,
    *,
    seed: int = 0,
    workers: int = 1,
    transcript_dir: str | Path | None = None,
    save_transcripts: bool = True,
    env_kwargs: Mapping[str, Any] | None = None,
    on_start: Callable[[TournamentReport], None] | None = None,
    on_match: MatchCallback | None = None,
) -> TournamentReport:
    """Plan the round robin, skip matches already in ``store`` and play the rest, storing each as it
    finishes. ``workers=1`` plays inline; more uses a process pool. Matches with an ``llm:`` agent are
    played in this process in batches of :data:`LLM_BATCH` (one model load, batched generation).
    A failing match is reported, not fatal. ``on_start(report)`` runs once the plan is known,
    ``on_match(record or None, report)`` after each match (None: it failed). Ctrl-C raises
    :class:`TournamentInterrupted` after stopping the workers. Transcripts go to ``transcript_dir``
    (default: ``transcripts/`` next to the database)."""
    plans = plan_matches(env_id, entrants, games, seed=seed, env_kwargs=env_kwargs)
    done = store.keys(env_id)
    todo = [p for p in plans if p.key not in done]
    report = TournamentReport(planned=len(plans), skipped=len(plans) - len(todo))
    folder = str(Path(transcript_dir or store.transcript_root).expanduser()) if save_transcripts else None
    if on_start is not None:
        on_start(report)

    def finished(plan: MatchPlan, record: MatchRecord | None, error: BaseException | None) -> None:
        if record is None:
            report.failed.append((plan.key, f"{type(error).__name__}: {error}"))
        else:
            if record.transcript is not None:
                record.transcript = _relative(record.transcript, store.path.parent)
            if store.add(record):
                report.played += 1
            else:
                report.stored_elsewhere += 1
        if on_match is not None:
            on_match(record, report)

    try:
        if any(e.spec.startswith("llm:") for e in entrants):
            _play_batched(todo, folder, finished)
        elif workers <= 1 or len(todo) <= 1:
            for plan in todo:
                _play_one(plan, folder, finished)
        else:
            _play_pool(todo, folder, workers, finished)
    except KeyboardInterrupt as interrupt:
        if isinstance(interrupt, TournamentInterrupted):
            raise
        raise TournamentInterrupted(report, store.path) from None
    return report


def _play_one(plan: MatchPlan, folder: str | None, finished: Callable[..., None]) -> None:
    try:
        record = run_match(plan, folder)
    except Exception as err:
        finished(plan, None, err)
    else:
        finished(plan, record, None)


def _play_batched(todo: Sequence[MatchPlan], folder: str | None, finished: Callable[..., None]) -> None:
    """Batches of matches through the scheduler; a batch that fails is replayed match by match, so one
    broken match fails alone."""
    for start in range(0, len(todo), LLM_BATCH):
        chunk = todo[start : start + LLM_BATCH]
        try:
            records = run_batch(chunk, folder)
        except Exception:
            for plan in chunk:
                _play_one(plan, folder, finished)
            continue
        for plan, record in zip(chunk, records, strict=True):
            finished(plan, record, None)


def _play_pool(todo: Sequence[MatchPlan], folder: str | None, workers: int, finished: Callable[..., None]) -> None:
    """A process pool whose workers ignore Ctrl-C and exit when the parent dies. Ctrl-C only sets a flag
    here (an interrupt raised inside the executor's own calls could leave its locks held); the loop then
    stops the workers and raises ``KeyboardInterrupt`` from a clean point."""
    size = min(workers, os.cpu_count() or workers, len(todo))
    before = set(multiprocessing.active_children())
    stop = threading.Event()
    restore = _flag_on_sigint(stop)
    pool = ProcessPoolExecutor(max_workers=size, initializer=_worker_init, initargs=(os.getpid(),))
    pending: dict[Future[MatchRecord], MatchPlan] = {}
    queue = iter(todo)
    try:
        for plan in itertools.islice(queue, 2 * size):
            pending[pool.submit(run_match, plan, folder)] = plan
        while pending:
            if stop.is_set():
                raise KeyboardInterrupt
            ready, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in ready:
                plan = pending.pop(future)
                error = future.exception()
                finished(plan, None if error else future.result(), error)
                nxt = None if stop.is_set() else next(queue, None)
                if nxt is not None:
                    pending[pool.submit(run_match, nxt, folder)] = nxt
        if stop.is_set():  # Ctrl-C while the last pending matches finished: still an interruption
            raise KeyboardInterrupt
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        workers_now = set(multiprocessing.active_children()) - before
        for process in workers_now:
            process.terminate()
        for process in workers_now:
            process.join(timeout=5)
        raise
    finally:
        restore()
    pool.shutdown(wait=True)


def _flag_on_sigint(stop: threading.Event) -> Callable[[], None]:
    """Make Ctrl-C set ``stop`` (a second one interrupts at once); returns what restores the old handler.
    Only the main thread can own signal handlers: elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.getsignal(signal.SIGINT)
    if previous in (signal.SIG_IGN, None):  # Ctrl-C is ignored (or not Python's to handle): leave it so
        return lambda: None

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    signal.signal(signal.SIGINT, handler)
    return lambda: signal.signal(signal.SIGINT, previous)


def _worker_init(parent: int) -> None:
    """In each pool worker: leave Ctrl-C to the parent, and exit as soon as the parent is gone (a pool
    worker blocked on its queue would otherwise outlive a parent killed with ``kill -9``)."""
    import time

    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch_parent() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch_parent, name="arena-parent-watch", daemon=True).start()


def _relative(path: str, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return str(Path(path).resolve())
