"""Scene catalogue and data splits.

A *scene* is a house layout (which rooms, how many receptacles of each type, numbered) plus the object
types that live in it — the analogue of an ALFRED/THOR floor plan. The catalogue of ``NUM_SCENES``
scenes is built once from a fixed seed, so scene ``k`` is the same house on every machine; each episode
then draws a scene from its split, a goal, and the object placements from the episode's RNG.

Splits (mirroring ALFWorld's train / valid_seen / valid_unseen):

* ``train`` — the seen scenes, with every goal except the ones reserved for ``valid_seen``;
* ``valid_seen`` — the same seen scenes, but only goals (scene, task type, object, target) that
  ``train`` never produces: known houses, new tasks in them;
* ``valid_unseen`` — held-out scenes. Every scene has a distinct layout signature (rooms and
  receptacle counts per room), so no unseen house layout ever appears in training; the room, receptacle
  and object *types* are shared with training, only their combination is new.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import cache

import numpy as np

from arena.envs.household.catalog import APPLIANCE, OBJECTS, ROOM_LAMP, ROOMS, can_contain
from arena.envs.household.tasks import REQUIRED_STATE, STATE_VERB, TASK_TYPES, Goal

SPLITS = ("train", "valid_seen", "valid_unseen")
NUM_SCENES = 120
#: Every ``UNSEEN_EVERY``-th scene is held out for ``valid_unseen`` (20 of 120).
UNSEEN_EVERY = 6
#: Roughly one goal in ``SEEN_VALID_EVERY`` of each seen scene is reserved for ``valid_seen``.
SEEN_VALID_EVERY = 6
_CATALOG_SEED = 20_250_607
_ROOM_SETS = (
    ("kitchen", "bedroom"),
    ("kitchen", "livingroom"),
    ("kitchen", "bedroom", "livingroom"),
    ("kitchen", "bedroom", "bathroom"),
    ("kitchen", "livingroom", "bathroom"),
)


@dataclass(frozen=True)
class Scene:
    """A house layout: its receptacles (name, type, room), lamp spots and resident object types."""

    index: int
    rooms: tuple[str, ...]
    receptacles: tuple[tuple[str, str, str], ...]  # (name, type, room), in numbering order
    object_types: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _, _ in self.receptacles)

    @property
    def types(self) -> frozenset[str]:
        return frozenset(rtype for _, rtype, _ in self.receptacles)

    @property
    def layout(self) -> tuple:
        """The layout signature: rooms and receptacle counts per (room, type). Unique per scene."""
        counts: dict[tuple[str, str], int] = {}
        for _, rtype, room in self.receptacles:
            counts[(room, rtype)] = counts.get((room, rtype), 0) + 1
        return (self.rooms, tuple(sorted(counts.items())))

    @property
    def lamps(self) -> dict[str, tuple[str, ...]]:
        """Lamp type -> the receptacle names it may stand on."""
        spots: dict[str, tuple[str, ...]] = {}
        for room in self.rooms:
            if room in ROOM_LAMP:
                lamp, places = ROOM_LAMP[room]
                spots[lamp] = tuple(n for n, t, r in self.receptacles if r == room and t in places)
        return spots

    @property
    def split(self) -> str:
        """``valid_unseen`` for held-out scenes, else ``train`` (whose goals are shared with ``valid_seen``)."""
        return "valid_unseen" if self.index % UNSEEN_EVERY == UNSEEN_EVERY - 1 else "train"


def _build_scene(index: int, rng: np.random.Generator) -> Scene:
    rooms = _ROOM_SETS[int(rng.integers(len(_ROOM_SETS)))]
    counters: dict[str, int] = {}
    receptacles: list[tuple[str, str, str]] = []
    for room in rooms:
        for rtype, low, high in ROOMS[room]:
            for _ in range(int(rng.integers(low, high + 1))):
                counters[rtype] = counters.get(rtype, 0) + 1
                receptacles.append((f"{rtype} {counters[rtype]}", rtype, room))
    present = {rtype for _, rtype, _ in receptacles}
    candidates = sorted(o for o, kind in OBJECTS.items() if any(p in present for p in kind.places))
    keep = rng.random(len(candidates)) < 0.55
    object_types = tuple(o for o, k in zip(candidates, keep, strict=True) if k)
    return Scene(index, rooms, tuple(receptacles), object_types)


def _lamp_spots_ok(scene: Scene) -> bool:
    return all(spots for spots in scene.lamps.values())


def goal_options(scene: Scene, task_type: str) -> tuple[Goal, ...]:
    """Every goal of ``task_type`` that is achievable and not already true in ``scene``.

    A place task needs the object to have a starting place of another type than the target (the goal
    must not hold at the start), the target must accept the object, and the target is never the
    appliance that the task's own command uses (no "put a hot apple in microwave").
    """
    present = scene.types
    goals: list[Goal] = []
    if task_type == "look_at_obj_in_light":
        for lamp, spots in sorted(scene.lamps.items()):
            if spots:
                goals.extend(Goal(task_type, o, lamp) for o in scene.object_types if OBJECTS[o].look)
        return tuple(goals)
    state = REQUIRED_STATE.get(task_type)
    for obj in scene.object_types:
        kind = OBJECTS[obj]
        if state is not None:
            verb = STATE_VERB[state]
            if not getattr(kind, verb) or APPLIANCE[verb] not in present:
                continue
        places = [p for p in kind.places if p in present]
        for target in places:
            if state is not None and target == APPLIANCE[STATE_VERB[state]]:
                continue
            if len([p for p in places if p != target]) >= 1 and can_contain(target, obj):
                goals.append(Goal(task_type, obj, target))
    return tuple(goals)


def _reserved_for_seen_validation(scene: Scene, goal: Goal) -> bool:
    key = f"{scene.index}|{goal.task_type}|{goal.obj}|{goal.target}".encode()
    return zlib.crc32(key) % SEEN_VALID_EVERY == 0


@cache
def scenes() -> tuple[Scene, ...]:
    """The fixed scene catalogue (built once, deterministic). Layouts are pairwise distinct and every
    scene supports all six task types in its split."""
    rng = np.random.default_rng(_CATALOG_SEED)
    built: list[Scene] = []
    layouts: set[tuple] = set()
    while len(built) < NUM_SCENES:
        scene = _build_scene(len(built), rng)
        if scene.layout in layouts or not _lamp_spots_ok(scene):
            continue
        if not all(goal_options(scene, t) for t in TASK_TYPES):
            continue
        layouts.add(scene.layout)
        built.append(scene)
    return tuple(built)


@cache
def split_table(split: str) -> dict[str, tuple[tuple[int, tuple[Goal, ...]], ...]]:
    """For ``split``: task type -> ((scene index, goals of that type the split may draw), ...)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}")
    table: dict[str, list[tuple[int, tuple[Goal, ...]]]] = {t: [] for t in TASK_TYPES}
    for scene in scenes():
        if (scene.split == "valid_unseen") != (split == "valid_unseen"):
            continue
        for task_type in TASK_TYPES:
            goals = goal_options(scene, task_type)
            if split == "train":
                goals = tuple(g for g in goals if not _reserved_for_seen_validation(scene, g))
            elif split == "valid_seen":
                goals = tuple(g for g in goals if _reserved_for_seen_validation(scene, g))
            if goals:
                table[task_type].append((scene.index, goals))
    return {t: tuple(rows) for t, rows in table.items()}


def is_reserved_for_seen_validation(scene_index: int, goal: Goal) -> bool:
    """True when ``goal`` in seen scene ``scene_index`` belongs to ``valid_seen`` (never to ``train``)."""
    return _reserved_for_seen_validation(scenes()[scene_index], goal)
