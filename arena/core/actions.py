"""What an action is, one rule for every game and every form (AEC, Parallel, and the conversions).

An action is **text**:

* a ``str`` of any size is agent text: control characters are dropped and it is clipped to
  ``MAX_ACTION_CHARS`` (keeping its end); the game's rules then judge it, so bad text is an invalid
  move, never a crash;
* ``bytes`` / ``bytearray`` are decoded as UTF-8 (bad bytes replaced), ``None`` is empty text;
* :class:`~arena.core.replies.InvalidReply` is a reply without a move (an invalid move with its reason).

Anything else (an ``int``, a ``dict``, an object whose ``__str__`` raises, ...) is a bug in the code
that drives the env, not agent text: :func:`action_text` raises :class:`ArenaError` naming the type,
and every arena env calls it *before* changing any state, so the episode can go on after the error.

:class:`TextParallelToAEC` and :class:`TextTurnBasedToParallel` are PettingZoo's conversions with this
rule applied at the step that receives the action (a bad action is refused before it is buffered) and
with the turn-based conversion's ``infos[agent]["active_agent"]`` given only to the agent that acts next
(PettingZoo's tells every player, which at night in Werewolf names the wolves, the seer and the doctor).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from typing import Any

from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec_wrapper, turn_based_aec_to_parallel_wrapper
from pettingzoo.utils.env_logger import EnvLogger
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from arena.core.errors import ArenaError
from arena.core.replies import InvalidReply
from arena.core.spaces import MAX_ACTION_CHARS, clean_text, clip_text

#: Characters kept before cleaning: bounds the work on a huge string (cleaning only shortens text).
_PRE_CLIP_CHARS = 4 * MAX_ACTION_CHARS


def action_text(action: Any, agent: str = "") -> str | InvalidReply:
    """The clean, clipped text of ``action`` (or the ``InvalidReply`` itself); ``ArenaError`` for any
    other type. Never calls the action's own methods, so a hostile object cannot raise from here."""
    if type(action) is str and len(action) <= MAX_ACTION_CHARS and action.isprintable():
        return action  # already clean and short (the common move): what the cleaning below would return
    if isinstance(action, InvalidReply):
        return action
    if action is None:
        text = ""
    elif isinstance(action, str):
        text = str.__str__(action)  # a plain str even for a subclass that overrides __str__
    elif isinstance(action, bytes | bytearray):
        kind = bytes if isinstance(action, bytes) else bytearray  # the base class's methods, not a subclass's
        tail = kind.__getitem__(action, slice(-_PRE_CLIP_CHARS, None))
        text = kind.decode(tail, "utf-8", errors="replace")
    else:
        who = f"{agent}'s action" if agent else "an action"
        raise ArenaError(
            f"{who} must be text (str, bytes, None or InvalidReply), got {type(action).__name__}; "
            "the env was not changed"
        )
    return clip_text(clean_text(text[-_PRE_CLIP_CHARS:]), MAX_ACTION_CHARS)


class TextParallelToAEC(parallel_to_aec_wrapper):
    """``parallel_to_aec`` that refuses a non-text action at the step of the agent that sent it,
    before buffering it (otherwise it would fail the whole round later, blamed on the last mover).
    Its ``step`` is PettingZoo's (1.27) with cheaper primitives: a round is a few microseconds of work."""

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            super().step(action)  # the dead step, as PettingZoo does it
            return
        if type(action) is not str:  # a str is always text; anything else is checked before it is buffered
            action_text(action, str(agent))
        self._actions[agent] = action
        selector = self._agent_selector
        # AgentSelector's own arithmetic, inlined: _current_agent is the index after the selected agent's,
        # 0 once the round's last actor is selected, 1 while its first is.
        after = selector._current_agent
        if after:  # not the round's last actor: buffer only
            if after == 1:
                self._clear_rewards()
            order = selector.agent_order
            selector._current_agent = (after + 1) % len(order)
            selector.selected_agent = self.agent_selection = order[after]
            return
        # PettingZoo's round step, with dict.copy for copy.copy (the same shallow copies) and no sort
        # while every agent is still in the game
        observations, rewards, terminations, truncations, infos = self.env.step(self._actions)
        self._observations = observations.copy()
        self.terminations = terminations.copy()
        self.truncations = truncations.copy()
        self.infos = infos.copy()
        self.rewards = rewards.copy()
        self._cumulative_rewards = rewards.copy()
        env_agents = self.env.agents
        if len(env_agents) == len(observations):  # nobody left the game this round
            self.agents = list(env_agents)
        else:
            live = set(env_agents)
            self.agents = env_agents + [a for a in sorted(observations, key=str) if a not in live]
        if env_agents:  # AgentSelector(env_agents).reset(), on the selector this wrapper already holds
            selector.reinit(env_agents)
            self.agent_selection = selector.next()
        self._deads_step_first()

    def last(self, observe: bool = True) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """PettingZoo's ``last`` with the wrapper's ``observe`` (the round's stored observation) inlined."""
        agent = self.agent_selection
        assert agent is not None
        return (
            self._observations[agent] if observe else None,
            self._cumulative_rewards[agent],
            self.terminations[agent],
            self.truncations[agent],
            self.infos[agent],
        )


