"""Kuhn Poker (``kuhn-poker-v0``).

| | |
|---|---|
| Players | 2 |
| Deck | three cards, J < Q < K; each hand both players ante 1 chip and get one private card |
| Actions | ``[check]`` or ``[bet]`` when no bet is open; ``[call]`` or ``[fold]`` facing a bet; ``infos[agent]["answer"]`` is a ``choice`` |
| Accepted forms | read by :func:`arena.core.parsing.match_choice`: ``[bet]``, ``bet``, ``BET.``, ``**[bet]**``, ``I bet``; a reply naming two actions (``check or bet``) is ambiguous and invalid |
| Betting | one round, bet size 1: check–check and bet–call go to showdown (high card wins the pot); a fold gives the pot to the bettor |
| Hands | ``num_hands`` per episode (default 2); the first actor alternates: ``player_0`` acts first in hand 1, ``player_1`` in hand 2, … |
| Reward | each player's chip gain for a hand (±1 or ±2), paid when the hand ends, so turn-level credit is possible |
| Invalid move | private warning and one retry (``invalid_retries``), then the offender folds the hand; ``invalid_rule="spiral"``: −1.5 / +0.5 and the game ends at once |
| Truncation | ``max_turns`` valid actions (default none) |

Payoffs per hand, from the view of the player who acts first (A) against B: check-check → ±1 by
card; bet-call and check-bet-call → ±2 by card; bet-fold → A +1; check-bet-fold → B +1.
Each player's observation shows only the current hand (the previous hands' results are summarised
without card names); a player's card is secret until a showdown reveals it.
While the game runs, ``infos[agent]`` holds that player's ``card`` (``"J"``, ``"Q"`` or ``"K"``) and the
hand's betting ``history`` (letters ``k`` check, ``b`` bet, ``c`` call, ``f`` fold); ``state_key``
digests the information set: own card, betting so far, hand number, chips and previous results.
"""

from __future__ import annotations

import itertools
from typing import Any

from arena.core.env import TextGameEnv
from arena.core.errors import ArenaError
from arena.core.parsing import match_choice

CARDS = ("J", "Q", "K")
CARD_NAMES = {"J": "Jack", "Q": "Queen", "K": "King"}
RANK = {card: i for i, card in enumerate(CARDS)}

RULES = (
    "You are playing Kuhn Poker. The deck has three cards ranked J < Q < K. Each hand, both players "
    "ante 1 chip and receive one private card. There is one betting round with a bet size of 1: "
    "with no bet open you may [check] or [bet]; facing a bet you may [call] or [fold]. "
    "Check-check or bet-call goes to a showdown where the higher card wins the pot; "
    "a fold gives the pot to the bettor. Your reward is your chip gain. Answer with one action in brackets."
)


def _outcomes(hi: int) -> dict[str, tuple[int, int]]:
    return {"kk": (hi, -hi), "bc": (2 * hi, -2 * hi), "bf": (1, -1), "kbc": (2 * hi, -2 * hi), "kbf": (-1, 1)}


_OUTCOMES = {1: _outcomes(1), -1: _outcomes(-1)}  # by whether the first actor holds the higher card


def _payoffs(first_card: str, second_card: str) -> dict[str, tuple[int, int]]:
    """Chip gains (first actor, second actor) by finished betting history, for this deal (a shared table)."""
    return _OUTCOMES[1 if RANK[first_card] > RANK[second_card] else -1]


def hand_payoff(first_card: str, second_card: str, history: str) -> tuple[int, int] | None:
    """Chip gains (first actor, second actor) for a finished betting ``history`` such as ``"kbc"``
    (k=check, b=bet, c=call, f=fold), or None while the hand is open."""
    return _payoffs(first_card, second_card).get(history)


_LETTER = {"check": "k", "bet": "b", "call": "c", "fold": "f"}
_ACTIONS = tuple(f"[{a}]" for a in _LETTER)
#: The six ordered deals (player_0's card, player_1's card); a hand draws one uniformly.
DEALS = tuple(itertools.permutations(CARDS, 2))
_OPEN, _FACING = ("[check]", "[bet]"), ("[call]", "[fold]")  # the legal actions with no bet open / facing a bet
#: Move text -> (history letter, what the table reads), made once: a hand is a few moves.
_MOVES = {f"[{move}]": (letter, "checks." if move == "check" else f"{move}s.") for move, letter in _LETTER.items()}
_LEGAL_TEXT = {False: " ".join(_OPEN), True: " ".join(_FACING)}  # by whether a bet is open
_YOUR_CARD = {card: f"Your card: {name}." for card, name in CARD_NAMES.items()}
#: The acting player's prompt by (hand index, card, facing a bet), made on first use for the first hands.
_PROMPTS: dict[tuple[int, str, bool], str] = {}
_PROMPT_CACHE_HANDS = 64
#: A finished hand's (result message, summary line) by (hand index, winner, chips won, the deal when it went to a
#: showdown else None), made on first use for the first hands: a hand ends in one of a few dozen ways.
_SETTLED: dict[tuple[int, str, int, tuple[str, str] | None], tuple[str, str]] = {}
#: A hand's (phase, opening line) by (number of hands, the summary lines of the hands before it), which fix the hand,
#: the chips and who acts first; made on first use for the first three hands (a few hundred ways to get there).
_OPENINGS: dict[tuple[Any, ...], tuple[str, str]] = {}
_OPENING_CACHE_HANDS = 3


