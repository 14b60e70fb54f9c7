"""Caption steps of the visual warm start (arena.agents.captions) and the captions of arena.envs.scenes."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from arena.core.errors import ArenaError
from arena.envs import scenes

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_a_scenes_caption_reads_its_objects_in_grid_order_and_a_charts_its_values():
    scene = scenes.Scene(
        (
            scenes.Obj("square", "red", "large", 0.9, 0.1),
            scenes.Obj("circle", "blue", "small", 0.1, 0.5),
            scenes.Obj("triangle", "green", "small", 0.5, 0.95),
        )
    )
    assert scenes.caption(scene) == (
        "large red square top right; small blue circle middle left; small green triangle bottom centre"
    )
    chart = scenes.Chart("bar", (3, 7, 2, 5), ("A", "B", "C", "D"), "Books read")
    assert scenes.caption(chart) == "bar chart: 3 7 2 5"
    # the spy's chart (two values swapped) gets another caption: the caption holds what tells the images apart
    edited, _ = scenes.edit_chart(chart, np.random.default_rng(0))
    assert scenes.caption(edited) != scenes.caption(chart)


def test_caption_steps_lower_the_caption_loss_and_blank_ones_only_show_grey(tiny_vlm, monkeypatch):
    from arena.agents import captions
    from arena.agents.backends.transformers_backend import TransformersBackend

    backend = TransformersBackend(str(tiny_vlm))
    held = [captions.caption_example(backend, np.random.default_rng(100 + i)) for i in range(4)]
    seen, grey = captions.held_out_gap(backend, held, batch_size=4)
    assert seen != grey  # the untrained model's random image path already changes its loss
    steps: list[int] = []
    losses = captions.train_captions(backend, steps=6, lr=3e-3, batch_size=4, side=48, after_step=steps.append)
    assert steps == [1, 2, 3, 4, 5, 6] and len(losses) == 6
    assert captions.held_out_gap(backend, held, batch_size=4)[0] < seen
    assert not backend.model.training

    shown: list[np.ndarray] = []
    real = captions.pixel_values
    monkeypatch.setattr(
        captions, "pixel_values", lambda images, processor: shown.extend(images) or real(images, processor)
    )
    captions.train_captions(backend, steps=1, batch_size=3, side=48, blank=True)
    assert len(shown) == 3 and all((image == 128).all() for image in shown)


def test_caption_pictures_follow_the_games_settings_and_bad_ones_are_refused(tiny_vlm):
    from arena.agents import captions
    from arena.agents.backends.transformers_backend import TransformersBackend
    from arena.agents.tiny import cached_tiny_model
    from arena.agents.warmstart import caption_pictures

    assert caption_pictures({"visual-spy-v0": {"image_size": 96, "scene": "chart"}}) == ("chart", 96)
    assert caption_pictures({"spy-v0": {"num_players": 5}}) == ("mixed", 336)
    rng = np.random.default_rng(0)
    assert all(isinstance(captions.random_picture(rng, "chart"), scenes.Chart) for _ in range(5))
    with pytest.raises(ArenaError, match="one of"):
        captions.random_picture(rng, "photo")
    text_only = TransformersBackend(str(cached_tiny_model()))
    with pytest.raises(ArenaError, match="text-only"):
        captions.train_captions(text_only, steps=1)
    vlm = TransformersBackend(str(tiny_vlm))
    image = captions.caption_example(vlm, rng, kind="clevr", side=64)[2]
    assert image.shape == (64, 64, 3)


def test_the_warm_start_runs_its_caption_steps_and_greys_every_picture_of_a_blank_twin(tiny_vlm, tmp_path):
    from arena.agents.backends.transformers_backend import TransformersBackend
    from arena.agents.warmstart import collect_examples, warmstart
    from arena.trainers.config import load_config

    env, kwargs = "visual-spy-v0", {"num_players": 3, "image_size": 48}
    vlm = TransformersBackend(str(tiny_vlm))
    examples = collect_examples(vlm, [env], matches_per_env=1, env_kwargs={env: kwargs}, blank_images=True)
    assert examples and all((e.images[0] == 128).all() for e in examples)
    lines: list[str] = []
    common = dict(env_ids=[env], env_kwargs={env: kwargs}, matches_per_env=1, steps=1, batch_size=2, log=lines.append)
    out = warmstart(tiny_vlm, tmp_path / "ws", caption_steps=2, caption_batch_size=2, **common)
    assert (out / "config.json").exists()
    assert any(line.startswith("caption step 2/2") for line in lines)
    # every option of a preset's warm start is one warmstart() takes (a typo would fail after the model is built)
    preset = load_config("cpu-visual-spy").warmstart
    assert preset["caption_steps"] > 0 and set(preset) <= set(inspect.signature(warmstart).parameters)
