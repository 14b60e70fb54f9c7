"""Images through training: a visual game's turns keep their prompt's images, the learner feeds them to the
model again (the tiny LLaVA of ``build_tiny_vlm``), and a text-only model is refused before any work."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import arena  # noqa: E402
from arena.core.errors import ArenaError  # noqa: E402
from arena.trainers.config import load_config  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ENV = "visual-spy-v0"
KWARGS = {"num_players": 3, "image_size": 48}


@pytest.fixture(scope="module")
def vlm(tmp_path_factory):
    from arena.agents.backends.transformers_backend import TransformersBackend
    from arena.agents.tiny import build_tiny_vlm

    return TransformersBackend(str(build_tiny_vlm(tmp_path_factory.mktemp("vlm"))))


def _first_turn(backend):
    """The first decision of a seeded visual-spy match, as the trainer records it."""
    from arena.agents.backends.base import SamplingParams
    from arena.agents.llm import LLMAgent
    from arena.agents.scheduler import play_many
    from arena.trainers.episodes import episode_from_outcome

    agent = LLMAgent(backend, env_id=ENV, name="learner", sampling=SamplingParams(max_new_tokens=6, seed=0))
    env = arena.make(ENV, **KWARGS)
    outcome = play_many([(env, {s: agent for s in env.possible_agents}, 5)], max_steps=1)[0]
    return outcome, episode_from_outcome(outcome, "learner", "g", "self").turns[0]


def test_the_learner_recomputes_logprobs_with_the_turns_image(vlm):
    from arena.trainers.learner import completion_logprobs

    outcome, turn = _first_turn(vlm)
    assert len(turn.images) == 1 and turn.images[0].shape == (48, 48, 3)
    pad = vlm.tokenizer.pad_token_id
    with torch.no_grad():
        logp, mask = completion_logprobs(vlm.model, [turn], pad, vlm.processor)
        recomputed = logp[0, : int(mask[0].sum())].tolist()
        assert recomputed == pytest.approx(outcome.turns[0].trace.logprobs, abs=1e-4)  # as generation saw it
        other = turn.images[0].copy()
        other[:24] = 255 - other[:24]  # another picture, same prompt and reply
        turn.images = [other]
        changed, _ = completion_logprobs(vlm.model, [turn], pad, vlm.processor)
    assert np.abs(changed[0, : len(recomputed)].numpy() - np.array(recomputed)).max() > 1e-5
    with pytest.raises(ArenaError, match="text-only"):
        completion_logprobs(vlm.model, [turn], pad, processor=None)


def test_image_turns_share_their_text_prefix_and_get_the_plain_passs_logits(vlm):
    """Rows whose prompts share text before their images run that text once; each row's own image still
    reaches it (rows' images differ), and the logits equal one plain padded pass's."""
    from arena.agents.backends.base import SamplingParams
    from arena.agents.llm import LLMAgent
    from arena.agents.logits import _text_prefix, image_completion_logits, pixel_values
    from arena.agents.scheduler import play_many
    from arena.trainers.episodes import episode_from_outcome

    agent = LLMAgent(vlm, env_id=ENV, name="learner", sampling=SamplingParams(max_new_tokens=6, seed=0))
    env = arena.make(ENV, **KWARGS)
    outcome = play_many([(env, {s: agent for s in env.possible_agents}, 7)], max_steps=3)[0]
    turns = episode_from_outcome(outcome, "learner", "g", "self").turns[:3]
    assert len(turns) == 3
    base = turns[0].images[0]
    half = base.copy()
    half[:24] = 255 - half[:24]
    images = [base, 255 - base, half]  # three different pictures (civilians are shown the same one)
    prompts, completions = [t.prompt_ids for t in turns], [t.completion_ids for t in turns]
    shared = _text_prefix(vlm.model, prompts)
    image_token = vlm.model.config.image_token_id
    assert shared > 0 and all(image_token not in p[:shared] and image_token in p[shared:] for p in prompts)
    pixels = pixel_values(images, vlm.processor)
    pad = vlm.tokenizer.pad_token_id
    with torch.no_grad():
        one, targets, mask = image_completion_logits(vlm.model, prompts, completions, pad, pixels)
        plain, plain_targets, plain_mask = image_completion_logits(
            vlm.model, prompts, completions, pad, pixels, share_prefix=False
        )
        swapped, _, _ = image_completion_logits(vlm.model, prompts, completions, pad, pixels.flip(0))
    assert torch.equal(targets, plain_targets) and torch.equal(mask, plain_mask)
    assert torch.allclose(one[mask], plain[mask], atol=1e-4)
    assert (swapped[mask] - one[mask]).abs().max() > 1e-4  # the rows' own images are what they read

    def gradients(share: bool) -> list:
        vlm.model.zero_grad()
        logits, _, _ = image_completion_logits(vlm.model, prompts, completions, pad, pixels, share_prefix=share)
        logits[mask].logsumexp(-1).sum().backward()
        grads = [p.grad.clone() for p in vlm.model.parameters() if p.grad is not None]
        vlm.model.zero_grad()
        return grads

    shared_grads, plain_grads = gradients(True), gradients(False)  # the prefix collects every row's gradient
    assert len(shared_grads) == len(plain_grads) > 0
    assert all(torch.allclose(a, b, atol=1e-4, rtol=1e-3) for a, b in zip(shared_grads, plain_grads, strict=True))


def test_one_update_on_a_visual_game_starts_on_policy(vlm):
    import copy

    from arena.trainers import learner

    _, turn = _first_turn(vlm)
    model = copy.deepcopy(vlm.model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
    metrics = learner.update(
        model, optimizer, [turn], np.array([1.0]), pad_id=vlm.tokenizer.pad_token_id, processor=vlm.processor
    )
    assert metrics["turns_used"] == 1
    assert metrics["approx_kl_old"] == pytest.approx(0.0, abs=1e-6)  # the image made it: ratio 1 at the start


def test_a_visual_game_on_a_text_only_model_is_refused_before_any_work(tmp_path):
    from arena.agents.tiny import cached_tiny_model
    from arena.trainers.loop import Trainer, prepare_model

    cfg = load_config("cpu", overrides=[f"envs={{{ENV}: {{}}}}", f"out={tmp_path}", "constrained=[]", "advantage=rae"])
    with pytest.raises(ArenaError, match="text-only"):
        prepare_model(cfg, log=lambda _: None)  # would build and warm-start the tiny text model
    assert not (tmp_path / "tiny-base").exists()
    with pytest.raises(ArenaError, match="text-only"):
        Trainer(cfg, cached_tiny_model(), log=lambda _: None)


def test_player_text_cannot_open_an_image_slot_and_replies_hold_none(vlm):
    # "<image>" typed by a player is text: it must not become a placeholder without an image (the processor
    # raised on it); and a reply must hold no placeholder, which recomputing its logprobs could not fill.
    from arena.agents.backends.base import SamplingParams

    image = np.zeros((48, 48, 3), np.uint8)
    content = [{"type": "image", "image": image}, {"type": "text", "text": "player_1 says: I see <image>"}]
    completions = vlm.generate([[{"role": "user", "content": content}]] * 8, SamplingParams(max_new_tokens=16, seed=1))
    image_token = vlm.tokenizer.convert_tokens_to_ids(vlm.processor.image_token)
    assert len(completions) == 8
    assert all(image_token not in c.completion_ids for c in completions)


def test_blank_images_reach_every_policy_agent_and_hide_the_picture(vlm):
    """``blank_images: true`` (the does-it-use-the-image ablation) gives the trainer's sampling and greedy
    agents one flat grey picture in place of each image; the text of the prompt is unchanged."""
    from arena.trainers.rollout import policy_agent

    config = load_config("cpu-visual-spy", overrides=["blank_images=true"])
    env = arena.make(ENV, **KWARGS)
    env.reset(seed=3)
    seat = env.agent_selection
    obs, info = env.observe(seat), env.infos[seat]
    plain = policy_agent(vlm, load_config("cpu-visual-spy"), "visual-spy-v0").build_prompt(obs, info)
    for sample in (True, False):
        blank = policy_agent(vlm, config, "visual-spy-v0", sample=sample).build_prompt(obs, info)
        (image,) = [part["image"] for part in blank[-1]["content"] if part["type"] == "image"]
        (original,) = [part["image"] for part in plain[-1]["content"] if part["type"] == "image"]
        assert image.shape == original.shape and (image == 128).all() and not (original == 128).all()
        assert [p for p in blank[-1]["content"] if p["type"] == "text"] == [
            p for p in plain[-1]["content"] if p["type"] == "text"
        ]


def test_the_warm_start_feeds_a_visual_games_images_to_the_model(vlm):
    """A VLM's warm-start examples keep their prompt's image and the training pass sees it: the same
    examples with other pictures give another loss. A text-only model's examples carry no image."""
    import copy
    import dataclasses

    from arena.agents.backends.transformers_backend import TransformersBackend
    from arena.agents.tiny import cached_tiny_model
    from arena.agents.warmstart import collect_examples, train_examples

    examples = collect_examples(vlm, [ENV], matches_per_env=1, seed=0, env_kwargs={ENV: KWARGS})[:4]
    assert examples and all(len(e.images) == 1 and e.images[0].shape == (48, 48, 3) for e in examples)
    other = [dataclasses.replace(e, images=[255 - e.images[0]]) for e in examples]
    pad = int(vlm.tokenizer.pad_token_id)

    def first_loss(batch):
        model = copy.deepcopy(vlm.model)
        return train_examples(model, batch, steps=1, batch_size=len(batch), pad_id=pad, processor=vlm.processor)[0]

    assert first_loss(examples) != pytest.approx(first_loss(other), abs=1e-6)
    text = TransformersBackend(str(cached_tiny_model()))
    assert all(not e.images for e in collect_examples(text, [ENV], matches_per_env=1, seed=0, env_kwargs={ENV: KWARGS}))


def test_constrained_votes_in_a_visual_game_score_and_train_with_the_turns_image(vlm):
    """The preset's agent chooses a visual-spy vote from the softmax over the legal replies' likelihoods
    given the prompt *with its image*; the learner recomputes that distribution (the PPO ratio starts at 1),
    and another picture changes it."""
    import math

    from arena.agents.logits import choice_logprobs
    from arena.agents.scheduler import play_many
    from arena.trainers.episodes import episode_from_outcome
    from arena.trainers.learner import choice_logprob, turn_logprobs
    from arena.trainers.rollout import policy_agent

    agent = policy_agent(vlm, load_config("cpu-visual-spy", overrides=["max_new_tokens=6"]), ENV, seed=0)
    assert agent.constrained and agent.sample  # the preset's votes: sampled from the legal votes' likelihoods
    env = arena.make(ENV, **KWARGS)
    outcome = play_many([(env, {s: agent for s in env.possible_agents}, 3)], max_steps=9)[0]
    votes = [r for r in outcome.turns if r.trace.alternatives is not None]
    assert len(votes) == 3, "three clue turns (each with its retry), then the votes"
    turns = [t for t in episode_from_outcome(outcome, "learner", "g", "self").turns if t.alternatives is not None]
    assert len(turns) == len(votes) and all(len(t.images) == 1 for t in turns)
    pad = vlm.tokenizer.pad_token_id
    with torch.no_grad():
        chosen = choice_logprob(vlm.model, turns, pad, vlm.processor)
        logp, mask, _ = turn_logprobs(vlm.model, turns, pad, vlm.processor)
    for i, (turn, record) in enumerate(zip(turns, votes, strict=True)):
        agent_probs = list(record.trace.legal_probs.values())
        assert len(agent_probs) == len(turn.alternatives) == 3  # the two other players and [abstain]
        assert turn.old_logprobs[0] == pytest.approx(math.log(agent_probs[turn.chosen]), abs=1e-9)
        assert float(chosen[i]) == pytest.approx(turn.old_logprobs[0], abs=1e-4)
        assert mask[i].tolist() == [True] + [False] * (mask.shape[1] - 1) and float(logp[i, 0]) == float(chosen[i])
    with torch.no_grad():  # the replies' likelihoods read the picture (the untrained model's choice may be sure)
        turn = turns[0]
        scores = choice_logprobs(
            vlm.model, [turn.prompt_ids], [turn.alternatives], pad, images=[turn.images], processor=vlm.processor
        )
        other = [255 - turn.images[0]]
        changed = choice_logprobs(
            vlm.model, [turn.prompt_ids], [turn.alternatives], pad, images=[other], processor=vlm.processor
        )
    assert (changed - scores).abs().max() > 1e-5
