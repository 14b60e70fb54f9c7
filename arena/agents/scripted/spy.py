"""A scripted Who-is-the-Spy player for ``spy-v0`` and ``visual-spy-v0``, using only its own observation.

* **Facts.** With a word: its family in the public word list, length, vowel count, first, inner and
  last letters, whether a letter is doubled (never the word). With an image: what a fallible eye
  takes in. The pixel reader itself is exact (each object's colour, shape, size and place on the
  3×3 grid; each chart value read off the y axis; no OCR, so chart texts are not read), and
  :func:`perceive` then misreads at the rates of :data:`PERCEPTION` for the game's ``difficulty``
  (a neighbouring hue, another shape, the other size, a missed object, a value one off), once per
  image and player, so two civilians may describe the same image differently.
* **Clues** state ``facts_per_clue`` (1) facts, preferring facts nobody has stated, and never repeat
  an earlier clue word for word (an invalid move).
* **Knowing one's side.** A player is told (Vision-Zero), or concludes it is the spy when more other
  speakers contradict its facts than confirm them with a fact that tells its word apart from the
  other word of its pair.
* **Blending.** A spy with a word describes the civilians' word, the other one of its pair in the
  public list (the list is public; ``word_split="held-out"`` keeps evaluation words out of training).
  A spy with an image describes its own details about places or values nobody has mentioned (they
  differ only if edited), else repeats what most others said.
* **Votes.** Each clue of another player scores: per fact contradicting my own 10 with words, with
  images 4, or 1 when an eye could make that mistake (:func:`misreadable`); +3 (words) or +6
  (images) for a clue with no fact at all (silence, vague talk); +1 for a clue that only repeats
  earlier facts; −1 (images) per fresh fact that matches mine. Civilians vote for the top score; when
  nobody scores they abstain or guess at random, half and half; a spy votes for whom the civilians
  suspect most.
* **Without the list** (``scripted-naive``, :class:`SpyNaiveScripted`): the same player knowing only its own
  word, as a human spy does. A spy then cannot describe the civilians' word; it repeats what most others said,
  so its clues carry the signal a civilian can learn to read (the list-reading spy's clues are true facts of
  the civilians' word, and scripted civilians find it no more often than random voters; docs/envs/spy.md).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter

import numpy as np

from arena.agents.base import BaseAgent, Info, Observation
from arena.agents.prompts import answer_spec
from arena.envs.scenes import AXIS, BAR, CHART_BG, FLOOR, MARKER, NEAR_HUES, PALETTE, SHADOW, SHAPES
from arena.envs.spy import mentions_word
from arena.envs.spy_words import CATEGORY, WORD_PAIRS
from arena.envs.werewolf import flatten_speech

_WORD = re.compile(r"Your secret word is: (.+)\.$", re.MULTILINE)
_CLUE = re.compile(r"^\[(player_\d+)\] (.*)$")
_ME = re.compile(r"^You are (player_\d+)\.$", re.MULTILINE)
_TOLD_SPY = "You are the spy:"
_TOLD_CIVILIAN = "You are a civilian:"
PARTNER = {**{a: b for a, b, _ in WORD_PAIRS}, **{b: a for a, b, _ in WORD_PAIRS}}
_OBJECT = re.compile(r"(small|large) ([a-z]+) (square|circle|triangle) ([a-z-]+)")
_VALUE = re.compile(r"v(\d+)=(\d+)")
_REGIONS = ("top-left", "top", "top-right", "left", "centre", "right", "bottom-left", "bottom", "bottom-right")


# -- reading an image -----------------------------------------------------------------------------------
_PALETTE_RGB = np.array(list(PALETTE.values()), dtype=np.int16)
_PALETTE_NAMES = list(PALETTE)

#: How often the scripted eye misreads, per difficulty: each object's colour (as a neighbouring hue),
#: shape and size, an object missed altogether, and each chart value (read one off).
PERCEPTION: dict[str, dict[str, float]] = {
    "easy": {"colour": 0.03, "shape": 0.03, "size": 0.03, "miss": 0.0, "value": 0.03},
    "medium": {"colour": 0.08, "shape": 0.06, "size": 0.08, "miss": 0.02, "value": 0.08},
    "hard": {"colour": 0.15, "shape": 0.10, "size": 0.12, "miss": 0.04, "value": 0.15},
}


def _near(image: np.ndarray, rgb: tuple[int, int, int], tol: int) -> np.ndarray:
    return np.all(np.abs(image.astype(np.int16) - np.array(rgb, dtype=np.int16)) <= tol, axis=-1)


def read_scene(image: np.ndarray) -> list[str]:
    """``["large red circle top-left", ...]`` for every object in a scene image, sorted. Objects sit in
    distinct cells of a 3×3 grid, so each cell is read on its own: the dominant palette colour among
    the non-floor pixels, the shape from how much of its bounding box the object fills (square ≈ 1,
    circle ≈ 0.79, triangle ≈ 0.5), the size from its width."""
    stride = max(1, image.shape[0] // 112)  # objects are large: every few pixels suffice
    image = image[::stride, ::stride]
    side = image.shape[0]
    pixels = image.astype(np.int16)
    floor = _near(image, FLOOR, 12) | _near(image, SHADOW, 12)
    distance = np.abs(pixels[:, :, None, :] - _PALETTE_RGB[None, None]).sum(axis=-1)
    nearest, close = distance.argmin(axis=-1), distance.min(axis=-1) <= 60
    found = []
    for cell in range(9):
        r0, r1 = cell // 3 * side // 3, (cell // 3 + 1) * side // 3
        c0, c1 = cell % 3 * side // 3, (cell % 3 + 1) * side // 3
        ok = close[r0:r1, c0:c1] & ~floor[r0:r1, c0:c1]
        if ok.sum() < 6:
            continue
        colour = int(np.bincount(nearest[r0:r1, c0:c1][ok], minlength=len(_PALETTE_NAMES)).argmax())
        rows, cols = np.nonzero(ok & (nearest[r0:r1, c0:c1] == colour))
        height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        fill = len(rows) / (height * width)
        shape = "square" if fill > 0.9 else ("circle" if fill > 0.65 else "triangle")
        size = "large" if width > 0.18 * side else "small"
        row, col = int((rows.mean() + r0) * 3 // side), int((cols.mean() + c0) * 3 // side)
        found.append(f"{size} {_PALETTE_NAMES[colour]} {shape} {_REGIONS[min(row, 2) * 3 + min(col, 2)]}")
    return sorted(found)


def _runs(columns: np.ndarray) -> list[np.ndarray]:
    """Groups of consecutive column indices."""
    if not len(columns):
        return []
    return np.split(columns, np.nonzero(np.diff(columns) > 1)[0] + 1)


def read_chart(image: np.ndarray) -> tuple[str, list[int]]:
    """``("bar" | "line", values)`` read off a chart image using its y axis (0 at the bottom, 10 at the
    top). The texts (title, labels, value numbers) are not read: the scripted eye has no OCR."""
    axis = _near(image, AXIS, 40)
    col = int(np.argmax(axis.sum(axis=0)))
    rows = np.nonzero(axis[:, col])[0]
    top, bottom = int(rows.min()), int(rows.max())
    unit = max(bottom - top, 1) / 10
    markers = _near(image, MARKER, 12)
    if markers.sum() >= 4:
        points = [
            np.nonzero(markers[:, run].any(axis=1))[0].mean() for run in _runs(np.nonzero(markers.any(axis=0))[0])
        ]
        return "line", [round((bottom - y) / unit) for y in points]
    bars = _near(image, BAR, 12)
    tops = [np.nonzero(bars[:, run].any(axis=1))[0].min() for run in _runs(np.nonzero(bars.any(axis=0))[0])]
    return "bar", [round((bottom - y) / unit) for y in tops]


_READ_CACHE: dict[bytes, tuple[str, ...]] = {}


def image_facts(image: np.ndarray) -> list[str]:
    """Facts read only from the pixels: ``"bar chart"``, ``"v3=7"``; or ``"4 objects"``, ``"large red
    circle top-left"``. Cached by content: every civilian holds the same image."""
    key = hashlib.sha1(np.ascontiguousarray(image).tobytes() + repr(image.shape).encode()).digest()
    if key not in _READ_CACHE:
        if len(_READ_CACHE) >= 64:
            _READ_CACHE.clear()
        _READ_CACHE[key] = tuple(_read_image(image))
    return list(_READ_CACHE[key])


