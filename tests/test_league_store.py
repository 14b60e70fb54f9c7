"""The league store and tournaments: schedules, resume, concurrent writers, a killed eval re-run."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from arena.core.errors import ArenaError
from arena.core.transcript import Transcript
from arena.league.store import Store
from arena.league.tournament import Entrant, parse_entrants, plan_matches, run_match, run_tournament

ENTRANTS = [Entrant("r", "random"), Entrant("s", "scripted")]
KUHN = {"num_hands": 1}


def test_plan_covers_every_seat_permutation_and_seed_with_stable_keys():
    plans = plan_matches("kuhn-poker-v0", ENTRANTS, 3, seed=5, env_kwargs=KUHN)
    assert len(plans) == 6 and {p.seed for p in plans} == {5, 6, 7}
    lineups = {(p.seed, tuple(e.name for _, e in p.seats)) for p in plans}
    assert lineups == {(s, order) for s in (5, 6, 7) for order in (("r", "s"), ("s", "r"))}
    again = plan_matches("kuhn-poker-v0", ENTRANTS, 3, seed=5, env_kwargs=KUHN)
    assert [p.key for p in plans] == [p.key for p in again] and len({p.key for p in plans}) == 6
    other = plan_matches("kuhn-poker-v0", ENTRANTS, 3, seed=5, env_kwargs={"num_hands": 2})
    assert not {p.key for p in plans} & {p.key for p in other}  # kwargs are part of the identity


def test_team_games_give_every_seat_of_a_team_the_same_entrant():
    plans = plan_matches("werewolf-v0", ENTRANTS, 2)
    assert len(plans) == 8  # 2 seeds x every entrant on every team, self-play included
    record = run_match(plans[1])
    by_team: dict[str, set[str]] = {}
    for seat, team in record.teams.items():
        by_team.setdefault(team, set()).add(record.agents[seat])
    assert len(by_team) == 2 and all(len(v) == 1 for v in by_team.values())
    assert len(set.union(*by_team.values())) == 2  # the two sides are played by different entrants


def test_fewer_entrants_than_seats_rotate_through_seats():
    plans = plan_matches("public-goods-v0", ENTRANTS, 1)
    seats_of_r = [tuple(s for s, e in p.seats if e.name == "r") for p in plans]
    assert len(plans) == 2 and set(seats_of_r[0]).isdisjoint(seats_of_r[1])


def test_parse_entrants_rejects_duplicates_and_empty():
    assert parse_entrants(["a=random", "scripted"]) == [Entrant("a", "random"), Entrant("scripted", "scripted")]
    with pytest.raises(Exception, match="twice"):
        parse_entrants(["a=random", "a=scripted"])
    with pytest.raises(Exception, match="at least one"):
        parse_entrants([])


def test_matches_are_deterministic_and_transcripts_saved(tmp_path):
    plan = plan_matches("kuhn-poker-v0", ENTRANTS, 1, seed=3)[0]
    a, b = run_match(plan, str(tmp_path)), run_match(plan)
    assert a.returns == b.returns and a.winners == b.winners and a.steps == b.steps
    assert Transcript.load(a.transcript).result["returns"] == a.returns


def test_matches_another_run_stored_meanwhile_are_counted_apart(tmp_path):
    """Two evals on one database: each match is stored once, and the run that lost the race says how many it
    played that the other stored (it said "0 played" before, with every match played)."""

    def rival(report):  # after this run has planned its matches, another connection stores them all
        with Store(tmp_path / "l.db") as other:
            assert run_tournament("kuhn-poker-v0", ENTRANTS, 3, other, env_kwargs=KUHN).played == 6

    with Store(tmp_path / "l.db") as store:
        report = run_tournament("kuhn-poker-v0", ENTRANTS, 3, store, env_kwargs=KUHN, on_start=rival)
        assert (report.planned, report.skipped, report.played, report.stored_elsewhere) == (6, 0, 0, 6)
        assert report.remaining == 0 and store.count("kuhn-poker-v0") == 6


def test_rerun_resumes_without_duplicates(tmp_path):
    with Store(tmp_path / "l.db") as store:
        first = run_tournament("kuhn-poker-v0", ENTRANTS, 4, store, env_kwargs=KUHN)
        assert (first.planned, first.skipped, first.played) == (8, 0, 8)
        second = run_tournament("kuhn-poker-v0", ENTRANTS, 6, store, env_kwargs=KUHN)
        assert (second.planned, second.skipped, second.played) == (12, 8, 4)
        assert store.count("kuhn-poker-v0") == 12
        record = store.matches("kuhn-poker-v0")[0]
        assert (store.path.parent / record.transcript).exists()  # stored relative to the db folder
        assert record.specs == {s: {"r": "random", "s": "scripted"}[n] for s, n in record.agents.items()}
    mode = sqlite3.connect(tmp_path / "l.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_another_programs_database_is_refused_and_left_untouched(tmp_path):
    """``--db`` naming some other SQLite file got a matches table and WAL mode written into it (and
    ``arena leaderboard`` called it "empty"); one without our columns failed mid-eval."""
    foreign = tmp_path / "app.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.close()
    before = foreign.read_bytes()
    with pytest.raises(ArenaError, match="not an arena league database.*users"):
        Store(foreign)
    assert foreign.read_bytes() == before and not Path(f"{foreign}-wal").exists()
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE matches (id INTEGER PRIMARY KEY, key TEXT UNIQUE, env_id TEXT)")
    conn.close()
    with pytest.raises(ArenaError, match="matches table has no env_kwargs"):
        Store(other)
    with Store(tmp_path / "ours.db") as store:  # a new file, and then our own file again, open fine
        run_tournament("kuhn-poker-v0", ENTRANTS, 1, store, env_kwargs=KUHN)
    with Store(tmp_path / "ours.db") as store:
        assert store.count() == 2


@pytest.mark.parametrize(
    "column,value,needle",
    [
        ("agents", "{not json", "agents is not JSON"),
        ("agents", '["r", "s"]', "agents must map seats to text"),
        ("returns", '{"player_0": NaN, "player_1": 1.0}', "returns must map seats to finite numbers"),
        ("returns", '{"player_0": "x", "player_1": 1.0}', "returns must map seats to finite numbers"),
        ("winners", '"player_0"', "winners must be a list of seats"),
        ("roles", "null", "roles must map seats to text"),
    ],
)
def test_a_corrupt_match_row_is_named_not_rated(tmp_path, column, value, needle):
    """A hand-edited row failed the leaderboard with ``JSONDecodeError``/``TypeError``, or was rated wrong
    without a word: a NaN return counted as a tie, a string of winners as no winner."""
    with Store(tmp_path / "l.db") as store:
        run_tournament("kuhn-poker-v0", ENTRANTS, 1, store, env_kwargs=KUHN, save_transcripts=False)
        store.conn.execute(f"UPDATE matches SET {column} = ? WHERE id = 2", (value,))
        with pytest.raises(ArenaError, match=f"match row 2 is corrupt: {needle}"):
            store.matches("kuhn-poker-v0")


def test_interrupted_run_keeps_finished_matches(tmp_path):
    seen = []

    def stop_after_three(record, report):
        seen.append(record.key)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with Store(tmp_path / "l.db") as store:
        with pytest.raises(KeyboardInterrupt):
            run_tournament("kuhn-poker-v0", ENTRANTS, 5, store, env_kwargs=KUHN, on_match=stop_after_three)
        assert store.keys() == set(seen)
        rest = run_tournament("kuhn-poker-v0", ENTRANTS, 5, store, env_kwargs=KUHN)
        assert rest.skipped == 3 and rest.played == 7 and store.count() == 10


def test_ctrl_c_while_the_last_pending_matches_finish_still_interrupts(tmp_path):
    """A Ctrl-C that lands as the pool's last pending match finishes must not end the run as if complete."""
    from arena.league.tournament import _play_pool

    plans = plan_matches("kuhn-poker-v0", ENTRANTS, 1, env_kwargs=KUHN)[:1]
    finished = []

    def on_finished(plan, record, error):
        finished.append(record)
        os.kill(os.getpid(), signal.SIGINT)  # the pool's handler only sets its stop flag

    # A suite started in the background inherits an ignored SIGINT, which the pool leaves alone: give this
    # process Python's own handler, as under a terminal.
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            _play_pool(plans, None, 2, on_finished)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the pool's handler is gone
    finally:
        signal.signal(signal.SIGINT, before)
    assert len(finished) == 1 and finished[0] is not None


