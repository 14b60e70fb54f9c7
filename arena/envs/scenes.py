"""Procedural images for ``visual-spy-v0``: CLEVR-like object scenes and titled bar/line charts.

Everything is drawn from the episode's RNG with Pillow; nothing is downloaded.

* **Scenes** (after CLEVR, as used by Vision-Zero): 3–6 flat objects on a grey floor, each with a
  shape (square, circle, triangle), one of 8 colours, a size (small, large) and a position (a
  jittered cell of a 3×3 grid), with a soft shadow. Objects never overlap. :func:`edit_scene` edits
  ``k`` distinct objects and never adds, removes or moves one (the object count stays the same):

  ========== ==========================================================================================
  difficulty  edit of each chosen object
  ========== ==========================================================================================
  easy        a new shape *and* a new colour (Vision-Zero's CLEVR edit)
  medium      one attribute: a new colour, a new shape or the other size
  hard        a subtle change: a neighbouring hue (red → orange, blue → cyan, ...) or the other size;
              two chosen objects whose hues are neighbours (or whose sizes differ) swap them instead
  ========== ==========================================================================================

* **Charts** (after Vision-Zero's ChartQA edits, "two attributes in the chart have been swapped"): a bar
  or line chart of 4–6 labelled values from 1 to 9 on a 0–10 axis, with a title, axis labels, category
  labels and the value written over each bar or point. :func:`edit_chart` swaps two attributes and the
  chart is drawn again, so every text matches the swapped data: easy swaps two values at least 3 apart,
  medium any two different values, hard two values 1 apart or two category labels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from arena.core.episode import pick

#: Object colours (the CLEVR palette's eight hues). Pure, flat fills.
PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 160, 60),
    "blue": (40, 80, 220),
    "yellow": (235, 200, 40),
    "purple": (140, 60, 190),
    "cyan": (40, 200, 210),
    "orange": (245, 135, 30),
    "brown": (130, 80, 35),
}
#: Hues a hard edit (or a misreading eye) may confuse a colour with.
NEAR_HUES: dict[str, tuple[str, ...]] = {
    "red": ("orange", "brown"),
    "orange": ("red", "yellow", "brown"),
    "yellow": ("orange",),
    "green": ("cyan",),
    "cyan": ("green", "blue"),
    "blue": ("cyan", "purple"),
    "purple": ("blue",),
    "brown": ("orange", "red"),
}
SHAPES = ("square", "circle", "triangle")
SIZES = {"small": 0.07, "large": 0.11}  # radius as a share of the image side
DIFFICULTIES = ("easy", "medium", "hard")
FLOOR = (200, 200, 200)
SHADOW = (165, 165, 165)
CHART_BG = (255, 255, 255)
AXIS = (0, 0, 0)
TEXT = (70, 70, 70)
GRID_LINE = (225, 225, 225)
BAR = (60, 110, 200)
MARKER = (220, 60, 60)

#: Chart topics: (title, x-axis label, y-axis label, category labels in order).
TOPICS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("Rainfall by month", "Month", "Rain (cm)", ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug")),
    ("Visitors per day", "Day", "Visitors (x100)", ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")),
    ("Fruit sold", "Fruit", "Boxes", ("Apple", "Pear", "Plum", "Fig", "Kiwi", "Lime", "Date")),
    ("Goals per player", "Player", "Goals", ("Ana", "Ben", "Cai", "Dee", "Eli", "Fay", "Gus")),
    ("Books read", "Class", "Books (x10)", ("A", "B", "C", "D", "E", "F", "G")),
    ("Sales by region", "Region", "Sales ($k)", ("North", "South", "East", "West", "Centre", "Coast")),
)


@dataclass(frozen=True)
class Obj:
    """One object of a scene; ``x``, ``y`` are the centre as shares of the image side."""

    shape: str
    colour: str
    size: str
    x: float
    y: float


@dataclass(frozen=True)
class Scene:
    """A CLEVR-like scene: a tuple of non-overlapping objects."""

    objects: tuple[Obj, ...]


@dataclass(frozen=True)
class Chart:
    """A bar or line chart of small integer values, with its texts."""

    kind: str  # "bar" or "line"
    values: tuple[int, ...]
    labels: tuple[str, ...] = ()
    title: str = ""
    x_label: str = ""
    y_label: str = ""


def _check_difficulty(difficulty: str) -> None:
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {DIFFICULTIES}, got {difficulty!r}")


# -- scenes -------------------------------------------------------------------------------------------
GRID = 3  # objects sit in distinct cells of a 3x3 grid, jittered inside their cell, so they never overlap


def _jitter(size: str) -> float:
    return max(0.0, 0.5 / GRID - SIZES[size] - 0.03)


def _cell_centre(cell: int) -> tuple[float, float]:
    half = 0.5 / GRID
    return (cell % GRID) / GRID + half, (cell // GRID) / GRID + half


def cell_of(obj: Obj) -> int:
    """The grid cell (0–8, row-major) that holds ``obj``."""
    return min(int(obj.y * GRID), GRID - 1) * GRID + min(int(obj.x * GRID), GRID - 1)


def _place(rng: np.random.Generator, size: str, cell: int) -> tuple[float, float]:
    jitter = _jitter(size)
    cx, cy = _cell_centre(cell)
    return round(cx + float(rng.uniform(-jitter, jitter)), 3), round(cy + float(rng.uniform(-jitter, jitter)), 3)


def _resized(obj: Obj, size: str) -> Obj:
    """``obj`` with a new size, pulled towards its cell centre so that it still fits its cell."""
    cx, cy = _cell_centre(cell_of(obj))
    j = _jitter(size)
    return replace(
        obj, size=size, x=round(min(max(obj.x, cx - j), cx + j), 3), y=round(min(max(obj.y, cy - j), cy + j), 3)
    )


def random_scene(rng: np.random.Generator, min_objects: int = 3, max_objects: int = 6) -> Scene:
    """3–6 random objects in distinct grid cells."""
    count = int(rng.integers(min_objects, max_objects + 1))
    objects = []
    for cell in rng.choice(GRID * GRID, size=count, replace=False):
        size = pick(rng, list(SIZES))
        x, y = _place(rng, size, int(cell))
        objects.append(Obj(pick(rng, SHAPES), pick(rng, list(PALETTE)), size, x, y))
    return Scene(tuple(objects))


def _name(obj: Obj) -> str:
    return f"the {obj.size} {obj.colour} {obj.shape}"


def _other(values: tuple[str, ...] | list[str], current: str, rng: np.random.Generator) -> str:
    return pick(rng, [v for v in values if v != current])


def edit_scene(scene: Scene, k: int, rng: np.random.Generator, difficulty: str = "medium") -> tuple[Scene, list[str]]:
    """Edit ``k`` distinct objects as ``difficulty`` says (module docstring); the object count never
    changes. Returns the new scene and one description per edit."""
    _check_difficulty(difficulty)
    objects = list(scene.objects)
    chosen = [int(i) for i in rng.choice(len(objects), size=min(k, len(objects)), replace=False)]
    notes: list[str] = []
    if difficulty == "hard" and len(chosen) == 2:  # a swap, when it stays subtle
        i, j = chosen
        a, b = objects[i], objects[j]
        if a.colour in NEAR_HUES[b.colour] and a.shape == b.shape:
            objects[i], objects[j] = replace(a, colour=b.colour), replace(b, colour=a.colour)
            return Scene(tuple(objects)), [f"{_name(a)} and {_name(b)} swapped their colours"]
        if a.size != b.size and a.shape == b.shape and a.colour == b.colour:
            objects[i], objects[j] = _resized(a, b.size), _resized(b, a.size)
            return Scene(tuple(objects)), [f"{_name(a)} and {_name(b)} swapped their sizes"]
    for i in chosen:
        obj = objects[i]
        if difficulty == "easy":
            new = replace(obj, shape=_other(SHAPES, obj.shape, rng), colour=_other(list(PALETTE), obj.colour, rng))
            note = f"{_name(obj)} became a {new.colour} {new.shape}"
        elif difficulty == "hard":
            new, note = _changed(obj, "colour" if rng.random() < 0.5 else "size", rng, subtle=True)
        else:
            new, note = _changed(obj, pick(rng, ("colour", "shape", "size")), rng)
        objects[i] = new
        notes.append(note)
    return Scene(tuple(objects)), notes


def _changed(obj: Obj, field: str, rng: np.random.Generator, *, subtle: bool = False) -> tuple[Obj, str]:
    """``obj`` with one attribute changed (a colour only to a neighbouring hue when ``subtle``), and the edit."""
    if field == "colour":
        hues = NEAR_HUES[obj.colour] if subtle else [c for c in PALETTE if c != obj.colour]
        new = replace(obj, colour=pick(rng, hues))
        return new, f"{_name(obj)} became {new.colour}"
    if field == "shape":
        new = replace(obj, shape=_other(SHAPES, obj.shape, rng))
        return new, f"{_name(obj)} became a {new.shape}"
    new = _resized(obj, _other(list(SIZES), obj.size, rng))
    return new, f"{_name(obj)} became {new.size}"


def render_scene(scene: Scene, side: int) -> np.ndarray:
    """Draw ``scene`` as a ``side``×``side`` RGB uint8 array."""
    image = Image.new("RGB", (side, side), FLOOR)
    draw = ImageDraw.Draw(image)
    for obj in scene.objects:
        r, cx, cy = SIZES[obj.size] * side, obj.x * side, obj.y * side
        draw.ellipse((cx - r, cy + r * 0.55, cx + r * 1.3, cy + r * 1.25), fill=SHADOW)
    for obj in scene.objects:
        r, cx, cy = SIZES[obj.size] * side, obj.x * side, obj.y * side
        colour = PALETTE[obj.colour]
        if obj.shape == "square":
            draw.rectangle((cx - r, cy - r, cx + r, cy + r), fill=colour)
        elif obj.shape == "circle":
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
        else:
            draw.polygon([(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)], fill=colour)
    return np.asarray(image, dtype=np.uint8).copy()


# -- charts -------------------------------------------------------------------------------------------
def random_chart(rng: np.random.Generator) -> Chart:
    """A titled bar or line chart of 4–6 labelled values in 1..9."""
    kind = "bar" if rng.random() < 0.5 else "line"
    title, x_label, y_label, categories = TOPICS[int(rng.integers(len(TOPICS)))]
    n = int(rng.integers(4, 7))
    start = int(rng.integers(len(categories) - n + 1))
    values = tuple(int(v) for v in rng.integers(1, 10, size=n))
    return Chart(kind, values, tuple(categories[start : start + n]), title, x_label, y_label)


def edit_chart(chart: Chart, rng: np.random.Generator, difficulty: str = "medium") -> tuple[Chart, list[str]]:
    """Swap two attributes (module docstring); when no pair fits the difficulty, the nearest easier swap."""
    _check_difficulty(difficulty)
    n = len(chart.values)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    gaps = {"easy": lambda d: d >= 3, "medium": lambda d: d >= 1, "hard": lambda d: d == 1}
    fits = [(i, j) for i, j in pairs if gaps[difficulty](abs(chart.values[i] - chart.values[j]))]
    differ = [(i, j) for i, j in pairs if chart.values[i] != chart.values[j]]
    if difficulty == "hard" and chart.labels and differ and (not fits or rng.random() < 0.5):
        i, j = differ[int(rng.integers(len(differ)))]  # labels of two different values, or nothing would show
        labels = list(chart.labels)
        labels[i], labels[j] = labels[j], labels[i]
        return replace(chart, labels=tuple(labels)), [f"labels {chart.labels[i]!r} and {chart.labels[j]!r} swapped"]
    fits = fits or differ
    if not fits:  # every value equal: change one, the only edit left
        values = list(chart.values)
        values[0] = values[0] % 9 + 1
        return replace(chart, values=tuple(values)), [f"value 1 changed from {chart.values[0]} to {values[0]}"]
    i, j = fits[int(rng.integers(len(fits)))]
    values = list(chart.values)
    values[i], values[j] = values[j], values[i]
    name = chart.labels if chart.labels else tuple(str(k + 1) for k in range(n))
    return replace(chart, values=tuple(values)), [
        f"the values of {name[i]!r} ({chart.values[i]}) and {name[j]!r} ({chart.values[j]}) swapped"
    ]


def chart_frame(side: int) -> tuple[int, int, int, int]:
    """The plot area ``(left, top, right, bottom)``: the y axis runs from 10 at ``top`` to 0 at ``bottom``."""
    return round(side * 0.16), round(side * 0.14), round(side * 0.96), round(side * 0.82)


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=max(6, size))
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int, anchor: str) -> None:
    font = _font(size)
    try:
        draw.text(xy, text, fill=TEXT, font=font, anchor=anchor)
    except ValueError:  # the bitmap font does not support anchors
        draw.text(xy, text, fill=TEXT, font=font)


def render_chart(chart: Chart, side: int) -> np.ndarray:
    """Draw ``chart``: title, axes with tick numbers and labels, bars or a line, and each value as text."""
    image = Image.new("RGB", (side, side), CHART_BG)
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = chart_frame(side)
    unit = (bottom - top) / 10
    small, big = max(6, side // 30), max(7, side // 22)
    for tick in range(0, 11, 2):  # light grid lines and tick numbers
        y = round(bottom - tick * unit)
        draw.line((left, y, right, y), fill=GRID_LINE)
        _text(draw, (left - 4, y), str(tick), small, "rm")
    n = len(chart.values)
    slot = (right - left) / n
    centres = [left + slot * (i + 0.5) for i in range(n)]
    tops = [bottom - v * unit for v in chart.values]
    if chart.kind == "bar":
        for cx, y in zip(centres, tops, strict=True):
            draw.rectangle((round(cx - slot * 0.3), round(y), round(cx + slot * 0.3), bottom - 1), fill=BAR)
    else:
        draw.line(list(zip(centres, tops, strict=True)), fill=BAR, width=max(1, side // 64))
        m = max(2, side // 40)
        for cx, y in zip(centres, tops, strict=True):
            draw.rectangle((round(cx) - m, round(y) - m, round(cx) + m, round(y) + m), fill=MARKER)
    for cx, y, value in zip(centres, tops, chart.values, strict=True):  # value text over each bar / point
        _text(draw, (cx, y - max(3, side // 40) - 2), str(value), small, "md")
    for cx, label in zip(centres, chart.labels, strict=False):
        _text(draw, (cx, bottom + 4), label, small, "mt")
    if chart.title:
        _text(draw, (side / 2, top / 2), chart.title, big, "mm")
    if chart.x_label:
        _text(draw, (side / 2, side - small), chart.x_label, small, "mm")
    if chart.y_label:  # drawn sideways along the y axis
        font = _font(small)
        width = round(draw.textlength(chart.y_label, font=font)) + 4
        strip = Image.new("RGB", (width, small + 6), CHART_BG)
        ImageDraw.Draw(strip).text((2, 1), chart.y_label, fill=TEXT, font=font)
        rotated = strip.rotate(90, expand=True)
        image.paste(rotated, (2, max(0, round((top + bottom) / 2 - rotated.height / 2))))
    draw.line((left, top, left, bottom), fill=AXIS, width=1)
    draw.line((left, bottom, right, bottom), fill=AXIS, width=1)
    return np.asarray(image, dtype=np.uint8).copy()


def render(item: Scene | Chart, side: int) -> np.ndarray:
    """Draw a scene or a chart."""
    return render_scene(item, side) if isinstance(item, Scene) else render_chart(item, side)


ROW_NAMES, COLUMN_NAMES = ("top", "middle", "bottom"), ("left", "centre", "right")


def caption(item: Scene | Chart) -> str:
    """What the picture shows, in the words a player would use: a scene's objects in reading order, each as
    size, colour, shape and its cell of the 3×3 grid; a chart's kind and its values from left to right
    (the texts are left out: at the small sizes a tiny model sees, they are not legible). For teaching a model
    to read the pictures (``arena.agents.captions``), never shown to players."""
    if isinstance(item, Chart):
        return f"{item.kind} chart: {' '.join(map(str, item.values))}"

    def cell(obj: Obj) -> tuple[int, int]:
        return divmod(cell_of(obj), GRID)

    return "; ".join(
        f"{o.size} {o.colour} {o.shape} {ROW_NAMES[cell(o)[0]]} {COLUMN_NAMES[cell(o)[1]]}"
        for o in sorted(item.objects, key=cell)
    )


def describe(item: Scene | Chart) -> str:
    """A full-information description (for spectators and end-of-game infos, never for players)."""
    if isinstance(item, Chart):
        pairs = ", ".join(f"{label} {v}" for label, v in zip(item.labels, item.values, strict=False))
        return f"{item.kind} chart {item.title!r}: {pairs or ', '.join(map(str, item.values))}"
    return "; ".join(f"{o.size} {o.colour} {o.shape} at ({o.x:.2f}, {o.y:.2f})" for o in item.objects)
