"""Exact best responses and exploitability in Kuhn Poker (one hand).

A policy maps each of the 12 information sets ``"{card}:{history}"`` (card J/Q/K; history ``""`` or
``"kb"`` for the first actor, ``"k"`` or ``"b"`` for the second) to action probabilities, e.g.
``{"K:": {"[bet]": 1.0, "[check]": 0.0}, ...}``. Exploitability is OpenSpiel's definition,
NashConv / 2 = (BR value as first actor + BR value as second actor) / 2, in chips per hand;
0 exactly at a Nash equilibrium, whose first-actor value is −1/18.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

CARDS = ("J", "Q", "K")
INFO_SETS = tuple(f"{c}:{h}" for c in CARDS for h in ("", "k", "b", "kb"))
Policy = Mapping[str, Mapping[str, float]]


def _sign(mine: str, theirs: str) -> int:
    return 1 if CARDS.index(mine) > CARDS.index(theirs) else -1


def _prob(policy: Policy, card: str, history: str, action: str) -> float:
    dist = policy[f"{card}:{history}"]
    total = sum(dist.values())
    return dist.get(action, 0.0) / total if total > 0 else 0.5


def best_response_value_first(policy: Policy) -> float:
    """Expected chips of a best-responding first actor against ``policy`` in the second seat."""
    value = 0.0
    for card in CARDS:
        others = [o for o in CARDS if o != card]
        bet = sum(
            0.5 * (_prob(policy, o, "b", "[call]") * 2 * _sign(card, o) + _prob(policy, o, "b", "[fold]"))
            for o in others
        )
        # After checking: showdown if the opponent checks; if it bets we face a best-responded call/fold.
        check_showdown = sum(0.5 * _prob(policy, o, "k", "[check]") * _sign(card, o) for o in others)
        call = sum(0.5 * _prob(policy, o, "k", "[bet]") * 2 * _sign(card, o) for o in others)
        fold = sum(0.5 * _prob(policy, o, "k", "[bet]") * -1 for o in others)
        check = check_showdown + max(call, fold)
        value += max(bet, check) / 3
    return value


def best_response_value_second(policy: Policy) -> float:
    """Expected chips of a best-responding second actor against ``policy`` in the first seat."""
    value = 0.0
    for card in CARDS:
        others = [o for o in CARDS if o != card]
        # Facing a bet (weights: first actor bet with o).
        call = sum(0.5 * _prob(policy, o, "", "[bet]") * 2 * _sign(card, o) for o in others)
        fold = sum(0.5 * _prob(policy, o, "", "[bet]") * -1 for o in others)
        # After a check: check to showdown, or bet and face the first actor's call/fold at "kb".
        check = sum(0.5 * _prob(policy, o, "", "[check]") * _sign(card, o) for o in others)
        bet = sum(
            0.5
            * _prob(policy, o, "", "[check]")
            * (_prob(policy, o, "kb", "[call]") * 2 * _sign(card, o) + _prob(policy, o, "kb", "[fold]"))
            for o in others
        )
        value += (max(call, fold) + max(check, bet)) / 3
    return value


def exploitability(policy: Policy) -> float:
    """NashConv / 2 of a policy played from both seats (chips per hand; 0 at equilibrium)."""
    missing = [key for key in INFO_SETS if key not in policy]
    if missing:
        raise ValueError(f"policy lacks information sets {missing}")
    return (best_response_value_first(policy) + best_response_value_second(policy)) / 2


def tabulate(action_probs: Callable[[str, str], Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """Build a policy table by asking ``action_probs(card, history)`` at every information set."""
    return {f"{c}:{h}": dict(action_probs(c, h)) for c in CARDS for h in ("", "k", "b", "kb")}


def uniform_policy() -> dict[str, dict[str, float]]:
    return tabulate(lambda c, h: {"[call]": 0.5, "[fold]": 0.5} if h.endswith("b") else {"[check]": 0.5, "[bet]": 0.5})
