"""``scripts/image_fact_probe.py``: a yes/no probe of whether a VLM can check one stated fact against its picture."""

from __future__ import annotations

import numpy as np
import pytest

from arena.agents.scripted.spy import image_facts


@pytest.fixture(scope="module")
def probe(load_script):
    return load_script("image_fact_probe")


def test_facts_hold_in_the_picture_and_foils_do_not(probe):
    rng = np.random.default_rng(3)
    for _ in range(12):
        image, true, foils = probe.facts_and_foils(rng)
        read = set(image_facts(image))
        assert true and foils
        assert set(true) <= read and not set(foils) & read
        assert not any(f.endswith(("objects", "chart")) for f in true)  # the picture's kind is the other question
    image, true, foils = probe.facts_and_foils(np.random.default_rng(4), "kind")
    assert len(true) == 1 and len(foils) == 2 and set(true + foils) == set(probe.KINDS.values())
    for _ in range(6):  # the first step of a curriculum: which colours the scene holds
        image, true, foils = probe.facts_and_foils(rng, "colour")
        said = " ".join(image_facts(image))
        assert true and foils and len(true) + len(foils) == 8
        assert all(f"{c.split()[1]} " in said for c in true) and not any(f"{c.split()[1]} " in said for c in foils)
    with pytest.raises(ValueError, match="question must be one of"):
        probe.facts_and_foils(rng, "weather")


def test_a_vision_model_trains_and_is_scored_on_held_out_pictures(probe, tiny_vlm, capsys, tmp_path):
    saved = tmp_path / "after"
    args = ["--model", str(tiny_vlm), "--steps", "2", "--test", "6", "--eval-every", "1", "--batch-size", "4"]
    rows = probe.main([*args, "--save", str(saved)])
    assert [row["step"] for row in rows] == [0, 1, 2]
    assert len(capsys.readouterr().out.strip().splitlines()) == 3
    holds = {row["holds"] for row in rows}
    assert len(holds) == 1  # the same held-out pictures every time
    assert all(0.0 <= row["accuracy"] <= 1.0 and 0.0 <= row["says_yes"] <= 1.0 for row in rows)
    assert all(row["loss"] > 0 for row in rows[1:])
    # the saved model is the trained one: the next question of a curriculum starts where this one ended
    again = probe.main(["--model", str(saved), "--steps", "0", *args[4:]])
    assert again[0]["accuracy"] == rows[-1]["accuracy"] and again[0]["says_yes"] == rows[-1]["says_yes"]


def test_bad_arguments_get_a_clear_error(probe, capsys):
    from arena.agents.tiny import cached_tiny_model

    with pytest.raises(SystemExit):
        probe.main(["--model", "unused", "--test", "0"])
    assert "--test is too small" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        probe.main(["--model", str(cached_tiny_model()), "--steps", "1"])
    assert "not a vision-language model" in capsys.readouterr().err