def _read_image(image: np.ndarray) -> list[str]:
    if _near(image, CHART_BG, 3).mean() > 0.4:
        kind, values = read_chart(image)
        return [f"{kind} chart", *(f"v{i + 1}={v}" for i, v in enumerate(values))]
    objects = read_scene(image)
    return [f"{len(objects)} objects", *objects]


def _topic(fact: str) -> str | None:
    """What an image fact is about: a place of the scene, or a chart value's position."""
    obj, value = _OBJECT.fullmatch(fact), _VALUE.fullmatch(fact)
    return obj.group(4) if obj else (f"v{value.group(1)}" if value else None)


def misreadable(fact: str, mine: set[str]) -> bool:
    """Could ``fact`` be an eye's misreading of what I see myself? An object I do not see, or one at the
    same place differing only by a neighbouring hue or by its size; a chart value one off; a count one off."""
    obj, value, count = _OBJECT.fullmatch(fact), _VALUE.fullmatch(fact), re.fullmatch(r"(\d+) objects", fact)
    if obj:
        size, colour, shape, region = obj.groups()
        here = [m.groups() for f in mine for m in [_OBJECT.fullmatch(f)] if m and m.group(4) == region]
        if not here:
            return True  # I may have missed it
        my_size, my_colour, my_shape, _ = here[0]
        if shape != my_shape:
            return False
        return (colour == my_colour) != (size == my_size) and (colour == my_colour or colour in NEAR_HUES[my_colour])
    if value:
        mine_v = [m for f in mine for m in [_VALUE.fullmatch(f)] if m and m.group(1) == value.group(1)]
        return bool(mine_v) and abs(int(mine_v[0].group(2)) - int(value.group(2))) == 1
    if count:
        mine_c = [int(f.split()[0]) for f in mine if f.endswith(" objects")]
        return bool(mine_c) and abs(mine_c[0] - int(count.group(1))) == 1
    return False


