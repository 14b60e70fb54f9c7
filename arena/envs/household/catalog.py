"""The household's vocabulary: receptacle types, room modules and object types with their properties.

These tables are the game's public rules (an ALFWorld ``canContain`` table in miniature): which
receptacle types exist in which room, which can be opened, where each object type may lie, and which
objects can be cleaned, heated, cooled or examined under a lamp. World generation, the simulator and
the expert planner all read them; nothing here is random.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Receptacles that must be opened before their contents can be seen, taken or added to.
OPENABLE = frozenset({"cabinet", "drawer", "fridge", "microwave", "safe"})

#: The appliance each state-changing command needs (``clean X with sinkbasin 1`` …).
APPLIANCE = {"clean": "sinkbasin", "heat": "microwave", "cool": "fridge"}

#: Room modules: receptacle type and how many of it (min, max). A house is a kitchen plus one or two
#: of bedroom and living room, and sometimes a bathroom; receptacles are numbered per type across it.
ROOMS: dict[str, tuple[tuple[str, int, int], ...]] = {
    "kitchen": (
        ("countertop", 1, 2),
        ("cabinet", 2, 4),
        ("drawer", 1, 3),
        ("fridge", 1, 1),
        ("microwave", 1, 1),
        ("sinkbasin", 1, 1),
        ("stoveburner", 1, 2),
        ("diningtable", 0, 1),
        ("coffeemachine", 0, 1),
        ("garbagecan", 0, 1),
        ("toaster", 0, 1),
    ),
    "bedroom": (
        ("bed", 1, 1),
        ("desk", 0, 1),
        ("sidetable", 0, 1),
        ("dresser", 0, 1),
        ("drawer", 0, 2),
        ("shelf", 1, 2),
        ("safe", 0, 1),
    ),
    "livingroom": (
        ("sofa", 1, 1),
        ("armchair", 0, 1),
        ("coffeetable", 1, 1),
        ("sidetable", 0, 1),
        ("shelf", 0, 2),
        ("cabinet", 0, 1),
        ("tvstand", 0, 1),
    ),
    "bathroom": (
        ("sinkbasin", 1, 1),
        ("countertop", 0, 1),
        ("cabinet", 1, 2),
        ("toilet", 1, 1),
        ("bathtubbasin", 0, 1),
        ("towelholder", 0, 1),
        ("garbagecan", 0, 1),
    ),
}

#: The lamp each room brings, and the receptacle types it may stand on (in that room).
ROOM_LAMP: dict[str, tuple[str, tuple[str, ...]]] = {
    "bedroom": ("desklamp", ("desk", "sidetable", "dresser")),
    "livingroom": ("floorlamp", ("sidetable", "armchair", "sofa")),
}
LAMPS = frozenset(lamp for lamp, _ in ROOM_LAMP.values())


@dataclass(frozen=True)
class ObjectKind:
    """An object type: where it may lie and what can be done to it."""

    places: tuple[str, ...]
    clean: bool = False
    heat: bool = False
    cool: bool = False
    look: bool = False  # a candidate for "examine in light" tasks


_FOOD = ("countertop", "diningtable", "fridge", "garbagecan", "sinkbasin", "microwave")
_DISH = ("countertop", "cabinet", "diningtable", "sinkbasin", "fridge", "microwave")
_UTENSIL = ("countertop", "diningtable", "drawer", "sinkbasin")
_COOKWARE = ("countertop", "cabinet", "stoveburner", "sinkbasin")
_DESK = ("desk", "drawer", "shelf", "sidetable", "dresser")
_LOUNGE = ("sofa", "armchair", "coffeetable", "sidetable")
_BATH = ("countertop", "cabinet", "toilet", "garbagecan")

OBJECTS: dict[str, ObjectKind] = {
    # kitchen food
    "apple": ObjectKind(_FOOD, clean=True, heat=True, cool=True),
    "egg": ObjectKind(_FOOD, clean=True, heat=True, cool=True),
    "potato": ObjectKind(_FOOD, clean=True, heat=True, cool=True),
    "tomato": ObjectKind(_FOOD[:5], clean=True, heat=True, cool=True),
    "bread": ObjectKind(("countertop", "diningtable", "fridge", "microwave"), heat=True, cool=True),
    "lettuce": ObjectKind(("countertop", "diningtable", "fridge", "sinkbasin"), clean=True, cool=True),
    # dishes
    "mug": ObjectKind((*_DISH, "coffeemachine", "shelf", "desk"), clean=True, heat=True, cool=True, look=True),
    "cup": ObjectKind(_DISH, clean=True, heat=True, cool=True),
    "plate": ObjectKind(_DISH, clean=True, heat=True, cool=True),
    "bowl": ObjectKind((*_DISH, "shelf", "desk"), clean=True, heat=True, cool=True, look=True),
    "pan": ObjectKind((*_COOKWARE, "fridge"), clean=True, cool=True),
    "pot": ObjectKind((*_COOKWARE, "fridge"), clean=True, cool=True),
    "kettle": ObjectKind(_COOKWARE, clean=True),
    # utensils
    "knife": ObjectKind(_UTENSIL, clean=True),
    "butterknife": ObjectKind(_UTENSIL, clean=True),
    "spoon": ObjectKind(_UTENSIL, clean=True),
    "fork": ObjectKind(_UTENSIL, clean=True),
    "spatula": ObjectKind(_UTENSIL, clean=True),
    "ladle": ObjectKind(_UTENSIL, clean=True),
    # bedroom and living room
    "book": ObjectKind(("bed", "desk", "shelf", "sidetable", "sofa", "coffeetable", "dresser"), look=True),
    "cd": ObjectKind((*_DESK, "safe"), look=True),
    "pen": ObjectKind(_DESK, look=True),
    "pencil": ObjectKind(_DESK, look=True),
    "keychain": ObjectKind((*_DESK, "safe", "coffeetable"), look=True),
    "creditcard": ObjectKind((*_DESK, "countertop", "sofa"), look=True),
    "cellphone": ObjectKind(("bed", "desk", "drawer", "sidetable", "dresser", "sofa"), look=True),
    "alarmclock": ObjectKind(("desk", "shelf", "sidetable", "dresser"), look=True),
    "pillow": ObjectKind(("bed", "sofa", "armchair"), look=True),
    "laptop": ObjectKind(("bed", "desk", "sofa", "coffeetable"), look=True),
    "remotecontrol": ObjectKind((*_LOUNGE, "tvstand", "dresser"), look=True),
    "watch": ObjectKind(("desk", "drawer", "sidetable", "dresser", "coffeetable", "safe"), look=True),
    "statue": ObjectKind(("shelf", "coffeetable", "sidetable", "dresser", "desk", "tvstand"), look=True),
    "vase": ObjectKind(("shelf", "coffeetable", "sidetable", "dresser", "diningtable", "tvstand"), look=True),
    "newspaper": ObjectKind((*_LOUNGE, "diningtable"), look=True),
    # bathroom
    "cloth": ObjectKind(("countertop", "cabinet", "bathtubbasin", "sinkbasin", "towelholder"), clean=True),
    "soapbar": ObjectKind(("countertop", "cabinet", "bathtubbasin", "sinkbasin", "toilet"), clean=True),
    "toiletpaper": ObjectKind(_BATH),
    "spraybottle": ObjectKind(_BATH),
    "soapbottle": ObjectKind((*_BATH, "sinkbasin")),
    "candle": ObjectKind(("countertop", "cabinet", "toilet", "shelf")),
}

#: Receptacle type -> object types it may hold (the inverse of ``ObjectKind.places``).
CAN_CONTAIN: dict[str, frozenset[str]] = {}
for _name, _kind in OBJECTS.items():
    for _place in _kind.places:
        CAN_CONTAIN.setdefault(_place, frozenset())
        CAN_CONTAIN[_place] = CAN_CONTAIN[_place] | {_name}
for _room in ROOMS.values():
    for _rtype, _, _ in _room:
        CAN_CONTAIN.setdefault(_rtype, frozenset())


def can_contain(receptacle_type: str, object_type: str) -> bool:
    """True when an object of ``object_type`` may be put in or on a ``receptacle_type``."""
    return object_type in CAN_CONTAIN.get(receptacle_type, frozenset())


def kind_of(name: str) -> str:
    """The type of a numbered entity: ``"apple 3"`` -> ``"apple"``."""
    return name.rsplit(" ", 1)[0]


def name_key(name: str) -> tuple[str, int]:
    """Natural sort key for numbered names (``cabinet 2`` before ``cabinet 10``)."""
    base, _, number = name.rpartition(" ")
    return (base, int(number)) if number.isdigit() else (name, 0)
