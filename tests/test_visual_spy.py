"""``visual-spy-v0``: procedural images, the spy's edits, per-player images, and pixel-reading scripted play."""

from __future__ import annotations

import numpy as np
import pytest

import arena
from arena.agents.match import play
from arena.agents.random_agent import RandomAgent
from arena.agents.scripted.spy import SpyScripted, image_facts, read_chart, read_scene
from arena.envs import scenes


def _region(x: float, y: float) -> str:
    names = ("top-left", "top", "top-right", "left", "centre", "right", "bottom-left", "bottom", "bottom-right")
    return names[min(int(y * 3), 2) * 3 + min(int(x * 3), 2)]


@pytest.mark.parametrize("seed", range(25))
def test_pixels_read_back_the_scene_and_the_chart(seed):
    rng = np.random.default_rng(seed)
    scene = scenes.random_scene(rng)
    expected = sorted(f"{o.colour} {o.shape} {_region(o.x, o.y)}" for o in scene.objects)
    assert read_scene(scenes.render(scene, 96)) == expected
    chart = scenes.random_chart(rng)
    assert read_chart(scenes.render(chart, 96)) == (chart.kind, list(chart.values))


@pytest.mark.parametrize("seed", range(25))
def test_edits_change_exactly_k_objects_and_objects_never_overlap(seed):
    rng = np.random.default_rng(seed)
    scene = scenes.random_scene(rng)
    edited, notes = scenes.edit_scene(scene, 2, rng)
    assert len(notes) == 2
    before, after = set(scene.objects), set(edited.objects)
    assert len(before - after) == 2  # two objects changed or vanished
    assert len(edited.objects) >= 2
    for objs in (scene.objects, edited.objects):
        for i, a in enumerate(objs):
            for b in objs[i + 1 :]:
                assert np.hypot(a.x - b.x, a.y - b.y) > scenes.SIZES[a.size] + scenes.SIZES[b.size]
    chart = scenes.random_chart(rng)
    changed, notes = scenes.edit_chart(chart, rng)
    diffs = [(x, y) for x, y in zip(chart.values, changed.values, strict=True) if x != y]
    assert len(diffs) == 1 and 2 <= abs(diffs[0][0] - diffs[0][1]) <= 4


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
    clue = SpyScripted(seed=0).act(env.observe(agent), env.infos[agent])
    facts = set(image_facts(raw.images[agent in raw.spies]))
    stated = [f.strip() for f in clue.rstrip(".").split(";")]
    assert stated and set(stated) <= facts


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