def perceive(facts: list[str], difficulty: str, rng: np.random.Generator) -> list[str]:
    """``facts`` as a fallible eye sees them (:data:`PERCEPTION`): objects missed, colours taken for a
    neighbouring hue, shapes and sizes mistaken, chart values read one off. Counts follow what was seen."""
    rates = PERCEPTION.get(difficulty, PERCEPTION["medium"])
    seen: list[str] = []
    for fact in facts:
        obj = _OBJECT.fullmatch(fact)
        value = _VALUE.fullmatch(fact)
        if obj:
            if rng.random() < rates["miss"]:
                continue
            size, colour, shape, region = obj.groups()
            if rng.random() < rates["colour"]:
                colour = str(rng.choice(NEAR_HUES[colour]))
            if rng.random() < rates["shape"]:
                shape = str(rng.choice([s for s in SHAPES if s != shape]))
            if rng.random() < rates["size"]:
                size = "small" if size == "large" else "large"
            seen.append(f"{size} {colour} {shape} {region}")
        elif value and rng.random() < rates["value"]:
            v = int(value.group(2))
            seen.append(f"v{value.group(1)}={min(10, max(0, v + (1 if rng.random() < 0.5 else -1)))}")
        elif not fact.endswith(" objects"):
            seen.append(fact)
    if facts and facts[0].endswith(" objects"):
        seen.insert(0, f"{sum(bool(_OBJECT.fullmatch(f)) for f in seen)} objects")
    return seen


def word_facts(word: str) -> list[str]:
    """Facts about ``word`` that never say or spell it: its family in the public list, its length, vowel
    count, first, inner and last letters, and whether a letter is doubled."""
    letters = re.sub(r"[^a-z]", "", word.lower())
    facts = [
        f"{CATEGORY.get(word.lower(), 'thing')} family",
        f"{len(letters)} characters",
        f"starts with '{letters[:1]}'",
        f"ends with '{letters[-1:]}'",
        f"{sum(ch in 'aeiou' for ch in letters)} vowels",
        "has a double letter" if re.search(r"(.)\1", letters) else "no double letter",
        *(f"letter {i + 1} is '{ch}'" for i, ch in enumerate(letters[1:-1], start=1)),
    ]
    return [f for f in facts if not mentions_word(f, word)]


_FACT = re.compile(
    r"\d+ objects|(?:small|large) [a-z]+ (?:square|circle|triangle) [a-z-]+|(?:bar|line) chart|v\d+=\d+"
    r"|[a-z]+ family|\d+ characters|starts with '[a-z]'|ends with '[a-z]'|\d+ vowels"
    r"|has a double letter|no double letter|letter \d+ is '[a-z]'"
)


def facts_in(clue: str) -> list[str]:
    """The facts a clue states, in the canonical form above."""
    return _FACT.findall(clue.lower())


