"""Public goods (``public-goods-v0``): the repeated linear public-goods game with cheap talk.

| | |
|---|---|
| Players | ``num_players`` (default 4, 2–16), all move simultaneously (a native ``ParallelEnv``) |
| Round | ``talk_steps`` cheap-talk steps (default 1; 0 disables talk), then one contribution step |
| Talk step | every player sends a message (any text; empty means silence; newlines flattened, cut to its first 300 characters, ending in "…"); all messages are revealed together. ``infos[agent]["answer"]`` is ``text`` with ``max_chars`` 300 |
| Contribution | a whole number ``[k]`` of tokens, ``0 <= k <= endowment`` (default 20); ``answer`` is a ``choice`` over ``legal_actions`` ``[0]`` … ``[e]`` |
| Accepted forms | the last bracketed number counts (``I give [7] tokens``, ``[3] no wait [12]`` → 12); without brackets the reply is read by :func:`arena.core.parsing.match_choice` (``7``, ``**7**``, ``I contribute 7.``; ``7 of my 20`` names two amounts and is invalid) |
| Payoff | each round: ``e − c_i + (r/N)·Σ_j c_j`` tokens, paid at the contribution step (``multiplier`` r = 1.6, ``1 < r < N``) |
| Rounds | ``num_rounds`` (default 5); the game terminates after the last contribution step |
| Invalid move | a contribution that names no valid amount: private warning and the default contribution ``invalid_contribution`` (0); ``invalid_rule="spiral"``: the round is paid with the default, then −1.5 to each offender, +0.5 to everyone else, and the game ends |
| Truncation | ``max_turns`` steps, talk steps included (PettingZoo's ``max_cycles``) |

The marginal per-capita return r/N is below 1, so contributing 0 is strictly dominant in every round,
while the group's total payoff ``N·e + (r − 1)·Σc`` is largest when everyone contributes everything:
the social optimum pays ``r·e`` per player and round, the Nash equilibrium ``e``. Rewards are these
tokens, never a win/lose proxy (TextArena's PublicGoodsGame pays ±1 by rank, which rewards free riding).

Contributions are public after each round. ``infos`` carry the running ``contribution_rate`` (mean c/e),
``welfare`` (total payoff so far), ``social_optimum`` (``N·r·e`` per round played), ``welfare_ratio``
(welfare / social optimum) and ``efficiency`` ((welfare − Nash welfare) / (optimum − Nash welfare));
each player's info also has ``phase``, ``round``, ``previous_contributions`` (the other players' last
contributions) and ``my_contributions``. Nothing is secret. ``state_key`` digests the player's seat,
the round, phase and talk step, and every finished round's contributions; what was said is not part of it.
"""

from __future__ import annotations

import math
import re
from typing import Any

from arena.core.answers import choice_answer, text_answer
from arena.core.errors import ArenaError
from arena.core.parallel import TextParallelEnv
from arena.core.parsing import match_choice
from arena.core.spaces import clip_text

MAX_TALK_CHARS = 300
TALK_EXAMPLE = "I plan to contribute a fair share if everyone else does too."
_TALK_ANSWER = text_answer(TALK_EXAMPLE, MAX_TALK_CHARS)  # a talk turn's answer spec (copied out each turn)
_AMOUNT = re.compile(r"\[\s*(\d{1,9})\s*\]")


def round_payoffs(contributions: list[float], endowment: float, multiplier: float) -> list[float]:
    """The linear public-goods payoff ``e − c_i + (r/N)·Σc`` for every player."""
    share = multiplier * sum(contributions) / len(contributions)
    return [endowment - c + share for c in contributions]


def parse_contribution(text: str, endowment: int) -> int | str:
    """The last ``[k]`` in ``text`` as an integer in ``0..endowment``; without brackets, the one amount
    the text names (:func:`arena.core.parsing.match_choice`); else the reason it is invalid."""
    found = _AMOUNT.findall(text)
    if not found:
        match = match_choice(text, [f"[{k}]" for k in range(endowment + 1)])
        if match.action is None:
            return (
                match.reason
                if match.named
                else f"Contribute a whole number of tokens in brackets, from [0] to [{endowment}]."
            )
        return int(match.action.strip("[]"))
    amount = int(found[-1])
    if amount > endowment:
        return f"You can contribute at most your endowment, [{endowment}]."
    return amount


def _positive_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f">= {low}"
        raise ArenaError(f"{name} must be an integer {bound}, got {value!r}")
    return value