def _writer(db: str, seed: int, games: int) -> None:
    with Store(db) as store:
        run_tournament("kuhn-poker-v0", ENTRANTS, games, store, seed=seed, env_kwargs=KUHN)


def test_two_processes_writing_one_database_keep_all_rows(tmp_path):
    db = str(tmp_path / "shared.db")
    ctx = multiprocessing.get_context("fork")
    # Two disjoint evals and one overlapping the first: 2 x 20 + 2 x 20 unique matches.
    procs = [ctx.Process(target=_writer, args=(db, seed, 20)) for seed in (0, 20, 10)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with Store(db) as store:
        keys = [r.key for r in store.matches()]
        assert len(keys) == len(set(keys)) == 80
        assert {r.seed for r in store.matches()} == set(range(40))


def test_parallel_workers_store_the_same_matches_as_inline(tmp_path):
    with Store(tmp_path / "a.db") as a, Store(tmp_path / "b.db") as b:
        run_tournament("kuhn-poker-v0", ENTRANTS, 6, a, env_kwargs=KUHN, workers=1)
        run_tournament("kuhn-poker-v0", ENTRANTS, 6, b, env_kwargs=KUHN, workers=2)
        rows = lambda s: sorted((r.key, tuple(r.returns.items())) for r in s.matches())  # noqa: E731
        assert rows(a) == rows(b)


def _cli(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "arena.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, so the kill reaches the pool workers too
    )


def test_killed_eval_rerun_gives_the_same_leaderboard(tmp_path):
    env = {**os.environ, "ARENA_HOME": str(tmp_path / "home")}
    args = ["kuhn-poker-v0", "--agent", "r=random", "--agent", "s=scripted", "--games", "100"]
    killed, whole = str(tmp_path / "killed.db"), str(tmp_path / "whole.db")
    proc = _cli("eval", *args, "--db", killed, "--workers", "2", env=env)
    deadline = time.monotonic() + 60
    count = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
        if Path(killed).exists():
            try:
                count = sqlite3.connect(killed, timeout=5).execute("SELECT COUNT(*) FROM matches").fetchone()[0]
            except sqlite3.OperationalError:
                continue
            if count >= 20:
                break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = sqlite3.connect(killed).execute("SELECT COUNT(*) FROM matches").fetchone()[0]
    assert 20 <= partial < 200, "the eval should have been killed midway"
    for db in (killed, whole):
        done = _cli("eval", *args, "--db", db, env=env)
        assert done.wait(120) == 0, done.stderr.read()
    tables = []
    for db in (killed, whole):
        out = _cli("leaderboard", "kuhn-poker-v0", "--db", db, "--format", "json", env=env)
        stdout, stderr = out.communicate(timeout=120)
        assert out.returncode == 0, stderr
        tables.append(stdout)
    assert tables[0] == tables[1]
    assert '"matches": 200' in tables[0]
