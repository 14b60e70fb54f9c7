"""A scripted Who-is-the-Spy player for ``spy-v0`` and ``visual-spy-v0``, using only its own observation.

* **Clues** describe what the player itself holds. With a word: its category in the public word list,
  its length, its first and last letters and its vowel count (never the word). With an image: what can be read back
  from the pixels: for a scene, each object's colour (flat palette fills), shape (how much of its
  bounding box it fills) and place (a 3×3 grid); for a chart, the values read off the y axis.
* **Blending**: once a player believes it is the spy (it is told so, or most other speakers state
  facts that contradict its own), it restates facts others already gave, in a new combination.
* A clue states ``facts_per_clue`` facts, preferring facts nobody has stated yet, and never repeats an
  earlier clue word for word (that is an invalid move).
* **Votes**: clues are read as facts; a player scores 10 for each fact that contradicts what it
  holds itself and 1 for each fact it only echoed after another player had stated it (how a spy
  blends in). Civilians vote for the highest score and abstain when nobody scores; a believed spy
  votes for the civilian who looks least suspicious to it, hoping to join the majority.
"""

from __future__ import annotations

import re
from collections import deque

import numpy as np

from arena.agents.base import BaseAgent, Info, Observation
from arena.envs.scenes import AXIS, BAR, CHART_BG, MARKER, PALETTE
from arena.envs.spy import mentions_word
from arena.envs.spy_words import CATEGORY, WORD_PAIRS

_WORD = re.compile(r"Your secret word is: (.+)\.$", re.MULTILINE)
_CLUE = re.compile(r"^\[(player_\d+)\] (.*)$")
_ME = re.compile(r"^You are (player_\d+)\.$", re.MULTILINE)
_TOLD_SPY = "You are the spy:"
PARTNER = {**{a: b for a, b, _ in WORD_PAIRS}, **{b: a for a, b, _ in WORD_PAIRS}}
_REGIONS = ("top-left", "top", "top-right", "left", "centre", "right", "bottom-left", "bottom", "bottom-right")


# -- reading an image -----------------------------------------------------------------------------------
def _components(mask: np.ndarray) -> list[np.ndarray]:
    """Connected 4-neighbour components of a boolean mask, as arrays of (row, col)."""
    seen = np.zeros_like(mask, dtype=bool)
    out: list[np.ndarray] = []
    h, w = mask.shape
    for start in zip(*np.nonzero(mask), strict=True):
        if seen[start]:
            continue
        seen[start] = True
        todo, cells = deque([start]), []
        while todo:
            r, c = todo.popleft()
            cells.append((r, c))
            for nr, nc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
                if 0 <= nr < h and 0 <= nc < w and mask[nr, nc] and not seen[nr, nc]:
                    seen[nr, nc] = True
                    todo.append((nr, nc))
        out.append(np.array(cells))
    return out


def _colour_mask(image: np.ndarray, rgb: tuple[int, int, int], tol: int = 12) -> np.ndarray:
    return np.all(np.abs(image.astype(np.int16) - np.array(rgb, dtype=np.int16)) <= tol, axis=-1)


