"""Procedural images for ``visual-spy-v0``: CLEVR-like object scenes and simple bar/line charts.

Everything is drawn from the episode's RNG with Pillow; nothing is downloaded.

* **Scenes** (after CLEVR, as used by Vision-Zero): 3–6 flat objects on a grey floor, each with a
  shape (square, circle, triangle), one of 8 colours, a size (small, large) and a position (a
  jittered cell of a 3×3 grid), with a soft shadow. Objects never overlap. :func:`edit_scene` applies ``k`` edits to distinct objects:
  a change of colour, a change of shape, a removal or a displacement.
* **Charts**: a bar or line chart of 4–6 values from 1 to 9 on a 0–10 axis; :func:`edit_chart`
  changes one value by 2 to 4.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, ImageDraw

#: Object colours (the CLEVR palette's eight hues). Pure, flat fills, so they can be read back from pixels.
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
SHAPES = ("square", "circle", "triangle")
SIZES = {"small": 0.07, "large": 0.11}  # radius as a share of the image side
FLOOR = (200, 200, 200)
SHADOW = (165, 165, 165)
CHART_BG = (255, 255, 255)
AXIS = (0, 0, 0)
BAR = (60, 110, 200)
MARKER = (220, 60, 60)
EDIT_KINDS = ("colour", "shape", "remove", "move")


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
    """A bar or line chart of small integer values."""

    kind: str  # "bar" or "line"
    values: tuple[int, ...]


# -- scenes -------------------------------------------------------------------------------------------
GRID = 3  # objects sit in distinct cells of a 3x3 grid, jittered inside their cell, so they never overlap


def _cell_of(obj: Obj) -> int:
    return min(int(obj.y * GRID), GRID - 1) * GRID + min(int(obj.x * GRID), GRID - 1)


def _place(rng: np.random.Generator, size: str, cell: int) -> tuple[float, float]:
    half = 0.5 / GRID
    jitter = max(0.0, half - SIZES[size] - 0.03)
    cx, cy = (cell % GRID) / GRID + half, (cell // GRID) / GRID + half
    return round(cx + float(rng.uniform(-jitter, jitter)), 3), round(cy + float(rng.uniform(-jitter, jitter)), 3)


def random_scene(rng: np.random.Generator, min_objects: int = 3, max_objects: int = 6) -> Scene:
    """3–6 random objects in distinct grid cells."""
    count = int(rng.integers(min_objects, max_objects + 1))
    objects = []
    for cell in rng.choice(GRID * GRID, size=count, replace=False):
        size = str(rng.choice(list(SIZES)))
        x, y = _place(rng, size, int(cell))
        objects.append(Obj(str(rng.choice(SHAPES)), str(rng.choice(list(PALETTE))), size, x, y))
    return Scene(tuple(objects))


def edit_scene(scene: Scene, k: int, rng: np.random.Generator) -> tuple[Scene, list[str]]:
    """Apply ``k`` edits to ``k`` distinct objects; returns the new scene and a description of each edit."""
    objects = list(scene.objects)
    chosen = [int(i) for i in rng.choice(len(objects), size=min(k, len(objects)), replace=False)]
    notes: list[str] = []
    removed: list[int] = []
    for i in chosen:
        obj = objects[i]
        kinds = [kd for kd in EDIT_KINDS if kd != "remove" or len(objects) - len(removed) > 2]
        kind = str(rng.choice(kinds))
        what = f"the {obj.size} {obj.colour} {obj.shape}"
        if kind == "colour":
            colour = str(rng.choice([c for c in PALETTE if c != obj.colour]))
            objects[i] = replace(obj, colour=colour)
            notes.append(f"{what} became {colour}")
        elif kind == "shape":
            shape = str(rng.choice([s for s in SHAPES if s != obj.shape]))
            objects[i] = replace(obj, shape=shape)
            notes.append(f"{what} became a {shape}")
        elif kind == "remove":
            removed.append(i)
            notes.append(f"{what} was removed")
        else:
            used = {_cell_of(o) for o in objects}
            free = [c for c in range(GRID * GRID) if c not in used]
            x, y = _place(rng, obj.size, int(rng.choice(free)))
            objects[i] = replace(obj, x=x, y=y)
            notes.append(f"{what} moved")
    kept = tuple(o for i, o in enumerate(objects) if i not in removed)
    return Scene(kept), notes


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
    """A bar or line chart of 4–6 values in 1..9."""
    kind = "bar" if rng.random() < 0.5 else "line"
    return Chart(kind, tuple(int(v) for v in rng.integers(1, 10, size=int(rng.integers(4, 7)))))


def edit_chart(chart: Chart, rng: np.random.Generator) -> tuple[Chart, list[str]]:
    """Change one value by 2–4 (staying within 1..9)."""
    i = int(rng.integers(len(chart.values)))
    old = chart.values[i]
    options = [v for v in range(1, 10) if 2 <= abs(v - old) <= 4]
    new = int(rng.choice(options))
    values = list(chart.values)
    values[i] = new
    return Chart(chart.kind, tuple(values)), [f"value {i + 1} changed from {old} to {new}"]


def chart_frame(side: int) -> tuple[int, int, int, int]:
    """The plot area ``(left, top, right, bottom)``: the y axis runs from 10 at ``top`` to 0 at ``bottom``."""
    return round(side * 0.12), round(side * 0.08), round(side * 0.95), round(side * 0.9)


def render_chart(chart: Chart, side: int) -> np.ndarray:
    """Draw ``chart`` with its axes as a ``side``×``side`` RGB uint8 array."""
    image = Image.new("RGB", (side, side), CHART_BG)
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = chart_frame(side)
    unit = (bottom - top) / 10
    for tick in range(0, 11, 2):  # light grid lines
        y = round(bottom - tick * unit)
        draw.line((left, y, right, y), fill=(225, 225, 225))
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
    draw.line((left, top, left, bottom), fill=AXIS, width=1)
    draw.line((left, bottom, right, bottom), fill=AXIS, width=1)
    return np.asarray(image, dtype=np.uint8).copy()


def render(item: Scene | Chart, side: int) -> np.ndarray:
    """Draw a scene or a chart."""
    return render_scene(item, side) if isinstance(item, Scene) else render_chart(item, side)


def describe(item: Scene | Chart) -> str:
    """A full-information description (for spectators and end-of-game infos, never for players)."""
    if isinstance(item, Chart):
        return f"{item.kind} chart of values {', '.join(map(str, item.values))}"
    return "; ".join(f"{o.size} {o.colour} {o.shape} at ({o.x:.2f}, {o.y:.2f})" for o in item.objects)