class PublicGoodsEnv(TextParallelEnv):
    """N-player repeated public-goods game with optional cheap talk before each contribution."""

    metadata = {**TextParallelEnv.metadata, "name": "public_goods_v0"}

    def __init__(
        self,
        *,
        num_players: int = 4,
        endowment: int = 20,
        multiplier: float = 1.6,
        num_rounds: int = 5,
        talk_steps: int = 1,
        invalid_contribution: int = 0,
        max_turns: int | None = None,
        invalid_rule: str = "default",
        render_mode: str | None = None,
    ) -> None:
        _positive_int("num_players", num_players, 2, 16)
        _positive_int("endowment", endowment, 1, 10_000)
        _positive_int("num_rounds", num_rounds, 1, 1_000)
        _positive_int("talk_steps", talk_steps, 0, 10)
        _positive_int("invalid_contribution", invalid_contribution, 0, endowment)
        if (
            not isinstance(multiplier, int | float)
            or isinstance(multiplier, bool)
            or not math.isfinite(multiplier)
            or not 1 < multiplier < num_players
        ):
            raise ArenaError(
                f"multiplier must satisfy 1 < r < num_players ({num_players}) for a social dilemma, got {multiplier!r}"
            )
        super().__init__(num_players, max_turns=max_turns, invalid_rule=invalid_rule, render_mode=render_mode)
        self.endowment = endowment
        self.multiplier = float(multiplier)
        self.num_rounds = num_rounds
        self.talk_steps = talk_steps
        self.invalid_contribution = invalid_contribution

    # -- episode -----------------------------------------------------------------------------------
    def _setup(self) -> None:
        self.round = 1
        self.talk_done = 0
        self.history: list[dict[str, int]] = []  # contributions per finished round
        self._table: tuple[tuple[int, ...], ...] = ()  # the same, one row per round in seat order (immutable)
        self._own: dict[str, list[int]] = {a: [] for a in self.possible_agents}  # each player's contributions
        self.payoffs = {a: 0.0 for a in self.possible_agents}
        self.total_contributed = 0
        self._contributions = [f"[{k}]" for k in range(self.endowment + 1)]
        self._round_metrics: dict[str, Any] | None = None  # _metrics of the rounds played so far
        self._info_common: dict[str, Any] | None = None  # _extra_info's keys shared by every player
        self.say(
            f"A public-goods game begins with {self.num_players} players, {self.num_rounds} round(s), "
            f"endowment {self.endowment}, multiplier {self.multiplier:g}."
        )
        self._open_phase()

    def _open_phase(self) -> None:
        self.phase = "talk" if self.talk_done < self.talk_steps else "contribute"
        self._info_common = None  # the phase (and maybe the round) changed
        what = "discussion" if self.phase == "talk" else "contributions"
        self.say(f"Round {self.round} of {self.num_rounds}: {what}.")

    # -- rules -------------------------------------------------------------------------------------
    def _play_round(self, actions: dict[str, str]) -> dict[str, str]:
        if self.phase == "talk":
            for agent in self.possible_agents:
                message = " ".join(actions.get(agent, "").split())
                if message:
                    self.say(clip_text(message, MAX_TALK_CHARS, keep="start"), sender=agent, kind="chat")
            self.talk_done += 1
            self._open_phase()
            return {}
        invalid: dict[str, str] = {}
        amounts: dict[str, int] = {}
        for agent in self.possible_agents:
            parsed = parse_contribution(actions.get(agent, ""), self.endowment)
            if isinstance(parsed, str):
                invalid[agent] = parsed
                parsed = self.invalid_contribution
            amounts[agent] = parsed
        self._settle(amounts)
        return invalid

    def _settle(self, amounts: dict[str, int]) -> None:
        contributions = [amounts[a] for a in self.possible_agents]
        payoffs = round_payoffs(contributions, self.endowment, self.multiplier)
        self.history.append(dict(amounts))
        self._table += (tuple(contributions),)
        for agent, amount in zip(self.possible_agents, contributions, strict=True):
            self._own[agent].append(amount)
        self.total_contributed += sum(contributions)
        listing = ", ".join(f"{a} {c}" for a, c in amounts.items())
        share = self.multiplier * sum(contributions) / self.num_players
        self.say(
            f"Round {self.round} contributions: {listing} (total {sum(contributions)}); "
            f"each player receives {share:g} from the public pot.",
            kind="result",
        )
        for agent, payoff in zip(self.possible_agents, payoffs, strict=True):
            self.payoffs[agent] += payoff
            self.reward(agent, payoff)
            self.tell(agent, f"Your payoff this round: {payoff:g} (total {self.payoffs[agent]:g}).")
        self._round_metrics = self._info_common = None
        if self.round >= self.num_rounds:
            self.end_game(
                "all rounds played; payoffs " + ", ".join(f"{a} {p:g}" for a, p in self.payoffs.items()),
                info=self._metrics(),
            )
            return
        self.round += 1
        self.talk_done = 0
        self._open_phase()

    # -- metrics and views -------------------------------------------------------------------------
    def _metrics(self, into: dict[str, Any] | None = None) -> dict[str, Any]:
        """Outcome metrics of the rounds played so far (computed once a round: every info shows them),
        added to ``into`` (a new dict when None) and returned."""
        if self._round_metrics is None:
            self._round_metrics = self._compute_metrics()
        metrics = self._round_metrics
        into = {} if into is None else into
        into.update(metrics)
        into["round_contribution_rates"] = list(metrics["round_contribution_rates"])
        return into

    def _compute_metrics(self) -> dict[str, Any]:
        rounds = len(self.history)
        n, e, r = self.num_players, self.endowment, self.multiplier
        welfare = sum(self.payoffs.values())
        optimum = n * r * e * rounds
        nash = n * e * rounds
        return {
            "rounds_played": rounds,
            "contribution_rate": self.total_contributed / (n * e * rounds) if rounds else None,
            "round_contribution_rates": [sum(h.values()) / (n * e) for h in self.history],
            "welfare": welfare,
            "social_optimum": optimum,
            "welfare_ratio": welfare / optimum if rounds else None,
            "efficiency": (welfare - nash) / (optimum - nash) if rounds else None,
        }

    def legal_actions(self, agent: str) -> list[str] | None:
        if self.phase == "contribute" and not self.finished:
            return list(self._contributions)
        return None

    def answer_spec(self, agent: str, legal: list[str] | None) -> dict[str, Any]:
        return choice_answer(legal) if legal else dict(_TALK_ANSWER)  # a copy: the caller may change it

    def information_state(self, agent: str) -> dict[str, Any]:
        return {
            "agent": agent,
            "round": self.round,
            "phase": self.phase,
            "talk_step": self.talk_done,
            "contributions": self._table,  # tuples, never changed (a round adds a new table)
        }

    static_headers = True  # rules and seat only

    def _header(self, agent: str) -> str:
        n, e, r = self.num_players, self.endowment, self.multiplier
        talk = (
            f"Before each contribution there {'is' if self.talk_steps == 1 else 'are'} {self.talk_steps} discussion "
            "step(s): everyone sends a message at the same time (an empty message means silence), and all "
            "messages are shown together. "
            if self.talk_steps
            else ""
        )
        return (
            f"You are playing a public-goods game with {n} players over {self.num_rounds} round(s). "
            f"Each round every player receives {e} tokens and secretly chooses how many to put into a public "
            f"pot; the pot is multiplied by {r:g} and shared equally among all {n} players. Your payoff each "
            f"round is {e} - your contribution + {r:g} x (total contributions) / {n}. {talk}"
            f"Contribute by answering with a whole number in brackets, from [0] to [{e}]; an invalid answer "
            f"contributes {self.invalid_contribution}. Contributions are revealed after each round. "
            f"Your reward is your payoff in tokens.\nYou are {agent}."
        )

    def _prompt(self, agent: str) -> str:
        if self.finished:
            return ""
        if self.phase == "talk":
            step = f" (step {self.talk_done + 1} of {self.talk_steps})" if self.talk_steps > 1 else ""
            return f"Round {self.round}, discussion{step}: send a short message to the group, or nothing."
        return f"Round {self.round}: how many of your {self.endowment} tokens do you contribute? Answer [0] to [{self.endowment}]."

    def _extra_info(self, agent: str) -> dict[str, Any]:
        common = self._info_common  # every player's keys, made once per phase (each info gets copies)
        if common is None:
            common = {
                "phase": self.phase,
                "round": self.round,
                "num_rounds": self.num_rounds,
                "endowment": self.endowment,
                "multiplier": self.multiplier,
            }
            self._info_common = common = self._metrics(common)
        info = common.copy()
        info["round_contribution_rates"] = list(common["round_contribution_rates"])
        previous = dict(self.history[-1]) if self.history else {}  # the last round's, less the agent's own
        previous.pop(agent, None)
        info["previous_contributions"] = previous
        info["my_contributions"] = self._own[agent].copy()
        return info

    def spectator_text(self) -> str:
        payoffs = ", ".join(f"{a} {p:g}" for a, p in self.payoffs.items())
        return f"Round {self.round}/{self.num_rounds}, phase {self.phase}; payoffs {payoffs}."
