"""``TextParallelEnv``: the base class for games whose moves are simultaneous (a native ``ParallelEnv``).

Each ``step(actions)`` is one simultaneous move by every live agent. Game code implements
``_setup`` and ``_play_round(actions) -> {agent: invalid reason}`` and uses the same helpers as
turn-based games (``say``, ``tell``, ``reward``, ``end_game``). Invalid moves cannot be retried
without stalling everyone else, so the rule here is: a private warning, and the game's documented
default move is played in its place (``invalid_rule="spiral"``: the round is played that way, then
SPIRAL's penalty ends the game, see :mod:`arena.core.episode`). ``max_turns`` counts rounds (steps), and so
does ``infos[agent]["turn"]`` (every live agent takes part in, and sees, every round). Actions follow
:mod:`arena.core.actions`: a non-text action raises ``ArenaError`` before the round changes anything.
Every live agent acts each step, so each one's infos carry ``answer`` and ``state_key`` (and
``legal_actions`` for finite move sets). Eliminated agents stay in ``agents`` until the game ends
(their actions are ignored, ``infos[agent]["eliminated"]`` is True), so the final payout reaches them.

The AEC form is PettingZoo's ``parallel_to_aec`` conversion, refusing a non-text action at its sender's
step (:class:`~arena.core.actions.TextParallelToAEC`; ``arena.make`` applies it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from pettingzoo import ParallelEnv

from arena.core.episode import EpisodeBook
from arena.core.errors import ArenaError
from arena.core.replies import InvalidReply


class TextParallelEnv(EpisodeBook, ParallelEnv):
    """Base class for simultaneous-move text games."""

    metadata: ClassVar[dict[str, Any]] = {
        "name": "text_parallel_game",
        "render_modes": ["ansi"],
        "render_fps": 1,
        "is_parallelizable": True,
    }

    def __init__(
        self,
        num_players: int,
        *,
        max_turns: int | None = None,
        invalid_rule: str = "default",
        render_mode: str | None = None,
    ) -> None:
        if max_turns is not None and (not isinstance(max_turns, int) or isinstance(max_turns, bool) or max_turns < 1):
            raise ArenaError(f"max_turns must be a positive integer or None, got {max_turns!r}")
        self._init_book(num_players, render_mode, invalid_rule)
        self.max_turns = max_turns

    # -- hooks -------------------------------------------------------------------------------------
    def _setup(self) -> None:
        """Start a new episode (deal, announce)."""
        raise NotImplementedError

    def _play_round(self, actions: dict[str, str]) -> dict[str, str]:
        """Apply one simultaneous round. ``actions`` holds every live agent's text. Return
        ``{agent: reason}`` for invalid actions; the game must already have played its default move
        for those agents."""
        raise NotImplementedError

    def legal_actions(self, agent: str) -> list[str] | None:
        return None

    def _on_truncation(self) -> None:
        """Pay anything owed when ``max_turns`` cuts the game short."""

    # -- PettingZoo API ----------------------------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        self._start_episode(seed)
        self.agents = list(self.possible_agents)
        self.rewards = {a: 0.0 for a in self.agents}
        self._invalid: dict[str, str] = {}
        self._final_info: dict[str, Any] = {}
        self.eliminated: dict[str, str] = {}  # agent -> reason, in order of elimination
        self._setup()
        self._publish_headers()
        prompts = self._record_prompts()
        return {a: self._observation(a, prompts.get(a, "")) for a in self.agents}, self._infos()

    def observe(self, agent: str) -> dict[str, Any]:
        self._require_reset()
        return self._observation(agent, self._prompts.get(agent, "") if self._acting(agent) else "")

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        self._require_reset()
        if not self.agents:
            raise ArenaError("the episode is over: call reset()")
        if not isinstance(actions, Mapping):
            raise ArenaError(f"actions must be a mapping {{agent: text}}, got {type(actions).__name__}")
        present = list(self.agents)
        eliminated = self.eliminated
        live = [a for a in present if a not in eliminated] if eliminated else present
        coerced = {a: self._coerce_action(actions.get(a), a) for a in live}  # ArenaError before any change
        self.rewards = dict.fromkeys(present, 0.0)
        texts: dict[str, str] = coerced  # type: ignore[assignment]  # all text: the common round
        no_move: dict[str, str] = {}
        if not all(type(r) is str for r in coerced.values()):
            no_move = {a: r.clean_reason() for a, r in coerced.items() if isinstance(r, InvalidReply)}
            texts = {a: r if isinstance(r, str) else "" for a, r in coerced.items()}
        record, turn = self.transcript.append, self.turn
        for agent in live:
            record({"event": "action", "agent": agent, "text": texts[agent], "turn": turn})
        # A reply with no move plays as an empty action (the game's default) and is always invalid.
        self._invalid = dict(self._play_round(texts)) | no_move
        for agent, reason in self._invalid.items():
            self.invalid_counts[agent] += 1
            self.tell(agent, f"Invalid move: {reason} The default move was played for you.", kind="warning")
        if self._invalid and self.invalid_rule == "spiral":
            self.pay_spiral_penalty(list(self._invalid), "; ".join(self._invalid.values()))
        self.turn += 1
        truncated = False
        if not self.finished and self.max_turns is not None and self.turn >= self.max_turns:
            self._on_truncation()
            truncated = True
            self.finished = True
            self.end_reason = f"round limit ({self.max_turns}) reached"
            self.say(f"Game over: {self.end_reason}", kind="result")
            self.transcript.record(
                "end", reason=self.end_reason, winners=self.winners, returns=dict(self.returns), truncated=True, info={}
            )
        over = self.finished or truncated  # every agent's episode ends together
        terminations = dict.fromkeys(present, self.finished and not truncated)
        truncations = dict.fromkeys(present, truncated)
        rewards = dict(self.rewards)  # keys: present, in order
        infos = self._infos(present)
        self.agents = [] if over else present
        prompts = self._record_prompts()
        observations = {a: self._observation(a, prompts.get(a, "")) for a in present}
        return observations, rewards, terminations, truncations, infos

    # -- helpers -----------------------------------------------------------------------------------
    def end_game(
        self,
        reason: str,
        *,
        winners: Iterable[str] = (),
        rewards: dict[str, float] | None = None,
        info: dict[str, Any] | None = None,
    ) -> None:
        """Finish the episode after this round: pay ``rewards`` and record the result."""
        if self.finished:
            return
        for agent, value in (rewards or {}).items():
            self.reward(agent, value)
        self.winners = list(winners)
        self.end_reason = reason
        self.finished = True
        self._final_info = dict(info or {})
        self.say(f"Game over: {reason}", kind="result")
        self.transcript.record(
            "end", reason=reason, winners=self.winners, returns=dict(self.returns), info=self._final_info
        )

    def eliminate(self, agent: str, reason: str = "") -> None:
        """Take one agent out of play from the next round on; it stays in ``agents`` (its actions are
        ignored) until the game ends, so the final payout reaches it."""
        if agent in self.agents and agent not in self.eliminated:
            self.eliminated[agent] = reason
            self.transcript.record("eliminated", agent=agent, reason=reason, turn=self.turn)

    # -- internals ---------------------------------------------------------------------------------
    def _acting(self, agent: str) -> bool:
        return agent in self.agents and agent not in self.eliminated

    def _infos(self, agents: list[str] | None = None) -> dict[str, dict[str, Any]]:
        return {
            agent: self._agent_info(agent, self.turn, self._invalid.get(agent), agent not in self.eliminated)
            for agent in (agents if agents is not None else self.agents)
        }

    def _record_prompts(self) -> dict[str, str]:
        """Render each acting agent's prompt once for the round: recorded, and shown by observations."""
        eliminated = self.eliminated
        self._prompts = {a: self._prompt(a) for a in self.agents if a not in eliminated}  # the acting agents
        record, turn = self.transcript.append, self.turn
        for agent, prompt in self._prompts.items():
            record({"event": "prompt", "agent": agent, "text": prompt, "turn": turn})
        return self._prompts
