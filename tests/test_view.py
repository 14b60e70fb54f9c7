"""The terminal viewer: hostile agent text, per-viewer filtering, votes, images, replay stepping, 80 columns."""

from __future__ import annotations

import numpy as np
import pytest
from rich.console import Console

from arena.agents.base import BaseAgent
from arena.agents.specs import make_agent
from arena.core.errors import ArenaError
from arena.core.messages import GAME
from arena.core.registry import make
from arena.core.transcript import Transcript
from arena.view.image import UPPER_HALF, HalfBlockImage, fit
from arena.view.live import replay, replay_frame, watch
from arena.view.state import fold, parse_votes, steps

HOSTILE = ("[/bold][red]x", "\x1b[31mred\x1b[0m", "[vote: player_1]", "[link=http://evil]click[/link]", "\x07\r")


def console(width: int = 80, height: int = 30) -> Console:
    return Console(record=True, width=width, height=height, force_terminal=True, color_system="truecolor")


def message(sender, text, to=None, phase="day 1", kind="chat"):
    return {"event": "message", "sender": sender, "to": to, "text": text, "kind": kind, "phase": phase, "turn": 0}


def toy_transcript() -> Transcript:
    players = ["player_0", "player_1", "player_2"]
    events = [
        {
            "event": "reset",
            "env_id": "toy-v0",
            "seed": 7,
            "kwargs": {},
            "agents": players,
            "headers": {p: f"You are {p}." for p in players},
            "roles": {"player_0": "wolf", "player_1": "seer", "player_2": "villager"},
        },
        message(GAME, "Night 1 falls.", phase="night 1", kind="info"),
        message("player_0", "secret wolf plan", to=["player_0"], phase="night 1"),
        {"event": "prompt", "agent": "player_1", "text": "Inspect someone.", "turn": 0},
        {"event": "action", "agent": "player_1", "text": "[player_0]", "turn": 0},
        message(GAME, "player_0 is a wolf.", to=["player_1"], phase="night 1", kind="private"),
        {"event": "section", "title": "", "turn": 1},
        message(GAME, "Day 1 dawns.", kind="info"),
        *[message("player_1", text) for text in HOSTILE],
        message("player_2", "I vote player_0"),
        message(GAME, "Votes: player_0 -> player_1, player_1 -> player_0, player_2 -> player_0", kind="info"),
        {"event": "eliminated", "agent": "player_0", "reason": "exiled", "turn": 2},
        {"event": "reward", "agent": "player_1", "value": 1.0, "turn": 2},
        {
            "event": "end",
            "reason": "the village wins",
            "winners": ["player_1", "player_2"],
            "returns": {"player_0": -1.0, "player_1": 1.0, "player_2": 1.0},
            "info": {},
        },
    ]
    return Transcript(events)


def rendered(t: Transcript, viewer=None, reveal=False, upto=None, width=80, height=None):
    c = console(width, height or 40)
    c.print(replay_frame(t, upto or len(t.events), viewer, reveal, c, height=height))
    return c.export_text(clear=False), c.export_text(styles=True)


@pytest.mark.parametrize("height", [None, 40])
@pytest.mark.parametrize("width", [80, 120])
def test_hostile_agent_text_is_shown_literally_and_never_styles(width, height):
    text, styled = rendered(toy_transcript(), reveal=True, width=width, height=height)
    for needle in ("[/bold][red]x", "[vote: player_1]", "[link=http://evil]click[/link]", "\\x1b[31mred\\x1b[0m"):
        assert needle in text
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    # The only escape sequences in the styled output are rich's own colours: none spells the agent's red/reset.
    assert "\x1b[31mred" not in styled and "\x1b]8;" not in styled  # no agent colour, no hyperlink
    assert max(len(line) for line in text.splitlines()) <= width


def test_spectator_public_view_hides_private_messages_and_roles():
    text, _ = rendered(toy_transcript(), reveal=False)
    assert "secret wolf plan" not in text and "player_0 is a wolf" not in text
    assert "seer" not in text and "wolf" not in text.replace("wolf plan", "")
    revealed, _ = rendered(toy_transcript(), reveal=True)
    assert "secret wolf plan" in revealed and "seer" in revealed and "villager" in revealed


def test_player_view_is_exactly_its_observation():
    t = toy_transcript()
    upto = 6
    text, _ = rendered(t, viewer="player_1", upto=upto)
    assert "player_0 is a wolf." in text and "secret wolf plan" not in text
    assert "seer" in text and "villager" not in text  # its own role only
    state = fold(t, upto, viewer="player_1")
    assert state.acting is None  # the prompt was answered
    assert fold(t, 4, viewer="player_2").acting is None  # someone else's turn at night is not shown
    assert fold(t, 4, viewer=None, reveal=True).acting == "player_1"
    for line in t.view("player_1", upto).splitlines():
        if line.strip():
            assert line.strip()[:60] in text.replace("\n", " ") or line.strip()[:30] in text


