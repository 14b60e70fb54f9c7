"""TransformersBackend: left-padded batching, greedy batch == one-by-one, logprobs == score, stops, weights."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from arena.agents.backends import PolicyBackend, load_backend  # noqa: E402
from arena.agents.backends.base import SamplingParams, cut_at_stop, images_of, text_of, text_only  # noqa: E402
from arena.agents.backends.transformers_backend import TransformersBackend  # noqa: E402
from arena.agents.tiny import cached_tiny_model  # noqa: E402
from arena.core.errors import ArenaError  # noqa: E402

GREEDY = SamplingParams(temperature=0, max_new_tokens=6)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def backend() -> TransformersBackend:
    return TransformersBackend(str(cached_tiny_model()), max_batch_size=3)


def _prompts(n: int = 5) -> list:
    # Very different lengths so that left padding matters.
    return [[{"role": "user", "content": "Board: [4] " * (1 + 3 * i) + f"move {i}"}] for i in range(n)]


def test_is_a_policy_backend(backend):
    assert isinstance(backend, PolicyBackend)
    assert backend.tokenizer.padding_side == "left"


def test_greedy_batch_equals_one_by_one(backend):
    prompts = _prompts()
    batched = backend.generate(prompts, GREEDY)  # 5 prompts in chunks of 3: also crosses a chunk boundary
    single = [backend.generate([p], GREEDY)[0] for p in prompts]
    for b, s, p in zip(batched, single, prompts, strict=True):
        assert b.prompt_ids == s.prompt_ids == backend.apply_chat(p)
        assert b.completion_ids == s.completion_ids
        np.testing.assert_allclose(b.logprobs, s.logprobs, atol=1e-4)
        assert len(b.logprobs) == len(b.completion_ids) <= GREEDY.max_new_tokens
        assert all(lp <= 0 for lp in b.logprobs)


def test_logprobs_match_teacher_forced_scores(backend):
    prompts = _prompts(4)
    completions = backend.generate(prompts, SamplingParams(temperature=1.0, max_new_tokens=6, seed=3))
    scored = backend.score_ids([c.prompt_ids for c in completions], [c.completion_ids for c in completions])
    for c, s in zip(completions, scored, strict=True):
        assert s.continuation_ids == c.completion_ids
        np.testing.assert_allclose(s.logprobs, c.logprobs, atol=2e-4)
    # score() on text: tokens of the encoded text, consistent with score_ids of the same ids
    text = "<think></think><answer>[4]</answer>"
    (by_text,) = backend.score([prompts[0]], [text])
    (by_ids,) = backend.score_ids([backend.apply_chat(prompts[0])], [backend.encode(text)])
    np.testing.assert_allclose(by_text.logprobs, by_ids.logprobs, atol=1e-5)
    assert by_text.total == pytest.approx(sum(by_ids.logprobs), abs=1e-4)


@pytest.mark.parametrize("tree", [True, False])
def test_scoring_after_a_shared_prompt_equals_scoring_each_pair_alone(backend, tree, monkeypatch):
    # A constrained agent scores every legal action after one prompt: each distinct prompt runs once, as one
    # masked sequence with all its continuations (tree) or with its KV cache copied to each continuation
    # (chunks of max_batch_size=3 continuations), uneven lengths and an empty continuation included.
    monkeypatch.setattr(backend, "prefix_tree", tree)
    used = []
    for name in ("_score_tree", "_score_chunk"):
        real = getattr(backend, name)
        monkeypatch.setattr(backend, name, lambda *a, _real=real, _name=name, **k: used.append(_name) or _real(*a, **k))
    prompts = [backend.apply_chat(p) for p in _prompts(3)]
    actions = [backend.encode(f"<answer>[{a}]</answer>") for a in ("4", "bet", "check", "0")] + [[]]
    pairs = [(p, a) for p in prompts for a in actions]
    pairs.insert(3, (backend.encode("a prompt seen once"), actions[1]))
    together = backend.score_ids([p for p, _ in pairs], [a for _, a in pairs])
    full = backend.score_ids([p for p, _ in pairs], [a for _, a in pairs], share_prefix=False)
    for (p, a), got, in_full in zip(pairs, together, full, strict=True):
        (alone,) = backend.score_ids([p], [a])
        np.testing.assert_allclose(in_full.logprobs, alone.logprobs, atol=1e-4)
        assert got.prompt_ids == list(p) and got.continuation_ids == list(a)
        assert len(got.logprobs) == len(a)
        np.testing.assert_allclose(got.logprobs, alone.logprobs, atol=1e-4)
    assert set(used) == {"_score_tree" if tree else "_score_chunk"}


def test_prompts_that_share_a_prefix_run_it_once_and_score_as_alone(backend, monkeypatch):
    # One call holds two games' turns: prompts that agree on their first tokens run their common prefix once
    # (batch 1) and each row only its own tokens on that KV cache; a prompt that is a prefix of another keeps
    # its last token; max_batch_size=3 splits a group into chunks that reuse the cached prefix.
    rules = "Rules: " + "take turns and place your mark on a free cell. " * 6
    texts = [rules + f"Board {i}: " + "[x] " * i for i in range(5)] + [rules, "Kuhn Poker. " * 20 + "You hold K."]
    prompts = [backend.encode(t) for t in texts]
    actions = [backend.encode(f"<answer>[{a}]</answer>") for a in ("4", "bet", "check")]
    pairs = [(p, a) for p in prompts for a in actions]
    widths, with_grad = [], []
    real_forward = backend.model.forward

    def forward(*args, **kwargs):
        widths.append(tuple(kwargs["input_ids"].shape))
        with_grad.append(torch.is_grad_enabled())
        return real_forward(*args, **kwargs)

    monkeypatch.setattr(backend.model, "forward", forward)
    together = backend.score_ids([p for p, _ in pairs], [a for _, a in pairs])
    shared = len(backend.encode(rules)) - 1  # the last prompt token of `rules` alone stays in its row
    assert (1, shared) in widths, widths  # the rules prefix, once
    assert not any(with_grad)  # scoring builds no autograd graph, not even for the prefix
    assert max(w for _, w in widths) < len(prompts[4]) + 3 * len(actions[0])  # no row holds the whole prompt
    monkeypatch.setattr(backend.model, "forward", real_forward)
    for (p, a), got in zip(pairs, together, strict=True):
        (alone,) = backend.score_ids([p], [a])
        assert got.prompt_ids == list(p) and got.continuation_ids == list(a)
        np.testing.assert_allclose(got.logprobs, alone.logprobs, atol=1e-4)


def test_seeded_sampling_is_reproducible(backend):
    sampling = SamplingParams(temperature=1.0, max_new_tokens=8, seed=11)
    a = backend.generate(_prompts(3), sampling)
    b = backend.generate(_prompts(3), sampling)
    assert [c.completion_ids for c in a] == [c.completion_ids for c in b]


def test_stop_strings_cut_the_completion(backend):
    (c,) = backend.generate(_prompts(1), SamplingParams(temperature=0, max_new_tokens=12))
    assert c.text, "the random tiny model should produce some text"
    stop = c.text[1:3] if len(c.text) >= 3 else c.text[:1]
    (cut,) = backend.generate(_prompts(1), SamplingParams(temperature=0, max_new_tokens=12, stop=(stop,)))
    assert cut.finish_reason == "stop"
    assert cut.text.endswith(stop) and len(cut.text) <= len(c.text)
    assert cut.completion_ids == c.completion_ids[: len(cut.completion_ids)]
    assert len(cut.logprobs) == len(cut.completion_ids)


def test_zero_new_tokens_and_empty_batch(backend):
    assert backend.generate([], GREEDY) == []
    (c,) = backend.generate(_prompts(1), SamplingParams(max_new_tokens=0))
    assert c.completion_ids == [] and c.finish_reason == "length"


def test_multimodal_prompt_reaches_a_text_model_as_placeholder(backend):
    image = np.zeros((4, 4, 3), dtype=np.uint8)
    prompt = [{"role": "user", "content": [{"type": "image", "image": image}, {"type": "text", "text": "hi"}]}]
    assert images_of(prompt)[0] is image
    assert "[image]" in backend.chat_text(prompt) and "hi" in backend.chat_text(prompt)
    (c,) = backend.generate([prompt], GREEDY)
    assert c.prompt_ids == backend.apply_chat(prompt)


def test_weight_sync_and_load_bump_version(tmp_path):
    path = cached_tiny_model()
    a = TransformersBackend(str(path))
    b = TransformersBackend(str(path))
    before = a.generate(_prompts(1), GREEDY)[0].logprobs
    with torch.no_grad():
        for p in b.model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    a.sync_from(b.model)
    assert a.version == 1
    after = a.generate(_prompts(1), GREEDY)[0].logprobs
    assert not np.allclose(before[:1], after[:1])
    b.save(tmp_path / "ckpt")
    c = TransformersBackend(str(path))
    c.load_weights(str(tmp_path / "ckpt"))
    assert c.version == 1
    np.testing.assert_allclose(c.generate(_prompts(1), GREEDY)[0].logprobs, after, atol=1e-5)
    a.sync_from(a.model)  # trained in place: only the version moves
    assert a.version == 2
    with pytest.raises(ArenaError):
        c.load_weights(str(tmp_path / "missing"))


def test_load_backend_and_errors():
    path = str(cached_tiny_model())
    assert isinstance(load_backend(path, "transformers"), TransformersBackend)
    with pytest.raises(ArenaError, match="unknown backend"):
        load_backend(path, "nope")
    with pytest.raises(ArenaError):
        TransformersBackend(path, dtype="float7")
    with pytest.raises(ArenaError, match="no model directory"):
        TransformersBackend("/nonexistent/model/dir")


def test_prompt_helpers():
    parts = [{"type": "text", "text": "a"}, {"type": "image", "image": 1}, {"type": "text", "text": "b"}]
    assert text_of(parts) == "a\nb"
    assert text_of(None) == ""
    assert text_only([{"role": "user", "content": parts}], "<img>")[0]["content"] == "a\n<img>\nb"
    assert cut_at_stop("xxABxxCD", ["CD", "AB"]) == 4
    assert cut_at_stop("xx", ["", "q"]) is None


def test_tiny_vision_language_model_sees_the_image(tmp_path):
    from arena.agents.tiny import build_tiny_vlm

    backend = TransformersBackend(str(build_tiny_vlm(tmp_path / "vlm")))
    assert backend.multimodal
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (20, 24, 3), dtype=np.uint8) for _ in range(2)]
    prompts = [
        [{"role": "user", "content": [{"type": "image", "image": im}, {"type": "text", "text": "which?"}]}]
        for im in images
    ]
    a, b = backend.generate(prompts, GREEDY)
    image_id = backend.tokenizer.convert_tokens_to_ids("<image>")
    assert a.prompt_ids == b.prompt_ids and a.prompt_ids.count(image_id) == 4  # (16/8)^2 patches
    assert len(a.completion_ids) == len(a.logprobs) >= 1
    assert not np.allclose(a.logprobs[:1], b.logprobs[:1])  # the pixels reach the model
    (again,) = backend.generate(prompts[:1], GREEDY)
    np.testing.assert_allclose(again.logprobs, a.logprobs, atol=1e-5)
    # score() reads each prompt's image too (constrained mode in visual games), and agrees with generation:
    first = backend.tokenizer.decode(a.completion_ids[:1])
    assert backend.encode(first) == a.completion_ids[:1]
    scored = backend.score([*prompts, [{"role": "user", "content": "which?"}]], [first] * 3)
    assert scored[0].logprobs == pytest.approx(a.logprobs[:1], abs=1e-5)
    assert not np.allclose(scored[0].logprobs, scored[1].logprobs)  # the other picture
    assert len(scored[2].logprobs) == 1  # a text-only prompt in the same call


def test_tiny_vlm_for_play_has_the_text_models_size_and_tokenizer(tmp_path):
    """The visual preset's model: the text part sized as asked, the tokenizer trained on the games' text (a
    visual-spy prompt in far fewer tokens than with the test model's near-byte tokenizer), the vision tower and
    the image in the asked sizes."""
    import arena
    from arena.agents.tiny import build_tiny_vlm

    small = TransformersBackend(str(build_tiny_vlm(tmp_path / "small")))
    played = TransformersBackend(
        str(
            build_tiny_vlm(
                tmp_path / "play",
                hidden_size=96,
                num_layers=2,
                intermediate_size=192,
                game_corpus=True,
                image_size=32,
                vision_hidden_size=48,
                vision_layers=2,
            )
        )
    )
    text = played.model.config.text_config
    assert (text.hidden_size, text.num_hidden_layers, text.intermediate_size) == (96, 2, 192)
    vision = played.model.config.vision_config
    assert (vision.hidden_size, vision.num_hidden_layers, vision.intermediate_size) == (48, 2, 96)
    assert small.model.config.vision_config.hidden_size == 32  # the default tower is unchanged
    env = arena.make("visual-spy-v0", image_size=48)
    env.reset(seed=0)
    prompt = env.observe(env.agent_selection)["text"]
    assert len(played.tokenizer(prompt)["input_ids"]) < 0.5 * len(small.tokenizer(prompt)["input_ids"])
    image = np.zeros((48, 48, 3), dtype=np.uint8)
    messages = [[{"role": "user", "content": [{"type": "image", "image": image}, {"type": "text", "text": "which?"}]}]]
    (reply,) = played.generate(messages, GREEDY)
    assert reply.prompt_ids.count(played.tokenizer.convert_tokens_to_ids("<image>")) == 16  # (32/8)^2 patches
