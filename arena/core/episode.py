"""Bookkeeping shared by turn-based (AEC) and simultaneous (Parallel) text games.

:class:`EpisodeBook` owns what every game repeats: agent names, spaces, the seeded RNG, the message
store, the transcript, per-agent returns, observation rendering and ``render_mode="ansi"``, the
acting agent's turn infos (``legal_actions``, ``answer``, ``state_key``) and the choice of
invalid-move rule. The two base classes in :mod:`arena.core.env` and :mod:`arena.core.parallel` add
the stepping protocol.

Invalid-move rules (``invalid_rule``, every game's kwarg):

* ``"default"``: the game's own documented rule (AEC: a private warning and ``invalid_retries``
  retries, then the game's penalty; Parallel: the game's default move);
* ``"spiral"``: SPIRAL's rule (Liu et al. 2025): the first invalid move ends the game, no retry; the
  offender receives −1.5 and every other player +0.5, on top of what the game already paid.
"""

from __future__ import annotations

import functools
import numbers
import random
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from arena.core.actions import action_text
from arena.core.answers import text_answer
from arena.core.errors import ArenaError
from arena.core.infos import turn_info
from arena.core.keys import state_digest
from arena.core.messages import GAME, Message, MessageLog
from arena.core.observations import lazy_observation
from arena.core.replies import InvalidReply
from arena.core.spaces import MAX_ACTION_CHARS, clean_text, text_action_space, text_observation_space
from arena.core.transcript import Transcript, compose_observation

INVALID_RULES = ("default", "spiral")
#: SPIRAL's invalid-move payoffs (offender, every other player).
SPIRAL_OFFENDER_REWARD = -1.5
SPIRAL_OTHER_REWARD = 0.5


#: ``Message(*fields)`` without the named tuple's Python-level ``__new__``.
_message = functools.partial(tuple.__new__, Message)


def _expanded_digest(expand: Callable[[Any], Any], snapshot: Any) -> str:
    """The state key of a turn whose information state is ``expand(snapshot)``."""
    return state_digest(expand(snapshot))


def pick(rng: np.random.Generator, items: Sequence[Any]) -> Any:
    """One element of ``items`` drawn uniformly: the same draw, from the same random stream, as
    ``rng.choice(items)`` for a 1-D sequence (numpy draws ``integers(len(items))`` and indexes), without
    turning the sequence into an array (five times faster for a short list of names)."""
    return items[int(rng.integers(len(items)))]


#: ``clean_text`` of a header, remembered: headers are long (the rules) and repeat from episode to episode.
_clean_header = functools.lru_cache(maxsize=256)(clean_text)


@functools.lru_cache(maxsize=64)
def _seats(num_players: int) -> tuple[tuple[str, ...], dict[str, frozenset[str]]]:
    """The agent names of a ``num_players`` game and each one's recipient set ``{agent}`` (made once per size;
    the dict is only read)."""
    names = tuple(f"player_{i}" for i in range(num_players))
    return names, {a: frozenset((a,)) for a in names}