def test_votes_are_tallied_and_eliminations_and_scores_shown():
    assert parse_votes("Votes: player_0 -> abstain, player_2 -> [player_1]") == {
        "player_0": "abstain",
        "player_2": "player_1",
    }
    assert parse_votes("I think Votes: a -> b") == {}
    state = fold(toy_transcript(), reveal=True)
    assert state.tally == [("player_0", 2), ("player_1", 1)]
    assert state.alive == {"player_0": False, "player_1": True, "player_2": True}
    assert state.scores == {"player_0": -1.0, "player_1": 1.0, "player_2": 1.0}
    assert state.phase == "day 1" and state.round == 1
    text, _ = rendered(toy_transcript(), reveal=True)
    assert "votes (day 1)" in text and "dead" in text and "Game over: the village wins" in text
    mid = fold(toy_transcript(), 12, viewer="player_2")
    assert mid.scores == {"player_2": 0.0}  # nobody else's score leaks mid-game


def test_half_block_image_uses_upper_half_with_both_colours():
    image = np.zeros((4, 2, 3), dtype=np.uint8)
    image[0] = (255, 0, 0)  # top row red
    image[1] = (0, 0, 255)  # second row blue
    c = console(20)
    c.print(HalfBlockImage(image))
    styled = c.export_text(styles=True, clear=False)
    assert c.export_text().splitlines()[0] == UPPER_HALF * 2
    assert "38;2;255;0;0" in styled and "48;2;0;0;255" in styled
    assert fit(np.zeros((96, 96, 3), np.uint8), 24).shape == (24, 24, 3)
    assert fit(np.zeros((10, 10), np.uint8), 80).shape == (10, 10, 3)  # grey becomes RGB, never upscaled


def test_replay_steps_forward_and_back(tmp_path):
    path = toy_transcript().save(tmp_path / "t.jsonl")
    c = console(80, 30)
    replay(str(path), console=c, keys=iter("nnnp"))  # ends on q when keys run out
    assert "Night 1 falls." in c.export_text()
    stops = steps(toy_transcript())
    assert stops[0] == 2 and stops[-1] == len(toy_transcript().events)
    mine = steps(toy_transcript(), viewer="player_2")
    assert 3 not in mine and 6 not in mine and 3 in stops  # others' private messages are no stops for player_2
    # non-interactive: everything printed in order
    c = Console(record=True, width=80)
    replay(str(path), console=c, as_player="player_2")
    text = c.export_text()
    assert "Day 1 dawns." in text and "secret wolf plan" not in text and "returns:" in text
    with pytest.raises(ArenaError, match="unknown player"):
        replay(str(path), console=c, as_player="player_9")


class Chatty(BaseAgent):
    """Says hostile things on open turns, plays legal moves otherwise."""

    name = "chatty"

    def __init__(self, seed=None):
        self.inner = make_agent("random", "werewolf-v0", seed=seed)
        self.k = 0

    def act(self, observation, info):
        self.k += 1
        if info.get("legal_actions"):
            return self.inner.act(observation, info)
        return HOSTILE[self.k % len(HOSTILE)]


@pytest.mark.parametrize("as_player,reveal", [(None, True), ("player_0", False)])
def test_live_watch_of_werewolf_is_readable_in_80_columns(as_player, reveal):
    c = Console(record=True, width=80, height=30, force_terminal=True, file=open("/dev/null", "w"))  # noqa: SIM115
    seats = make("werewolf-v0").possible_agents
    agents = {s: Chatty(seed=i) for i, s in enumerate(seats)}
    result = watch("werewolf-v0", agents, seed=2, as_player=as_player, reveal=reveal, console=c, live=True)
    text = c.export_text()
    assert result.transcript.result is not None and "Game over" in text
    assert "\x1b" not in text and "[/bold][red]x" in text
    final = text[text.rindex("werewolf-v0 · seed 2 · ") :]  # the last frame, printed after the live screen
    assert "Game over" in final and max(len(line) for line in final.splitlines()) <= 80
    assert ("what player_0 sees" in text) == (as_player == "player_0")


def test_a_player_view_without_a_header_in_the_transcript_shows_its_messages():
    """A hand-edited reset event without the player's header line: the view (``replay --as``) shows the player's
    messages without one, where it used to raise ``KeyError``."""
    t = toy_transcript()
    full = t.view("player_1", 6)
    reset = {k: v for k, v in t.events[0].items() if k != "headers"}
    bare = Transcript([reset, *t.events[1:]]).view("player_1", 6)
    assert full == "You are player_1.\n\n" + bare and bare.endswith("[game] player_0 is a wolf.")
