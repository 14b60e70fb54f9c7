"""Negotiation (``negotiation-v0``): Deal-or-No-Deal multi-issue bargaining, or resource trading.

| | ``mode="deal"`` (default) | ``mode="trade"`` |
|---|---|---|
| Source | Deal or No Deal (Lewis et al. 2017) | SimpleNegotiation (TextArena, SPIRAL) |
| Players | 2; ``first_mover`` (``"player_0"`` default, ``"player_1"``, ``"alternate"``, ``"random"``) opens, turns alternate; roles ``first_mover`` (the opener) and ``second_mover`` | same |
| Setup | 3 item types (book, hat, ball), 1–4 copies each, 5–7 items in all (``item_totals="uniform"`` or ``"dond"``: totals 5/6/7 at 0.40/0.40/0.19); each player's private values sum to 10 over all items | both players start with ``trade_endowment`` (10) Wood and Gold (public); private values per resource: uniform integers 5–15 (``trade_values="random"``) or SPIRAL's fixed 5/15 vs 15/5 (``"spiral"``) |
| Proposal | ``[Propose: me 1 book 0 hat 2 ball]``: what the proposer keeps; the other player gets the rest | ``[Offer: 3 Wood -> 2 Gold]``: the proposer gives 3 Wood and receives 2 Gold (both sides must own the items) |
| Other tokens | ``[Accept]`` the other player's proposal from their previous turn; ``[Walk away]`` ends the game | same |
| Turn | free text: a message to the other player and at most one token; text outside the token is relayed as chat (cut to its first 500 characters, ending in "…"); ``infos[agent]["answer"]`` is ``structured``, with the token ``syntax`` and a valid ``example`` | same |
| Legal list | ``proposal_list=True``: ``legal_actions`` lists every bare token valid now (each proposal, one per split of the items, at most 36, then ``[Accept]`` when a proposal awaits the reply (``[Selection]`` with the selection ending), then ``[Walk away]``) and ``answer`` is a ``choice``, so an agent can pick from a list (constrained scoring, random play); free text with a message stays valid. Default ``False``: no list | not available (an error) |
| End | an accepted proposal, ``[Walk away]``, or ``turn_limit`` turns (default 10, both players' turns counted). ``ending="selection"`` (Deal or No Deal): ``[Selection]`` or the turn limit ends the talk, then each player privately answers ``[Take: ...]``; complementary choices are the deal | ``[Walk away]`` or ``turn_limit`` turns; any number of trades may execute before |
| Reward | own utility of the bundle received, paid on acceptance; no deal pays ``disagreement_payoff`` (default 0) to each. ``reward="spiral"``: +1 / −1 by the larger utility, 0 on a tie | value gained (own valuation of the current minus the starting inventory), paid as each trade executes; ``reward="spiral"``: +1 / −1 by the larger gain at the end |
| Invalid move | private warning and one retry (``invalid_retries``), then the offender's turn passes with no message and no proposal; ``invalid_rule="spiral"``: −1.5 to the offender, +0.5 to the other, and the game ends | same |
| Truncation | ``max_turns`` valid moves (default none; the turn limit always ends the game) | same |

Token grammar (case-insensitive, one token per turn): ``[Propose: me <n> <item> <n> <item> ...]`` where
``me`` is optional, items are ``book``/``hat``/``ball`` (plurals accepted, in any order, commas allowed) and an
omitted item means 0 kept; ``[Offer: <n> <res>, ... -> <n> <res>, ...]`` with resources ``Wood``/``Gold``;
``[Accept]``; ``[Walk away]``. A proposal stands for exactly one reply: if the other player does not accept
it on their next turn it lapses (a counter-proposal replaces it). A proposal made on the last turn cannot
be accepted.

End-of-game ``infos`` (every player): ``agreement``, ``deal`` (each player's bundle; deal mode), ``trades``
(trade mode), ``utilities``, ``pareto_optimal``, ``nash_ratio`` (Nash product of the outcome over the best
one, from exhaustive enumeration of all allocations; disagreement point ``(d, d)`` in deal mode, the
starting inventories in trade mode), ``welfare``, ``max_welfare``, ``efficiency``, ``envy_free`` (deal mode),
``turns``, ``turns_to_agreement``, ``first_mover``, ``selections`` (selection ending) and the revealed
``values``, also when ``max_turns`` cuts the game. Private values (and private choices) are secret
until the game ends (``secrets()``). Presets ``"dond"`` and ``"spiral"``: ``PRESETS`` below.
``state_key`` digests the player's seat and values, the item totals, the inventories, the turn, the
standing proposal and every move so far as structured data (proposals, acceptances, messages as "a
message was sent"; in the selection phase its own choice), never the wording of a message.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

from arena.core.answers import choice_answer, structured_answer
from arena.core.env import SimultaneousPhase, TextGameEnv
from arena.core.errors import ArenaError
from arena.core.spaces import clip_text
from arena.envs import bargaining

DEAL_ITEMS = ("book", "hat", "ball")
TRADE_RESOURCES = ("Wood", "Gold")
SPIRAL_VALUES = ((5, 15), (15, 5))  # player_0 values Wood 5, Gold 15; player_1 the reverse (SPIRAL v1)
TRADE_VALUE_RANGE = (5, 15)
MAX_CHAT_CHARS = 500
#: Paper presets for ``arena.make("negotiation-v0", preset=...)`` (docs/envs/negotiation.md has the tables).
PRESETS: dict[str, Any] = {
    "dond": {  # Lewis et al. 2017 (EMNLP), facebookresearch/end-to-end-negotiator: game_rules.md §4.4
        "mode": "deal",
        "item_totals": "dond",
        "first_mover": "random",
        "ending": "selection",
        "turn_limit": 20,  # Lewis et al.: a word budget, no turn cap; 20 as Hua et al.'s DoND rounds
        "disagreement_payoff": 0.0,
        "reward": "utility",
    },
    "spiral": {  # Liu et al. 2025, spiral-rl/spiral SimpleNegotiation-v1: game_rules.md §4.2, mars_spiral.md §2
        "mode": "trade",
        "trade_values": "spiral",
        "trade_endowment": 10,
        "turn_limit": 10,
        "first_mover": "player_0",
        "reward": "spiral",
        "invalid_rule": "spiral",  # the base classes' rule: offender -1.5, other +0.5, the game ends
        "invalid_retries": 0,  # SPIRAL sets error_allowance = 0
    },
}
FIRST_MOVERS = ("player_0", "player_1", "alternate", "random")
ENDINGS = ("proposal", "selection")
REWARDS = ("utility", "spiral")
ROLES = ("first_mover", "second_mover")

_TOKEN = re.compile(r"\[\s*(propose|offer|accept|walk[\s_-]*away|selection|take)\s*(?::([^\[\]]*))?\]", re.IGNORECASE)
_LOOSE_TOKEN = re.compile(r"\[\s*(propose|offer|accept|walk[\s_-]*away|selection|take)\b", re.IGNORECASE)
_PAIR = re.compile(r"(\d{1,4})\s*([a-z]+)")
_FILLER = re.compile(r"[\s,;&+]+|\band\b")


def _expand_state(snapshot: tuple[Any, ...]) -> dict[str, Any]:
    """``information_state`` from a snapshot of :meth:`NegotiationEnv._state_snapshot` (a new dict and list)."""
    agent, fixed, values, inventory, turn, offer, moves, my_choice = snapshot
    mode, totals, turn_limit, disagreement_payoff, opener, ending, reward, seats = fixed
    return {
        "agent": agent,
        "mode": mode,
        "values": values,
        "totals": totals,
        "inventories": [inventory[a] for a in seats],
        "turn": turn,
        "turn_limit": turn_limit,
        "disagreement_payoff": disagreement_payoff,
        "offer": None if offer is None else (offer.proposer, offer.alloc0, offer.give, offer.get),
        "moves": moves,  # immutable: shared with the states captured before
        "opener": opener,
        "ending": ending,
        "reward": reward,
        "my_choice": my_choice,
    }


@dataclass(frozen=True)
class Proposal:
    """A standing proposal: ``alloc0`` is player_0's bundle if it is accepted. ``give``/``get`` are the
    proposer's side of a trade (trade mode)."""

    proposer: str
    alloc0: tuple[int, ...]
    give: tuple[int, ...] = ()
    get: tuple[int, ...] = ()


