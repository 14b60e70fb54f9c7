"""``visual-spy-v0``: procedural images, the spy's edits, per-player images, and pixel-reading scripted play."""

from __future__ import annotations

import numpy as np
import pytest

import arena
from arena.agents.match import play
from arena.agents.random_agent import RandomAgent
from arena.agents.scripted.spy import PERCEPTION, SpyScripted, image_facts, perceive, read_chart, read_scene
from arena.envs import scenes


def _region(x: float, y: float) -> str:
    names = ("top-left", "top", "top-right", "left", "centre", "right", "bottom-left", "bottom", "bottom-right")
    return names[min(int(y * 3), 2) * 3 + min(int(x * 3), 2)]


def _facts(scene: scenes.Scene) -> list[str]:
    return sorted(f"{o.size} {o.colour} {o.shape} {_region(o.x, o.y)}" for o in scene.objects)


@pytest.mark.parametrize("seed", range(20))
def test_pixels_read_back_the_scene_and_the_chart(seed):
    """The pixel reader is exact at every size; the scripted eye's errors come only from ``perceive``."""
    rng = np.random.default_rng(seed)
    scene = scenes.random_scene(rng)
    chart = scenes.random_chart(rng)
    for side in (96, 336):
        assert read_scene(scenes.render(scene, side)) == _facts(scene)
        assert read_chart(scenes.render(chart, side)) == (chart.kind, list(chart.values))


def _no_overlap(objects) -> None:
    for i, a in enumerate(objects):
        for b in objects[i + 1 :]:
            assert np.hypot(a.x - b.x, a.y - b.y) > scenes.SIZES[a.size] + scenes.SIZES[b.size]


@pytest.mark.parametrize("difficulty", scenes.DIFFICULTIES)
@pytest.mark.parametrize("seed", range(15))
def test_scene_edits_keep_the_count_and_the_places(seed, difficulty):
    rng = np.random.default_rng(seed)
    scene = scenes.random_scene(rng)
    edited, notes = scenes.edit_scene(scene, 2, rng, difficulty)
    assert len(edited.objects) == len(scene.objects) and notes  # nothing added or removed
    assert [scenes.cell_of(o) for o in edited.objects] == [scenes.cell_of(o) for o in scene.objects]  # nor moved
    changed = [(a, b) for a, b in zip(scene.objects, edited.objects, strict=True) if a != b]
    assert len(changed) == 2
    _no_overlap(edited.objects)
    looks = [(a.colour, a.shape, a.size) for a, _ in changed], [(b.colour, b.shape, b.size) for _, b in changed]
    if difficulty == "easy":  # Vision-Zero: a new shape and a new colour
        assert all(a.shape != b.shape and a.colour != b.colour and a.size == b.size for a, b in changed)
    elif difficulty == "medium":  # one attribute each
        assert all(sum(getattr(a, f) != getattr(b, f) for f in ("colour", "shape", "size")) == 1 for a, b in changed)
    elif "swapped" in notes[0]:  # hard: a swap keeps the counts of colours, shapes and sizes
        assert sorted(map(sorted, zip(*looks[0], strict=True))) == sorted(map(sorted, zip(*looks[1], strict=True)))
    assert read_scene(scenes.render(edited, 336)) != read_scene(scenes.render(scene, 336))  # it shows


@pytest.mark.parametrize("difficulty", scenes.DIFFICULTIES)
@pytest.mark.parametrize("seed", range(15))
def test_chart_edits_swap_two_attributes_and_redraw_the_texts(seed, difficulty):
    rng = np.random.default_rng(seed)
    chart = scenes.random_chart(rng)
    changed, notes = scenes.edit_chart(chart, rng, difficulty)
    assert chart.title and chart.x_label and chart.y_label and len(chart.labels) == len(chart.values)
    assert sorted(changed.values) == sorted(chart.values) and sorted(changed.labels) == sorted(chart.labels)
    moved = [
        i
        for i in range(len(chart.values))
        if (chart.values[i], chart.labels[i]) != (changed.values[i], changed.labels[i])
    ]
    assert len(moved) == 2 and "swapped" in notes[0]
    i, j = moved
    if changed.values != chart.values:
        gap = abs(chart.values[i] - chart.values[j])
        assert {"easy": gap >= 3, "medium": gap >= 1, "hard": gap >= 1}[difficulty] or len(set(chart.values)) < 3
    else:
        assert difficulty == "hard" and chart.values[i] != chart.values[j]  # labels of two different values
    before, after = scenes.render(chart, 336), scenes.render(changed, 336)
    assert not np.array_equal(before, after)  # the value text / labels were drawn again


def _text_pixels(image: np.ndarray) -> int:
    """Grey text pixels (antialiased), not the black axes nor the coloured bars."""
    grey = np.abs(image.astype(int) - np.array(scenes.TEXT)).max(axis=-1) <= 60
    return int(grey.sum())