class SpyScripted(BaseAgent):
    """Heuristic Who-is-the-Spy player for text and image variants (see the module docstring)."""

    name = "scripted"
    facts_per_clue = 1
    #: How often a civilian without any evidence abstains rather than guesses.
    abstain_when_unsure = 0.5
    #: Suspicion points per clue of another player: per stated fact that contradicts my own, for a clue
    #: that states no fact at all (silence, vague talk), for a clue that only repeats facts others stated
    #: first (how a spy blends in), and per fact it was first to state that matches mine (taken off).
    #: An eye misreads (:data:`PERCEPTION`), so with images a contradiction weighs less and silence more,
    #: and a contradiction that an eye could make (:func:`misreadable`) weighs least.
    POINTS = {
        "word": {"contradiction": 10, "misreading": 10, "silence": 3, "echo": 1, "confirmation": 0},
        "image": {"contradiction": 4, "misreading": 1, "silence": 6, "echo": 1, "confirmation": 1},
    }

    def __init__(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self._cache: dict[bytes, list[str]] = {}

    def reset(self) -> None:
        self._cache.clear()

    def act(self, observation: Observation, info: Info) -> str:
        text = str(observation.get("text", ""))
        me_match = _ME.search(text)
        me = me_match.group(1) if me_match else ""
        mine = set(self._own_facts(observation, str(info.get("difficulty", "medium"))))
        clues = self._clues(text)
        alive = [a for a in info.get("alive", []) if isinstance(a, str)]
        told_civilian = _TOLD_CIVILIAN in text
        believe_spy = _TOLD_SPY in text or (not told_civilian and self._evidence_against_me(text, me, mine, clues))
        legal = info.get("legal_actions")
        if legal is None:
            if "Name the civilians'" in text:
                return self._guess(text)
            return self._clue(text, mine, clues, me, believe_spy, answer_spec(info).max_chars)
        options = [t.strip("[]") for t in legal if t != "[abstain]"]
        scores = self.suspicion(text, me, mine, "image" if "image" in observation else "word")
        scores = {o: scores.get(o, 0) for o in options if not alive or o in alive}
        top = max(scores.values(), default=0)
        if believe_spy and options:  # join the civilians: vote for whom they suspect most, judged by their thing
            theirs = self._partner_facts(text)
            if theirs:
                seen = self.suspicion(text, me, theirs, "word")
                scores = {o: seen.get(o, 0) for o in scores}
            top = max(scores.values())
            pick = [o for o, n in scores.items() if n == top]
            return f"[{pick[int(self.rng.integers(len(pick)))]}]"
        if top <= 0:  # no evidence: abstain or guess, half and half
            if "[abstain]" in legal and (not options or self.rng.random() < self.abstain_when_unsure):
                return "[abstain]"
            return f"[{options[int(self.rng.integers(len(options)))]}]" if options else legal[0]
        pick = [o for o, n in scores.items() if n == top]
        return f"[{pick[int(self.rng.integers(len(pick)))]}]"

    # -- reading the table ----------------------------------------------------------------------------
    def _evidence_against_me(self, text: str, me: str, mine: set[str], clues: dict[str, list[str]]) -> bool:
        """More speakers contradict my own facts than confirm them (with a fact that tells my thing apart
        from the other one of my pair, when the pair is known): I am probably the spy."""
        other = self._partner_facts(text) or set()
        against = support = 0
        for player, said in clues.items():
            if player == me:
                continue
            facts = [f for c in said for f in facts_in(c)]
            if any(f not in mine for f in facts):
                against += 1
            elif any(f in mine and f not in other for f in facts):
                support += 1
        return against > support

    def suspicion(self, text: str, me: str, mine: set[str], medium: str = "word") -> dict[str, int]:
        """Points per other player from every clue it gave (:attr:`POINTS`)."""
        points = self.POINTS[medium]
        stated: set[str] = set()
        scores: dict[str, int] = {}
        for line in text.splitlines():
            m = _CLUE.match(line)
            if not m or m.group(2).startswith("guesses:"):
                continue
            player, facts = m.group(1), facts_in(m.group(2))
            if player != me:
                odd = [f for f in facts if f not in mine]
                weak = sum(misreadable(f, mine) for f in odd)
                score = points["contradiction"] * (len(odd) - weak) + points["misreading"] * weak
                score -= points["confirmation"] * sum(f in mine and f not in stated for f in facts)
                if not facts:
                    score += points["silence"]
                elif all(f in stated for f in facts):
                    score += points["echo"]
                scores[player] = scores.get(player, 0) + score
            stated.update(facts)
        return scores

    # -- clues --------------------------------------------------------------------------------------------
    def _own_facts(self, observation: Observation, difficulty: str = "medium") -> list[str]:
        image = observation.get("image")
        if isinstance(image, np.ndarray) and image.ndim == 3:
            key = image.tobytes()  # the same image is seen the same way all game
            if key not in self._cache:
                self._cache = {key: perceive(image_facts(image), difficulty, self.rng)}
            return self._cache[key]
        word = _WORD.search(str(observation.get("text", "")))
        return word_facts(word.group(1)) if word else []

    @staticmethod
    def _partner_facts(text: str) -> set[str] | None:
        """A spy's guess of the civilians' word: the other word of its own pair in the public list."""
        word = _WORD.search(text)
        other = PARTNER.get(word.group(1).lower()) if word else None
        return set(word_facts(other)) if other else None

    def _clue(
        self,
        text: str,
        mine: set[str],
        clues: dict[str, list[str]],
        me: str,
        believe_spy: bool,
        max_chars: int | None = None,
    ) -> str:
        """A new clue; ``max_chars`` is the game's clue limit: it cuts a longer clue, so a clue is new only when
        its cut form is (facts that differ only past the cut would repeat an earlier clue, an invalid move)."""

        def shown(clue: str) -> str:
            return (flatten_speech(clue, max_chars) if max_chars else clue).lower()

        said_by_me = {f for c in clues.get(me, []) for f in facts_in(c)}
        said_by_others = Counter(f for p, cs in clues.items() if p != me for c in cs for f in set(facts_in(c)))
        guess = self._partner_facts(text) if believe_spy else None
        if guess:  # the civilians' thing is known from the public list: describe it like a civilian would
            stated = set(said_by_others) | said_by_me
            pool = sorted(guess - stated) or sorted(guess - said_by_me) or sorted(guess)
        elif believe_spy and self._untested(mine, said_by_others, said_by_me):
            # an image: describe own details nobody has mentioned yet (they differ only if edited)
            pool = self._untested(mine, said_by_others, said_by_me)
        elif believe_spy and said_by_others:
            # repeat what most others said (the civilians' shared facts), in a new combination
            top = max(said_by_others.values())
            pool = sorted(f for f, n in said_by_others.items() if n == top) + sorted(
                f for f, n in said_by_others.items() if n < top
            )
            pool = pool[: max(self.facts_per_clue + 1, 2)]
        else:
            stated = set(said_by_others) | said_by_me
            pool = sorted(mine - stated) or sorted(mine - said_by_me) or sorted(mine)
        used = {c.lower() for cs in clues.values() for c in cs}
        clue = "It is hard to describe."
        for attempt in range(12):  # more facts per clue when the short combinations are used up
            size = min(self.facts_per_clue + attempt // 4, len(pool))
            chosen = sorted(pool[int(i)] for i in self.rng.choice(len(pool), size=size, replace=False)) if pool else []
            clue = "; ".join(chosen) + "." if chosen else "It is hard to describe."
            if shown(clue) not in used:
                return clue
        count = len(clues.get(me, [])) + 1
        fallback = f"{clue} ({me}, clue {count})"
        if shown(fallback) in used:  # cut before the tag: lead with a short one that is mine alone
            fallback = f"#{me.removeprefix('player_')}.{count} {clue}"
        return fallback

    @staticmethod
    def _untested(mine: set[str], said_by_others: Counter, said_by_me: set[str]) -> list[str]:
        """Image facts of mine about a place or value nobody has described yet (a spy's safest new
        detail: it differs from the civilians' only when it was edited)."""
        topics = {_topic(f) for f in said_by_others} | {_topic(f) for f in said_by_me}
        return sorted(f for f in mine if _topic(f) is not None and _topic(f) not in topics)

    @staticmethod
    def _clues(text: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for line in text.splitlines():
            m = _CLUE.match(line)
            if m and not m.group(2).startswith("guesses:"):
                out.setdefault(m.group(1), []).append(m.group(2))
        return out

    @staticmethod
    def _guess(text: str) -> str:
        """A caught spy names the other word of its own word's pair in the public list."""
        word = _WORD.search(text)
        mine = word.group(1).lower() if word else ""
        return PARTNER.get(mine, "I do not know")


class SpyNaiveScripted(SpyScripted):
    """:class:`SpyScripted` without the public word list: it knows only its own word, never the other one of
    its pair, so a spy blends in by repeating what others said and a caught spy cannot name the civilians' word."""

    name = "scripted-naive"

    @staticmethod
    def _partner_facts(text: str) -> set[str] | None:
        return None

    @staticmethod
    def _guess(text: str) -> str:
        return "I do not know"
