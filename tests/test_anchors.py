"""GiGPO anchors: the game's state key or a digest of the observation, equal for the same situation
within a group of identical seeds, different for different situations, and the same in every process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict

import pytest

torch = pytest.importorskip("torch")

from arena.agents.scheduler import observation_digest  # noqa: E402
from arena.trainers.config import load_config  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _anchors(model: str, env_id: str, kwargs: dict, anchor: str, group_size: int = 3) -> list[list[dict]]:
    """One self-play group of the trainer's rollout for ``env_id``: per episode, its learner turns as
    (seat, turn index, anchor, observation digest)."""
    from arena.trainers.loop import Trainer
    from arena.trainers.rollout import build_specs, collect, plan_groups

    overrides = [
        f"envs={json.dumps({env_id: kwargs})}",
        "out=unused",
        "opponents={self: 1.0}",
        f"anchor={anchor}",
        "advantage=gigpo",
        f"constrained=[{env_id}]",
        "max_new_tokens=4",
        "kl_coef=0",
    ]
    trainer = Trainer(load_config("cpu", overrides=overrides), model, log=lambda _: None)
    plans = plan_groups(trainer.config.games(), 1, group_size, trainer.pool, trainer.rng)
    episodes, outcomes = collect(
        *build_specs(plans, trainer.learners, trainer.pool, trainer.past_policies), trainer.config
    )
    return [
        [
            {"seat": t.agent, "index": t.turn_index, "anchor": t.state_key, "observation": r.observation_key}
            for t, r in zip(e.turns, o.turns, strict=True)
        ]
        for e, o in zip(episodes, outcomes, strict=True)
    ]


@pytest.mark.parametrize(
    ("env_id", "kwargs", "anchor"),
    [
        ("tictactoe-v0", {}, "state"),
        ("tictactoe-v0", {}, "observation"),
        ("werewolf-v0", {"num_players": 4, "max_rounds": 1}, "observation"),
        ("public-goods-v0", {"num_players": 3, "num_rounds": 2}, "observation"),
    ],
)
def test_same_situation_same_anchor_within_a_group(env_id, kwargs, anchor, tmp_path, monkeypatch):
    from arena.agents.tiny import cached_tiny_model

    monkeypatch.chdir(tmp_path)
    episodes = _anchors(str(cached_tiny_model()), env_id, kwargs, anchor)
    # The game's first decision is the same situation in every episode of the group (same seed, nothing
    # sampled yet): one anchor.
    assert len({e[0]["anchor"] for e in episodes}) == 1
    # The first turn of each seat: one anchor wherever that seat saw the same thing, and a seat's first
    # situation differs from every other seat's (its name, role or mark is part of what it knows).
    first = defaultdict(set)
    for e in episodes:
        for turn in e:
            if turn["index"] == 0:
                first[turn["seat"]].add((turn["observation"], turn["anchor"]))
    for seat, seen in first.items():
        assert len({o for o, _ in seen}) == len({a for _, a in seen}), seat  # anchor ↔ situation
    seats = list(first)
    for a in seats:
        for b in seats:
            if a != b:
                assert not ({k for _, k in first[a]} & {k for _, k in first[b]})
    # Different situations get different anchors: a seat's later turns are new situations.
    for e in episodes:
        by_seat = defaultdict(list)
        for turn in e:
            by_seat[turn["seat"]].append(turn["anchor"])
        for anchors in by_seat.values():
            assert len(set(anchors)) == len(anchors)
    for e in episodes:
        assert all(isinstance(t["anchor"], str) and t["anchor"] for t in e)


_CHILD = """
import json, sys, torch
torch.set_num_threads(1)
sys.path.insert(0, {tests!r})
from test_anchors import _anchors
print(json.dumps([hash("anchor"), [_anchors({model!r}, env, kwargs, anchor, 2) for env, kwargs, anchor in {cases!r}]]))
"""


def test_anchors_are_the_same_in_another_process(tmp_path, monkeypatch):
    """Python's ``hash()`` of a string differs between processes (PYTHONHASHSEED); the anchors must not."""
    from arena.agents.tiny import cached_tiny_model

    model = str(cached_tiny_model())
    cases = [("tictactoe-v0", {}, "state"), ("werewolf-v0", {"num_players": 4, "max_rounds": 1}, "observation")]
    monkeypatch.chdir(tmp_path)
    here = [_anchors(model, env, kwargs, anchor, 2) for env, kwargs, anchor in cases]
    code = _CHILD.format(tests=os.path.dirname(__file__), model=model, cases=cases)
    seed = "1" if os.environ.get("PYTHONHASHSEED") != "1" else "2"
    env = {**os.environ, "PYTHONHASHSEED": seed}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    child_hash, there = json.loads(out.stdout.strip().splitlines()[-1])
    assert child_hash != hash("anchor")  # the child really hashes strings differently
    assert there == here


def test_the_observation_digest_covers_text_and_image():
    import numpy as np

    image = np.zeros((4, 4, 3), np.uint8)
    base = observation_digest({"text": "round 1", "image": image})
    assert len(base) == 32 and base == observation_digest({"text": "round 1", "image": image.copy()})
    other = image.copy()
    other[0, 0, 0] = 1
    assert base != observation_digest({"text": "round 1", "image": other})
    assert base != observation_digest({"text": "round 2", "image": image})
    assert observation_digest({"text": "round 1"}) != base
