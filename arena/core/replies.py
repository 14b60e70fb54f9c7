"""``InvalidReply``: what an agent sends instead of text when its reply carries no move.

An LLM reply with no closed ``<answer>…</answer>`` must not reach the game (its text may hold private
reasoning), yet the game must still apply its invalid-move rule. The agent sends
``InvalidReply("no closed answer")``; the base classes record an empty action and treat it as an
invalid move with that reason, without passing anything to the game's rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from arena.core.spaces import clean_text, clip_text

MAX_REASON_CHARS = 200


@dataclass(frozen=True)
class InvalidReply:
    """A reply without a move; ``reason`` is shown to the replying agent only, in the invalid-move warning."""

    reason: str = "no closed answer"

    def clean_reason(self) -> str:
        return clip_text(clean_text(str(self.reason)), MAX_REASON_CHARS) or "no move"
