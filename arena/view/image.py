"""Draw an RGB image (uint8 H×W×3) in the terminal: with half-block characters (each cell is ``▀`` with
the upper pixel as foreground and the lower pixel as background colour, so a cell shows two pixels), or
with the kitty / iTerm2 inline-image protocols where the terminal has them (:class:`TerminalImage`).

The two protocols are a few lines of escape codes, written here rather than taken from a library
(term-image and friends bring their own rendering stack; rich-pixels only does half-blocks)."""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Mapping

import numpy as np
from rich.color import Color
from rich.console import Console, ConsoleOptions, RenderResult
from rich.control import ControlType
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


def image_protocol(environ: Mapping[str, str] | None = None) -> str | None:
    """The inline-image protocol this terminal speaks: ``"kitty"``, ``"iterm"`` or None (half-blocks).
    ``ARENA_IMAGES=kitty|iterm|blocks`` overrides the guess from ``TERM``/``TERM_PROGRAM``."""
    env = os.environ if environ is None else environ
    forced = env.get("ARENA_IMAGES", "").lower()
    if forced in ("kitty", "iterm"):
        return forced
    if forced in ("blocks", "halfblocks", "none"):
        return None
    if env.get("TERM") == "xterm-kitty" or env.get("KITTY_WINDOW_ID") or env.get("TERM_PROGRAM") == "ghostty":
        return "kitty"
    if env.get("TERM_PROGRAM") in ("iTerm.app", "WezTerm") or env.get("LC_TERMINAL") == "iTerm2":
        return "iterm"
    return None


def _png(pixels: np.ndarray) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels[:, :, :3]).astype(np.uint8), "RGB").save(out, format="PNG")
    return out.getvalue()


def inline_image_escape(pixels: np.ndarray, protocol: str, columns: int, rows: int) -> str:
    """The escape sequence that draws ``pixels`` in a ``columns``×``rows`` cell box (kitty graphics
    protocol, or iTerm2's inline images); the cursor stays where it was."""
    data = base64.standard_b64encode(_png(pixels)).decode("ascii")
    if protocol == "iterm":
        size = len(data) * 3 // 4
        return f"\x1b]1337;File=inline=1;size={size};width={columns};height={rows};preserveAspectRatio=1:{data}\x07"
    chunks = [data[i : i + 4096] for i in range(0, len(data), 4096)] or [""]
    parts = []
    for k, chunk in enumerate(chunks):
        more = int(k < len(chunks) - 1)
        head = f"a=T,f=100,c={columns},r={rows},C=1,q=2,m={more}" if k == 0 else f"m={more}"
        parts.append(f"\x1b_G{head};{chunk}\x1b\\")
    return "".join(parts)


class TerminalImage:
    """An image drawn with the terminal's inline-image protocol where it has one (and the output is a
    terminal, outside a live screen that redraws), else with half-blocks. Either way it takes the same
    cells: as wide as the half-block version and ``max_rows`` rows at most."""

    def __init__(self, image: np.ndarray, max_rows: int | None = None, *, live: bool = False) -> None:
        self.image = np.asarray(image)
        self.max_rows = max_rows
        self.live = live

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        protocol = None if self.live or not console.is_terminal else image_protocol()
        if protocol is None:
            yield HalfBlockImage(self.image, self.max_rows)
            return
        pixels = fit(self.image, options.max_width, self.max_rows)
        columns, rows = pixels.shape[1], (pixels.shape[0] + 1) // 2
        escape = inline_image_escape(self.image, protocol, columns, rows)
        yield Segment(escape, control=((ControlType.BELL,),))  # zero width: written as is, never measured
        for _ in range(rows):
            yield Segment(" " * columns)
            yield Segment.line()
