"""The shared reply reader (``arena.core.parsing.match_choice``): tolerant where one action is named, strict otherwise."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import arena
from arena.core.parsing import canonical, match_choice

SEATS = [f"[player_{i}]" for i in range(12)] + ["[abstain]"]
CELLS = [f"[{i}]" for i in range(9)]
KUHN = ["[check]", "[bet]"]
HOUSE = ["go to countertop 1", "go to countertop 10", "take apple 1 from countertop 1", "examine apple 1", "look"]
LISTS = st.sampled_from([SEATS, CELLS, KUHN, HOUSE])

_dress = st.sampled_from(
    [
        "{}",
        "{}.",
        " {} ",
        "**{}**",
        "`{}`",
        "'{}'",
        "I vote for {}",
        "My answer: {}!",
        "{}\n",
        "Final answer - {}",
    ]
)


def _case(text: str, flip: list[bool]) -> str:
    return "".join(c.upper() if f else c for c, f in zip(text, flip + [False] * len(text), strict=False))


@given(legal=LISTS, data=st.data())
def test_a_dressed_up_legal_action_is_read(legal, data):
    action = data.draw(st.sampled_from(legal))
    form = data.draw(st.sampled_from([action, action.strip("[]")]))
    flip = data.draw(st.lists(st.booleans(), max_size=40))
    reply = data.draw(_dress).format(_case(form, flip))
    assert match_choice(reply, legal).action == action


@given(legal=LISTS, data=st.data())
def test_naming_two_different_actions_is_ambiguous(legal, data):
    first, second = data.draw(st.lists(st.sampled_from(legal), min_size=2, max_size=2, unique=True))
    if canonical(first) in canonical(second) or canonical(second) in canonical(first):
        return  # one action's text inside the other's (go to countertop 1 / ... 10): not two mentions
    reply = data.draw(st.sampled_from(["{} or {}", "{}, no wait, {}", "**{}** {}"])).format(first, second)
    match = match_choice(reply, legal)
    assert match.action is None and "Ambiguous" in match.reason
    assert set(match.named) == {first, second}


@given(legal=LISTS, reply=st.text(max_size=200))
def test_any_text_gives_a_legal_action_or_a_reason(legal, reply):
    match = match_choice(reply, legal)
    assert (match.action in legal and not match.reason) or (match.action is None and match.reason)


@given(reply=st.text(alphabet="[]_-player0123456789 abstin.*", max_size=40))
def test_known_but_illegal_names_are_refused_never_swapped(reply):
    legal, known = SEATS[:3], SEATS
    match = match_choice(reply, legal, known=known)
    if match.action is not None:
        assert match.named == (match.action,)  # accepted only when nothing else was named
    elif len(match.named) == 1:
        assert match.named[0] not in legal and "not allowed now" in match.reason


@pytest.mark.parametrize(
    ("reply", "action"),
    [
        ("[player_3].", "[player_3]"),
        ("I vote for [player_3]", "[player_3]"),
        ("**[player_3]**", "[player_3]"),
        ("[PLAYER_3]", "[player_3]"),
        ("Player 3", "[player_3]"),
        ("player-3", "[player_3]"),
        ("[player_3] because player_1 was quiet", "[player_3]"),  # the bracketed answer wins over a bare mention
        ("player_30", None),  # not a seat here: player_3 does not match inside player_30
        ("[player_1] or [player_3]", None),
        ("I abstain", "[abstain]"),
        ("nothing", None),
    ],
)
def test_vote_forms(reply, action):
    assert match_choice(reply, [*SEATS[:4], "[abstain]"]).action == action


@pytest.mark.parametrize(
    ("reply", "action"),
    [("4", "[4]"), ("cell 4.", "[4]"), ("[-1]", None), ("-1", None), ("row 1 col 2", None), ("10", None), ("", None)],
)
def test_cell_forms(reply, action):
    assert match_choice(reply, CELLS).action == action


def test_longer_commands_are_not_read_inside_each_other():
    assert match_choice("I will go to countertop 10 now", HOUSE).action == "go to countertop 10"
    assert match_choice("take apple 1 from countertop 1", HOUSE).action == "take apple 1 from countertop 1"
    assert match_choice("go to countertop 1 and look", HOUSE).action is None


def test_every_game_accepts_a_decorated_choice():
    """Each game with a legal list reads ``I choose **<action>**.`` as that action."""
    for env_id in ("tictactoe-v0", "kuhn-poker-v0", "werewolf-v0", "spy-v0", "household-v0"):
        env = arena.make(env_id)
        env.reset(seed=0)
        for _ in range(200):
            agent = env.agent_selection
            legal = env.infos[agent].get("legal_actions")
            if legal:
                break
            env.step(env.infos[agent]["answer"]["example"])
        before = env.unwrapped.invalid_counts[agent]
        env.step(f"I choose **{legal[-1].upper()}**.")
        assert env.unwrapped.invalid_counts[agent] == before, env_id
