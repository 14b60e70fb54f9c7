"""The household simulator: world state, admissible commands, command effects and the goal test.

The dynamics follow ALFWorld's PDDL domain (``alfred.pddl``) as summarised in
``shared/reference/gigpo_alfworld.md`` §5.4: teleport navigation (``go to`` any receptacle), a single
held object per agent, openable receptacles gate what can be seen, taken and put, ``clean``/``heat``/
``cool`` only at a sinkbasin/microwave/fridge while holding the object, heating removes "cool" and
cooling removes "hot", lamps are switched with ``use`` where they stand, and there is no failure state.
The feedback text mirrors ALFWorld's grammar (``alfred.twl2``), because GiGPO-style text anchors hash it.

A :class:`World` knows nothing about turns or agents' views; the env wraps it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from arena.envs.household.catalog import APPLIANCE, LAMPS, OBJECTS, OPENABLE, can_contain, kind_of, name_key
from arena.envs.household.scenes import Scene
from arena.envs.household.tasks import Goal

NOTHING = "Nothing happens."
_STATE_WORD = {"clean": "clean", "heat": "hot", "cool": "cool"}


def list_text(names: list[str]) -> str:
    """ALFWorld's list style: ``a apple 1``, ``a apple 1, and a mug 2``, ``a x 1, a y 2, and a z 3``."""
    if not names:
        return "nothing"
    items = [f"a {n}" for n in names]
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + ", and " + items[-1]


@dataclass
class World:
    """The true state of one household episode (mutable; the env applies commands to it)."""

    scene: Scene
    goal: Goal
    agents: tuple[str, ...]
    #: object name -> receptacle name, or the name of the agent holding it
    place: dict[str, str]
    is_open: dict[str, bool]
    #: object name -> set of states among "clean", "hot", "cool", "on" (lamps)
    states: dict[str, set[str]] = field(default_factory=dict)
    location: dict[str, str | None] = field(default_factory=dict)
    holding: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rtype = {name: rtype for name, rtype, _ in self.scene.receptacles}
        for obj in self.place:
            self.states.setdefault(obj, set())
        for agent in self.agents:
            self.location.setdefault(agent, None)
            self.holding.setdefault(agent, None)

    # -- queries -------------------------------------------------------------------------------------
    def openable(self, receptacle: str) -> bool:
        return self.rtype[receptacle] in OPENABLE

    def accessible(self, receptacle: str) -> bool:
        """Its contents can be seen, taken and added to (open, or not openable)."""
        return not self.openable(receptacle) or self.is_open[receptacle]

    def contents(self, receptacle: str) -> list[str]:
        """Objects in/on ``receptacle``, in natural order."""
        return sorted((o for o, p in self.place.items() if p == receptacle), key=name_key)

    def describe(self, receptacle: str) -> str:
        """ALFWorld's examine-receptacle clause."""
        if self.openable(receptacle):
            if not self.is_open[receptacle]:
                return f"The {receptacle} is closed."
            return f"The {receptacle} is open. In it, you see {list_text(self.contents(receptacle))}."
        return f"On the {receptacle}, you see {list_text(self.contents(receptacle))}."

    def room_text(self) -> str:
        """The middle-of-room description listing every receptacle (the intro and ``look`` text)."""
        names = list(self.scene.names)
        return f"You are in the middle of a room. Looking quickly around you, you see {list_text(names)}."

    def admissible(self, agent: str) -> list[str]:
        """Every command whose preconditions hold for ``agent`` now, sorted and de-duplicated."""
        here = self.location[agent]
        held = self.holding[agent]
        commands = {"inventory", "look"}
        commands.update(f"go to {r}" for r in self.scene.names if r != here)
        if held is not None:
            commands.add(f"examine {held}")
        if here is not None:
            commands.add(f"examine {here}")
            rtype = self.rtype[here]
            if self.openable(here):
                commands.add(f"close {here}" if self.is_open[here] else f"open {here}")
            if self.accessible(here):
                for obj in self.contents(here):
                    commands.add(f"examine {obj}")
                    if kind_of(obj) in LAMPS:
                        commands.add(f"use {obj}")
                    elif held is None:
                        commands.add(f"take {obj} from {here}")
                if held is not None and can_contain(rtype, kind_of(held)):
                    commands.add(f"move {held} to {here}")
            if held is not None:
                kind = OBJECTS[kind_of(held)]
                for verb, appliance in APPLIANCE.items():
                    if rtype == appliance and getattr(kind, verb):
                        commands.add(f"{verb} {held} with {here}")
        return sorted(commands)

    # -- effects -------------------------------------------------------------------------------------
    def apply(self, agent: str, command: str) -> str:
        """Carry out an admissible ``command`` for ``agent``; returns the feedback text."""
        here = self.location[agent]
        held = self.holding[agent]
        if command == "inventory":
            return f"You are carrying: {list_text([held])}." if held else "You are not carrying anything."
        if command == "look":
            if here is None:
                return self.room_text()
            return f"You are facing the {here}. Next to it, you see nothing."
        verb, _, rest = command.partition(" ")
        if verb == "go":
            target = rest.removeprefix("to ")
            self.location[agent] = target
            return f"You arrive at {target}. {self.describe(target)}"
        if verb == "open":
            self.is_open[rest] = True
            return f"You open the {rest}. {self.describe(rest)}"
        if verb == "close":
            self.is_open[rest] = False
            return f"You close the {rest}."
        if verb == "examine":
            if rest in self.rtype:
                return self.describe(rest)
            words = [_STATE_WORD[s] for s in ("clean", "heat", "cool") if _STATE_WORD[s] in self.states[rest]]
            if kind_of(rest) in LAMPS:
                return f"This is a {rest}. It is {'on' if 'on' in self.states[rest] else 'off'}."
            return f"This is a {' and '.join(words)} {rest}." if words else f"There's nothing special about {rest}."
        if verb == "take":
            obj, _, source = rest.partition(" from ")
            self.place[obj] = agent
            self.holding[agent] = obj
            return f"You pick up the {obj} from the {source}."
        if verb == "move":
            obj, _, target = rest.partition(" to ")
            self.place[obj] = target
            self.holding[agent] = None
            return f"You move the {obj} to the {target}."
        if verb == "use":
            states = self.states[rest]
            if "on" in states:
                states.discard("on")
                return f"You turn off the {rest}."
            states.add("on")
            return f"You turn on the {rest}."
        obj, _, appliance = rest.partition(" with ")
        states = self.states[obj]
        if verb == "heat":
            states.discard("cool")
            states.add("hot")
        elif verb == "cool":
            states.discard("hot")
            states.add("cool")
        else:
            states.add("clean")
        return f"You {verb} the {obj} using the {appliance}."

    # -- goal ----------------------------------------------------------------------------------------
    def won(self) -> bool:
        """True when the goal's facts hold (any instance of the named types satisfies it, as in ALFWorld)."""
        goal = self.goal
        if goal.is_look:
            for agent in self.agents:
                held, here = self.holding[agent], self.location[agent]
                if held is None or here is None or kind_of(held) != goal.obj:
                    continue
                if any(kind_of(o) == goal.target and "on" in self.states[o] for o in self.contents(here)):
                    return True
            return False
        counts: dict[str, int] = {}
        for obj, where in self.place.items():
            if kind_of(obj) != goal.obj or self.rtype.get(where) != goal.target:
                continue
            if goal.state is not None and goal.state not in self.states[obj]:
                continue
            counts[where] = counts.get(where, 0) + 1
        return any(n >= goal.count for n in counts.values())