def read_scene(image: np.ndarray) -> list[str]:
    """``["red circle top-left", ...]`` for every object visible in a scene image, sorted."""
    side = image.shape[0]
    found = []
    for name, rgb in PALETTE.items():
        for cells in _components(_colour_mask(image, rgb)):
            if len(cells) < 6:
                continue
            (r0, c0), (r1, c1) = cells.min(axis=0), cells.max(axis=0)
            fill = len(cells) / ((r1 - r0 + 1) * (c1 - c0 + 1))
            shape = "square" if fill > 0.9 else ("circle" if fill > 0.65 else "triangle")
            row, col = (int(cells[:, 0].mean() * 3 // side), int(cells[:, 1].mean() * 3 // side))
            found.append(f"{name} {shape} {_REGIONS[min(row, 2) * 3 + min(col, 2)]}")
    return sorted(found)


def read_chart(image: np.ndarray) -> tuple[str, list[int]]:
    """``("bar" | "line", values)`` read off a chart image using its y axis (0 at the bottom, 10 at the top)."""
    axis = _colour_mask(image, AXIS, tol=40)
    col = int(np.argmax(axis.sum(axis=0)))
    rows = np.nonzero(axis[:, col])[0]
    top, bottom = int(rows.min()), int(rows.max())
    unit = max(bottom - top, 1) / 10
    markers = [c for c in _components(_colour_mask(image, MARKER)) if len(c) >= 4]
    if markers:
        points = sorted((c[:, 1].mean(), c[:, 0].mean()) for c in markers)
        return "line", [round((bottom - y) / unit) for _, y in points]
    bars = _components(_colour_mask(image, BAR))
    spans = sorted((c[:, 1].min(), c[:, 0].min()) for c in bars if len(c) >= 4)
    return "bar", [round((bottom - y) / unit) for _, y in spans]


def image_facts(image: np.ndarray) -> list[str]:
    """Facts read only from the pixels: ``"bar chart"``, ``"v3=7"``; or ``"4 objects"``, ``"red circle top-left"``."""
    if _colour_mask(image, CHART_BG, tol=3).mean() > 0.4:
        kind, values = read_chart(image)
        return [f"{kind} chart", *(f"v{i + 1}={v}" for i, v in enumerate(values))]
    objects = read_scene(image)
    return [f"{len(objects)} objects", *objects]


def word_facts(word: str) -> list[str]:
    """Facts about ``word`` that never say or spell it: its family in the public list, length, letters."""
    letters = re.sub(r"[^a-z]", "", word.lower())
    facts = [
        f"{CATEGORY.get(word.lower(), 'thing')} family",
        f"{len(letters)} characters",
        f"starts with '{letters[:1]}'",
        f"ends with '{letters[-1:]}'",
        f"{sum(ch in 'aeiou' for ch in letters)} vowels",
    ]
    return [f for f in facts if not mentions_word(f, word)]


_FACT = re.compile(
    r"\d+ objects|[a-z]+ (?:square|circle|triangle) [a-z-]+|(?:bar|line) chart|v\d+=\d+"
    r"|[a-z]+ family|\d+ characters|starts with '[a-z]'|ends with '[a-z]'|\d+ vowels"
)


def facts_in(clue: str) -> list[str]:
    """The facts a clue states, in the canonical form above."""
    return _FACT.findall(clue.lower())


class SpyScripted(BaseAgent):
    """Heuristic Who-is-the-Spy player for text and image variants (see the module docstring)."""

    name = "scripted"
    facts_per_clue = 2

    def __init__(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self._cache: dict[bytes, list[str]] = {}

    def reset(self) -> None:
        self._cache.clear()

    def act(self, observation: Observation, info: Info) -> str:
        text = str(observation.get("text", ""))
        me_match = _ME.search(text)
        me = me_match.group(1) if me_match else ""
        mine = set(self._own_facts(observation))
        clues = self._clues(text)
        alive = [a for a in info.get("alive", []) if isinstance(a, str)]
        odd = {p: [f for c in cs for f in facts_in(c) if f not in mine] for p, cs in clues.items() if p != me}
        contradicting = [p for p, bad in odd.items() if bad]
        speakers = [p for p in clues if p != me]
        believe_spy = _TOLD_SPY in text or (len(speakers) >= 2 and len(contradicting) * 2 > len(speakers))
        legal = info.get("legal_actions")
        if legal is None:
            if "Name the civilians'" in text:
                return self._guess(text)
            return self._clue(mine, clues, me, believe_spy)
        options = [t.strip("[]") for t in legal if t != "[abstain]"]
        echoes = self._echoes(text, me)
        scores = {o: 10 * len(odd.get(o, [])) + echoes.get(o, 0) for o in options if o in alive}
        top = max(scores.values(), default=0)
        if top == 0:
            if believe_spy and options:  # a spy never abstains: it pushes a civilian out
                return f"[{options[int(self.rng.integers(len(options)))]}]"
            return "[abstain]" if "[abstain]" in legal else legal[int(self.rng.integers(len(legal)))]
        if believe_spy:  # the civilians agree with each other; vote with them against the least odd
            low = min(scores.values())
            pick = [o for o, n in scores.items() if n == low]
        else:
            pick = [o for o, n in scores.items() if n == top]
        return f"[{pick[int(self.rng.integers(len(pick)))]}]"

    # -- clues --------------------------------------------------------------------------------------------
    def _own_facts(self, observation: Observation) -> list[str]:
        image = observation.get("image")
        if isinstance(image, np.ndarray) and image.ndim == 3:
            key = image.tobytes()
            if key not in self._cache:
                self._cache = {key: image_facts(image)}
            return self._cache[key]
        word = _WORD.search(str(observation.get("text", "")))
        return word_facts(word.group(1)) if word else []

    def _clue(self, mine: set[str], clues: dict[str, list[str]], me: str, believe_spy: bool) -> str:
        said_by_me = {f for c in clues.get(me, []) for f in facts_in(c)}
        said_by_others = {f for p, cs in clues.items() if p != me for c in cs for f in facts_in(c)}
        if believe_spy and said_by_others:
            pool = sorted(said_by_others)  # repeat what civilians already said, in a new combination
        else:
            fresh = sorted(mine - said_by_me - said_by_others) or sorted(mine - said_by_me) or sorted(mine)
            pool = fresh
        used = {c.lower() for cs in clues.values() for c in cs}
        for attempt in range(12):  # more facts per clue when the short combinations are used up
            size = min(self.facts_per_clue + attempt // 4, len(pool))
            chosen = sorted(pool[int(i)] for i in self.rng.choice(len(pool), size=size, replace=False)) if pool else []
            clue = "; ".join(chosen) + "." if chosen else "It is hard to describe."
            if clue.lower() not in used:
                return clue
        return f"{clue} ({me}, clue {len(clues.get(me, [])) + 1})"

    # -- reading the table ----------------------------------------------------------------------------
    @staticmethod
    def _clues(text: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for line in text.splitlines():
            m = _CLUE.match(line)
            if m and not m.group(2).startswith("guesses:"):
                out.setdefault(m.group(1), []).append(m.group(2))
        return out

    @staticmethod
    def _echoes(text: str, me: str) -> dict[str, int]:
        """How many facts each player repeated after someone else had stated them (a spy blending in)."""
        stated: dict[str, str] = {}  # fact -> first player to state it
        echoes: dict[str, int] = {}
        for line in text.splitlines():
            m = _CLUE.match(line)
            if not m or m.group(1) == me:
                continue
            for fact in facts_in(m.group(2)):
                first = stated.setdefault(fact, m.group(1))
                if first != m.group(1):
                    echoes[m.group(1)] = echoes.get(m.group(1), 0) + 1
        return echoes

    @staticmethod
    def _guess(text: str) -> str:
        """A caught spy names the other word of its own word's pair in the public list."""
        word = _WORD.search(text)
        mine = word.group(1).lower() if word else ""
        return PARTNER.get(mine, "I do not know")
