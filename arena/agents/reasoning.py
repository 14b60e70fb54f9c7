"""The spectator-only record of each LLM reply: a ``reasoning`` transcript event.

A model's reply (its ``<think>`` reasoning, its answer, anything around them) never reaches another
player: only the answer does (:mod:`arena.agents.answers`). The match runners still keep the whole reply
in the match transcript, as one ``reasoning`` event per decision, recorded just before the decision's
``action`` event::

    {"event": "reasoning", "agent": "player_2", "turn": 7, "text": "<think>…</think><answer>[3]</answer>",
     "answer": "[3]", "finish_reason": "stop"}

``answer`` is what the game received (None when the reply had no move; the ``action`` event that follows
then has the invalid reason). ``Transcript.view(agent)``, observations and the viewers' public and player
views ignore the event; a spectator sees it only with ``--reveal``.
"""

from __future__ import annotations

from typing import Any

from arena.core.replies import InvalidReply

REASONING_EVENT = "reasoning"


def record_reasoning(env: Any, seat: str, trace: Any) -> None:
    """Append ``seat``'s reply in ``trace`` (an ``ActionTrace``) to the env's transcript, if it has one."""
    raw = getattr(env, "unwrapped", env)
    transcript = getattr(raw, "transcript", None)
    if transcript is None:
        return
    answer = None if isinstance(trace.action, InvalidReply) else str(trace.action)
    transcript.record(
        REASONING_EVENT,
        agent=seat,
        turn=getattr(raw, "turn", None),
        text=str(trace.text),
        answer=answer,
        finish_reason=str(trace.finish_reason),
    )
