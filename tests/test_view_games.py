"""Game panels in watch and replay (recorded with rich): the TicTacToe board, visual-spy images, the
household room; small screens; hostile transcripts; reasoning only for revealing spectators."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from rich.console import Console

from arena.agents.specs import make_agent
from arena.cli import main
from arena.core.errors import ArenaError
from arena.core.registry import make
from arena.view.games import Resimulation
from arena.view.image import UPPER_HALF, TerminalImage, image_protocol
from arena.view.live import load_transcript, replay, replay_frame, watch
from arena.view.text import clip


def recorder(width: int = 100, height: int = 40) -> Console:
    return Console(
        record=True,
        width=width,
        height=height,
        force_terminal=True,
        color_system="truecolor",
        file=open("/dev/null", "w"),
    )


def scripted(env_id: str, **kwargs):
    seats = make(env_id, **kwargs).possible_agents
    return {s: make_agent("scripted", env_id, seed=i) for i, s in enumerate(seats)}


def board_rows(text: str) -> list[str]:
    """The rows of the last TicTacToe board drawn in ``text`` (``X``, ``O`` or the free cell's number)."""
    rows = re.findall(r"│ (\S) │ (\S) │ (\S) │", text)
    return ["".join(r) for r in rows[-3:]]


def expected_rows(board: list[str]) -> list[str]:
    cells = [m if m != " " else str(i) for i, m in enumerate(board)]
    return ["".join(cells[r * 3 : r * 3 + 3]) for r in range(3)]


@pytest.mark.parametrize("live", [True, False])
def test_tictactoe_board_in_watch_and_replay(tmp_path, live):
    c = recorder()
    env = make("tictactoe-v0")
    result = watch(env, scripted("tictactoe-v0"), seed=3, console=c, live=live)
    board = env.unwrapped.board
    assert board_rows(c.export_text(clear=False)) == expected_rows(board) and "board" in c.export_text(clear=False)
    path = result.transcript.save(tmp_path / "t.jsonl")

    c = recorder()
    replay(str(path), console=c)  # printed
    assert board_rows(c.export_text(clear=False)) == expected_rows(board)
    c = recorder()
    replay(str(path), console=c, keys=iter("g"))  # interactive, jump to the end
    assert board_rows(c.export_text(clear=False)) == expected_rows(board)

    transcript = load_transcript(str(path))
    first_move = next(i for i, e in enumerate(transcript.events) if e["event"] == "action") + 1
    c = recorder()
    c.print(replay_frame(transcript, first_move, None, True, c, game=Resimulation(transcript)))
    assert (
        sum(ch in "XO" for row in board_rows(c.export_text(clear=False)) for ch in row) == 1
    )  # one mark after one move


def spy_images(styled: str) -> int:
    """How many rows of half-block pixels in truecolor ``styled`` output."""
    return sum(1 for line in styled.splitlines() if UPPER_HALF * 8 in re.sub(r"\x1b\[[0-9;]*m", "", line))


def test_visual_spy_images_in_watch_and_replay(tmp_path, monkeypatch):
    monkeypatch.delenv("ARENA_IMAGES", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    c = recorder()
    result = watch("visual-spy-v0", scripted("visual-spy-v0"), seed=1, console=c, reveal=True, live=False)
    text, styled = c.export_text(clear=False), c.export_text(styles=True, clear=False)
    assert "civilians" in text and "spy: player_" in text and spy_images(styled) >= 8
    assert "48;2;" in styled  # pixels carry both colours
    path = result.transcript.save(tmp_path / "v.jsonl")

    c = recorder()
    replay(str(path), console=c)
    assert "civilians" in c.export_text(clear=False) and spy_images(c.export_text(styles=True, clear=False)) >= 8
    c = recorder(80, 24)
    replay(str(path), console=c, keys=iter("g"))
    assert spy_images(c.export_text(styles=True, clear=False)) >= 4

    c = recorder()
    replay(str(path), console=c, as_player="player_0")
    text = c.export_text(clear=False)
    assert "player_0's image" in text and "spy: player_" not in text
    c = recorder()
    watch("visual-spy-v0", scripted("visual-spy-v0"), seed=1, console=c, live=False)  # no --reveal
    assert spy_images(c.export_text(styles=True, clear=False)) == 0 and "--reveal shows them" in c.export_text(
        clear=False
    )


def test_inline_image_protocols_outside_live_screens(monkeypatch):
    image = np.zeros((32, 32, 3), np.uint8)
    image[:16] = (255, 0, 0)
    assert image_protocol({"TERM": "xterm-kitty"}) == "kitty"
    assert image_protocol({"TERM_PROGRAM": "iTerm.app"}) == "iterm"
    assert image_protocol({"TERM": "xterm-256color"}) is None
    assert image_protocol({"TERM": "xterm-kitty", "ARENA_IMAGES": "blocks"}) is None
    for protocol, marker in (("kitty", "\x1b_G"), ("iterm", "\x1b]1337;File=inline=1")):
        monkeypatch.setenv("ARENA_IMAGES", protocol)
        c = recorder(40)
        c.print(TerminalImage(image, max_rows=8))
        out = c.export_text(styles=True, clear=False)
        assert marker in out and UPPER_HALF not in out
        assert len(c.export_text(clear=False).splitlines()) == 8  # the same cells as the half-block picture
        c = recorder(40)
        c.print(TerminalImage(image, max_rows=8, live=True))  # a redrawing screen: half-blocks
        assert marker not in c.export_text(styles=True, clear=False) and UPPER_HALF in c.export_text(clear=False)


def test_household_task_and_room_for_revealing_spectators():
    c = recorder()
    env = make("household-v0")
    watch(env, scripted("household-v0"), seed=4, console=c, reveal=True, live=False)
    text = c.export_text(clear=False)
    assert "─ task " in text and env.unwrapped.task.text[:30] in text.replace("\n", " ")
    assert "─ room " in text and "receptacle" in text
    c = recorder()
    watch("household-v0", scripted("household-v0"), seed=4, console=c, live=False)
    assert "─ task " in c.export_text(clear=False) and "─ room " not in c.export_text(clear=False)


def test_sixteen_werewolf_players_leave_room_for_chat_at_80x24():
    env = make("werewolf-v0", num_players=16)
    result = watch(env, scripted("werewolf-v0", num_players=16), seed=1, console=recorder(), live=False)
    transcript = result.transcript
    c = Console(record=True, width=80, height=24, force_terminal=True, file=open("/dev/null", "w"))  # noqa: SIM115
    c.print(replay_frame(transcript, len(transcript.events) // 2, None, True, c, height=23))
    lines = c.export_text(clear=False).splitlines()
    assert len(lines) <= 24 and max(len(line) for line in lines) <= 80
    chat = lines[next(i for i, line in enumerate(lines) if "─ chat " in line) + 1 : -1]
    assert len(chat) >= 8  # it was 1 with one table row per player
    assert all(f"player_{k}" in "\n".join(lines) for k in range(16))


def hostile_transcript(tmp_path, phase: str):
    events = [
        {
            "event": "reset",
            "env_id": "toy-v0",
            "seed": 0,
            "kwargs": {},
            "agents": ["player_0", "player_1"],
            "headers": {"player_0": "", "player_1": ""},
            "roles": {},
        },
        {
            "event": "message",
            "sender": "game",
            "to": None,
            "text": "Votes: player_0 -> player_1",
            "kind": "info",
            "phase": phase,
            "turn": 0,
        },
        {"event": "reasoning", "agent": "player_0", "turn": 0, "text": "<think>I bluff</think>[1]", "answer": "[1]"},
        {
            "event": "message",
            "sender": "player_0",
            "to": None,
            "text": "hello",
            "kind": "chat",
            "phase": phase,
            "turn": 0,
        },
    ]
    path = tmp_path / "h.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def test_replay_never_styles_markup_from_a_transcript(tmp_path):
    phase = "[link=file:///etc/passwd]day[/link] [bold red]1"
    path = hostile_transcript(tmp_path, phase)
    for keys in (None, iter("g")):
        c = recorder()
        replay(str(path), console=c, keys=keys)
        text, styled = c.export_text(clear=False), c.export_text(styles=True, clear=False)
        assert "\x1b]8;" not in styled and "file:///etc/passwd" in text  # shown, never a link
        assert "votes ([link=file:///etc/passwd]" in text


def test_reasoning_only_for_revealing_spectators(tmp_path):
    path = hostile_transcript(tmp_path, "day 1")
    c = recorder()
    replay(str(path), console=c)  # replay reveals by default
    assert "(thinks) <think>I bluff</think>" in c.export_text(clear=False)
    for kwargs in ({"as_player": "player_1"}, {"as_player": "player_0"}, {"reveal": False}):
        c = recorder()
        replay(str(path), console=c, **kwargs)
        assert "I bluff" not in c.export_text(clear=False)


def test_oversized_transcript_lines_are_refused_fast(tmp_path):
    path = hostile_transcript(tmp_path, "day 1")
    big = tmp_path / "big.jsonl"
    line = json.dumps({"event": "message", "sender": "x", "to": None, "text": "a" * 5_000_000, "kind": "chat"})
    big.write_text(path.read_text() + line + "\n")
    with pytest.raises(ArenaError, match="line longer than 4 MB"):
        load_transcript(str(big))
    assert clip("a" * 10_000).endswith("… (6000 more characters)")
    with pytest.raises(ArenaError, match="not a transcript event"):
        bad = tmp_path / "bad.jsonl"
        bad.write_text("[1, 2]\n")
        load_transcript(str(bad))


@pytest.mark.parametrize(
    "event,needle",
    [
        ({"event": "message", "to": None, "text": "hi"}, "'sender' and 'text' must be strings"),
        ({"event": "message", "sender": "player_0", "to": 5, "text": "hi"}, "'to' must be null"),
        ({"event": "message", "sender": "player_0", "to": "player_1", "text": "hi"}, "'to' must be null"),
        ({"event": "eliminated", "reason": "voted out"}, "'agent' must be a player name"),
        ({"event": "prompt", "text": "your move"}, "'agent' must be a player name"),
        ({"event": "reward", "agent": "player_0", "value": "lots"}, "'value' a number"),
        ({"event": "end", "returns": [1, -1], "winners": []}, "'returns' must map players to numbers"),
        ({"event": "end", "returns": {}, "winners": [], "info": "x"}, "'info' an object"),
    ],
)
def test_a_hand_edited_transcript_is_refused_naming_the_line(tmp_path, capsys, event, needle):
    """A transcript event missing or mistyping a field the viewer reads made ``arena replay`` fail with
    ``error: KeyError: 'sender'`` (or a TypeError) from deep in the drawing code, exit 1."""
    path = hostile_transcript(tmp_path, "day 1")
    path.write_text(path.read_text() + json.dumps(event) + "\n")
    for args in ([], ["--as", "player_0"]):
        assert main(["replay", str(path), *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {path}:5: malformed {event['event']} event: ") and needle in err
        assert len(err.strip().splitlines()) == 1 and "Error" not in err


def test_list_fits_80_columns_without_breaking_words(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    import arena.cli

    monkeypatch.setattr(arena.cli, "console", Console(width=80, file=None))
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80
    words = set(re.findall(r"[A-Za-z][\w-]+", out))
    for name in ("tit-for-tat", "free-rider", "conditional", "cooperative", "competitive", "werewolf-v0"):
        assert name in words  # whole, never split across lines
