"""The benchmark suite's peer table: which numbers its ratios are made of (no timing is asserted; the
rates are scripted)."""

from __future__ import annotations

import itertools

import pytest

import benchmarks.__main__ as suite
import benchmarks.games as games


@pytest.fixture
def scripted_rates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ours: 100, 300, 200 steps/s in turn (halved when the env is new); the peer: 400, 100, 200 in turn."""
    ours = itertools.cycle([100.0, 300.0, 200.0])
    peer = itertools.cycle([400.0, 100.0, 200.0])
    monkeypatch.setattr(games, "PEERS", (games.PeerPair("tictactoe-v0", {}, "TicTacToe-v0"),))
    monkeypatch.setattr(games, "peer_available", lambda library, env_id: None)
    monkeypatch.setattr(games, "arena_rate", lambda env_id, seconds, fresh=False, **kw: (next(ours) / (1 + fresh), 1))
    monkeypatch.setattr(games, "peer_rate", lambda pair, seconds, fresh=False: (next(peer), 1))


def test_peer_ratio_is_the_median_of_pairs_timed_in_alternating_order(
    scripted_rates: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one repeat of three slices; each slice times the reused env, then the new env; in slice 0 ours goes
    # first, in slice 1 the peer, in slice 2 ours again. Ours reads 100, 300/2, 200, 100/2, 300, 200/2 in
    # call order and the peer 400, 100, 200, 400, 100, 200.
    monkeypatch.setattr(suite, "PEER_SLICES", 3)
    [row] = suite.bench_peers(seconds=0.0, repeats=1)
    assert row["slices"] == 3
    assert row["ours_steps_per_s"] == 200.0  # median of 100, 200, 300
    assert row["peer_steps_per_s"] == 200.0  # median of 400, 200, 100
    assert row["paired_ratios"] == pytest.approx([100 / 400, 200 / 200, 300 / 100])
    assert row["new_env_paired_ratios"] == pytest.approx([150 / 100, 50 / 400, 100 / 200])
    assert row["ratio"] == pytest.approx(1.0)  # median of 0.25, 1, 3
    assert row["new_env_ratio"] == pytest.approx(0.5)  # median of 1.5, 0.125, 0.5
    assert row["ratio_best"] == pytest.approx(300.0 / 400.0)
    assert row["new_env_ratio_of_medians"] == pytest.approx(100.0 / 200.0)
    assert row["ratio_iqr"][0] < row["ratio"] < row["ratio_iqr"][1]


def test_peer_slices_alternate_which_side_goes_first(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(games, "PEERS", (games.PeerPair("tictactoe-v0", {}, "TicTacToe-v0"),))
    monkeypatch.setattr(games, "peer_available", lambda library, env_id: None)
    monkeypatch.setattr(
        games, "arena_rate", lambda env_id, seconds, fresh=False, **kw: (calls.append("o"), (1.0, 1))[1]
    )
    monkeypatch.setattr(games, "peer_rate", lambda pair, seconds, fresh=False: (calls.append("p"), (1.0, 1))[1])
    suite.bench_peers(seconds=0.0, repeats=1)
    assert "".join(calls) == "opop" + "popo" + "opop" + "popo"  # PEER_SLICES (4) slices of two columns


def test_repeats_flag_is_checked(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        suite.main(["--repeats", "0", "--only", "peers", "--json", ""])
    assert "--repeats must be at least 1" in capsys.readouterr().err


def test_env_parts_rows_cover_every_variant(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import env_parts

    rows = env_parts.main(["--games", "tictactoe-v0,kuhn-poker-v0", "--rounds", "1", "--episodes", "2"])
    assert [row["env"] for row in rows] == ["tictactoe-v0", "kuhn-poker-v0"]
    assert rows[1]["kwargs"] == {"num_hands": 3}  # configured as in the peer table
    for row in rows:
        assert all(row[name] > 0 for name in env_parts.VARIANTS)
    assert "kuhn-poker-v0 num_hands=3" in capsys.readouterr().out


def test_env_parts_refuses_an_unknown_game(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import env_parts

    with pytest.raises(SystemExit):
        env_parts.main(["--games", "no-such-game-v0"])
    assert "unknown game(s): no-such-game-v0" in capsys.readouterr().err


def test_only_a_full_run_overwrites_the_committed_report_by_default() -> None:
    every = list(suite.SECTIONS)
    assert suite.report_path(None, every, quick=False) == suite.LATEST
    assert suite.report_path(None, every, quick=True) == ""  # a quick run: its numbers are not the report's
    assert suite.report_path(None, ["peers"], quick=False) == ""  # a partial run would drop the other sections
    assert suite.report_path("bench.json", ["peers"], quick=True) == "bench.json"  # asked for: written
    assert suite.report_path("", every, quick=False) == ""
