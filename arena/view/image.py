"""Draw an RGB image (uint8 H×W×3) in the terminal with half-block characters: each cell is ``▀`` with
the upper pixel as foreground and the lower pixel as background colour, so a cell shows two pixels."""

from __future__ import annotations

import numpy as np
from rich.color import Color
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style

UPPER_HALF = "▀"


def fit(image: np.ndarray, max_width: int, max_rows: int | None = None) -> np.ndarray:
    """Nearest-neighbour downscale so the image is at most ``max_width`` pixels wide and ``2 * max_rows``
    tall (aspect kept); never upscales. Grey or RGBA input becomes RGB."""
    array = np.asarray(image)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    array = array[:, :, :3]
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    height, width = array.shape[:2]
    scale = min(1.0, max_width / max(width, 1))
    if max_rows is not None:
        scale = min(scale, 2 * max_rows / max(height, 1))
    new_w, new_h = max(1, int(width * scale)), max(1, int(height * scale))
    rows = (np.arange(new_h) * height // new_h).clip(0, height - 1)
    cols = (np.arange(new_w) * width // new_w).clip(0, width - 1)
    return array[rows][:, cols]


class HalfBlockImage:
    """A rich renderable of an RGB image, scaled down to the available width (and ``max_rows``)."""

    def __init__(self, image: np.ndarray, max_rows: int | None = None) -> None:
        self.image = np.asarray(image)
        self.max_rows = max_rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        pixels = fit(self.image, options.max_width, self.max_rows)
        height, width = pixels.shape[:2]
        for top in range(0, height, 2):
            for x in range(width):
                upper = Color.from_rgb(*map(int, pixels[top, x]))
                lower = Color.from_rgb(*map(int, pixels[top + 1, x])) if top + 1 < height else None
                yield Segment(UPPER_HALF, Style(color=upper, bgcolor=lower))
            yield Segment.line()