class Parsed(NamedTuple):
    """One parsed turn: ``kind`` is "message", "propose", "offer", "accept" or "walk"."""

    kind: str
    message: str
    body: str = ""


def parse_turn(text: str) -> Parsed | str:
    """Split a turn into its chat message and at most one action token; a string is an error."""
    if "[" not in text:  # a chat line: no token can start (the common turn, read without the regexes)
        message = clip_text(" ".join(text.split()), MAX_CHAT_CHARS, keep="start")
        return Parsed("message", message) if message else "Write a message to the other player and/or one action token."
    tokens = list(_TOKEN.finditer(text))
    if len(_LOOSE_TOKEN.findall(text)) != len(tokens):
        return "Malformed token: write exactly [Propose: ...], [Offer: ... -> ...], [Accept] or [Walk away]."
    if len(tokens) > 1:
        return "Use at most one action token per turn."
    message = " ".join(_TOKEN.sub(" ", text).split())
    message = clip_text(message, MAX_CHAT_CHARS, keep="start")
    if not tokens:
        if not message:
            return "Write a message to the other player and/or one action token."
        return Parsed("message", message)
    word = re.sub(r"[\s_-]+", " ", tokens[0].group(1).lower())
    word = "walk away" if word.replace(" ", "") == "walkaway" else word
    body = tokens[0].group(2)
    if word in ("accept", "walk away", "selection"):
        if body is not None and body.strip():
            return f"[{word.title()}] takes no arguments."
        return Parsed({"accept": "accept", "walk away": "walk", "selection": "select"}[word], message)
    if body is None or not body.strip():
        return f"[{word.title()}: ...] needs a list of items."
    return Parsed(word, message, body)


def parse_bundle(body: str, names: tuple[str, ...]) -> tuple[int, ...] | str:
    """``"1 book 0 hat 2 balls"`` → ``(1, 0, 2)`` over ``names``; omitted names count 0; a string is an error."""
    lowered = body.lower()
    keys = {name.lower(): i for i, name in enumerate(names)}
    counts = [0] * len(names)
    seen: set[int] = set()
    for number, word in _PAIR.findall(lowered):
        key = word if word in keys else word[:-1] if word.endswith("s") and word[:-1] in keys else None
        if key is None:
            return f"Unknown item {word!r}; the items are {', '.join(names)}."
        index = keys[key]
        if index in seen:
            return f"{names[index]} is listed twice."
        seen.add(index)
        counts[index] = int(number)
    leftover = _FILLER.sub("", _PAIR.sub("", lowered))
    if leftover:
        return f"Could not read {body.strip()!r}: list counts and items such as '1 {names[0]} 2 {names[-1]}'."
    return tuple(counts)


def proposal_token(bundle: tuple[int, ...] | list[int], names: tuple[str, ...] | list[str]) -> str:
    """``[Propose: me 1 book 0 hat 2 ball]`` for the bundle the proposer keeps (deal mode)."""
    return "[Propose: me " + " ".join(f"{n} {name}" for n, name in zip(bundle, names, strict=True)) + "]"


@functools.lru_cache(maxsize=4096)  # few bundles exist (counts up to 10 of 3 items), each named often
def _bundle_text(bundle: tuple[int, ...], names: tuple[str, ...]) -> str:
    parts = []
    for n, name in zip(bundle, names, strict=True):
        plural = name if n == 1 or not name.islower() else name + "s"
        parts.append(f"{n} {plural}")
    return ", ".join(parts)


