"""Visual Who is the Spy (``visual-spy-v0``): the spy protocol of ``spy-v0`` with images instead of words.

| | |
|---|---|
| Players | ``num_players`` (default 5), ``num_spies`` spies (default 1) |
| Deal | every player gets an image in its observation (``"image"``, uint8 ``image_size``×``image_size``×3, default 336) and a short instruction. Civilians share one image; the spies' image differs: for a CLEVR-like scene ``num_edits`` distinct objects (default 2) change colour, shape or size, never count or place; for a titled bar or line chart two attributes are swapped and the chart redrawn. ``difficulty`` ("easy", "medium", "hard") sets how subtle (:mod:`arena.envs.scenes`). ``scene="clevr"``, ``"chart"`` or ``"mixed"`` (default: either, at random) |
| Side | the spies are told they are spies (``spy_knows=True``, as in Vision-Zero); set it to False for the classic hidden-side game |
| Clues, votes, win, reward, invalid moves, truncation | as ``spy-v0`` (see :mod:`arena.envs.spy`, also for the accepted vote forms and ``invalid_rule``); a clue may be any non-empty line (``max_clue_chars``, default 300, longer clues cut to their first 300 characters). Preset ``"vision-zero"``: ``PRESETS`` below |

Images are drawn by :mod:`arena.envs.scenes` from the episode's seed; nothing is downloaded. A player's
image is in its own observation only. End-of-game infos add ``scene`` (what the civilians saw, in
words) and ``edits`` (how the spy image differs). ``state_key`` is as in ``spy-v0`` with a digest of
the player's own image in place of the word.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from arena.core.errors import ArenaError
from arena.core.keys import array_digest
from arena.envs import scenes
from arena.envs.spy import SpyEnv

SCENE_KINDS = ("clevr", "chart", "mixed")
CLUE_EXAMPLES = (
    "I see a few shapes in different colours.",
    "Some things in my picture are larger than others.",
    "There is something near the middle of my picture.",
)

#: Paper presets for ``arena.make("visual-spy-v0", preset=...)`` (docs/envs/visual-spy.md has the table).
PRESETS: dict[str, Any] = {
    "vision-zero": {  # Wang et al. 2025, arXiv 2509.25541 v2: game_rules.md §2.2
        "num_players": 5,  # n_c = 4 civilians + 1 spy
        "num_spies": 1,
        "clue_rounds": 2,
        "single_vote": True,
        "spy_votes": False,
        "spy_knows": True,
        "reward": "vision-zero",
        "clue_beta": 0.1,
        "clue_lambda": 0.1,
        "allow_abstain": True,  # N/A
        "tie_rule": "none",
        "scene": "mixed",
        "num_edits": 2,
        "difficulty": "easy",
        "image_size": 336,
    },
}


class VisualSpyEnv(SpyEnv):
    """Who is the Spy where each player sees a procedurally drawn image; the spy's image is edited."""

    metadata = {**SpyEnv.metadata, "name": "visual_spy_v0"}
    image_shape = (336, 336, 3)

    def __init__(
        self,
        *,
        num_players: int = 5,
        num_spies: int = 1,
        clue_rounds: int = 1,
        scene: str = "mixed",
        num_edits: int = 2,
        difficulty: str = "medium",
        image_size: int = 336,
        reveal_eliminated: bool = True,
        spy_knows: bool = True,
        single_vote: bool = False,
        spy_votes: bool = True,
        reward: str = "team",
        clue_beta: float = 0.1,
        clue_lambda: float = 0.1,
        tie_rule: str = "revote",
        allow_abstain: bool = True,
        max_rounds: int | None = None,
        max_clue_chars: int = 300,
        max_turns: int | None = None,
        invalid_retries: int = 1,
        invalid_rule: str = "default",
        render_mode: str | None = None,
    ) -> None:
        if scene not in SCENE_KINDS:
            raise ArenaError(f"scene must be one of {list(SCENE_KINDS)}, got {scene!r}")
        if not isinstance(num_edits, int) or isinstance(num_edits, bool) or not 1 <= num_edits <= 3:
            raise ArenaError(f"num_edits must be an integer from 1 to 3, got {num_edits!r}")
        if not isinstance(image_size, int) or isinstance(image_size, bool) or not 48 <= image_size <= 1024:
            raise ArenaError(f"image_size must be an integer from 48 to 1024, got {image_size!r}")
        if difficulty not in scenes.DIFFICULTIES:
            raise ArenaError(f"difficulty must be one of {list(scenes.DIFFICULTIES)}, got {difficulty!r}")
        self.difficulty = difficulty
        self.scene_kind = scene
        self.num_edits = num_edits
        self.image_shape = (image_size, image_size, 3)  # read by the observation space
        super().__init__(
            num_players=num_players,
            num_spies=num_spies,
            clue_rounds=clue_rounds,
            reveal_eliminated=reveal_eliminated,
            spy_guess=False,
            spy_knows=spy_knows,
            single_vote=single_vote,
            spy_votes=spy_votes,
            reward=reward,
            clue_beta=clue_beta,
            clue_lambda=clue_lambda,
            tie_rule=tie_rule,
            allow_abstain=allow_abstain,
            max_rounds=max_rounds,
            max_clue_chars=max_clue_chars,
            max_turns=max_turns,
            invalid_retries=invalid_retries,
            invalid_rule=invalid_rule,
            render_mode=render_mode,
        )

    # -- deal ----------------------------------------------------------------------------------------
    def _deal(self) -> None:
        side = self.image_shape[0]
        kind = self.scene_kind
        if kind == "mixed":
            kind = "clevr" if self.rng.random() < 0.5 else "chart"
        if kind == "clevr":
            original: scenes.Scene | scenes.Chart = scenes.random_scene(self.rng)
            edited, self.edits = scenes.edit_scene(original, self.num_edits, self.rng, self.difficulty)
        else:
            original = scenes.random_chart(self.rng)
            edited, self.edits = scenes.edit_chart(original, self.rng, self.difficulty)
        self.kind = kind
        self.original, self.edited = original, edited
        self.images = {False: scenes.render(original, side), True: scenes.render(edited, side)}
        for image in self.images.values():
            image.setflags(write=False)

    def _image(self, agent: str) -> np.ndarray:
        return self.images[agent in self.spies].copy()

    def _thing(self) -> str:
        return "image"

    def _clue_rule(self) -> str:
        return "Clue rule: one line about what you see in your image; others see only their own image."

    def _clue_examples(self) -> tuple[str, ...]:
        return CLUE_EXAMPLES

    def _private_knowledge(self, agent: str) -> dict[str, Any]:
        if getattr(self, "_digested", None) is not self.images:  # once per deal: hashing pixels is slow
            self._digested, self._digests = self.images, {k: array_digest(v) for k, v in self.images.items()}
        return {"image": self._digests[agent in self.spies]}

    def secret_line(self, agent: str) -> str:
        what = "a scene of objects" if self.kind == "clevr" else "a chart"
        return f"Your image shows {what}. Describe what you see in it; others cannot see your image."

    def side_line(self, agent: str) -> str:
        if agent in self.spies:
            change = (
                f"{self.num_edits} object(s) look different (colour, shape or size; none added, removed or moved)"
                if self.kind == "clevr"
                else "two attributes in the chart have been swapped"
            )
            return f"You are the spy: your image differs from the civilians' image ({change}). Blend in and survive."
        return "You are a civilian: find the spy, whose image differs slightly from yours."

    def secrets(self, agent: str) -> list[str]:
        # The image itself is never text; the side line is the private string (the instruction is shared).
        if self.finished or not self.spy_knows:
            return []
        return [self.side_line(agent)]

    def _check_clue(self, agent: str, clue: str) -> str | None:
        return None if clue else "A clue must say something about your image."

    def _extra_info(self, agent: str) -> dict[str, Any]:
        return {**super()._extra_info(agent), "difficulty": self.difficulty}

    def _end_words(self) -> dict[str, Any]:
        return {"scene": scenes.describe(self.original), "edits": list(self.edits), "scene_kind": self.kind}

    def _reveal_line(self) -> str:
        return "The spy image differed: " + "; ".join(self.edits) + "."
