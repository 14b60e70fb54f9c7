"""An expert for ``household-v0`` that plans from what a player may legitimately know.

It reads only its own observation text (the intro's receptacle list, the goal sentence, the feedback
of its own commands) and ``info["legal_actions"]``, plus the game's public rules table
(:mod:`arena.envs.household.catalog`: which receptacle types can hold which objects, which appliance
cleans/heats/cools). It keeps a map of what it has seen and, each turn:

1. *Look* tasks: get an object of the goal type, then find the lamp and ``use`` it while holding it.
2. Place tasks: get an object of the goal type (not one already placed), bring it to the sinkbasin,
   microwave or fridge first when the goal asks for clean/hot/cool, then ``move`` it to a receptacle of
   the target type (the same one twice for Pick2).

Getting an object means going to a receptacle where one was seen, or else exploring the receptacles
whose type may hold it (cheap, non-openable ones first; ``open`` where closed). No world-model access
is needed, so it is *not* an oracle. In two-agent mode ``player_1`` explores in reverse order, so
the two experts split the search; both re-sync with ``legal_actions`` when a teammate moved things.
"""

from __future__ import annotations

import itertools
import re

import numpy as np

from arena.agents.base import BaseAgent, Info, Observation
from arena.envs.household.catalog import APPLIANCE, OPENABLE, ROOM_LAMP, can_contain, kind_of
from arena.envs.household.tasks import Goal, parse_goal

_NAME = r"([a-z]+ \d+)"
_ROOM = re.compile(r"Looking quickly around you, you see (.*)\.$", re.MULTILINE)
_ITEM = re.compile(r"\ba " + _NAME)
_CLOSED = re.compile(r"The " + _NAME + r" is closed\.")
_OPEN = re.compile(r"The " + _NAME + r" is open\. In it, you see (.*?)\.(?: |$)")
_ON = re.compile(r"On the " + _NAME + r", you see (.*?)\.(?: |$)")
_ARRIVE = re.compile(r"^You arrive at " + _NAME + r"\.")
_CLOSE = re.compile(r"^You close the " + _NAME + r"\.")
_TAKE = re.compile(r"^You pick up the " + _NAME + r" from the " + _NAME + r"\.")
_MOVE = re.compile(r"^You move the " + _NAME + r" to the " + _NAME + r"\.")
_CHANGE = re.compile(r"^You (clean|heat|cool) the " + _NAME + r" using the " + _NAME + r"\.")
_TURN = re.compile(r"^You turn (on|off) the " + _NAME + r"\.")
_CARRY = re.compile(r"^You are carrying: a " + _NAME + r"\.")
_STATE_OF = {"clean": "clean", "heat": "hot", "cool": "cool"}
_VERB_FOR = {"clean": "clean", "hot": "heat", "cool": "cool"}


class Knowledge:
    """What the player has seen: its location, held object, receptacle contents and object states."""

    def __init__(self, text: str) -> None:
        room = _ROOM.search(text)
        self.receptacles: list[str] = _ITEM.findall(room.group(1)) if room else []
        self.location: str | None = None
        self.holding: str | None = None
        self.contents: dict[str, set[str]] = {}
        self.closed: set[str] = {r for r in self.receptacles if kind_of(r) in OPENABLE}
        self.states: dict[str, set[str]] = {}
        self.lamps_on: set[str] = set()
        self._read_feedback(text)

    def _read_feedback(self, text: str) -> None:
        lines = text.split("\n")
        for previous, line in itertools.pairwise(lines):
            if previous.startswith("[game] > ") and not line.startswith("["):
                self._read(line)

    def _read(self, line: str) -> None:
        if match := _ARRIVE.match(line):
            self.location = match.group(1)
        elif match := _CLOSE.match(line):
            self.closed.add(match.group(1))
        elif match := _TAKE.match(line):
            self.contents.get(match.group(2), set()).discard(match.group(1))
            self.holding = match.group(1)
        elif match := _MOVE.match(line):
            self.contents.setdefault(match.group(2), set()).add(match.group(1))
            self.holding = None
        elif match := _CHANGE.match(line):
            states = self.states.setdefault(match.group(2), set())
            states.discard({"heat": "cool", "cool": "hot"}.get(match.group(1), ""))
            states.add(_STATE_OF[match.group(1)])
        elif match := _TURN.match(line):
            (self.lamps_on.add if match.group(1) == "on" else self.lamps_on.discard)(match.group(2))
        elif match := _CARRY.match(line):
            self.holding = match.group(1)
        elif line.startswith("You are not carrying anything."):
            self.holding = None
        for match in _CLOSED.finditer(line):
            self.closed.add(match.group(1))
        for match in _OPEN.finditer(line):
            self.closed.discard(match.group(1))
            self.contents[match.group(1)] = set(_ITEM.findall(match.group(2)))
        for match in _ON.finditer(line):
            self.contents[match.group(1)] = set(_ITEM.findall(match.group(2)))

    def sync(self, legal: list[str]) -> None:
        """Correct the map at the current receptacle from the admissible commands (a teammate may have
        moved things since it was last seen)."""
        here = self.location
        if here is None:
            return
        if f"open {here}" in legal:
            self.closed.add(here)
            return
        self.closed.discard(here)
        prefix = "examine "
        seen = {c[len(prefix) :] for c in legal if c.startswith(prefix)} - {here, self.holding}
        self.contents[here] = seen

    def where(self, obj_type: str, exclude: set[str]) -> list[tuple[str, str]]:
        """Known (object, receptacle) pairs of ``obj_type``, skipping objects in ``exclude``."""
        found = []
        for receptacle in self.receptacles:
            for obj in sorted(self.contents.get(receptacle, ())):
                if kind_of(obj) == obj_type and obj not in exclude:
                    found.append((obj, receptacle))
        return found


