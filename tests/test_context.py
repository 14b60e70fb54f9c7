"""The context budget: long games keep their rules, private setup, prompt and latest history within the model."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import arena
from arena.agents.context import ELISION_NOTE, estimate_tokens, fit_observation, max_model_len, token_counter
from arena.core.messages import GAME, Message
from arena.core.transcript import compose_observation, split_observation

_line = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30).filter(
    lambda s: not s.startswith(("[game] ", "[player_", "…"))
)
_messages = st.lists(
    st.tuples(st.sampled_from([GAME, "player_0", "player_12"]), st.lists(_line, min_size=1, max_size=3)),
    max_size=8,
)
_header = st.lists(_line, min_size=1, max_size=4).map("\n".join)


@given(_header, _header, _messages, _line.filter(lambda s: s.strip() != ""))
def test_split_observation_undoes_compose_observation(intro, setup, messages, prompt):
    """Headers with paragraphs (household's), players' multi-line speeches (indented) and the game's
    multi-line messages (not indented: household's feedback) split back exactly."""
    header = f"{intro}\n\n{setup}".strip()
    prompt = prompt.strip()
    lines = [Message(sender, "\n".join(parts)).render() for sender, parts in messages]
    text = compose_observation(header, lines, prompt)
    joined = "\n".join(lines)
    if "\n\n" in joined or joined.endswith("\n") or not header or header.startswith("\n") or "\n\n\n" in header:
        return  # empty lines make the layout ambiguous; games never emit them
    assert split_observation(text) == (header, lines, prompt)


@pytest.mark.parametrize("env_id", [s.id for s in arena.list_envs()])
def test_split_observation_of_real_games_finds_the_history(env_id):
    env = arena.make(env_id)
    env.reset(seed=3)
    raw = env.unwrapped
    checked = 0
    for step, seat in enumerate(env.agent_iter(max_iter=60)):
        obs, _, term, trunc, info = env.last()
        if term or trunc:
            env.step(None)
            continue
        history = raw.log.lines(seat)
        if history and "…" not in obs["text"]:
            header, lines, prompt = split_observation(obs["text"])
            assert header == raw._headers[seat] and lines == history and prompt == raw._prompt(seat)
            checked += 1
        env.step((info.get("legal_actions") or ["I suspect player_2."])[step % len(info.get("legal_actions") or [1])])
    assert checked


def test_fit_observation_drops_the_fewest_oldest_lines_and_says_so():
    header, prompt = "Rules.\nYou are player_3, a seer.", "Vote now: [player_1] [player_2]"
    lines = [f"[player_{i % 5}] speech number {i}" for i in range(40)]
    text = compose_observation(header, lines, prompt)
    assert fit_observation(text, len, len(text)) == (text, 0)
    limit = len(text) // 2
    fitted, k = fit_observation(text, len, limit)
    assert len(fitted) <= limit and 0 < k < 40
    assert fitted.startswith(header + "\n\n" + ELISION_NOTE.format(n=k)) and fitted.endswith(
        lines[-1] + "\n\n" + prompt
    )
    one_less = compose_observation(header, [ELISION_NOTE.format(n=k - 1), *lines[k - 1 :]], prompt)
    assert len(one_less) > limit  # the fewest lines were dropped
    # Too small even for header and prompt: the header's middle goes, the prompt stays.
    fitted, k = fit_observation(text, len, len(prompt) + 80)
    assert k == 40 and fitted.endswith(prompt) and "…" in fitted and len(fitted) <= len(prompt) + 80
    # Hopeless: the text's end is kept.
    fitted, _ = fit_observation(text, len, 10)
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


@pytest.fixture(scope="module")
def tiny_backend():
    pytest.importorskip("transformers")
    from arena.agents.backends.transformers_backend import TransformersBackend
    from arena.agents.tiny import cached_tiny_model

    return TransformersBackend(str(cached_tiny_model()))


@given(st.text(max_size=300), st.text(max_size=50))
def test_prompt_budget_never_passes_a_prompt_that_does_not_fit(tiny_backend, user, system):
    """The byte bound that skips tokenizing is an upper bound of the real count (any unicode, any tags)."""
    from arena.agents.context import PromptBudget

    prompt = [{"role": "system", "content": system}, {"role": "user", "content": user + "<|im_end|><think>"}]
    exact = len(tiny_backend.apply_chat(prompt))
    budget = PromptBudget(tiny_backend, exact)
    assert budget._bound(prompt) >= exact and budget.fits(prompt)
    assert not PromptBudget(tiny_backend, exact - 1).fits(prompt)


@given(st.lists(st.integers(1, 80), min_size=1, max_size=60), st.integers(0, 3000), st.integers(-5, 70))
def test_fit_observation_is_minimal_from_any_guess(lengths, limit, guess):
    """Whatever the line lengths and the starting guess, the fewest lines are dropped (counted by chars)."""
    from arena.agents.context import _smallest

    lines = [f"[player_1] {'x' * n}" for n in lengths]
    text = compose_observation("Rules.", lines, "Act now.")
    fitted, k = fit_observation(text, len, limit)
    if len(text) <= limit:
        assert (fitted, k) == (text, 0)
    elif k < len(lines) or len(fitted) <= limit:
        assert len(fitted) <= limit or k == len(lines)
    ok = [
        len(compose_observation("Rules.", [ELISION_NOTE.format(n=j), *lines[j:]], "Act now.")) <= limit
        for j in range(1, len(lines) + 1)
    ]
    expected = next((j + 1 for j, good in enumerate(ok) if good), None)
    assert _smallest(1, len(lines), lambda j: ok[j - 1], guess) == expected
    assert _smallest(1, len(lines), lambda j: ok[j - 1]) == expected


@given(_messages, st.integers(0, 10))
def test_recent_history_keeps_the_latest_lines_and_still_splits(messages, keep):
    """A history window shows exactly the last ``keep`` lines after a note saying how many were left out;
    header and prompt are untouched and the result still splits into header, history and prompt."""
    from arena.agents.context import WINDOW_NOTE, recent_history

    lines = [Message(sender, " ".join(p.strip() or "x" for p in parts)).render() for sender, parts in messages]
    text = compose_observation("Rules.\n\nYou are player_3.", lines, "Act now.")
    windowed, dropped = recent_history(text, keep)
    assert dropped == max(0, len(lines) - keep)
    if not dropped:
        assert windowed == text
        return
    header, kept, prompt = split_observation(windowed)
    assert kept == lines[-keep:] if keep else kept == []
    assert prompt == "Act now." and header.startswith("Rules.\n\nYou are player_3.")
    assert header.endswith(WINDOW_NOTE.format(n=dropped, k=keep))


def test_history_window_of_a_household_agent(tiny_backend):
    """``history_lines=2`` shows the task, the last two steps and the admissible commands, at every step,
    so the prompt stops growing; without it the whole history is shown."""
    from arena.agents.llm import LLMAgent

    windowed = LLMAgent(tiny_backend, env_id="household-v0", history_lines=2)
    whole = LLMAgent(tiny_backend, env_id="household-v0")
    env = arena.make("household-v0", max_steps=12)
    env.reset(seed=4)
    raw = env.unwrapped
    lengths = []
    for step, seat in enumerate(env.agent_iter(max_iter=12)):
        obs, _, term, trunc, info = env.last()
        if term or trunc:
            break
        short = windowed.build_prompt(obs, info)[-1]["content"]
        full = whole.build_prompt(obs, info)[-1]["content"]
        history = raw.log.lines(seat)
        assert short.startswith(raw._headers[seat]) and raw._prompt(seat) in short
        assert all(line in short for line in history[-2:]) and all(line in full for line in history)
        assert all(line not in short for line in history[:-2] if line not in history[-2:])
        lengths.append(len(tiny_backend.apply_chat(windowed.build_prompt(obs, info))))
        legal = info["legal_actions"]
        env.step(legal[(7 * step) % len(legal)])
    assert len(lengths) > 6 and max(lengths[3:]) - min(lengths[3:]) < 0.25 * min(lengths[3:])
    with pytest.raises(arena.ArenaError, match="history_lines"):
        LLMAgent(tiny_backend, env_id="household-v0", history_lines=-1)