def test_rendered_chart_has_its_texts():
    chart = scenes.Chart("bar", (3, 7, 5, 2), ("Mon", "Tue", "Wed", "Thu"), "Visitors", "Day", "People")
    bare = scenes.Chart("bar", (3, 7, 5, 2))
    assert _text_pixels(scenes.render(chart, 336)) > _text_pixels(scenes.render(bare, 336)) + 200  # title, labels
    assert _text_pixels(scenes.render(bare, 336)) > _text_pixels(scenes.render(scenes.Chart("bar", (3,)), 336))


@pytest.mark.parametrize("difficulty", scenes.DIFFICULTIES)
def test_the_scripted_eye_misreads_at_the_documented_rates(difficulty):
    rng = np.random.default_rng(0)
    rates = PERCEPTION[difficulty]
    objects = wrong_colour = missed = 0
    for seed in range(300):
        facts = image_facts(scenes.render(scenes.random_scene(np.random.default_rng(seed)), 96))
        seen = perceive(facts, difficulty, rng)
        truth = {f.split()[-1]: f.split() for f in facts[1:]}
        seen_by_place = {f.split()[-1]: f.split() for f in seen[1:]}
        objects += len(truth)
        missed += len(truth) - len(seen_by_place)
        wrong_colour += sum(seen_by_place[p][1] != truth[p][1] for p in seen_by_place)
        assert seen[0] == f"{len(seen) - 1} objects"  # the count follows what was seen
    assert abs(missed / objects - rates["miss"]) < 0.02
    assert abs(wrong_colour / (objects - missed) - rates["colour"]) < 0.03


def test_observation_carries_the_players_own_image_in_its_space():
    env = arena.make("visual-spy-v0", image_size=64)
    env.reset(seed=4)
    raw = env.unwrapped
    obs = env.observe(env.agent_selection)
    assert obs["image"].dtype == np.uint8 and obs["image"].shape == (64, 64, 3)
    assert env.observation_space(env.agent_selection).contains(obs)
    civilians = [a for a in raw.possible_agents if a not in raw.spies]
    spy = raw.spies[0]
    assert all(np.array_equal(env.observe(c)["image"], env.observe(civilians[0])["image"]) for c in civilians)
    assert not np.array_equal(env.observe(spy)["image"], env.observe(civilians[0])["image"])


@pytest.mark.parametrize("scene", ["clevr", "chart"])
def test_each_player_only_ever_sees_its_own_image_even_after_being_voted_out(scene):
    for seed in range(3):
        env = arena.make("visual-spy-v0", scene=scene, num_players=6)
        env.reset(seed=seed)
        raw = env.unwrapped
        own = {a: raw.images[a in raw.spies] for a in raw.possible_agents}
        side = {a: raw.side_line(a) for a in raw.possible_agents}
        rng = np.random.default_rng(seed)
        for _ in env.agent_iter(max_iter=2000):
            _, _, term, trunc, info = env.last()
            legal = info.get("legal_actions")
            env.step(
                None if term or trunc else (legal[int(rng.integers(len(legal)))] if legal else f"clue {rng.random()}")
            )
            if raw.finished:
                break
            for other in raw.possible_agents:  # dead players' observations included
                obs = raw.observe(other)
                assert np.array_equal(obs["image"], own[other])
                for owner, line in side.items():
                    if (owner in raw.spies) != (other in raw.spies):
                        assert line not in obs["text"]


def test_same_seed_same_images_and_kinds_vary():
    a, b = arena.make("visual-spy-v0"), arena.make("visual-spy-v0")
    a.reset(seed=11)
    b.reset(seed=11)
    assert np.array_equal(a.observe("player_0")["image"], b.observe("player_0")["image"])
    kinds = set()
    for seed in range(12):
        env = arena.make("visual-spy-v0")
        env.reset(seed=seed)
        kinds.add(env.unwrapped.kind)
    assert kinds == {"clevr", "chart"}


def test_scripted_clues_come_from_the_players_own_pixels():
    env = arena.make("visual-spy-v0", scene="clevr")
    env.reset(seed=5)
    raw = env.unwrapped
    agent = env.agent_selection
    assert env.infos[agent]["difficulty"] == "medium" and env.observe(agent)["image"].shape == (336, 336, 3)
    player = SpyScripted(seed=0)
    clue = player.act(env.observe(agent), env.infos[agent])
    seen = set(player._own_facts(env.observe(agent), "medium"))  # what this player's eye took in
    stated = [f.strip() for f in clue.rstrip(".").split(";")]
    assert stated and set(stated) <= seen
    exact = set(image_facts(raw.images[agent in raw.spies]))
    assert len(seen & exact) >= len(exact) / 2  # some misreadings (PERCEPTION), not a different image


def test_scripted_civilians_find_the_spy_more_often_than_random_ones():
    found = {"scripted": 0, "random": 0}
    for seed in range(16):
        for kind in found:
            env = arena.make("visual-spy-v0")
            env.reset(seed=seed)
            spies = env.unwrapped.spies
            agents = [
                SpyScripted(seed=seed * 5 + i)
                if kind == "scripted" or f"player_{i}" in spies
                else RandomAgent(seed=seed * 5 + i)
                for i in range(5)
            ]
            result = play(env, agents, seed=seed)
            found[kind] += result.transcript.result["info"]["winning_side"] == "civilians"
    assert found["scripted"] > found["random"], found