class EpisodeBook:
    """Mixin with the per-episode state of an arena game. Subclasses describe only the rules."""

    metadata: ClassVar[dict[str, Any]] = {"name": "arena_game", "render_modes": ["ansi"], "render_fps": 1}
    #: Image shape for visual games (``None`` for text-only games).
    image_shape: ClassVar[tuple[int, int, int] | None] = None

    # Set by the registry so transcripts can say which game and kwargs they came from.
    env_id: str = ""
    env_kwargs: Mapping[str, Any] = {}

    #: True where ``_header(agent)`` depends only on the agent and the constructor's arguments (nothing dealt
    #: at reset): the headers are then built once per env instead of at every reset. A subclass that
    #: overrides ``_header`` without setting this again is taken as dynamic (False).
    static_headers: ClassVar[bool] = False

    #: True while ``_observation_text`` is the base's: observations then join their text on first read
    #: (:mod:`arena.core.observations`). Set per class.
    _lazy_text: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "_header" in cls.__dict__ and "static_headers" not in cls.__dict__:
            cls.static_headers = False
        cls._lazy_text = cls._observation_text is EpisodeBook._observation_text

    def _init_book(self, num_players: int, render_mode: str | None, invalid_rule: str = "default") -> None:
        if not isinstance(num_players, int) or isinstance(num_players, bool) or num_players < 1:
            raise ArenaError(f"num_players must be a positive integer, got {num_players!r}")
        if invalid_rule not in INVALID_RULES:
            raise ArenaError(f"invalid_rule must be one of {list(INVALID_RULES)}, got {invalid_rule!r}")
        self.invalid_rule = invalid_rule
        modes = self.metadata.get("render_modes", [])
        if render_mode is not None and render_mode not in modes:
            raise ArenaError(f"render_mode={render_mode!r} is not supported; choose one of {modes} or None")
        self.render_mode = render_mode
        self.num_players = num_players
        names, self._solo = _seats(num_players)  # tell()'s recipient sets: read only, shared by every env
        self.possible_agents = list(names)
        self._spaces: tuple[dict[str, spaces.Space], dict[str, spaces.Space]] | None = None  # built on first use
        self._ready = False

    # -- spaces ------------------------------------------------------------------------------------
    def observation_space(self, agent: str) -> spaces.Space:
        return self._agent_spaces()[0][agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self._agent_spaces()[1][agent]

    def _agent_spaces(self) -> tuple[dict[str, spaces.Space], dict[str, spaces.Space]]:
        """(observation spaces, action spaces) by agent, made on first use: gymnasium's ``Text`` spaces
        cost more to build than a whole episode, and most runs never ask for them. PettingZoo asserts
        the same space object is returned on every call."""
        if self._spaces is None:
            observation_space = text_observation_space(self.image_shape)
            self._spaces = (
                {a: observation_space for a in self.possible_agents},
                {a: text_action_space() for a in self.possible_agents},
            )
        return self._spaces

    # -- episode start -----------------------------------------------------------------------------
    def _start_episode(self, seed: int | None) -> None:
        """Fresh RNG, message store, transcript and returns; called first thing in ``reset``."""
        generator = None  # made on first use for a plain int: seeding costs ~10 us
        if seed is not None and type(seed) is not int:
            if isinstance(seed, numbers.Integral):  # a numpy integer (seeds drawn from an array) is its int
                seed = int(seed)
            else:  # a SeedSequence or Generator is used as numpy uses it; anything else is refused now
                generator = _checked_generator(seed)
        if type(seed) is int and seed < 0:
            raise ArenaError(f"seed must be a non-negative integer or None, got {seed}")
        self._np_random: np.random.Generator | None = generator
        self._py_random: random.Random | None = None  # likewise (~5 us)
        self.seed_used = seed
        self.turn = 0
        self.phase = ""
        self.log = MessageLog(tuple(self.possible_agents))
        self.transcript = Transcript()
        self.returns: dict[str, float] = dict.fromkeys(self.possible_agents, 0.0)
        self.winners: list[str] = []
        self.end_reason = ""
        self.finished = False
        self.invalid_counts: dict[str, int] = dict.fromkeys(self.possible_agents, 0)
        self._headers: dict[str, str] = {}
        self._ready = True

    def _publish_headers(self) -> None:
        """Fix each agent's header (rules + private setup) and write the transcript's reset event."""
        headers = self.__dict__.get("_static_headers") if self.static_headers else None
        if headers is None:
            headers = {a: _clean_header(self._header(a)) for a in self.possible_agents}
            if self.static_headers:
                self._static_headers = headers  # never changed: every episode's _headers is this dict
        self._headers = headers
        self.transcript.record_first(
            "reset",
            env_id=self.env_id or self.metadata.get("name", ""),
            # a SeedSequence or Generator seed is named, not kept: a transcript holds JSON
            seed=self.seed_used if self.seed_used is None or type(self.seed_used) is int else repr(self.seed_used),
            kwargs=dict(self.env_kwargs),
            agents=list(self.possible_agents),
            headers=dict(self._headers),
            roles={a: self.role(a) for a in self.possible_agents},
        )

    @property
    def np_random(self) -> np.random.Generator:
        """The episode's numpy random stream: ``np.random.default_rng(seed)`` of the last
        ``reset(seed)``, made when a game first draws from it (many games never do)."""
        if self._np_random is None:
            seed = self.seed_used
            # default_rng(seed) builds exactly this generator (the same stream) for an int or None, at a third
            # more cost; anything else it takes (a Generator, a SeedSequence) still goes through it
            self._np_random = (
                np.random.Generator(np.random.PCG64(seed))
                if seed is None or type(seed) is int
                else np.random.default_rng(seed)
            )
        return self._np_random

    @np_random.setter
    def np_random(self, generator: np.random.Generator) -> None:
        self._np_random = generator

    @property
    def py_random(self) -> random.Random:
        """The episode's stream of Python draws: ``random.Random(seed)`` of the last ``reset(seed)``, made
        when a game first draws from it. For games whose draws are a few small integers (a deal, a
        shuffle of six roles): seeding it costs half of numpy's generator and a draw a fifth of
        ``integers``. Like ``np_random``, the seed fixes it."""
        if self._py_random is None:
            seed = self.seed_used
            if seed is None or (type(seed) is int and seed >= 0):
                self._py_random = random.Random(seed)
            else:  # what np_random accepts besides (or refuses: a negative int) decides; 63 bits of it seed this
                self._py_random = random.Random(int(self.np_random.integers(2**63)))
        return self._py_random

    @property
    def rng(self) -> np.random.Generator:
        """The episode's numpy random stream (``np_random``), fixed by ``reset(seed)``."""
        return self.np_random

    def _require_reset(self) -> None:
        if not self._ready:
            raise ArenaError(f"{type(self).__name__}: call reset() first")

    # -- hooks a game may override -----------------------------------------------------------------
    def _header(self, agent: str) -> str:
        """Rules and the agent's private setup, fixed for the episode (shown first in every observation)."""
        return ""

    def _prompt(self, agent: str) -> str:
        """What the acting agent is asked now (board, legal moves). Shown only on its turn."""
        return ""

    def _image(self, agent: str) -> np.ndarray:
        """The agent's image for visual games."""
        raise NotImplementedError

    def role(self, agent: str) -> str:
        """The agent's role (private unless the game says otherwise)."""
        return "player"

    def told_role(self, agent: str) -> str:
        """The role ``agent`` has been told, published as ``infos[agent]["role"]``. Default: its
        ``role``; a game that hides an agent's own role from it (Who is the Spy) overrides this."""
        return self.role(agent)

    def secrets(self, agent: str) -> list[str]:
        """Strings only ``agent`` may see right now; no other agent's observation or info may contain them."""
        return []

    def _extra_info(self, agent: str) -> dict[str, Any]:
        """Extra keys for ``infos[agent]`` (only that agent sees them)."""
        return {}

    def spectator_text(self) -> str:
        """A full-information summary of the state for spectators (``render``)."""
        return ""

    def answer_spec(self, agent: str, legal: list[str] | None) -> dict[str, Any]:
        """How ``agent`` should reply now (``infos[agent]["answer"]``, see :mod:`arena.core.answers`);
        ``legal`` is ``legal_actions(agent)``. Default: a choice when the game lists legal actions,
        else free text up to the action limit."""
        if legal:
            return {"kind": "choice", "example": legal[0]}  # choice_answer(legal), inlined: asked every turn
        return text_answer("ok", MAX_ACTION_CHARS)

    def information_state(self, agent: str) -> Any:
        """What ``agent`` knows now, as plain data: its private information and the public state, not
        the wording of player-written text. Hashed into ``infos[agent]["state_key"]`` when that key is
        first read, so the data must be new (build lists and dicts; never return the game's own
        containers, which later moves change; tuples the game replaces rather than changes may be shared).
        With ``_expand_snapshot`` set it is that function of ``_state_snapshot(agent)``. Otherwise the default
        is the agent's whole observation text (correct, but it splits situations that differ only in
        wording); games override it with a structured description."""
        expand = self._expand_snapshot
        if expand is not None:
            return expand(self._state_snapshot(agent))
        return {"agent": agent, "observation": self._observation_text(agent, self._prompt(agent))}

    #: For a game whose information state costs much to build on every turn (werewolf, Kuhn Poker, negotiation): a
    #: function (a ``staticmethod``) that turns ``_state_snapshot(agent)``, a cheaper capture taken on every turn, into
    #: ``information_state(agent)`` as of the capture whenever it is called; the state key is digested from
    #: it when first read. None: the information state is built on every turn.
    _expand_snapshot: ClassVar[Callable[[Any], Any] | None] = None

    def _state_snapshot(self, agent: str) -> Any:
        """What ``_expand_snapshot`` needs to rebuild this turn's ``information_state`` later (see above)."""
        raise NotImplementedError

    def state_key(self, agent: str) -> str:
        """A stable hex digest of :meth:`information_state` (see :mod:`arena.core.keys`)."""
        return state_digest(self.information_state(agent))

    # -- helpers for game code -----------------------------------------------------------------------
    def say(
        self,
        text: str,
        *,
        to: Iterable[str] | None = None,
        kind: str = "info",
        sender: str = GAME,
    ) -> None:
        """Append a message; ``to=None`` broadcasts, otherwise only the listed agents see it (``ValueError``
        for an agent the game does not have). Each agent's history renders it when read."""
        # tuple.__new__ skips the named tuple's Python-level __new__ (same object, a game says a lot)
        if to is None:  # a broadcast needs no recipient check: append it directly
            message = _message((sender, text, None, kind, self.phase, self.turn))
            self.log.messages.append(message)
        else:
            recipients = to if type(to) is frozenset else frozenset(to)
            message = _message((sender, text, recipients, kind, self.phase, self.turn))
            self.log.add(message)  # checks the recipients
        self.transcript.append(message)

    def tell(self, agent: str, text: str, *, kind: str = "private") -> None:
        """A private message from the game to one agent."""
        to = self._solo.get(agent)  # the agent's own recipient set; None for an agent the game does not have
        if to is None:
            self.say(text, to=(agent,), kind=kind)  # refused there, with the reason
            return
        message = _message((GAME, text, to, kind, self.phase, self.turn))  # say(text, to=to), inlined
        self.log.messages.append(message)
        self.transcript.append(message)

    def new_section(self, title: str = "") -> None:
        """Clear every agent's visible history (a new hand or round); ``title`` opens the new section."""
        self.log.new_section()
        self.transcript.append({"event": "section", "title": title, "turn": self.turn})
        if title:
            self.say(title)

    def reward(self, agent: str, value: float) -> None:
        """Pay ``value`` to ``agent`` now. Counted in ``returns`` even after the agent has left."""
        value = float(value)
        self.returns[agent] += value
        rewards = getattr(self, "rewards", None)
        if rewards is not None and agent in rewards:
            rewards[agent] += value
            self._paid = True  # the AEC base clears and accumulates rewards only after a payment
        if value:
            self.transcript.append({"event": "reward", "agent": agent, "value": value, "turn": self.turn})

    def pay_spiral_penalty(self, offenders: Collection[str], reason: str) -> None:
        """SPIRAL's rule: each offender −1.5, every other player +0.5, and the game ends."""
        for agent in self.possible_agents:
            self.reward(agent, SPIRAL_OFFENDER_REWARD if agent in offenders else SPIRAL_OTHER_REWARD)
        names = ", ".join(sorted(offenders))
        others = [a for a in self.possible_agents if a not in offenders]
        self.end_game(f"invalid move by {names} ({reason}); the game ends (invalid_rule='spiral')", winners=others)  # type: ignore[attr-defined]

    def _agent_info(self, agent: str, turn: int, invalid: str | None, acting: bool) -> dict[str, Any]:
        """``infos[agent]``: told role, ``turn``, the last move's ``invalid`` reason, ``eliminated``, the game's
        own keys, then the end-of-game keys or, for an ``acting`` agent, the turn's keys."""
        info: dict[str, Any] = {"role": self.told_role(agent), "turn": turn}
        if invalid is not None:
            info["invalid_move"] = invalid
        if agent in self.eliminated:  # type: ignore[attr-defined]
            info["eliminated"] = True
        info.update(self._extra_info(agent))
        if self.finished:
            info.update(self._final_info)  # type: ignore[attr-defined]
            return info
        if not acting:
            return info
        # The acting agent's turn keys: legal_actions (finite move sets), answer, and state_key,
        # digested from the information state of now when first read.
        legal = self.legal_actions(agent)  # type: ignore[attr-defined]
        if legal is not None:
            info["legal_actions"] = legal
        info["answer"] = self.answer_spec(agent, legal)
        expand = self._expand_snapshot
        if expand is None:
            return turn_info(info, state_digest, self.information_state(agent))
        return turn_info(info, _expanded_digest, expand, self._state_snapshot(agent))

    # -- observations ------------------------------------------------------------------------------
    #: How an observation's text is joined from (header, visible lines, prompt); a game whose text must stay
    #: bounded swaps in its own function (werewolf's ``bounded_observation``). Observations join it lazily.
    _compose: ClassVar[Callable[[str, list[str], str], str]] = staticmethod(compose_observation)

    def _observation_text(self, agent: str, prompt: str) -> str:
        """``agent``'s observation text now. A game should change ``_compose``, not this: a subclass that
        overrides this method gets eager observations (its text may read any state, which later moves change)."""
        return self._compose(self._headers.get(agent, ""), self.log.lines(agent), prompt)

    def _observation(self, agent: str, prompt: str) -> dict[str, Any]:
        if self._lazy_text:
            obs: dict[str, Any] = lazy_observation(self._compose, self._headers.get(agent, ""), self.log, agent, prompt)
        else:
            obs = {"text": self._observation_text(agent, prompt)}
        if self.image_shape is not None:
            obs["image"] = self._image(agent)
        return obs

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        if not self._ready:
            return ""
        lines = [m.render() + ("" if m.to is None else f"  (to {', '.join(sorted(m.to))})") for m in self.log.messages]
        status = self.spectator_text()
        return "\n".join(lines + ([status] if status else []))

    def close(self) -> None:
        pass

    @staticmethod
    def _coerce_action(action: Any, agent: str = "") -> str | InvalidReply:
        """Agent output is untrusted input: text of any size becomes a clean, clipped string; a
        non-text action raises ``ArenaError`` (see :mod:`arena.core.actions`)."""
        return action_text(action, agent)


def _checked_generator(seed: Any) -> np.random.Generator:
    """``np.random.default_rng(seed)`` for a seed that is not an integer (a ``SeedSequence``, a ``Generator``),
    or an :class:`ArenaError` that names the seed: a game that never draws
    would otherwise accept a float or a string silently, and one that does would fail deep inside numpy."""
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as err:
        raise ArenaError(f"seed must be a non-negative integer or None, got {seed!r} ({err})") from None
