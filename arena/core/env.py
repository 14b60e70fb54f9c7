"""``TextGameEnv``: the base class for turn-based text games on PettingZoo's ``AECEnv``.

A game subclass describes its rules through a few hooks (``_setup``, ``_play``, ``_header``,
``_prompt``, ``legal_actions``, ``secrets``) and calls helpers (``say``, ``tell``, ``reward``,
``set_turn``, ``end_game``, ``eliminate``). The base class owns the PettingZoo bookkeeping:

* agent selection, per-step ``rewards`` and ``_cumulative_rewards``, dead steps;
* actions (:mod:`arena.core.actions`): text of any size reaches ``_play`` cleaned and clipped; a
  non-text action raises ``ArenaError`` before anything changes;
* the invalid-move rule: a private warning and a retry (``invalid_retries``, default 1), then the
  game's penalty (``_on_invalid_exhausted``; forfeit by default in two-player games), or SPIRAL's
  rule with ``invalid_rule="spiral"`` (see :mod:`arena.core.episode`);
* termination (the game ended) vs truncation (``max_turns`` valid moves were played);
* eliminated players (``eliminate``) stay in ``agents``, never selected, with
  ``infos[agent]["eliminated"] = True``, until the game ends: then every agent is terminated and takes
  its dead step, so the end-of-game payout reaches eliminated players through ``last()`` too;
* ``infos[agent]``: for the acting agent ``legal_actions`` (finite move sets), ``answer`` (how to
  reply, :mod:`arena.core.answers`) and ``state_key`` (:mod:`arena.core.keys`); ``invalid_move``
  after an invalid action; ``role`` and the game's own keys for that agent only;
* ``infos[agent]["role"]`` is what ``told_role`` says the agent knows, ``infos[agent]["turn"]`` how
  many valid moves *this* agent has made (the game's total would count moves the agent may not see,
  such as Werewolf's night actions); every value must follow from what the agent observed
  (``arena.core.conformance.check_info_secrecy`` tests it);
* seeding: ``reset(seed)`` fixes the episode's ``np.random.Generator`` (``np_random``) and its Python
  ``random.Random`` (``py_random``), each made when the game first draws. A seed is None, an integer ≥ 0 (a
  numpy integer deals what the same Python int deals) or a numpy ``SeedSequence``/``Generator``; anything
  else is an ``ArenaError`` at ``reset``, in every game;
* transcript events and ``render_mode="ansi"``.

Simultaneous phases (votes, sealed bids) use :class:`SimultaneousPhase`: actions are buffered and
revealed together, so agents acting later in the AEC order learn nothing from earlier ones.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, ClassVar

from pettingzoo import AECEnv

from arena.core.episode import EpisodeBook
from arena.core.errors import ArenaError
from arena.core.infos import LazyInfos
from arena.core.observations import lazy_observation
from arena.core.replies import InvalidReply


def _reference_count(value: object) -> int:
    """CPython's reference count of ``value`` as a caller holding it in one local name sees it; 0 where
    the interpreter keeps none."""
    getrefcount = getattr(sys, "getrefcount", None)
    return 0 if getrefcount is None else getrefcount(value)


class _ReferenceProbe:
    """Holds a value in one attribute and reads it into one local name, as ``reset`` reads ``self.infos``."""

    def __init__(self) -> None:
        self.held = object()

    def count(self) -> int:
        held = self.held
        return _reference_count(held)


#: The reference count ``reset`` sees for ``self.infos`` when only the env holds it (measured, so it holds
#: on any CPython); 0 where there are no reference counts: then ``reset`` always freezes the old infos.
_OWN_REFERENCES = _ReferenceProbe().count()


class TextGameEnv(EpisodeBook, AECEnv):
    """Base class for turn-based text games. See the module docstring for the contract."""

    metadata: ClassVar[dict[str, Any]] = {
        "name": "text_game",
        "render_modes": ["ansi"],
        "render_fps": 1,
        "is_parallelizable": False,
    }

    def __init__(
        self,
        num_players: int,
        *,
        max_turns: int | None = None,
        invalid_retries: int = 1,
        invalid_rule: str = "default",
        render_mode: str | None = None,
    ) -> None:
        super().__init__()
        if max_turns is not None and (not isinstance(max_turns, int) or isinstance(max_turns, bool) or max_turns < 1):
            raise ArenaError(f"max_turns must be a positive integer or None, got {max_turns!r}")
        if not isinstance(invalid_retries, int) or isinstance(invalid_retries, bool) or invalid_retries < 0:
            raise ArenaError(f"invalid_retries must be a non-negative integer, got {invalid_retries!r}")
        self._init_book(num_players, render_mode, invalid_rule)
        self.max_turns = max_turns
        self.invalid_retries = invalid_retries

    # -- hooks every game implements ---------------------------------------------------------------
    def _setup(self) -> None:
        """Start a new episode: deal, assign roles, announce, and call ``set_turn`` for the first mover."""
        raise NotImplementedError

    def _play(self, agent: str, action: str) -> str | None:
        """Apply ``agent``'s action. Return None when it was valid, else the reason it was invalid
        (the state must then be unchanged)."""
        raise NotImplementedError

    def legal_actions(self, agent: str) -> list[str] | None:
        """The exact legal action strings for ``agent`` now, or None when the move set is open."""
        return None

    def _on_invalid_exhausted(self, agent: str, reason: str) -> None:
        """The penalty once an agent's retries are used up. Default: forfeit (two-player games)."""
        self.forfeit(agent, reason)

    def _on_truncation(self) -> None:
        """Pay anything owed when ``max_turns`` cuts the game short (default: nothing)."""

    def _truncation_info(self) -> dict[str, Any]:
        """End-of-game infos when ``max_turns`` cuts the game short (default: none)."""
        return {}

    # -- PettingZoo API ----------------------------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        infos = getattr(self, "infos", None)
        # Entries of last episode's infos not built yet are built now only when a caller still holds the
        # infos (it keeps that episode's values); nothing else can ever read them.
        if isinstance(infos, LazyInfos) and (not _OWN_REFERENCES or _reference_count(infos) > _OWN_REFERENCES):
            infos.freeze()
        del infos
        self._start_episode(seed)
        self.agents = list(self.possible_agents)
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._paid = True  # rewards may be non-zero (or not yet PettingZoo's int 0): clear them at the next step
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos: dict[str, dict[str, Any]] = LazyInfos(self._info, self.agents)
        self._invalid_moves: dict[str, str] = {}  # agent -> reason of its last move, until it moves again
        self._next_prompt: tuple[str, str] | None = None  # (acting agent, its prompt) once rendered
        self._invalid_streak = dict.fromkeys(self.agents, 0)
        self.eliminated: dict[str, str] = {}  # agent -> reason, in order of elimination
        self._moves_made = dict.fromkeys(self.agents, 0)
        self._skip_agent_selection = None
        self.agent_selection = self.agents[0]
        self._setup()
        self._publish_headers()
        self._after_move()

    def close(self) -> None:
        """Nothing to release but the infos' tie to the env, so a dropped env is freed at once (the env
        still works after ``close``)."""
        infos = getattr(self, "infos", None)
        if isinstance(infos, LazyInfos):  # pending entries are built first only when a caller holds the infos
            held = not _OWN_REFERENCES or _reference_count(infos) > _OWN_REFERENCES  # (before infos.detach binds it)
            infos.detach(freeze=held)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A copied or unpickled env (``copy.deepcopy``, ``pickle``): the infos arrive as a plain dict of
        the values as of the copy (``LazyInfos`` copies and pickles as data), so they are rebuilt around
        this env, those values kept until its next move; otherwise its next ``step`` would fail."""
        self.__dict__.update(state)
        infos = state.get("infos")
        if infos is not None and not isinstance(infos, LazyInfos):
            lazy = LazyInfos(self._info)
            lazy.update(infos)  # written values count as built: no rebuild before the next move
            self.infos = lazy

    def agent_iter(self, max_iter: int = 2**63) -> Iterator[str]:  # type: ignore[override]
        """PettingZoo's ``agent_iter`` (the acting agent until no agent is left, at most ``max_iter``
        times) as a generator: the same agents, without a Python ``__next__`` call per step."""
        for _ in range(min(max_iter, sys.maxsize)):  # 2**63 itself would take range's slow big-int path
            if not self.agents:
                return
            yield self.agent_selection

    def last(self, observe: bool = True) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """PettingZoo's ``last``: the selected agent's observation, cumulative reward, termination,
        truncation and infos."""
        if not self._ready:
            self._require_reset()
        agent = self.agent_selection
        assert agent is not None
        return (
            self.observe(agent) if observe else None,
            self._cumulative_rewards[agent],
            self.terminations[agent],
            self.truncations[agent],
            self.infos[agent],
        )

    def observe(self, agent: str) -> dict[str, Any]:
        if not self._ready:
            self._require_reset()
        prompt = ""
        if agent == self.agent_selection:
            next_prompt = self._next_prompt
            if next_prompt is not None and next_prompt[0] == agent:  # rendered for this move: agent is live
                prompt = next_prompt[1]
            elif self._is_live(agent):
                prompt = self._acting_prompt(agent)
        if self.image_shape is None and self._lazy_text:  # _observation(agent, prompt), inlined for text games
            return lazy_observation(self._compose, self._headers.get(agent, ""), self.log, agent, prompt)
        return self._observation(agent, prompt)

    def step(self, action: Any) -> None:
        if not self._ready:
            self._require_reset()
        agent = self.agent_selection
        terminations = self.terminations
        if agent not in terminations:
            raise ArenaError("the episode is over: call reset()")
        if terminations[agent] or self.truncations[agent]:
            self._was_dead_step(None)  # PettingZoo wants None here; any action is ignored
            return
        text = self._coerce_action(action, agent)  # ArenaError for a non-text action, before any change
        self._cumulative_rewards[agent] = 0.0
        if self._paid:  # _clear_rewards, only when a reward was paid since the last clear
            rewards = self.rewards
            for other in rewards:
                rewards[other] = 0
            self._paid = False
        self._next_prompt = None
        if self._invalid_moves:
            self._invalid_moves.pop(agent, None)
        if isinstance(text, InvalidReply):  # a reply with no move: nothing reaches the rules
            event = {"event": "action", "agent": agent, "text": "", "turn": self.turn}
            self.transcript.append(event)
            reason: str | None = text.clean_reason()
        else:
            event = {"event": "action", "agent": agent, "text": text, "turn": self.turn}
            self.transcript.append(event)
            reason = self._play(agent, text)
        if reason is None:
            self._invalid_streak[agent] = 0
            self._moves_made[agent] += 1  # count_move(agent), inlined
            self.turn += 1
        else:
            event["invalid"] = str(reason)
            self._handle_invalid(agent, str(reason))
        if not self.finished and self.max_turns is not None and self.turn >= self.max_turns:
            self._truncate()
        self._after_move()

    def _was_dead_step(self, action: Any) -> None:
        """PettingZoo's dead step with the same effects in the same order (the finished agent leaves
        ``agents`` and every per-agent dict, the next dead agent or the saved live one is selected, rewards
        are cleared), written for the end of every episode: no assert, no ``getattr``, no second scan."""
        if action is not None:
            raise ValueError("when an agent is dead, the only valid action is None")
        agent = self.agent_selection
        terminations, truncations, rewards = self.terminations, self.truncations, self.rewards
        del terminations[agent], truncations[agent], rewards[agent], self._cumulative_rewards[agent]
        del self.infos[agent]
        agents = self.agents
        agents.remove(agent)
        for other in agents:  # the first agent still dead, if any
            if terminations[other] or truncations[other]:
                if self._skip_agent_selection is None:
                    self._skip_agent_selection = agent
                self.agent_selection = other
                break
        else:
            if self._skip_agent_selection is not None:
                self.agent_selection = self._skip_agent_selection
            self._skip_agent_selection = None
        for other in rewards:  # _clear_rewards
            rewards[other] = 0

    # -- helpers for game code ---------------------------------------------------------------------
    def count_move(self, agent: str) -> None:
        """Count a move by ``agent`` toward ``max_turns`` and its ``infos[agent]["turn"]``. The base class
        counts every valid move; a game whose invalid moves still use a turn (household) calls it too."""
        self._moves_made[agent] += 1
        self.turn += 1

    def set_turn(self, agent: str) -> None:
        """Make ``agent`` the one to act next."""
        if agent not in self.possible_agents:
            raise ValueError(f"unknown agent {agent!r}")
        self.agent_selection = agent

    def next_live_agent(self, after: str, among: Sequence[str] | None = None) -> str:
        """The first agent after ``after`` in seat order that is still playing."""
        order = list(among) if among is not None else self.possible_agents
        start = order.index(after) if after in order else -1
        for k in range(1, len(order) + 1):
            candidate = order[(start + k) % len(order)]
            if self._is_live(candidate):
                return candidate
        raise ArenaError("no live agent left")

    def end_game(
        self,
        reason: str,
        *,
        winners: Iterable[str] = (),
        rewards: dict[str, float] | None = None,
        info: dict[str, Any] | None = None,
    ) -> None:
        """Finish the episode: pay ``rewards``, terminate every agent, announce and record the result.
        ``info`` (public end-of-game metrics) is merged into every remaining agent's infos."""
        if self.finished:
            return
        for agent, value in (rewards or {}).items():
            self.reward(agent, value)
        self.winners = list(winners)
        self.end_reason = reason
        self.finished = True
        self._final_info = dict(info or {})
        self._next_prompt = None  # nobody acts any more
        self.say(f"Game over: {reason}", kind="result")
        for agent in self.agents:
            self.terminations[agent] = True
        self.transcript.record(
            "end", reason=reason, winners=self.winners, returns=dict(self.returns), info=self._final_info
        )

    def forfeit(self, agent: str, reason: str) -> None:
        """The offender loses 1, every other player shares +1 (two-player forfeit: -1/+1)."""
        others = [a for a in self.possible_agents if a != agent]
        rewards = {agent: -1.0, **{a: 1.0 / len(others) for a in others}} if others else {agent: -1.0}
        self.end_game(f"{agent} forfeits after repeated invalid moves ({reason})", winners=others, rewards=rewards)

    def eliminate(self, agent: str, reason: str = "") -> None:
        """Take ``agent`` out of play mid-game. It stays in ``agents`` and is never selected again; when
        the game ends it is terminated with the others, so its final reward reaches it through
        ``last()``. The game must then ``set_turn`` to a live agent if ``agent`` was to act."""
        if self._is_live(agent):
            self.eliminated[agent] = reason
            self._next_prompt = None
            self.transcript.record("eliminated", agent=agent, reason=reason, turn=self.turn)

    # -- internals ---------------------------------------------------------------------------------
    def _is_live(self, agent: str) -> bool:
        return (
            agent in self.terminations
            and not (self.terminations[agent] or self.truncations[agent])
            and agent not in self.eliminated
        )

    def _handle_invalid(self, agent: str, reason: str) -> None:
        self.invalid_counts[agent] += 1
        self._invalid_streak[agent] += 1
        self._invalid_moves[agent] = reason
        if self.invalid_rule == "spiral":
            self.pay_spiral_penalty([agent], reason)
        elif self._invalid_streak[agent] <= self.invalid_retries:
            left = self.invalid_retries - self._invalid_streak[agent] + 1
            self.tell(agent, f"Invalid move: {reason} Try again ({left} attempt(s) left).", kind="warning")
            self.agent_selection = agent
        else:
            self._invalid_streak[agent] = 0
            self._on_invalid_exhausted(agent, reason)

    def _truncate(self) -> None:
        self._on_truncation()
        self.end_reason = f"turn limit ({self.max_turns}) reached"
        self.finished = True
        self._next_prompt = None
        self._final_info = dict(self._truncation_info())
        self.say(f"Game over: {self.end_reason}", kind="result")
        for agent in self.agents:
            self.truncations[agent] = True
        self.transcript.record(
            "end",
            reason=self.end_reason,
            winners=self.winners,
            returns=dict(self.returns),
            truncated=True,
            info=self._final_info,
        )

    def _after_move(self) -> None:
        """The move is complete: infos are rebuilt when next read, the next prompt is recorded, and dead
        agents are queued for their final step."""
        if self._paid:  # _accumulate_rewards (adding zeros changes nothing)
            cumulative = self._cumulative_rewards
            for agent, reward in self.rewards.items():
                cumulative[agent] += reward
        acting = self.agent_selection
        self._info_actor = acting  # infos are built as of now, before dead agents take the selection
        self.infos.refresh()
        if self._is_live(acting):
            prompt = self._prompt(acting)
            self._next_prompt = (acting, prompt)
            self.transcript.append({"event": "prompt", "agent": acting, "text": prompt, "turn": self.turn})
        # Games end through end_game or a truncation, both setting finished.
        if self.finished and (any(self.terminations.values()) or any(self.truncations.values())):
            self._deads_step_first()

    def _acting_prompt(self, agent: str) -> str:
        """``_prompt(agent)`` of the acting agent, rendered once per move (the transcript and ``observe``
        share it)."""
        if self._next_prompt is None or self._next_prompt[0] != agent:
            self._next_prompt = (agent, self._prompt(agent))
        return self._next_prompt[1]

    def _info(self, agent: str) -> dict[str, Any]:
        """``infos[agent]`` as of the last completed move (see :mod:`arena.core.infos`)."""
        acting = (  # selected after the move and still live (_is_live, inlined)
            agent == self._info_actor
            and agent in self.terminations
            and not (self.terminations[agent] or self.truncations[agent])
            and agent not in self.eliminated
        )
        invalid = self._invalid_moves.get(agent) if self._invalid_moves else None
        return self._agent_info(agent, self._moves_made[agent], invalid, acting)


class SimultaneousPhase:
    """Buffered simultaneous moves inside an AEC game: each listed agent acts once, in seat order,
    and nothing is revealed until all have acted."""

    def __init__(self, agents: Iterable[str]) -> None:
        self.order = list(agents)
        self.moves: dict[str, str] = {}

    @property
    def waiting(self) -> list[str]:
        return [a for a in self.order if a not in self.moves]

    @property
    def complete(self) -> bool:
        return not self.waiting

    def submit(self, agent: str, move: str) -> None:
        if agent not in self.order or agent in self.moves:
            raise ValueError(f"{agent} cannot move in this phase")
        self.moves[agent] = move

    def drop(self, agent: str) -> None:
        """Stop waiting for an agent (eliminated mid-phase)."""
        if agent in self.order and agent not in self.moves:
            self.order.remove(agent)