@functools.lru_cache(maxsize=4096)  # a few hundred value vectors exist
def _values_text(values: tuple[int, ...], names: tuple[str, ...]) -> str:
    """``"book 1, hat 3, ball 2"``: a player's values, as its prompts show them."""
    return ", ".join(f"{n} {v}" for n, v in zip(names, values, strict=True))


@functools.lru_cache(maxsize=256)
def _half_token(totals: tuple[int, ...], names: tuple[str, ...]) -> str:
    """The example proposal: keep half of each item (rounded down)."""
    return proposal_token(tuple(t // 2 for t in totals), names)


def _moved_text(bundle: tuple[int, ...], names: tuple[str, ...]) -> str:
    """Only the resources that move in a trade: ``"2 Gold"`` rather than ``"0 Wood, 2 Gold"``."""
    moved = [(n, name) for n, name in zip(bundle, names, strict=True) if n]
    return ", ".join(f"{n} {name}" for n, name in moved) if moved else "nothing"


@functools.lru_cache(maxsize=64)  # the same few texts every episode (one per opener)
def _rules_text(mode: str, ending: str, reward_kind: str, opener: str, limit: int, disagreement_payoff: float) -> str:
    """The rules paragraph of every player's header."""
    if mode == "deal" and ending == "selection":
        rules = (
            "You are negotiating with one other player how to divide a set of items. Each of you has private "
            "values for the item types (each player's values of all items sum to 10), unknown to the other. "
            f"Turns alternate ({opener} opens). On your turn, write a message to the other player and/or "
            "one token: [Propose: me 1 book 0 hat 2 ball] suggests a split (you keep 1 book, 0 hats and 2 balls); "
            "[Selection] ends the talk; [Walk away] ends it without a deal. When the talk ends (or after "
            f"{limit} turns in total), each player privately chooses the items it takes with [Take: 1 book 0 hat "
            "2 ball]. If the two choices split the items exactly, each gets what it took; otherwise there is no "
            f"deal and each player scores {disagreement_payoff:g}. Your reward is the total value, to you, "
            "of the items you receive."
        )
    elif mode == "deal":
        rules = (
            "You are negotiating with one other player how to divide a set of items. Each of you has private "
            "values for the item types (each player's values of all items sum to 10), unknown to the other. "
            f"Turns alternate ({opener} opens). On your turn, write a message to the other player and/or "
            "one action token: "
            "[Propose: me 1 book 0 hat 2 ball] proposes that you keep 1 book, 0 hats and 2 balls and the other "
            "player gets the rest; [Accept] accepts the proposal the other player made on their last turn "
            "(a proposal stands for one reply only); [Walk away] ends the negotiation without a deal. "
            f"If no proposal is accepted within {limit} turns in total, there is no deal and each player scores "
            f"{disagreement_payoff:g}. Your reward is the total value, to you, of the items you receive."
        )
    else:
        rules = (
            "You are trading resources with one other player. Inventories are public; each player's value per "
            f"unit of each resource is private. Turns alternate ({opener} opens). On your turn, write a "
            "message and/or one action "
            "token: [Offer: 3 Wood -> 2 Gold] offers to give 3 Wood in exchange for 2 Gold; [Accept] executes "
            "the offer the other player made on their last turn (an offer stands for one reply only); "
            "[Walk away] ends the game. Any number of trades may execute; the game ends after "
            f"{limit} turns in total. "
            + (
                "Your reward is the value you gain: your inventory's value at the end minus at the start, under "
                "your own values, paid as each trade executes."
                if reward_kind == "utility"
                else "Whoever gains more value (end minus start, each under its own values) gets +1, the other "
                "-1; equal gains are a draw (0)."
            )
        )
    if mode == "deal" and reward_kind == "spiral":
        rules += " Scoring here is SPIRAL's: whoever ends with the larger value gets +1, the other -1, a tie 0."
    return rules


class NegotiationEnv(TextGameEnv):
    """Two-player multi-issue bargaining (deal mode) or resource trading (trade mode)."""

    metadata = {**TextGameEnv.metadata, "name": "negotiation_v0"}

    def __init__(
        self,
        *,
        mode: str = "deal",
        turn_limit: int = 10,
        disagreement_payoff: float = 0.0,
        trade_endowment: int = 10,
        trade_values: str = "random",
        first_mover: str = "player_0",
        item_totals: str = "uniform",
        ending: str = "proposal",
        reward: str = "utility",
        max_turns: int | None = None,
        invalid_retries: int = 1,
        invalid_rule: str = "default",
        proposal_list: bool = False,
        render_mode: str | None = None,
    ) -> None:
        if mode not in ("deal", "trade"):
            raise ArenaError(f"mode must be 'deal' or 'trade', got {mode!r}")
        if not isinstance(proposal_list, bool):
            raise ArenaError(f"proposal_list must be true or false, got {proposal_list!r}")
        if proposal_list and mode != "deal":
            raise ArenaError("proposal_list applies to mode='deal' (trade offers have no short list)")
        if not isinstance(turn_limit, int) or isinstance(turn_limit, bool) or turn_limit < 2:
            raise ArenaError(f"turn_limit must be an integer >= 2 (a proposal needs a reply), got {turn_limit!r}")
        if (
            not isinstance(disagreement_payoff, int | float)
            or isinstance(disagreement_payoff, bool)
            or not math.isfinite(disagreement_payoff)
        ):
            raise ArenaError(f"disagreement_payoff must be a finite number, got {disagreement_payoff!r}")
        if mode == "trade" and disagreement_payoff != 0:
            raise ArenaError("disagreement_payoff applies to mode='deal'; in trade mode no trade means a gain of 0")
        if not isinstance(trade_endowment, int) or isinstance(trade_endowment, bool) or not 1 <= trade_endowment <= 50:
            raise ArenaError(f"trade_endowment must be an integer from 1 to 50, got {trade_endowment!r}")
        if trade_values not in ("random", "spiral"):
            raise ArenaError(f"trade_values must be 'random' or 'spiral', got {trade_values!r}")
        for name, value, allowed in (
            ("first_mover", first_mover, FIRST_MOVERS),
            ("item_totals", item_totals, tuple(bargaining.ITEM_TOTALS)),
            ("ending", ending, ENDINGS),
            ("reward", reward, REWARDS),
        ):
            if value not in allowed:
                raise ArenaError(f"{name} must be one of {list(allowed)}, got {value!r}")
        if ending == "selection" and mode != "deal":
            raise ArenaError("ending='selection' (Deal or No Deal's private choices) applies to mode='deal'")
        super().__init__(
            2, max_turns=max_turns, invalid_retries=invalid_retries, invalid_rule=invalid_rule, render_mode=render_mode
        )
        self.mode = mode
        self.turn_limit = turn_limit
        self.disagreement_payoff = float(disagreement_payoff)
        self.trade_endowment = trade_endowment
        self.trade_values = trade_values
        self.proposal_list = proposal_list
        self.first_mover, self.item_totals, self.ending, self.reward_kind = first_mover, item_totals, ending, reward
        self._episodes = 0  # resets so far, for first_mover="alternate"

    # -- episode -----------------------------------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """``options`` may fix the setup: deal mode ``{"counts": (3, 1, 2), "values": ((1, 3, 2), (2, 0, 2))}``;
        trade mode ``{"values": ((5, 15), (15, 5))}`` (values per resource for player_0, player_1)."""
        self._fixed = self._check_options(options or {})
        super().reset(seed=seed, options=options)

    def _check_options(self, options: dict[str, Any]) -> dict[str, Any]:
        fixed: dict[str, Any] = {}
        if "values" in options:
            try:
                values = tuple(tuple(int(v) for v in row) for row in options["values"])
            except (TypeError, ValueError):
                raise ArenaError("options['values'] must be two sequences of integers") from None
            width = len(DEAL_ITEMS) if self.mode == "deal" else len(TRADE_RESOURCES)
            if len(values) != 2 or any(len(row) != width or min(row) < 0 for row in values):
                raise ArenaError(f"options['values'] must be two rows of {width} non-negative integers")
            fixed["values"] = values
        if "counts" in options:
            if self.mode != "deal":
                raise ArenaError("options['counts'] applies to mode='deal' only")
            try:
                counts = tuple(int(c) for c in options["counts"])
            except (TypeError, ValueError):
                raise ArenaError("options['counts'] must be a sequence of integers") from None
            if len(counts) != len(DEAL_ITEMS) or not all(1 <= c <= 10 for c in counts):
                raise ArenaError(f"options['counts'] must be {len(DEAL_ITEMS)} integers from 1 to 10")
            fixed["counts"] = counts
        if self.mode == "deal" and ("values" in fixed) != ("counts" in fixed):
            raise ArenaError("deal mode: give options['counts'] and options['values'] together")
        return fixed

    def _setup(self) -> None:
        p0, p1 = self.possible_agents
        if self.mode == "deal":
            self.names = DEAL_ITEMS
            if "counts" in self._fixed:
                counts, (v0, v1) = self._fixed["counts"], self._fixed["values"]
            else:
                counts, v0, v1 = bargaining.sample_context(self.py_random, self.item_totals)
            self.totals = tuple(counts)
            self.inventory = {p0: (0,) * 3, p1: (0,) * 3}
        else:
            self.names = TRADE_RESOURCES
            if "values" in self._fixed:
                v0, v1 = self._fixed["values"]
            elif self.trade_values == "spiral":
                v0, v1 = SPIRAL_VALUES
            else:
                lo, hi = TRADE_VALUE_RANGE
                draw = self.py_random.randint
                v0, v1 = ((draw(lo, hi), draw(lo, hi)) for _ in range(2))
            start = (self.trade_endowment,) * len(TRADE_RESOURCES)
            self.totals = tuple(2 * s for s in start)
            self.inventory = {p0: start, p1: start}
        self.values = {p0: tuple(v0), p1: tuple(v1)}
        self.start_inventory = dict(self.inventory)
        # Texts and info values fixed for the episode, made once (every turn's prompt and infos show them).
        self._values_text = {a: _values_text(self.values[a], self.names) for a in (p0, p1)}
        self._totals_text = _bundle_text(self.totals, self.names)
        self._totals_info = dict(zip(self.names, self.totals, strict=True))
        self._values_info = {a: dict(zip(self.names, self.values[a], strict=True)) for a in (p0, p1)}
        self._half_token = _half_token(self.totals, self.names)  # the example proposal: keep half of each item
        self._deal_answers: dict[bool, dict[str, Any]] = {}  # answer_spec's deal-mode talk specs, by can_accept
        self.offer: Proposal | None = None
        self.turns_taken = 0
        self.trades = 0
        self.agreed_alloc: tuple[int, ...] | None = None
        self.agreed_at: int | None = None  # turns taken when the deal (or the first trade) was made
        self.selection: SimultaneousPhase | None = None
        self.selections: dict[str, tuple[int, ...] | None] | None = None
        self.final_proposal: Proposal | None = None  # the proposal standing when the talk ended
        # (agent, kind, proposal as plain data) of every turn, for the state key; a new tuple per move, so
        # states captured earlier keep theirs
        self._move_keys: tuple[tuple[Any, ...], ...] = ()
        self.phase = "negotiation"
        first = self._first_mover()
        self._fixed_state = (self.mode, self.totals, self.turn_limit, self.disagreement_payoff, self.opener,
                             self.ending, self.reward_kind, self.possible_agents)  # fmt: skip
        if self.mode == "deal":
            self.say(
                f"A negotiation begins over {_bundle_text(self.totals, self.names)}. "
                f"{first} moves first; turns alternate, at most {self.turn_limit} turns."
            )
        else:
            self.say(
                f"A trading game begins. Each player holds {_bundle_text(self.inventory[p0], self.names)}. "
                f"{first} moves first; turns alternate, {self.turn_limit} turns in all."
            )
        self.set_turn(first)

    def _first_mover(self) -> str:
        """Who opens: a fixed seat, seats in turn over this env's episodes, or a seeded coin flip."""
        self._episodes += 1
        rule = self.first_mover
        if rule == "random":  # the only rule that draws (before, every rule drew a number it did not use)
            seat = self.py_random.randrange(2)
        else:
            seat = 0 if rule == "player_0" else 1 if rule == "player_1" else (self._episodes - 1) % 2
        self.opener = self.possible_agents[seat]
        return self.opener

    # -- rules -------------------------------------------------------------------------------------
    def other(self, agent: str) -> str:
        """The other negotiator."""
        return self.possible_agents[1 - self.possible_agents.index(agent)]

    def _play(self, agent: str, action: str) -> str | None:
        parsed = parse_turn(action)
        if isinstance(parsed, str):
            return parsed
        if self.selection is not None:
            return self._select(agent, parsed)
        if parsed.kind == "take":
            return "[Take: ...] is for the private choice after the talk ends."
        if parsed.kind == "select" and self.ending != "selection":
            return "This game ends with an accepted proposal: use [Propose: ...] and [Accept]."
        if parsed.kind == "accept" and self.ending == "selection":
            return "Here nobody accepts: end the talk with [Selection], then each player privately takes its items."
        proposal: Proposal | None = None
        if parsed.kind in ("propose", "offer"):
            result = self._read_proposal(agent, parsed)
            if isinstance(result, str):
                return result
            proposal = result
        elif parsed.kind == "accept" and (self.offer is None or self.offer.proposer == agent):
            return "There is no proposal from the other player to accept (a proposal stands for one reply)."
        # valid from here on: change state
        self._record_move(agent, parsed.kind, proposal)
        if parsed.message:
            self.say(parsed.message, sender=agent, kind="chat")
        if parsed.kind == "walk":
            self.say(f"{agent} walks away.", kind="action")
            self._finish("walked away")
            return None
        if parsed.kind == "select":
            self.turns_taken += 1
            self._open_selection(f"{agent} ends the talk.")
            return None
        if parsed.kind == "accept":
            self._accept(agent)
            if self.finished:
                return None
        if proposal is not None:
            self.offer = proposal
            self.say(self._proposal_text(proposal), kind="action")
        self._end_turn(agent, made_proposal=proposal is not None)
        return None

    def _record_move(self, agent: str, kind: str, proposal: Proposal | None) -> None:
        key = None if proposal is None else (proposal.alloc0, proposal.give, proposal.get)
        self._move_keys = (*self._move_keys, (agent, kind, key))

    def _read_proposal(self, agent: str, parsed: Parsed) -> Proposal | str:
        expected = "propose" if self.mode == "deal" else "offer"
        if parsed.kind != expected:
            example = "[Propose: me 1 book 0 hat 2 ball]" if self.mode == "deal" else "[Offer: 3 Wood -> 2 Gold]"
            return f"This game uses {example}."
        if self.mode == "deal":
            body = re.sub(r"^\s*me\b\s*:?", "", parsed.body, flags=re.IGNORECASE)
            keep = parse_bundle(body, self.names)
            if isinstance(keep, str):
                return keep
            if any(k > t for k, t in zip(keep, self.totals, strict=True)):
                return f"You cannot keep more than there is: {_bundle_text(self.totals, self.names)}."
            alloc0 = keep if agent == self.possible_agents[0] else bargaining.complement(keep, self.totals)
            return Proposal(agent, tuple(alloc0))
        sides = parsed.body.split("->")
        if len(sides) != 2:
            return "Write a trade as [Offer: <what you give> -> <what you want>], e.g. [Offer: 3 Wood -> 2 Gold]."
        give, get = (parse_bundle(side, self.names) for side in sides)
        if isinstance(give, str):
            return give
        if isinstance(get, str):
            return get
        if not any(give) and not any(get):
            return "A trade must move at least one resource."
        if any(g and r for g, r in zip(give, get, strict=True)):
            return "Do not list the same resource on both sides of a trade."
        mine, theirs = self.inventory[agent], self.inventory[self.other(agent)]
        if any(g > m for g, m in zip(give, mine, strict=True)):
            return f"You only have {_bundle_text(mine, self.names)}."
        if any(r > t for r, t in zip(get, theirs, strict=True)):
            return f"{self.other(agent)} only has {_bundle_text(theirs, self.names)}."
        after = tuple(m - g + r for m, g, r in zip(mine, give, get, strict=True))
        alloc0 = after if agent == self.possible_agents[0] else bargaining.complement(after, self.totals)
        return Proposal(agent, tuple(alloc0), tuple(give), tuple(get))

    def _accept(self, agent: str) -> None:
        assert self.offer is not None
        offer, self.offer = self.offer, None
        p0, p1 = self.possible_agents
        self.say(f"{agent} accepts {offer.proposer}'s proposal.", kind="action")
        new = {p0: offer.alloc0, p1: bargaining.complement(offer.alloc0, self.totals)}
        if self.mode == "deal":
            self.inventory = new
            self.agreed_alloc = offer.alloc0
            self.agreed_at = self.turns_taken + 1
            self._finish("deal")
            return
        if self.agreed_at is None:
            self.agreed_at = self.turns_taken + 1
        for player in self.possible_agents:
            gain = bargaining.utility(new[player], self.values[player]) - bargaining.utility(
                self.inventory[player], self.values[player]
            )
            if self.reward_kind == "utility":  # SPIRAL pays only the final comparison
                self.reward(player, gain)
        self.inventory = new
        self.trades += 1
        self.say(
            f"Trade executed. {p0} now holds {_bundle_text(new[p0], self.names)}; "
            f"{p1} holds {_bundle_text(new[p1], self.names)}.",
            kind="result",
        )

    def _end_turn(self, agent: str, *, made_proposal: bool) -> None:
        if not made_proposal:
            self.offer = None  # an unanswered proposal lapses after one reply
        self.turns_taken += 1
        if self.turns_taken >= self.turn_limit and self.ending == "selection":
            self._open_selection("The turn limit is reached.")
        elif self.turns_taken >= self.turn_limit:
            self._finish("turn limit")
        else:
            self.set_turn(self.other(agent))

    # -- Deal or No Deal's private selection (ending="selection") -----------------------------------
    def _open_selection(self, why: str) -> None:
        self.final_proposal, self.offer = self.offer, None
        self.phase = "selection"
        self.selection = SimultaneousPhase(self.possible_agents)
        self.say(f"{why} Each player now privately chooses the items it takes: [Take: <n> book <n> hat <n> ball].")
        self.set_turn(self.possible_agents[0])

    def _select(self, agent: str, parsed: Parsed) -> str | None:
        if parsed.kind != "take":
            return "Choose your items privately: [Take: <n> book <n> hat <n> ball]."
        take = parse_bundle(re.sub(r"^\s*me\b\s*:?", "", parsed.body, flags=re.IGNORECASE), self.names)
        if isinstance(take, str):
            return take
        if any(k > t for k, t in zip(take, self.totals, strict=True)):
            return f"You cannot take more than there is: {_bundle_text(self.totals, self.names)}."
        self._record_selection(agent, tuple(take))
        return None

    def _record_selection(self, agent: str, take: tuple[int, ...] | None) -> None:
        assert self.selection is not None
        self.selection.submit(agent, take)  # type: ignore[arg-type]
        self.tell(agent, "Your choice is recorded.")
        if not self.selection.complete:
            self.set_turn(self.selection.waiting[0])
            return
        p0, p1 = self.possible_agents
        take0, take1 = self.selection.moves[p0], self.selection.moves[p1]
        self.selections = {p0: take0, p1: take1}
        together = None if take0 is None or take1 is None else tuple(a + b for a, b in zip(take0, take1, strict=True))
        if together == tuple(self.totals):  # complementary choices: the deal both meant
            self.inventory = {p0: tuple(take0), p1: tuple(take1)}
            self.agreed_alloc = tuple(take0)
            self.agreed_at = self.turns_taken
            self._finish("matching choices")
        else:
            self._finish("choices do not match")

    def _on_invalid_exhausted(self, agent: str, reason: str) -> None:
        """The offender's turn passes: no message, no proposal; a standing proposal lapses. In the
        selection phase the offender chooses nothing, so the choices cannot match."""
        if self.selection is not None:
            self._record_selection(agent, None)
            return
        self.say(f"{agent} passes after repeated invalid moves.", kind="warning")
        self._record_move(agent, "pass", None)
        self._end_turn(agent, made_proposal=False)

    def _on_truncation(self) -> None:
        """Cut short by ``max_turns``: deal mode pays the disagreement payoff (trades already paid; the
        SPIRAL reward counts a cut game as a draw)."""
        if self.mode == "deal" and self.reward_kind == "utility":
            for agent in self.possible_agents:
                self.reward(agent, self.disagreement_payoff)

    def _truncation_info(self) -> dict[str, Any]:
        return self.outcome_info()

    def _utilities(self) -> dict[str, float]:
        """Deal mode: bundle value (or d without a deal); trade mode: value gained so far."""
        if self.mode == "deal":
            if self.agreed_alloc is None:
                return {a: self.disagreement_payoff for a in self.possible_agents}
            return {a: bargaining.utility(self.inventory[a], self.values[a]) for a in self.possible_agents}
        return {
            a: bargaining.utility(self.inventory[a], self.values[a])
            - bargaining.utility(self.start_inventory[a], self.values[a])
            for a in self.possible_agents
        }

    def outcome_info(self) -> dict[str, Any]:
        """The end-of-game metrics of the outcome so far (also when ``max_turns`` cuts the game)."""
        p0, p1 = self.possible_agents
        utilities = self._utilities()
        if self.mode == "deal":
            base = (0.0, 0.0)
            d = (self.disagreement_payoff, self.disagreement_payoff)
        else:
            base = (
                bargaining.utility(self.start_inventory[p0], self.values[p0]),
                bargaining.utility(self.start_inventory[p1], self.values[p1]),
            )
            d = (0.0, 0.0)
        metrics = bargaining.evaluate_outcome(
            utilities[p0], utilities[p1], self.totals, self.values[p0], self.values[p1],
            base0=base[0], base1=base[1], d0=d[0], d1=d[1],
        )  # fmt: skip
        agreement = self.agreed_alloc is not None if self.mode == "deal" else self.trades > 0
        info: dict[str, Any] = {
            "agreement": agreement,
            "utilities": dict(utilities),
            **metrics,
            "values": {a: dict(zip(self.names, self.values[a], strict=True)) for a in self.possible_agents},
        }
        if self.mode == "deal":
            info["deal"] = (
                {a: dict(zip(self.names, self.inventory[a], strict=True)) for a in self.possible_agents}
                if agreement
                else None
            )
            info["envy_free"] = (
                bargaining.is_envy_free(self.inventory[p0], self.totals, self.values[p0], self.values[p1])
                if agreement
                else None
            )
        else:
            info["trades"] = self.trades
            info["inventories"] = {
                a: dict(zip(self.names, self.inventory[a], strict=True)) for a in self.possible_agents
            }
        info["turns"] = self.turns_taken
        info["turns_to_agreement"] = self.agreed_at
        info["first_mover"] = self.opener
        if self.selections is not None:
            info["selections"] = {
                a: None if t is None else dict(zip(self.names, t, strict=True)) for a, t in self.selections.items()
            }
        return info

    def spiral_rewards(self, utilities: dict[str, float]) -> dict[str, float]:
        """SPIRAL's outcome reward: +1 to the player with the larger gain, -1 to the other, 0 each on a draw."""
        p0, p1 = self.possible_agents
        sign = (utilities[p0] > utilities[p1]) - (utilities[p0] < utilities[p1])
        return {p0: float(sign), p1: float(-sign)}

    def _finish(self, how: str) -> None:
        info = self.outcome_info()
        utilities, agreement = info["utilities"], info["agreement"]
        d = self.disagreement_payoff
        reveal = "; ".join(f"{a} valued {self._values_text[a]}" for a in self.possible_agents)
        self.say(f"Private values revealed: {reveal}.", kind="result")
        scores = ", ".join(f"{a} {u:g}" for a, u in utilities.items())
        if self.mode == "deal":
            rewards = utilities
            reason = f"deal reached; utilities {scores}" if agreement else f"no deal ({how}); each scores {d:g}"
        else:
            rewards = {}  # gains were paid as each trade executed
            reason = f"{self.trades} trade(s), {how}; value gained {scores}"
        if self.reward_kind == "spiral":
            rewards = self.spiral_rewards(utilities)
            reason += "; SPIRAL reward by the larger gain"
        self.end_game(reason, rewards=rewards, info=info)

    # -- views -------------------------------------------------------------------------------------
    def role(self, agent: str) -> str:
        """``first_mover`` (the opener, ``first_mover`` kwarg) or ``second_mover``: the seats are not
        symmetric (who can make the last acceptable proposal depends on it), so trainers normalise them
        separately."""
        opener = getattr(self, "opener", self.possible_agents[0])
        return ROLES[0] if agent == opener else ROLES[1]

    def legal_actions(self, agent: str) -> list[str] | None:
        """With ``proposal_list``: every bare token valid now (each split, ``[Accept]`` when a proposal
        awaits this player's reply, ``[Walk away]``); otherwise None (the move set is free text)."""
        if not self.proposal_list or self.finished or self.selection is not None:
            return None  # the private [Take: ...] choice of the selection ending is structured, not listed
        actions = [proposal_token(tuple(keep), self.names) for keep in bargaining.all_allocations(self.totals)]
        if self.ending == "selection":
            actions.append("[Selection]")
        elif self.offer is not None and self.offer.proposer != agent:
            actions.append("[Accept]")
        actions.append("[Walk away]")
        return actions

    def answer_spec(self, agent: str, legal: list[str] | None) -> dict[str, Any]:
        if self.selection is not None:
            keep = " ".join(f"{t // 2} {name}" for t, name in zip(self.totals, self.names, strict=True))
            syntax = "Your private choice, one token: [Take: <n> book <n> hat <n> ball] (what you take)."
            return structured_answer(f"[Take: {keep}]", syntax, MAX_CHAT_CHARS)
        if legal:
            return choice_answer(
                legal,
                self._half_token,
                syntax="one of the legal actions, optionally after a message to the other player",
            )
        can_accept = self.offer is not None and self.offer.proposer != agent and self.ending != "selection"
        if self.mode == "deal":  # the same two specs all episode (by can_accept): made once, copied per turn
            made = self._deal_answers.get(can_accept)
            if made is None:
                made = self._deal_answers[can_accept] = self._free_text_answer(can_accept, agent)
            return dict(made)
        return self._free_text_answer(can_accept, agent)

    def _free_text_answer(self, can_accept: bool, agent: str) -> dict[str, Any]:
        """The talk's answer spec: a message and/or one token (deal mode's depends only on ``can_accept``)."""
        if self.mode == "deal":
            token = "[Propose: me <n> book <n> hat <n> ball] (what you keep; the other player gets the rest)"
            example = "Here is a split I can accept. " + self._half_token
        else:
            token = "[Offer: <n> <resource>, ... -> <n> <resource>, ...] (what you give -> what you get)"
            example = "Shall we trade?"
            mine, theirs = self.inventory[agent], self.inventory[self.other(agent)]
            pairs = [(g, r) for g in range(len(mine)) for r in range(len(theirs)) if g != r and mine[g] and theirs[r]]
            if pairs:
                give, get = pairs[0]
                example = f"I have some to spare. [Offer: 1 {self.names[give]} -> 1 {self.names[get]}]"
        accept = "[Accept] (the proposal awaiting your reply), " if can_accept else ""
        if self.ending == "selection":
            accept = "[Selection] (ends the talk; then each player privately takes its items), "
        syntax = f"A message to the other player and/or one token: {token}, {accept}or [Walk away]."
        return structured_answer(example, syntax, MAX_CHAT_CHARS)

    _expand_snapshot = staticmethod(_expand_state)  # information_state: _expand_state(_state_snapshot(agent))

    def _state_snapshot(self, agent: str) -> tuple[Any, ...]:
        """What :meth:`information_state` reads, captured on every turn: the episode's fixed part (one tuple made
        at the first mover's choice), and what moves replace rather than change (values, inventories, the offer,
        the tuple of moves) by reference; the private choice of the selection ending as it is now."""
        selection = self.selection
        my_choice = None if selection is None else selection.moves.get(agent, "to choose")
        return (agent, self._fixed_state, self.values[agent], self.inventory, self.turns_taken, self.offer,
                self._move_keys, my_choice)  # fmt: skip

    def _values_line(self, agent: str) -> str:
        values = self._values_text[agent]
        if self.mode == "deal":
            total = bargaining.utility(self.totals, self.values[agent])
            return f"Private values of {agent} (per item): {values}; all items together are worth {total:g} to you."
        return f"Private values of {agent} (per unit): {values}."

    def _header(self, agent: str) -> str:
        if self.mode == "deal":
            setup = f"Items on the table: {self._totals_text}."
        else:
            setup = f"Each player starts with {_bundle_text(self.start_inventory[agent], self.names)}."
        rules = _rules_text(
            self.mode, self.ending, self.reward_kind, self.opener, self.turn_limit, self.disagreement_payoff
        )
        return f"{rules}\nYou are {agent}. {setup}\n{self._values_line(agent)}"

    def _proposal_text(self, proposal: Proposal) -> str:
        p0, p1 = self.possible_agents
        if self.mode == "deal":
            other = bargaining.complement(proposal.alloc0, self.totals)
            return (
                f"{proposal.proposer} proposes: {p0} gets {_bundle_text(proposal.alloc0, self.names)}; "
                f"{p1} gets {_bundle_text(other, self.names)}."
            )
        return (
            f"{proposal.proposer} offers to give {_moved_text(proposal.give, self.names)} "
            f"in exchange for {_moved_text(proposal.get, self.names)}."
        )

    def _bundle_for(self, agent: str, alloc0: tuple[int, ...]) -> tuple[int, ...]:
        return alloc0 if agent == self.possible_agents[0] else bargaining.complement(alloc0, self.totals)

    def _prompt(self, agent: str) -> str:
        if self.selection is not None:
            return (
                f"The talk is over. Items: {self._totals_text}. Your values: {self._values_text[agent]}. "
                "Privately choose what you take: [Take: <n> book <n> hat <n> ball]."
            )
        left = self.turn_limit - self.turns_taken
        lines = [f"Turn {self.turns_taken + 1} of {self.turn_limit}."]
        if left == 1:
            lines[0] += " This is the last turn: a proposal made now cannot be accepted."
        values = self._values_text[agent]
        if self.mode == "trade":
            lines.append(
                f"You hold {_bundle_text(self.inventory[agent], self.names)}; {self.other(agent)} holds "
                f"{_bundle_text(self.inventory[self.other(agent)], self.names)}. Your values: {values}."
            )
        else:
            lines.append(f"Items: {self._totals_text}. Your values: {values}.")
        if self.offer is not None and self.offer.proposer != agent:
            mine = self._bundle_for(agent, self.offer.alloc0)
            worth = bargaining.utility(mine, self.values[agent])
            if self.mode == "trade":
                worth -= bargaining.utility(self.inventory[agent], self.values[agent])
                lines.append(
                    f"Standing offer from {self.offer.proposer}: you would give "
                    f"{_moved_text(self.offer.get, self.names)} and receive {_moved_text(self.offer.give, self.names)}"
                    f" (a change of {worth:+g} in value for you). [Accept] it, or reply with a message and/or a "
                    "counter-offer [Offer: ... -> ...]."
                )
            else:
                lines.append(
                    f"Standing proposal from {self.offer.proposer}: you get {_bundle_text(mine, self.names)} "
                    f"(worth {worth:g} to you). [Accept] it, or reply with a message and/or a counter-proposal "
                    "[Propose: me <n> book <n> hat <n> ball]."
                )
        else:
            token = "[Propose: me <n> book <n> hat <n> ball]" if self.mode == "deal" else "[Offer: <give> -> <get>]"
            lines.append(f"No proposal awaits your reply. Write a message and/or {token}, or [Walk away].")
        return "\n".join(lines)

    def secrets(self, agent: str) -> list[str]:
        if self.finished:
            return []
        return [self._values_line(agent)]

    def _extra_info(self, agent: str) -> dict[str, Any]:
        info: dict[str, Any] = {
            "mode": self.mode,
            "items": list(self.names),
            "totals": dict(self._totals_info),  # copies: a caller may change its infos
            "values": dict(self._values_info[agent]),
            "turns_left": self.turn_limit - self.turns_taken,
            "phase": self.phase,
            "turn_limit": self.turn_limit,
            "disagreement_payoff": self.disagreement_payoff,
            "ending": self.ending,
            "offer": None,
        }
        if self.mode == "trade":
            info["inventory"] = dict(zip(self.names, self.inventory[agent], strict=True))
        if self.selection is not None and self.final_proposal is not None:  # public: it was announced
            mine = self._bundle_for(agent, self.final_proposal.alloc0)
            info["last_proposal"] = {
                "by": self.final_proposal.proposer,
                "you_get": dict(zip(self.names, mine, strict=True)),
                "they_get": dict(zip(self.names, bargaining.complement(mine, self.totals), strict=True)),
            }
        if self.offer is not None and self.offer.proposer != agent and not self.finished:
            mine = self._bundle_for(agent, self.offer.alloc0)
            if self.mode == "deal":
                theirs = bargaining.complement(mine, self.totals)
                info["offer"] = {
                    "you_get": dict(zip(self.names, mine, strict=True)),
                    "they_get": dict(zip(self.names, theirs, strict=True)),
                }
            else:
                info["offer"] = {
                    "you_give": dict(zip(self.names, self.offer.get, strict=True)),
                    "you_get": dict(zip(self.names, self.offer.give, strict=True)),
                }
        return info

    def spectator_text(self) -> str:
        p0, p1 = self.possible_agents
        parts = [
            f"mode {self.mode}, turn {self.turns_taken}/{self.turn_limit}",
            f"{p0} values {self.values[p0]}, {p1} values {self.values[p1]}",
        ]
        if self.mode == "trade":
            parts.append(f"inventories {p0} {self.inventory[p0]}, {p1} {self.inventory[p1]}")
        else:
            parts.append(f"items {self.totals}")
        if self.offer is not None:
            parts.append(f"standing: {self._proposal_text(self.offer)}")
        return "; ".join(parts)
