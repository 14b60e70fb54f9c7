"""The answer policy: only a closed answer reaches a game; reasoning never reaches another player."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import arena
from arena.agents.answers import (
    CUT_OFF,
    NESTED_TAGS,
    NO_CLOSED_ANSWER,
    NO_MATCH,
    TOO_LONG,
    extract_answer,
    format_answer,
    is_well_formed,
    public_text,
)
from arena.agents.leaks import (
    FORMS,
    FREE_TEXT_GAMES,
    FREE_TEXT_KWARGS,
    SecretReplyBackend,
    count_leaks,
    transcript_leaks,
)
from arena.agents.random_agent import RandomAgent
from arena.core import InvalidReply


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("<think>x</think><answer>[4]</answer>", "[4]"),
        ("<answer> [4] </answer>", "[4]"),  # no reasoning is fine; whitespace around the answer is not sent
        ("<ANSWER>[2]</Answer>", "[2]"),
        ("< answer >[2]< / answer >", "[2]"),
        ("<answer>[1]</answer> wait <answer>[2]</answer>", "[2]"),  # several answers: the last one
        ("I think </think><answer>[3]</answer>", "[3]"),  # reasoning opened by the chat template
        ("<think>a</think>chatter <answer>hi</answer> more chatter", "hi"),
        ("<answer></answer>", ""),  # a closed empty answer is the game's business
        ("<think>I am the wolf", InvalidReply(NO_CLOSED_ANSWER)),  # cut off inside the reasoning
        ("<think>x</think><answer>I suspect pla", InvalidReply(NO_CLOSED_ANSWER)),  # cut off inside the answer
        ("<think>x <answer>[4]</answer></think>", InvalidReply(NO_CLOSED_ANSWER)),  # answer only inside think
        ("<think>x <answer>[4]</answer>", InvalidReply(NO_CLOSED_ANSWER)),  # ...and the think never closed
        ("<answer>[1]</answer><answer>[2]", InvalidReply(NO_CLOSED_ANSWER)),  # the final answer is unfinished
        ("no tags at all", InvalidReply(NO_CLOSED_ANSWER)),
        ("", InvalidReply(NO_CLOSED_ANSWER)),
        ("<answer>a<answer>b</answer></answer>", InvalidReply(NESTED_TAGS)),
        ("<answer>a<answer>b</answer>", InvalidReply(NESTED_TAGS)),
        ("<answer>a</answer></answer>", InvalidReply(NESTED_TAGS)),
        ("</answer><answer>a</answer>", InvalidReply(NESTED_TAGS)),
        ("<think>a</think><answer>x</think>y</answer>", InvalidReply(NESTED_TAGS)),  # a stray think tag inside
    ],
)
def test_tags_policy(reply, expected):
    assert extract_answer(reply) == expected
    assert is_well_formed(reply) == (not isinstance(expected, InvalidReply))


def test_raw_and_regex_formats_drop_reasoning_too():
    assert extract_answer("<think>secret</think> [3] ", "raw") == "[3]"
    assert extract_answer("<think>secret", "raw") == InvalidReply(NO_CLOSED_ANSWER)
    assert extract_answer("[3] and then some", "raw", finish_reason="length") == InvalidReply(CUT_OFF)
    assert extract_answer("<think>move: fold</think> move: bet then move: call", r"move: (\w+)") == "call"
    assert extract_answer("<think>move: fold</think> nothing", r"move: (\w+)") == InvalidReply(NO_MATCH)
    assert extract_answer("x", "(") == InvalidReply(NO_MATCH)  # a broken pattern never raises
    assert extract_answer("a" * 300_000 + "<answer>[1]</answer>") == InvalidReply(TOO_LONG)
    assert extract_answer(format_answer("[check]", think="hmm")) == "[check]"
    assert format_answer("[4]", "raw") == "[4]"


hostile = st.one_of(
    st.text(),
    st.lists(
        st.sampled_from(
            [
                "<answer>",
                "</answer>",
                "<think>",
                "</think>",
                "</ANSWER>",
                "< think >",
                "<",
                ">",
                "\x00",
                "é",
                " ",
                "[4]",
            ]
        )
    ).map("".join),
    st.binary().map(lambda b: b.decode("latin-1")),
)


@given(hostile, st.sampled_from(["tags", "raw", r"\[(\d)\]", r"move: (\w+)", "(", r"x|(y)"]), st.booleans())
def test_extract_answer_never_raises(text, fmt, cut):
    out = extract_answer(text, fmt, finish_reason="length" if cut else "stop")
    assert isinstance(out, str | InvalidReply)
    if isinstance(out, str):
        assert len(out) <= len(text)


_plain = st.text(alphabet=st.characters(blacklist_characters="<>"), max_size=30)


@given(_plain, _plain, _plain, st.integers(0, 200))
def test_reasoning_never_reaches_the_answer(before, secret, answer, cut):
    """Whatever the reasoning holds and wherever the reply is cut, the move never contains it."""
    secret = f"S{secret}S"
    for reply in (
        f"{before}<think>{secret}</think><answer>{answer}</answer>",
        f"{secret}</think><answer>{answer}</answer>",
        f"<think>{secret}<answer>{secret}</answer></think><answer>{answer}</answer>",
    ):
        for text in (reply, reply[: cut % (len(reply) + 1)]):
            out = extract_answer(text)
            assert isinstance(out, InvalidReply) or (secret not in out or secret in answer or secret in before)


@given(st.text(max_size=40))
def test_public_text_drops_every_think_block(inner):
    reply = f"a<think>{inner.replace('<', '')}</think>b<think>c</think>d"
    assert public_text(reply) == "abd"


def test_every_hostile_form_is_decided_as_documented():
    """Each form of the leak check: well-formed forms send exactly the answer, the others nothing."""
    valid = {
        "well formed",
        "think opened by the template",
        "text around the answer",
        "replaced answer",
        "upper-case tags",
    }
    for name, template in FORMS:
        out = extract_answer(template.format(s="SECRET1X", a="[4]"))
        assert out == "[4]" if name in valid else isinstance(out, InvalidReply), name


@pytest.mark.parametrize("env_id", [s.id for s in arena.list_envs()])
def test_hostile_replies_in_every_game_reach_no_one(env_id):
    """Every registered game, every seat a model whose replies are cut off or hostile: the game runs to
    its end, applies its invalid-move rule, and no secret of the reasoning reaches any player."""
    count = count_leaks(env_id, games=6, truncate=0.3, seed=11)
    assert count.games == 6 and count.secrets == count.replies > 0
    assert count.truncated > 0 and count.invalid >= count.truncated
    assert (count.to_other_players, count.in_game_record, count.in_prompts) == (0, 0, 0)


@pytest.mark.parametrize("env_id", FREE_TEXT_GAMES)
def test_no_reasoning_leaks_over_200_games_with_30_percent_truncated_replies(env_id):
    """The issue's acceptance check (``scripts/leak_check.py`` prints the same counts)."""
    count = count_leaks(env_id, games=200, truncate=0.3, seed=0, **FREE_TEXT_KWARGS.get(env_id, {}))
    assert count.games == 200 and count.player_messages > 0  # players' own text reached the game
    assert 0.25 < count.truncated / count.replies < 0.35
    assert (count.to_other_players, count.in_game_record, count.in_prompts) == (0, 0, 0)


