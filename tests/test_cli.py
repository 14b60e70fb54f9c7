"""The ``arena`` command: list, watch, play, replay, and one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from arena.cli import main


def run_cli(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list_shows_both_reference_games(capsys):
    code, out, _ = run_cli(capsys, "list")
    assert code == 0 and "tictactoe-v0" in out and "kuhn-poker-v0" in out


@pytest.mark.parametrize("env_id", ["kuhn-poker-v0", "tictactoe-v0"])
def test_watch_renders_a_whole_match(capsys, env_id):
    code, out, _ = run_cli(capsys, "watch", env_id, "--seed", "1")
    assert code == 0 and "Game over" in out and "return" in out


def test_watch_as_player_hides_the_other_card(capsys):
    code, out, _ = run_cli(capsys, "watch", "kuhn-poker-v0", "--seed", "1", "--as", "player_0", "--kw", "num_hands=1")
    assert code == 0
    private = [line for line in out.splitlines() if "Your card" in line]
    assert len(private) == 1


def test_play_human_seat_reads_stdin_and_saves_transcript(tmp_path, monkeypatch, capsys):
    moves = iter(["[4]", "[0]", "[8]", "[2]", "[6]", "[1]", "[7]", "[3]", "[5]"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(moves))
    path = tmp_path / "t.jsonl"
    code, out, _ = run_cli(
        capsys, "play", "tictactoe-v0", "--agent", "player_0=human", "--agent", "player_1=scripted", "--save", str(path)
    )
    assert code == 0 and path.exists()
    code, out, _ = run_cli(capsys, "replay", str(path))
    assert code == 0 and "Game over" in out


@pytest.mark.parametrize(
    "args,needle",
    [
        (("watch", "nope-v0"), "unknown env"),
        (("play", "tictactoe-v0", "--agent", "player_0=foo"), "unknown agent"),
        (("play", "tictactoe-v0", "--agent", "player_7=random"), "unknown seat"),
        (("replay", "/no/such/file.jsonl"), "no such file"),
        (("watch", "kuhn-poker-v0", "--kw", "num_hands=-1"), "num_hands"),
    ],
)
def test_errors_are_one_line(capsys, args, needle):
    code, _, err = run_cli(capsys, *args)
    assert code == 2 and needle in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "arena.cli", "list"], capture_output=True, text=True, check=True)
    assert "kuhn-poker-v0" in out.stdout
