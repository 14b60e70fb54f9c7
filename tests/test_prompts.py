"""Per-turn answer instructions from ``infos["answer"]``, the fallbacks, and default reply lengths."""

from __future__ import annotations

import pytest

import arena
from arena.agents.answers import extract_answer
from arena.agents.prompts import (
    REASONING_TOKENS,
    AnswerSpec,
    answer_spec,
    default_max_new_tokens,
    example_answer,
    turn_instructions,
)


def test_answer_spec_reads_the_game_and_falls_back_by_legal_actions():
    assert answer_spec({"legal_actions": ["[0]", "[1]"]}) == AnswerSpec("choice", legal=("[0]", "[1]"))
    assert answer_spec({}) == AnswerSpec("text")
    assert answer_spec(None) == AnswerSpec("text")
    spec = answer_spec({"answer": {"kind": "text", "example": "I suspect player_3.", "max_chars": 400}})
    assert (spec.kind, spec.example, spec.max_chars) == ("text", "I suspect player_3.", 400)
    structured = {"kind": "structured", "syntax": "[Propose: me <n> book]", "example": "[Propose: me 1 book]"}
    assert answer_spec({"answer": structured}).syntax == "[Propose: me <n> book]"
    # Nonsense in the game's spec never breaks the prompt.
    assert answer_spec({"answer": {"kind": "poem", "max_chars": -3}, "legal_actions": ["a"]}).kind == "choice"
    assert answer_spec({"answer": {"kind": "choice"}}).kind == "text"  # no legal list to choose from
    assert answer_spec({"answer": "text"}).kind == "text"


@pytest.mark.parametrize(
    ("info", "observation", "expected"),
    [
        ({"legal_actions": ["[check]", "[bet]"]}, "card J", "write exactly one of these legal actions: [check] [bet]"),
        ({"legal_actions": ["[check]", "[bet]"]}, "[check] [bet]", "exactly one of the legal actions listed above"),
        ({"answer": {"kind": "text", "max_chars": 200}}, "", "your message (one line, at most 200 characters)"),
        (
            {"answer": {"kind": "structured", "syntax": "[Propose: ...]", "example": "[Walk away]"}},
            "",
            "the form: [Propose",
        ),
    ],
)
def test_turn_instructions_say_what_to_answer_with_a_correct_example(info, observation, expected):
    spec = answer_spec(info)
    text = turn_instructions(spec, observation)
    assert expected in text
    example = text.rsplit("Example: ", 1)[1]
    assert extract_answer(example) == example_answer(spec)
    if spec.kind == "choice":
        assert example_answer(spec) in spec.legal
    assert turn_instructions(spec, observation, "raw").endswith(f"Example: {example_answer(spec)}")


def test_a_labelled_choice_is_answered_by_its_labels():
    info = {"legal_actions": ["go to desk 1", "look"], "answer": {"kind": "choice", "labels": ["[1]", "[2]"]}}
    spec = answer_spec(info)
    assert spec.labels == ("[1]", "[2]") and spec.replies == ("[1]", "[2]")
    assert spec.reply_for("look") == "[2]" and spec.reply_for("dance") == "dance"
    assert example_answer(spec) == "[1]"
    listed = turn_instructions(spec, "Admissible commands: [1] go to desk 1, [2] look.")
    assert "the label of exactly one of the legal actions listed above" in listed and "<answer>[1]</answer>" in listed
    unlisted = turn_instructions(spec, "You are in a room.")
    assert "[1] go to desk 1; [2] look" in unlisted
    # A label list that does not name each legal action once is ignored: the actions are the replies.
    for bad in (["[1]"], ["[1]", "[1]"], "[1] [2]"):
        broken = answer_spec({**info, "answer": {"kind": "choice", "labels": bad}})
        assert broken.labels == () and broken.replies == ("go to desk 1", "look")
    # The reply budget fits the labels, not the long actions they stand for.
    long = {"legal_actions": ["take pencil 2 from sidetable 1 " * 4], "answer": {"kind": "choice", "labels": ["[1]"]}}
    assert default_max_new_tokens(None, long) < default_max_new_tokens(None, {"legal_actions": long["legal_actions"]})


def test_a_choice_example_is_legal_now():
    spec = answer_spec({"answer": {"kind": "choice", "example": "[4]"}, "legal_actions": ["[0]", "[8]"]})
    assert example_answer(spec) == "[0]"  # the game's example cell is taken: not shown as an example
    spec = answer_spec({"answer": {"kind": "choice", "example": "[8]"}, "legal_actions": ["[0]", "[8]"]})
    assert example_answer(spec) == "[8]"


def test_default_max_new_tokens_leaves_room_to_think_and_answer():
    for env in arena.list_envs():
        tokens = default_max_new_tokens(env.id)
        assert tokens % 32 == 0 and tokens >= REASONING_TOKENS + 16
    assert default_max_new_tokens("werewolf-v0") > default_max_new_tokens("tictactoe-v0")
    choice = default_max_new_tokens("tictactoe-v0", {"legal_actions": ["[0]", "[1]"]})
    speech = default_max_new_tokens("werewolf-v0", {"answer": {"kind": "text", "max_chars": 2000}})
    assert REASONING_TOKENS < choice < speech and speech >= REASONING_TOKENS + 1000
    assert default_max_new_tokens(None) == default_max_new_tokens("no-such-game-v0")


@pytest.mark.parametrize("env_id", [s.id for s in arena.list_envs()])
def test_no_prompt_carries_the_registry_description_or_a_solution_hint(env_id):
    """Every prompt of a random game: the registry description (which may name the solution) and any
    equilibrium word never appear; each turn ends with its answer instructions."""
    import re

    from arena.agents.llm import LLMAgent
    from arena.agents.random_agent import RandomAgent

    class NoModel:
        version = 0

    agent = LLMAgent(NoModel(), env_id=env_id)  # type: ignore[arg-type]
    description = arena.spec(env_id).description
    env = arena.make(env_id)
    env.reset(seed=1)
    player = RandomAgent(seed=1)
    for step, _seat in enumerate(env.agent_iter(max_iter=40)):
        obs, _, term, trunc, info = env.last()
        if term or trunc:
            env.step(None)
            continue
        text = "\n".join(str(m["content"]) for m in agent.build_prompt(obs, info))
        assert description not in text
        assert not re.search(r"equilibri|\bSPE\b|subgame|Nash", text, re.IGNORECASE), step
        assert "Now reply" in text.rsplit("\n\n", 1)[-1]
        env.step(player.act(obs, info))
