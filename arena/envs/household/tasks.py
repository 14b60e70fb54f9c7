"""The six ALFWorld task types, their goal templates, and goal parsing.

| type (ALFWorld name) | short | goal (state-based) | templates |
|---|---|---|---|
| ``pick_and_place_simple`` | Pick | an ``O`` is in/on some ``R`` | "put a O in R." / "put some O on R." |
| ``look_at_obj_in_light`` | Look | an agent holds an ``O`` at the spot of a lamp ``L`` that is on | "look at O under the L." / "examine the O with the L." |
| ``pick_clean_then_place_in_recep`` | Clean | a clean ``O`` is in/on some ``R`` | "put a clean O in R." / "clean some O and put it in R." |
| ``pick_heat_then_place_in_recep`` | Heat | a hot ``O`` is in/on some ``R`` | "put a hot O in R." / "heat some O and put it in R." |
| ``pick_cool_then_place_in_recep`` | Cool | a cool ``O`` is in/on some ``R`` | "put a cool O in R." / "cool some O and put it in R." |
| ``pick_two_obj_and_place`` | Pick2 | two different ``O`` are in/on the same ``R`` | "put two O in R." / "find two O and put them in R." |

``O``, ``R`` and ``L`` are types (``apple``, ``countertop``, ``desklamp``): any instance satisfies the goal,
as in ALFWorld's PDDL goals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TASK_TYPES = (
    "pick_and_place_simple",
    "look_at_obj_in_light",
    "pick_clean_then_place_in_recep",
    "pick_heat_then_place_in_recep",
    "pick_cool_then_place_in_recep",
    "pick_two_obj_and_place",
)
SHORT_NAMES = dict(zip(TASK_TYPES, ("Pick", "Look", "Clean", "Heat", "Cool", "Pick2"), strict=True))

#: The state an object must be in for each state-changing task type.
REQUIRED_STATE = {
    "pick_clean_then_place_in_recep": "clean",
    "pick_heat_then_place_in_recep": "hot",
    "pick_cool_then_place_in_recep": "cool",
}
#: The command verb that produces each state.
STATE_VERB = {"clean": "clean", "hot": "heat", "cool": "cool"}

TEMPLATES: dict[str, tuple[str, str]] = {
    "pick_and_place_simple": ("put a {o} in {r}.", "put some {o} on {r}."),
    "look_at_obj_in_light": ("look at {o} under the {l}.", "examine the {o} with the {l}."),
    "pick_clean_then_place_in_recep": ("put a clean {o} in {r}.", "clean some {o} and put it in {r}."),
    "pick_heat_then_place_in_recep": ("put a hot {o} in {r}.", "heat some {o} and put it in {r}."),
    "pick_cool_then_place_in_recep": ("put a cool {o} in {r}.", "cool some {o} and put it in {r}."),
    "pick_two_obj_and_place": ("put two {o} in {r}.", "find two {o} and put them in {r}."),
}


@dataclass(frozen=True)
class Goal:
    """One task: its type, the object type, the target receptacle type (or the lamp type for Look)."""

    task_type: str
    obj: str
    target: str  # receptacle type, or lamp type for look_at_obj_in_light

    @property
    def state(self) -> str | None:
        """The state the object must have (``clean``, ``hot``, ``cool``) or None."""
        return REQUIRED_STATE.get(self.task_type)

    @property
    def is_look(self) -> bool:
        return self.task_type == "look_at_obj_in_light"

    @property
    def count(self) -> int:
        """How many objects must end up in the same receptacle."""
        return 2 if self.task_type == "pick_two_obj_and_place" else 1

    def text(self, template: int = 0) -> str:
        """The goal sentence (``template`` 0 or 1 picks one of the two ALFWorld phrasings)."""
        return TEMPLATES[self.task_type][template].format(o=self.obj, r=self.target, l=self.target)


def _pattern(template: str) -> re.Pattern[str]:
    escaped = re.escape(template).replace(r"\{o\}", r"(?P<o>[a-z]+)")
    escaped = escaped.replace(r"\{r\}", r"(?P<r>[a-z]+)").replace(r"\{l\}", r"(?P<r>[a-z]+)")
    return re.compile(escaped)


_PATTERNS = [(task_type, _pattern(t)) for task_type, pair in TEMPLATES.items() for t in pair]


def parse_goal(text: str) -> Goal | None:
    """The goal named by a task sentence such as ``"put a hot apple in countertop."`` (the part after
    "Your task is to: " is enough; the whole observation works too), or None."""
    match = re.search(r"Your task is to: (.*?\.)(?:\n|$)", text)
    sentence = match.group(1) if match else text.strip()
    for task_type, pattern in _PATTERNS:
        found = pattern.fullmatch(sentence)
        if found:
            return Goal(task_type, found.group("o"), found.group("r"))
    return None
