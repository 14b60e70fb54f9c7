"""``scripts/image_use.py``: how much a visual-spy policy's turns change when its image is replaced by the grey
picture of ``blank_images`` (the probe that says whether a blank-image comparison run can show anything)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_the_probe_measures_the_images_effect_on_clues_and_votes(load_script, tiny_vlm):
    from arena.agents.backends.transformers_backend import TransformersBackend
    from arena.trainers.config import load_config

    probe = load_script("image_use")
    backend = TransformersBackend(str(tiny_vlm))
    config = load_config("cpu-visual-spy", overrides=["envs={visual-spy-v0: {num_players: 3, image_size: 48}}"])
    turns = probe.policy_turns(backend, config, games=1, seed=2)
    assert any(t.alternatives is not None for t in turns) and any(t.alternatives is None for t in turns)
    same = probe.image_dependence(backend, turns, replace=lambda image: image.copy())
    assert same["clue_tokens"] > 0 and same["votes"] > 0
    assert same["clue_dlogp"] == 0.0 and same["vote_tv"] == 0.0  # the same picture: nothing changes
    blank = probe.image_dependence(backend, turns)  # the untrained model reads its pixels: grey changes its replies
    assert blank["clue_dlogp"] > 1e-6 and blank["clue_dlogp_max"] >= blank["clue_dlogp"]
    assert 0.0 <= blank["vote_tv"] <= blank["vote_tv_max"] <= 1.0


def test_the_caption_probe_trains_on_generated_scenes_and_compares_with_grey(load_script, tiny_vlm):
    from arena.agents.backends.transformers_backend import TransformersBackend

    probe = load_script("caption_probe")
    backend = TransformersBackend(str(tiny_vlm))
    rows = probe.probe(backend, steps=4, lr=3e-3, batch=2, eval_every=2, held_out=2, log=lambda _: None)
    assert [step for step, _, _ in rows] == [0, 2, 4]
    (_, seen0, grey0), (_, seen4, _) = rows[0], rows[-1]
    assert seen0 != grey0  # the untrained model reads its pixels
    assert seen4 < seen0  # training on captions lowers their loss
