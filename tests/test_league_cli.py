"""``arena eval`` and ``arena leaderboard`` through the real CLI entry point."""

from __future__ import annotations

import csv
import importlib.util
import io
import json

import pytest

from arena.cli import main


def run_cli(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_eval_then_leaderboard_ranks_scripted_above_random(tmp_path, capsys):
    db = str(tmp_path / "league.db")
    args = ("eval", "kuhn-poker-v0", "--agent", "r=random", "--agent", "s=scripted", "--games", "150", "--db", db)
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    assert "300 matches planned, 0 already stored, 300 played" in out
    code, out, _ = run_cli(capsys, *args)
    assert code == 0 and "300 already stored, 0 played" in out

    code, out, _ = run_cli(capsys, "leaderboard", "kuhn-poker-v0", "--db", db, "--format", "json")
    board = json.loads(out)[0]
    assert board["matches"] == 300
    first, second = board["ratings"]
    assert (first["agent"], second["agent"]) == ("s", "r")
    assert first["ci_low"] > second["ci_high"]  # non-overlapping 95% intervals
    assert first["exploitability"] == pytest.approx(0.0, abs=1e-6) and second["exploitability"] is None
    assert first["games"] == 300 and 0 < second["win_rate"] < first["win_rate"] < 1
    assert board["win_rate"]["agents"] == ["r", "s"]
    assert board["win_rate"]["rate"][1][0] == pytest.approx(1 - board["win_rate"]["rate"][0][1])

    code, out, _ = run_cli(capsys, "leaderboard", "--db", db)
    assert code == 0 and "kuhn-poker-v0 · 300 matches" in out and "95% CI" in out
    assert max(len(line) for line in out.splitlines()) <= 80

    code, out, _ = run_cli(capsys, "leaderboard", "kuhn-poker-v0", "--db", db, "--format", "md")
    assert code == 0 and out.splitlines()[2].startswith("| rank | agent | rating")

    code, out, _ = run_cli(capsys, "leaderboard", "kuhn-poker-v0", "--db", db, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["agent"] for r in rows] == ["s", "r"] and rows[0]["env"] == "kuhn-poker-v0"

    plot = tmp_path / "board.png"
    code, out, err = run_cli(capsys, "leaderboard", "kuhn-poker-v0", "--db", db, "--plot", str(plot))
    if importlib.util.find_spec("matplotlib") is None:
        assert code == 2 and "needs matplotlib" in err and "Traceback" not in err
    else:
        assert code == 0 and plot.stat().st_size > 0


@pytest.mark.parametrize(
    "args,needle",
    [
        (("eval", "nope-v0", "--agent", "r=random"), "unknown env"),
        (("eval", "kuhn-poker-v0"), "at least one --agent"),
        (("eval", "kuhn-poker-v0", "--agent", "a=random", "--agent", "a=scripted"), "twice"),
        (("eval", "kuhn-poker-v0", "--agent", "r=random", "--games", "0"), "--games"),
        (("leaderboard", "--db", "/no/such/league.db"), "no league database"),
        (("leaderboard", "--format", "xml"), "--format"),
    ],
)
def test_errors_are_one_line(tmp_path, capsys, monkeypatch, args, needle):
    monkeypatch.setenv("ARENA_HOME", str(tmp_path))
    code, _, err = run_cli(capsys, *args)
    assert code == 2 and needle in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_seeds_past_the_stores_integers_are_refused_before_any_match(tmp_path, capsys):
    """A match seed past SQLite's signed 64-bit integers used to stop the run after storing the matches before it."""
    db = tmp_path / "l.db"
    args = ("eval", "kuhn-poker-v0", "--agent", "r=random", "--agent", "s=scripted", "--db", str(db), "-n", "2")
    code, _out, err = run_cli(capsys, *args, "--seed", str(2**63 - 1))
    assert code == 2 and "2**63 - 1" in err and not db.exists()
    code, _out, err = run_cli(capsys, *args, "--seed", str(2**63 - 2))
    assert code == 0, err


def test_an_agent_name_cannot_style_the_terminal_or_break_the_markdown_table(tmp_path, capsys):
    """Names are user text (``--agent``, a shared database): their escape characters are shown, not sent to the
    terminal, and a newline or pipe in one stays inside its markdown cell."""
    db = str(tmp_path / "league.db")
    name = "\x1b[2Jev|il\nname"
    code, _out, err = run_cli(
        capsys, "eval", "kuhn-poker-v0", "-a", f"{name}=random", "-a", "s=scripted", "-n", "2", "--db", db
    )
    assert code == 0, err
    code, out, _ = run_cli(capsys, "leaderboard", "kuhn-poker-v0", "--db", db)
    assert code == 0 and "\x1b" not in out and "\\x1b[2Jev|il" in out
    code, out, _ = run_cli(capsys, "leaderboard", "kuhn-poker-v0", "--db", db, "--format", "md")
    rows = out.splitlines()[4:]
    assert code == 0 and len(rows) == 2 and "\x1b" not in out
    assert any("| \\x1b[2Jev\\|il\\nname |" in row for row in rows), rows


def test_unknown_agent_is_refused_before_any_match(tmp_path, capsys):
    db = tmp_path / "l.db"
    code, _out, err = run_cli(capsys, "eval", "kuhn-poker-v0", "--agent", "x=nosuchagent", "--db", str(db), "-n", "1")
    assert code == 2 and err.startswith("error: unknown agent 'nosuchagent'") and not db.exists()