class HouseholdExpert(BaseAgent):
    """Solves household tasks by exploring and planning over its own observations (not an oracle)."""

    name = "expert"

    def __init__(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)

    def act(self, observation: Observation, info: Info) -> str:
        text = observation["text"]
        legal = list(info.get("legal_actions") or [])
        goal = parse_goal(text)
        if goal is None or not legal:
            return legal[0] if legal else "look"
        know = Knowledge(text)
        know.sync(legal)
        reverse = "You are player_1." in text
        action = self._decide(goal, know, reverse)
        if action in legal:
            return action
        return legal[int(self.rng.integers(len(legal)))]

    # -- planning ----------------------------------------------------------------------------------
    def _decide(self, goal: Goal, know: Knowledge, reverse: bool) -> str:
        if goal.is_look:
            if know.holding is not None and kind_of(know.holding) == goal.obj:
                lamps = know.where(goal.target, set())
                if lamps:
                    lamp, spot = lamps[0]
                    return f"use {lamp}" if know.location == spot else f"go to {spot}"
                places = {t for lamp, (types) in ROOM_LAMP.values() if lamp == goal.target for t in types}
                return self._explore(know, lambda rtype: rtype in places, reverse)
            return self._acquire(goal.obj, set(), know, reverse)
        placed = self._placed(goal, know)
        target = self._target(goal, know, placed)
        if know.holding is not None and kind_of(know.holding) == goal.obj:
            held = know.holding
            if goal.state is not None and goal.state not in know.states.get(held, set()):
                verb = _VERB_FOR[goal.state]
                appliance = next(r for r in know.receptacles if kind_of(r) == APPLIANCE[verb])
                return f"{verb} {held} with {appliance}" if know.location == appliance else f"go to {appliance}"
            if know.location != target:
                return f"go to {target}"
            return f"open {target}" if target in know.closed else f"move {held} to {target}"
        if know.holding is not None:  # holding something useless: put it back where we are
            return f"move {know.holding} to {know.location}"
        return self._acquire(goal.obj, placed, know, reverse)

    def _placed(self, goal: Goal, know: Knowledge) -> set[str]:
        """Goal-type objects already in a target-type receptacle with the required state."""
        done = set()
        for receptacle in know.receptacles:
            if kind_of(receptacle) != goal.target:
                continue
            for obj in know.contents.get(receptacle, ()):
                if kind_of(obj) == goal.obj and (goal.state is None or goal.state in know.states.get(obj, set())):
                    done.add(obj)
        return done

    def _target(self, goal: Goal, know: Knowledge, placed: set[str]) -> str:
        """The receptacle to put the object in: the one already holding a placed object (Pick2), else
        the first of the target type, preferring ones that need no opening."""
        for receptacle in know.receptacles:
            if kind_of(receptacle) == goal.target and know.contents.get(receptacle, set()) & placed:
                return receptacle
        options = [r for r in know.receptacles if kind_of(r) == goal.target]
        return sorted(options, key=lambda r: kind_of(r) in OPENABLE)[0]

    def _acquire(self, obj_type: str, exclude: set[str], know: Knowledge, reverse: bool) -> str:
        known = know.where(obj_type, exclude)
        if known:
            obj, spot = known[-1] if reverse else known[0]
            if know.location != spot:
                return f"go to {spot}"
            return f"open {spot}" if spot in know.closed else f"take {obj} from {spot}"
        return self._explore(know, lambda rtype: can_contain(rtype, obj_type), reverse)

    def _explore(self, know: Knowledge, wanted, reverse: bool) -> str:
        """Visit (and open) the next receptacle of a wanted type whose contents are unknown."""
        here = know.location
        if here is not None and here not in know.contents and wanted(kind_of(here)) and here in know.closed:
            return f"open {here}"
        unseen = [r for r in know.receptacles if r not in know.contents and wanted(kind_of(r))]
        if reverse:
            unseen.reverse()
        unseen.sort(key=lambda r: kind_of(r) in OPENABLE)
        if unseen:
            return f"go to {unseen[0]}"
        return "look"