class TextTurnBasedToParallel(turn_based_aec_to_parallel_wrapper):
    """``turn_based_aec_to_parallel`` that takes any mapping of actions (a missing acting agent sends
    empty text) and tells only the agent that acts next that it does (``infos[agent]["active_agent"]``)."""

    def step(self, actions: Mapping[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if not isinstance(actions, Mapping):
            raise ArenaError(f"actions must be a mapping {{agent: text}}, got {type(actions).__name__}")
        if not self.agents:
            return super().step(actions)
        result = super().step({self.aec_env.agent_selection: actions.get(self.aec_env.agent_selection)})
        acting = self.aec_env.agent_selection
        for agent, info in result[4].items():  # the parent told every player who acts next
            if agent != acting:
                info.pop("active_agent", None)
        return result


def _until_reset(name: str) -> property:
    """The wrapped env's ``name``, read directly (``OrderEnforcingWrapper`` reaches it through two
    ``__getattr__`` calls per read, several times a step); an ``AttributeError`` before ``reset``."""

    def read(self: OrderEnforcingWrapper) -> Any:
        if not self._has_reset:
            raise AttributeError(f"{name} cannot be accessed before reset")
        return getattr(self.env, name)

    return property(read)


class TextOrderEnforcing(OrderEnforcingWrapper):
    """PettingZoo's order enforcement with the attributes read on every step forwarded directly."""

    agents = _until_reset("agents")
    agent_selection = _until_reset("agent_selection")
    rewards = _until_reset("rewards")
    terminations = _until_reset("terminations")
    truncations = _until_reset("truncations")
    infos = _until_reset("infos")

    @property
    def _cumulative_rewards(self) -> dict[str, float]:
        return self.env._cumulative_rewards

    def agent_iter(self, max_iter: int = 2**63) -> Iterator[Any]:  # type: ignore[override]
        """``OrderEnforcingWrapper.agent_iter`` (the same checks and agents) as a generator: no Python
        ``__next__`` call per step."""
        if not self._has_reset:
            EnvLogger.error_agent_iter_before_reset()
        return self._agents_in_turn(max_iter)

    def _agents_in_turn(self, max_iter: int) -> Iterator[Any]:
        env = self.env
        for _ in range(min(max_iter, sys.maxsize)):  # 2**63 itself would take range's slow big-int path
            if not env.agents:
                return
            assert self._has_updated, "need to call step() or reset() in a loop over `agent_iter`"
            self._has_updated = False
            yield env.agent_selection

    def step(self, action: Any) -> None:
        if self._has_reset and self.env.agents:  # OrderEnforcingWrapper.step, without BaseWrapper's extra call
            self._has_updated = True
            self.env.step(action)
        else:
            super().step(action)

    def last(self, observe: bool = True) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        if observe and not self._has_reset:
            EnvLogger.error_observe_before_reset()
        return self.env.last(observe)


def text_parallel_to_aec(env: ParallelEnv) -> AECEnv:
    """The AEC form of a native parallel arena game (PettingZoo's order enforcement included)."""
    return TextOrderEnforcing(TextParallelToAEC(env))
