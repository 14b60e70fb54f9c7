"""Deliberately broken games: each builds in one defect the conformance harness must report.

:class:`HiddenChoice` is a correct four-player game with hidden moves; its ``leak`` option adds one
secrecy defect. The other classes each copy one hostile-input defect arena's own games used to have.
"""

from __future__ import annotations

from typing import Any

from arena.core.env import TextGameEnv
from arena.core.spaces import MAX_ACTION_CHARS, clean_text, clip_text
from arena.envs.public_goods import PublicGoodsEnv

LEAKS = ("role", "counter", "key")
PICKS = ["[0]", "[1]", "[2]"]
PRIVATE = ["[a]", "[b]"]


class HiddenChoice(TextGameEnv):
    """Two rounds. ``player_0`` secretly picks ``[1]`` or ``[2]`` (that player then makes a private move
    ``[a]`` or ``[b]``) or ``[0]`` (nobody does); then ``player_3`` speaks to everyone. ``player_3`` has a
    hidden side it is never told. ``leak``: ``"role"`` publishes that side in its infos, ``"counter"`` the
    game's total move count, ``"key"`` a state key that covers the private moves."""

    metadata = {**TextGameEnv.metadata, "name": "hidden_choice"}

    def __init__(self, leak: str | None = None) -> None:
        super().__init__(4)
        self.leak = leak

    def _setup(self) -> None:
        self.side = str(self.rng.choice(["red", "blue"]))
        self.round, self.stage, self.private = 1, "pick", []
        self.say("Hidden choice begins: two rounds.")
        self.set_turn("player_0")

    def _header(self, agent: str) -> str:
        return f"You are {agent}. player_0 picks who moves in secret; player_3 speaks."

    def _prompt(self, agent: str) -> str:
        legal = self.legal_actions(agent)
        return f"Your move: {' '.join(legal)}" if legal else "Your move: say something."

    def told_role(self, agent: str) -> str:
        return self.side if self.leak == "role" and agent == "player_3" else "player"

    def legal_actions(self, agent: str) -> list[str] | None:
        return {"pick": PICKS, "private": PRIVATE}.get(self.stage)

    def _play(self, agent: str, action: str) -> str | None:
        legal = self.legal_actions(agent)
        if legal is not None and action.strip() not in legal:
            return f"Answer one of {' '.join(legal)}."
        move = action.strip()
        if self.stage == "pick":
            chosen = int(move[1])
            self.stage = "private" if chosen else "speak"
            if chosen:
                self.tell(f"player_{chosen}", "You were picked: play [a] or [b].")
            self.set_turn(f"player_{chosen}" if chosen else "player_3")
        elif self.stage == "private":
            self.private.append(move)
            self.tell(agent, f"You played {move}.")
            self.stage = "speak"
            self.set_turn("player_3")
        else:
            self.say(move or "...", sender=agent, kind="chat")
            if self.round == 2:
                self.end_game("two rounds played")
            else:
                self.round, self.stage = 2, "pick"
                self.set_turn("player_0")
        return None

    def _on_invalid_exhausted(self, agent: str, reason: str) -> None:
        self._play(agent, (self.legal_actions(agent) or ["..."])[0])

    def _extra_info(self, agent: str) -> dict[str, Any]:
        return {"moves": self.turn} if self.leak == "counter" else {}

    def information_state(self, agent: str) -> Any:
        if self.leak == "key":  # hashed into infos["state_key"]: covers moves the player never saw
            return {"round": self.round, "stage": self.stage, "private": self.private}
        return super().information_state(agent)


def str_coercion(action: Any, agent: str = "") -> str:
    """The old action rule: ``str()`` of anything (raises for huge ints and hostile objects)."""
    return clip_text(clean_text(str(action)), MAX_ACTION_CHARS)


class StrCoercion(HiddenChoice):
    """Accepts any object as its ``str()``: a list ``[1]`` plays the move "[1]"; ``10**5000`` raises."""

    _coerce_action = staticmethod(str_coercion)


class RecordsBeforeRefusing(HiddenChoice):
    """Refuses a non-text action with ``ArenaError``, but only after writing to the transcript."""

    def step(self, action: Any) -> None:
        if self.agents:
            self.transcript.record("action", agent=self.agent_selection, text="?", turn=self.turn)
        super().step(action)


class ParsesAnyNumber(HiddenChoice):
    """Reads every digit of a move as one number: a flood of digits passes Python's int-conversion limit."""

    def _play(self, agent: str, action: str) -> str | None:
        digits = "".join(c for c in action if c.isdigit())
        if digits and int(digits) > 2:
            return "No such player."
        return super()._play(agent, action)


class StrCoercionPublicGoods(PublicGoodsEnv):
    """Public goods (a native Parallel game) with the old action rule."""

    _coerce_action = staticmethod(str_coercion)