def _expand_state(snapshot: tuple[Any, ...]) -> dict[str, Any]:
    """``information_state`` from a snapshot of :meth:`KuhnPokerEnv._state_snapshot` (new dict and list)."""
    agent, num_hands, hand, chips, summary, hands_done, card, history = snapshot
    return {
        "agent": agent,
        "num_hands": num_hands,
        "hand": hand,
        "chips": dict(chips),
        "previous_hands": summary[:hands_done],
        "card": card,
        "history": history,
    }


class KuhnPokerEnv(TextGameEnv):
    """Two-player Kuhn Poker over several hands, chips paid per hand."""

    metadata = {**TextGameEnv.metadata, "name": "kuhn_poker_v0"}

    def __init__(
        self,
        *,
        num_hands: int = 2,
        max_turns: int | None = None,
        invalid_retries: int = 1,
        invalid_rule: str = "default",
        render_mode: str | None = None,
    ) -> None:
        if not isinstance(num_hands, int) or isinstance(num_hands, bool) or num_hands < 1:
            raise ArenaError(f"num_hands must be a positive integer, got {num_hands!r}")
        super().__init__(
            2, max_turns=max_turns, invalid_retries=invalid_retries, invalid_rule=invalid_rule, render_mode=render_mode
        )
        self.num_hands = num_hands

    # -- episode -----------------------------------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """``options={"deals": [("K", "J"), ...]}`` fixes the cards of each hand (player_0's, player_1's)."""
        deals = (options or {}).get("deals")
        if deals is not None:
            deals = [tuple(d) for d in deals]
            if any(len(d) != 2 or d[0] == d[1] or not set(d) <= set(CARDS) for d in deals):
                raise ArenaError(f"deals must be pairs of distinct cards from {CARDS}, got {deals!r}")
        self._fixed_deals = deals
        super().reset(seed=seed, options=options)

    def _setup(self) -> None:
        self.hand = 0
        self.chips = {a: 0 for a in self.possible_agents}
        self.summary: list[str] = []
        self._deal()

    def _deal(self) -> None:
        if self._fixed_deals is not None and self.hand < len(self._fixed_deals):
            cards = self._fixed_deals[self.hand]
        else:
            cards = self.py_random.choice(DEALS)  # one of the six deals, uniformly
        p0, p1 = self.possible_agents
        self.cards = {p0: cards[0], p1: cards[1]}
        first, second = (p0, p1) if self.hand % 2 == 0 else (p1, p0)
        self.order = [first, second]
        self._hand_payoffs = _payoffs(self.cards[first], self.cards[second])  # hand_payoff's table for this deal
        self.history = ""
        self.revealed = False
        key = (self.num_hands, *self.summary)
        opening = _OPENINGS.get(key)
        if opening is None:
            opening = self._opening(first)
            if self.hand < _OPENING_CACHE_HANDS:
                _OPENINGS[key] = opening
        self.phase = opening[0]
        self.new_section(opening[1])
        self.tell(p0, _YOUR_CARD[cards[0]])
        self.tell(p1, _YOUR_CARD[cards[1]])
        self.agent_selection = first

    def _opening(self, first: str) -> tuple[str, str]:
        """The phase name and the opening line of the hand being dealt (its number, the chips so far, the
        previous hands, who acts first)."""
        (p0, chips0), (p1, chips1) = self.chips.items()
        opening = f"Hand {self.hand + 1} of {self.num_hands}. Chips so far: {p0} {chips0:+d}, {p1} {chips1:+d}."
        if self.summary:
            opening += " Previous hands: " + " ".join(self.summary)
        return f"hand {self.hand + 1}", f"{opening} {first} acts first."

    # -- rules -------------------------------------------------------------------------------------
    def legal_actions(self, agent: str) -> list[str]:
        return list(_FACING if self.history.endswith("b") else _OPEN)

    def _play(self, agent: str, action: str) -> str | None:
        legal = _FACING if self.history.endswith("b") else _OPEN
        if action not in legal:  # an exact legal action is what match_choice returns first
            match = match_choice(action, legal, known=_ACTIONS)
            if match.action is None:
                return match.reason
            action = match.action
        self._apply(agent, action)
        return None

    def _apply(self, agent: str, action: str) -> None:
        letter, text = _MOVES[action]
        history = self.history = self.history + letter
        self.say(text, sender=agent, kind="action")
        order = self.order
        payoff = self._hand_payoffs.get(history)  # hand_payoff(first card, second card, history)
        if payoff is None:
            self.agent_selection = order[len(history) % 2]
            return
        self._settle({order[0]: payoff[0], order[1]: payoff[1]}, showdown=letter != "f")

    def _settle(self, gains: dict[str, int], *, showdown: bool) -> None:
        one, other = gains  # two players: the winner gains what the loser loses
        winner, loser = (one, other) if gains[one] > gains[other] else (other, one)
        if showdown:
            self.revealed = True
        deal = tuple(self.cards.values()) if showdown else None  # (player_0's card, player_1's)
        key = (self.hand, winner, gains[winner], deal)  # the seats fix the loser
        texts = _SETTLED.get(key)
        if texts is None:
            texts = self._settled_texts(winner, loser, gains[winner], showdown)
            if self.hand < _PROMPT_CACHE_HANDS:
                _SETTLED[key] = texts
        self.say(texts[0], kind="result")
        self.summary.append(texts[1])
        for agent, gain in gains.items():
            self.chips[agent] += gain
            self.reward(agent, gain)
        self.hand += 1
        if self.hand < self.num_hands:
            self._deal()
            return
        best = max(self.chips.values())
        winners = [a for a in self.possible_agents if self.chips[a] == best]
        winners = winners if len(winners) == 1 else []
        self.end_game(
            f"after {self.num_hands} hand(s), chips: " + ", ".join(f"{a} {c:+d}" for a, c in self.chips.items()),
            winners=winners,
        )

    def _settled_texts(self, winner: str, loser: str, won: int, showdown: bool) -> tuple[str, str]:
        """The result message of the hand just finished and its line in the summary of previous hands."""
        if showdown:
            (a, card_a), (b, card_b) = self.cards.items()
            result = f"Showdown: {a} shows {CARD_NAMES[card_a]}, {b} shows {CARD_NAMES[card_b]}. {winner} wins {won} chip(s)."
            how = f"showdown ({a} {card_a}, {b} {card_b})"
        else:
            result = f"{loser} folds. {winner} wins {won} chip(s)."
            how = f"{loser} folded"
        return result, f"hand {self.hand + 1}: {winner} +{won} by {how}."

    def _on_invalid_exhausted(self, agent: str, reason: str) -> None:
        """The offender folds the current hand."""
        self.say(f"{agent} made repeated invalid moves and folds.", kind="warning")
        self.history += "f"
        other = self.order[1] if agent == self.order[0] else self.order[0]
        self._settle({agent: -1, other: 1}, showdown=False)  # a fold always loses the ante

    # -- views -------------------------------------------------------------------------------------
    static_headers = True  # rules and seat only

    def _header(self, agent: str) -> str:
        return f"{RULES}\nYou are {agent}. The game lasts {self.num_hands} hand(s)."

    def _prompt(self, agent: str) -> str:
        key = (self.hand, self.cards[agent], self.history.endswith("b"))
        prompt = _PROMPTS.get(key)
        if prompt is None:
            hand, card, facing = key
            prompt = f"Hand {hand + 1}: your card is {card}. Your legal actions: {_LEGAL_TEXT[facing]}"
            if hand < _PROMPT_CACHE_HANDS:
                _PROMPTS[key] = prompt
        return prompt

    def secrets(self, agent: str) -> list[str]:
        if self.finished or self.revealed:
            return []
        return [CARD_NAMES[self.cards[agent]]]

    def _extra_info(self, agent: str) -> dict[str, Any]:
        info: dict[str, Any] = {"hand": self.hand}
        if not self.finished:
            # The information set for exploitability and scripted play: own card, the betting so far.
            info["card"] = self.cards[agent]
            info["history"] = self.history
        return info

    _expand_snapshot = staticmethod(_expand_state)  # information_state: _expand_state(_state_snapshot(agent))

    def _state_snapshot(self, agent: str) -> tuple[Any, ...]:
        """What :meth:`information_state` reads, captured on every turn: scalars, the chips as a tuple, and
        the append-only list of previous hands with its length now (a new list each episode)."""
        return (agent, self.num_hands, self.hand, tuple(self.chips.items()), self.summary, len(self.summary),
                self.cards[agent], self.history)  # fmt: skip

    def spectator_text(self) -> str:
        cards = ", ".join(f"{a}: {CARD_NAMES[c]}" for a, c in self.cards.items())
        return f"Hand {min(self.hand + 1, self.num_hands)}/{self.num_hands}; cards {cards}; betting '{self.history}'."