def test_the_leak_check_finds_leaks_when_replies_are_passed_whole(monkeypatch):
    """The check can fail: with the old behaviour (the raw reply sent to the game) it counts leaks."""
    from arena.agents.llm import LLMAgent

    monkeypatch.setattr(LLMAgent, "parse", lambda self, text, finish_reason="stop": text)
    count = count_leaks("werewolf-v0", games=3, seed=0)
    assert count.to_other_players > 0 and count.in_game_record > 0 and count.in_prompts > 0


def test_transcript_leaks_attributes_secrets_to_their_author():
    from arena.agents.reasoning import REASONING_EVENT
    from arena.core import Transcript

    t = Transcript()
    t.events.append({"event": "reset", "agents": ["player_0", "player_1"], "headers": {"player_0": "", "player_1": ""}})
    t.record(REASONING_EVENT, agent="player_0", text="<think>SECRET1X</think>")
    t.record("message", sender="game", to=["player_0"], text="echo SECRET1X")  # own secret, own channel
    assert transcript_leaks(t) == (0, 1)
    t.record("message", sender="player_0", to=None, text="SECRET1X")
    assert transcript_leaks(t) == (1, 2)


def test_secret_backend_cuts_about_the_share_it_is_told():
    backend = SecretReplyBackend(seed=1, truncate=0.3)
    prompt = [{"role": "user", "content": "x\n\nNow reply. Example: <think>...</think><answer>[1]</answer>"}]
    replies = backend.generate([prompt] * 1000)
    cut = sum(c.finish_reason == "length" for c in replies)
    assert 250 < cut < 350 and all("SECRET" in c.text for c in replies if c.finish_reason == "stop")


