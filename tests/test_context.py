"""The context budget: long games keep their rules, private setup, prompt and latest history within the model."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import arena
from arena.agents.context import ELISION_NOTE, estimate_tokens, fit_observation, max_model_len, token_counter
from arena.core.messages import GAME, Message
from arena.core.transcript import compose_observation, split_observation

_line = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
_messages = st.lists(
    st.tuples(st.sampled_from([GAME, "player_0", "player_12"]), st.lists(_line, min_size=1, max_size=3)),
    max_size=8,
)
_header = st.lists(_line.filter(lambda s: not s.startswith(("[", "…"))), min_size=1, max_size=4).map("\n".join)


@given(_header, _header, _messages, _line.filter(lambda s: s.strip() != ""))
def test_split_observation_undoes_compose_observation(intro, setup, messages, prompt):
    header = f"{intro}\n\n{setup}".strip()  # headers may hold paragraphs (household's do)
    prompt = prompt.strip()
    lines = [
        Message(sender, "\n".join(parts) if sender != GAME else " ".join(parts)).render() for sender, parts in messages
    ]
    text = compose_observation(header, lines, prompt)
    if "\n\n" in "\n".join(lines) or not header or any(not line.strip() for line in lines):
        return  # empty paragraphs make the layout ambiguous; games never emit them
    assert split_observation(text) == (header, lines, prompt)


def test_split_observation_of_real_games_finds_the_history():
    env = arena.make("werewolf-v0", num_players=7)
    env.reset(seed=3)
    for _ in range(12):
        _, _, term, trunc, info = env.last()
        env.step(None if term or trunc else (info.get("legal_actions") or ["I suspect player_2."])[0])
    seat = env.agent_selection
    header, lines, prompt = split_observation(env.observe(seat)["text"])
    raw = env.unwrapped
    assert header == raw._headers[seat] and lines == raw.log.lines(seat) and prompt == raw._prompt(seat)


def _chars_fit(limit):
    return lambda text: len(text) <= limit


def test_fit_observation_drops_the_fewest_oldest_lines_and_says_so():
    header, prompt = "Rules.\nYou are player_3, a seer.", "Vote now: [player_1] [player_2]"
    lines = [f"[player_{i % 5}] speech number {i}" for i in range(40)]
    text = compose_observation(header, lines, prompt)
    assert fit_observation(text, _chars_fit(len(text))) == (text, 0)
    limit = len(text) // 2
    fitted, k = fit_observation(text, _chars_fit(limit))
    assert len(fitted) <= limit and 0 < k < 40
    assert fitted.startswith(header + "\n\n" + ELISION_NOTE.format(n=k)) and fitted.endswith(
        lines[-1] + "\n\n" + prompt
    )
    one_less = compose_observation(header, [ELISION_NOTE.format(n=k - 1), *lines[k - 1 :]], prompt)
    assert len(one_less) > limit  # the fewest lines were dropped
    # Too small even for header and prompt: the header's middle goes, the prompt stays.
    fitted, k = fit_observation(text, _chars_fit(len(prompt) + 80))
    assert k == 40 and fitted.endswith(prompt) and "…" in fitted and len(fitted) <= len(prompt) + 80
    # Hopeless: the text's end is kept.
    fitted, _ = fit_observation(text, _chars_fit(10))
    assert len(fitted) <= 10 and fitted.endswith(prompt[-5:])


def test_max_model_len_and_token_counter_read_what_a_backend_offers():
    class Config:
        max_position_embeddings = 512

    class Model:
        config = Config()

    class Local:
        model = Model()

        def apply_chat(self, prompt):
            return [0] * 7

    class Remote:
        max_model_len = 4096

    assert max_model_len(Local()) == 512 and max_model_len(Remote()) == 4096 and max_model_len(object()) is None
    assert token_counter(Local())([{"role": "user", "content": "x"}]) == 7
    assert token_counter(Remote()) is estimate_tokens
    assert estimate_tokens([{"role": "user", "content": "a" * 30}]) == 18


def test_sixteen_player_werewolf_fits_the_tiny_model():
    """Every prompt of a 16-player werewolf game with long speeches fits the tiny model's 2,048 positions
    minus the reply's tokens, and keeps the rules, the private setup, the prompt and the latest history."""
    pytest.importorskip("transformers")
    from arena.agents.backends.transformers_backend import TransformersBackend
    from arena.agents.llm import LLMAgent
    from arena.agents.tiny import cached_tiny_model

    backend = TransformersBackend(str(cached_tiny_model()))
    agent = LLMAgent(backend, env_id="werewolf-v0")
    limit = max_model_len(backend)
    budget = limit - agent.sampling.max_new_tokens
    assert limit == 2048 and 1000 < budget < 1600
    env = arena.make("werewolf-v0", num_players=16)
    env.reset(seed=5)
    raw = env.unwrapped
    decisions = elided = 0
    for step, seat in enumerate(env.agent_iter(max_iter=400)):
        obs, _, term, trunc, info = env.last()
        if term or trunc:
            env.step(None)
            continue
        decisions += 1
        if decisions % 3 == 0 or step > 250:  # every prompt costs a few tokenizations: check a sample
            prompt = agent.build_prompt(obs, info)
            ids = backend.apply_chat(prompt)
            assert len(ids) <= budget
            user = prompt[-1]["content"]
            assert user.startswith(raw._headers[seat]) and raw._prompt(seat) in user
            history = raw.log.lines(seat)
            if history:
                assert history[-1] in user
            if "earliest lines of the history are left out" in user:
                elided += 1
        legal = info.get("legal_actions")
        speech = f"I am {seat} and I have a long story to tell about what I saw last night. " * 5
        env.step(legal[step % len(legal)] if legal else speech)
    assert elided > 10 and decisions > 100
