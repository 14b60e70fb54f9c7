"""Episode generation: draw a task from a split and populate its scene from the episode's RNG.

A task is (scene, goal, template); the world then gets 1–3 instances of each of the scene's object
types (2–3 of the goal object for Pick2), each on a random receptacle that may hold it, plus one lamp
per lamp type the house has. Openable receptacles start closed. Objects of the goal type never start
in a receptacle of the goal's target type, so no task is solved at the start. Everything is drawn
from the ``numpy`` generator passed in, so the same seed gives the same world.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from arena.envs.household.catalog import OPENABLE, can_contain
from arena.envs.household.scenes import Scene, scenes, split_table
from arena.envs.household.tasks import TASK_TYPES, Goal
from arena.envs.household.world import World


@dataclass(frozen=True)
class Task:
    """One drawn task: scene, goal and which of the two goal templates phrases it."""

    scene: Scene
    goal: Goal
    template: int

    @property
    def text(self) -> str:
        return self.goal.text(self.template)


def _pick(rng: np.random.Generator, items: Sequence) -> object:
    return items[int(rng.integers(len(items)))]


def draw_task(split: str, rng: np.random.Generator, task_types: Sequence[str] | None = None) -> Task:
    """A task type uniformly from ``task_types`` (default all six), then a scene and a goal of the split."""
    types = tuple(task_types) if task_types else TASK_TYPES
    table = split_table(split)
    task_type = _pick(rng, types)
    scene_index, goals = _pick(rng, table[task_type])
    goal = _pick(rng, goals)
    return Task(scenes()[scene_index], goal, int(rng.integers(2)))


def populate(task: Task, agents: Sequence[str], rng: np.random.Generator) -> World:
    """Place objects and lamps for ``task`` and return the initial world."""
    scene, goal = task.scene, task.goal
    place: dict[str, str] = {}
    for obj_type in scene.object_types:
        spots = [name for name, rtype, _ in scene.receptacles if can_contain(rtype, obj_type)]
        if obj_type == goal.obj and not goal.is_look and goal.state is None:
            spots = [
                name for name, rtype, _ in scene.receptacles if can_contain(rtype, obj_type) and rtype != goal.target
            ]
        low = 2 if (obj_type == goal.obj and goal.count == 2) else 1
        count = int(rng.integers(low, 4))
        for number in range(1, count + 1):
            place[f"{obj_type} {number}"] = str(_pick(rng, spots))
    for lamp, lamp_spots in sorted(scene.lamps.items()):
        place[f"{lamp} 1"] = str(_pick(rng, lamp_spots))
    is_open = {name: False for name, rtype, _ in scene.receptacles if rtype in OPENABLE}
    return World(scene=scene, goal=goal, agents=tuple(agents), place=place, is_open=is_open)