def _llm_seats(env_id, reply):
    from arena.agents.llm import LLMAgent
    from tests.test_llm_agent import FakeBackend

    return LLMAgent(FakeBackend(reply=reply), env_id=env_id)


def test_replies_are_recorded_for_revealing_spectators_only():
    """``arena.play`` and ``play_many`` record each reply as a ``reasoning`` event that no player's view,
    observation or public view shows."""
    from arena.agents.reasoning import REASONING_EVENT
    from arena.agents.scheduler import play_many
    from arena.view.state import fold

    reply = "<think>SECRET9X my card is the Jack</think><answer>[check]</answer>"
    result = arena.play("kuhn-poker-v0", [_llm_seats("kuhn-poker-v0", reply), RandomAgent(seed=1)], seed=2)
    (outcome,) = play_many(
        [
            (
                arena.make("kuhn-poker-v0"),
                {"player_0": _llm_seats("kuhn-poker-v0", reply), "player_1": RandomAgent(seed=1)},
                2,
            )
        ]
    )
    for transcript in (result.transcript, outcome.transcript):
        events = [e for e in transcript.events if e["event"] == REASONING_EVENT]
        assert events and all(e["agent"] == "player_0" and e["text"] == reply for e in events)
        assert all(e["answer"] in ("[check]", None) for e in events)
        for seat in ("player_0", "player_1"):
            assert "SECRET9X" not in transcript.view(seat)
        for viewer, reveal in ((None, False), ("player_1", False), ("player_0", False), ("player_1", True)):
            state = fold(transcript, viewer=viewer, reveal=reveal)
            assert "SECRET9X" not in repr(state.messages)
        assert "SECRET9X" in repr(fold(transcript, viewer=None, reveal=True).messages)  # --reveal spectator
    # the event sits right before its action
    events = result.transcript.events
    k = next(i for i, e in enumerate(events) if e["event"] == REASONING_EVENT)
    assert events[k + 1]["event"] == "action" and events[k + 1]["agent"] == "player_0"


def test_a_cut_off_reply_is_recorded_with_no_answer_and_plays_as_invalid():
    from arena.agents.reasoning import REASONING_EVENT

    reply = "<think>we wolves are player_1 and"
    result = arena.play("tictactoe-v0", [_llm_seats("tictactoe-v0", reply), RandomAgent(seed=0)], seed=0)
    events = result.transcript.events
    reasoning = [e for e in events if e["event"] == REASONING_EVENT]
    actions = [e for e in events if e["event"] == "action" and e["agent"] == "player_0"]
    assert [e["answer"] for e in reasoning] == [None, None]  # retried once, then forfeited
    assert all(a["text"] == "" and a["invalid"] == NO_CLOSED_ANSWER for a in actions)
    assert result.returns["player_0"] == -1.0
