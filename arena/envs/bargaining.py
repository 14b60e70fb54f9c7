"""Pure bargaining math for the negotiation game: utilities, outcome tables, Pareto, Nash product.

Everything here is a plain function of item counts and value vectors, so the metrics can be
recomputed offline from a logged deal (game_rules.md §4.7, "log full allocations").

An *allocation* is the bundle player_0 ends with: one count per item type, ``0 <= a[k] <= totals[k]``;
player_1 gets ``totals - a``. The feasible set is every allocation (at most 5·5·5 = 125 for Deal or
No Deal, 21·21 = 441 for the default trade game), enumerated exhaustively.

Definitions (``d`` is the disagreement point, the utilities both players get without a deal):

* utility ``u_i(a) = sum_k a_k · v_i[k]`` (minus the value of player i's starting bundle in the trade game);
* Pareto optimal: no allocation gives both players at least as much and one of them strictly more;
* Nash product ``N(u) = (u_0 − d_0)(u_1 − d_1)`` when both ``u_i >= d_i``, else 0; the Nash ratio of an
  outcome is ``N(u) / max_a N(u(a))`` (None when no allocation improves on ``d`` for both players);
* envy-free (split games): each player values its own bundle at least as much as the other's.
"""

from __future__ import annotations

import itertools
import math
import operator
import random
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

#: Deal-or-No-Deal constraints (Lewis et al. 2017, checked on their self-play contexts).
DOND_MIN_COUNT, DOND_MAX_COUNT = 1, 4
DOND_MIN_ITEMS, DOND_MAX_ITEMS = 5, 7
DOND_TOTAL_VALUE = 10

_EPS = 1e-9


def utility(bundle: Sequence[int], values: Sequence[float]) -> float:
    """The value of ``bundle`` under ``values``: ``sum_k bundle[k] * values[k]``."""
    return float(sum(b * v for b, v in zip(bundle, values, strict=True)))


def complement(bundle: Sequence[int], totals: Sequence[int]) -> tuple[int, ...]:
    """What the other player gets: ``totals - bundle``."""
    return tuple(int(t - b) for b, t in zip(bundle, totals, strict=True))


@lru_cache(maxsize=256)
def all_allocations(totals: tuple[int, ...]) -> np.ndarray:
    """Every allocation of ``totals`` to player_0, shape ``(prod(totals + 1), len(totals))``."""
    if not totals:
        return np.zeros((1, 0), dtype=np.int64)
    grid = np.indices(tuple(t + 1 for t in totals)).reshape(len(totals), -1).T
    grid.setflags(write=False)
    return grid


def outcome_table(
    totals: Sequence[int],
    values0: Sequence[float],
    values1: Sequence[float],
    base0: float = 0.0,
    base1: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(allocations, u0, u1)`` over every allocation; ``base_i`` is subtracted from player i's utility
    (the value of its starting bundle in the trade game, so utilities are gains)."""
    key = tuple(int(t) for t in totals)
    allocs, others = all_allocations(key), _complements(key)
    u0 = allocs @ np.asarray(values0, dtype=float)
    u1 = others @ np.asarray(values1, dtype=float)
    if base0:  # subtracting 0.0 changes no value: skipped (split games have no base)
        u0 -= base0
    if base1:
        u1 -= base1
    return allocs, u0, u1


@lru_cache(maxsize=256)
def _complements(totals: tuple[int, ...]) -> np.ndarray:
    """``totals - all_allocations(totals)``: player_1's bundle for each allocation (read-only)."""
    others = np.asarray(totals, dtype=np.int64) - all_allocations(totals)
    others.setflags(write=False)
    return others


def is_pareto_optimal(u0: float, u1: float, table0: np.ndarray, table1: np.ndarray) -> bool:
    """True when no outcome in the table weakly improves both utilities and strictly improves one."""
    better = (table0 >= u0 - _EPS) & (table1 >= u1 - _EPS) & ((table0 > u0 + _EPS) | (table1 > u1 + _EPS))
    return not np.count_nonzero(better)  # better.any(), without its Python-level dispatch


def nash_product(u0: float, u1: float, d0: float = 0.0, d1: float = 0.0) -> float:
    """``(u0 - d0)(u1 - d1)`` when both players do at least as well as without a deal, else 0."""
    if u0 < d0 - _EPS or u1 < d1 - _EPS:
        return 0.0
    return max(0.0, (u0 - d0) * (u1 - d1))


def best_nash_product(table0: np.ndarray, table1: np.ndarray, d0: float = 0.0, d1: float = 0.0) -> float:
    """The largest Nash product over the table (the Nash bargaining solution's product)."""
    g0 = table0 - d0 if d0 else table0  # subtracting 0.0 changes no value
    g1 = table1 - d1 if d1 else table1
    products = np.where((g0 >= -_EPS) & (g1 >= -_EPS), g0 * g1, 0.0)
    return float(max(0.0, products.max(initial=0.0)))


def nash_ratio(
    u0: float, u1: float, table0: np.ndarray, table1: np.ndarray, d0: float = 0.0, d1: float = 0.0
) -> float | None:
    """The outcome's Nash product over the best possible one, in [0, 1]; None when the best is 0."""
    best = best_nash_product(table0, table1, d0, d1)
    if best <= _EPS:
        return None
    return nash_product(u0, u1, d0, d1) / best


def is_envy_free(
    bundle0: Sequence[int], totals: Sequence[int], values0: Sequence[float], values1: Sequence[float]
) -> bool:
    """Each player values its own bundle at least as much as the other's (split games)."""
    bundle1 = complement(bundle0, totals)
    return utility(bundle0, values0) >= utility(bundle1, values0) and utility(bundle1, values1) >= utility(
        bundle0, values1
    )


#: Tables of at most this many allocations (every Deal-or-No-Deal context: at most 36) are evaluated in
#: plain Python: numpy's per-call cost (about 20 us for the metrics) outweighs the work on so few rows.
_SMALL_TABLE = 64


@lru_cache(maxsize=4096)
def _utility_column(totals: tuple[int, ...], values: tuple[float, ...], complement: bool) -> tuple[float, ...]:
    """The utility of every allocation (in :func:`all_allocations` order) under ``values``: of the bundle
    itself, or of its complement (player_1's share). Deal-or-No-Deal contexts have a few hundred."""
    column = [float(utility(totals, values)) if complement else 0.0]
    for total, value in zip(totals, values, strict=True):
        steps = [a * float(value) for a in range(total + 1)]
        column = [u - g for u in column for g in steps] if complement else [u + g for u in column for g in steps]
    return tuple(column)


def _small_table_metrics(
    u0: float,
    u1: float,
    totals: Sequence[int],
    values0: Sequence[float],
    values1: Sequence[float],
    base0: float,
    base1: float,
    d0: float,
    d1: float,
) -> tuple[bool, float, float]:
    """(Pareto optimal, best Nash product, max welfare) of ``(u0, u1)``: the numpy functions' values,
    from the same utilities (float sums item by item), computed in plain Python."""
    key = tuple(totals)
    table0 = _utility_column(key, tuple(values0), False)
    table1 = _utility_column(key, tuple(values1), True)
    if base0:  # subtracting 0.0 changes no value
        table0 = [x - base0 for x in table0]
    if base1:
        table1 = [y - base1 for y in table1]
    # dominated: some outcome is at least as good for both players and strictly better for one
    above, at_least = u0 + _EPS, u0 - _EPS
    dominated = (
        max([y for x, y in zip(table0, table1, strict=True) if x > above], default=-math.inf) >= u1 - _EPS
        or max([y for x, y in zip(table0, table1, strict=True) if x >= at_least], default=-math.inf) > u1 + _EPS
    )
    g0 = [x - d0 for x in table0] if d0 else table0
    g1 = [y - d1 for y in table1] if d1 else table1
    if min(g0) >= -_EPS and min(g1) >= -_EPS:  # no outcome is worse than disagreement for either player
        best = max(map(operator.mul, g0, g1))
    else:
        best = max([p * q for p, q in zip(g0, g1, strict=True) if p >= -_EPS and q >= -_EPS], default=0.0)
    return not dominated, max(0.0, best), max(map(operator.add, table0, table1))


def evaluate_outcome(
    u0: float,
    u1: float,
    totals: Sequence[int],
    values0: Sequence[float],
    values1: Sequence[float],
    *,
    base0: float = 0.0,
    base1: float = 0.0,
    d0: float = 0.0,
    d1: float = 0.0,
) -> dict[str, Any]:
    """Pareto optimality, Nash ratio, welfare and efficiency of the outcome ``(u0, u1)`` (utilities on
    the same scale as the table, i.e. gains when ``base_i`` is given)."""
    if math.prod(t + 1 for t in totals) <= _SMALL_TABLE:
        pareto, best, max_welfare = _small_table_metrics(u0, u1, totals, values0, values1, base0, base1, d0, d1)
    else:
        _, table0, table1 = outcome_table(totals, values0, values1, base0, base1)
        max_welfare = float((table0 + table1).max())
        pareto, best = is_pareto_optimal(u0, u1, table0, table1), best_nash_product(table0, table1, d0, d1)
    welfare = float(u0 + u1)
    product = nash_product(u0, u1, d0, d1)
    return {
        "pareto_optimal": pareto,
        "nash_product": product,
        "best_nash_product": best,
        "nash_ratio": None if best <= _EPS else product / best,  # nash_ratio(...), its best computed once
        "welfare": welfare,
        "max_welfare": max_welfare,
        "efficiency": welfare / max_welfare if max_welfare > _EPS else None,
    }


# -- Deal-or-No-Deal contexts ------------------------------------------------------------------------
@lru_cache(maxsize=128)
def value_vectors(counts: tuple[int, ...], total: int = DOND_TOTAL_VALUE) -> tuple[tuple[int, ...], ...]:
    """Every non-negative integer value vector ``v`` with ``sum_k counts[k] * v[k] == total``."""
    ranges = [range(total // c + 1) for c in counts]
    return tuple(v for v in itertools.product(*ranges) if sum(c * x for c, x in zip(counts, v, strict=True)) == total)


def valid_context(counts: Sequence[int], values0: Sequence[int], values1: Sequence[int]) -> bool:
    """Lewis et al.'s constraints: every item type is worth something to someone, and at least one
    type is worth something to both."""
    anyone = all(a > 0 or b > 0 for a, b in zip(values0, values1, strict=True))
    both = any(a > 0 and b > 0 for a, b in zip(values0, values1, strict=True))
    return anyone and both


#: How many items a context holds, 5, 6 or 7: ``"uniform"`` draws 1–4 copies of each type until the total
#: fits (totals 5/6/7 at about 0.21/0.36/0.43); ``"dond"`` draws the total as in Lewis et al.'s human
#: data (0.40/0.40/0.19 as reported in issue 22, renormalised), then the copies uniformly among the
#: splits of that total.
ITEM_TOTALS: dict[str, tuple[float, float, float] | None] = {"uniform": None, "dond": (0.40, 0.40, 0.19)}


#: Every valid ``counts`` (1–4 copies of each of the 3 types, 5–7 items in all), and the same by total.
VALID_COUNTS = tuple(
    c
    for c in itertools.product(range(DOND_MIN_COUNT, DOND_MAX_COUNT + 1), repeat=3)
    if DOND_MIN_ITEMS <= sum(c) <= DOND_MAX_ITEMS
)
COUNTS_BY_TOTAL = {t: tuple(c for c in VALID_COUNTS if sum(c) == t) for t in range(DOND_MIN_ITEMS, DOND_MAX_ITEMS + 1)}


@lru_cache(maxsize=64)
def value_pairs(counts: tuple[int, ...]) -> tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]:
    """Every pair ``(values0, values1)`` of :func:`value_vectors` that makes a :func:`valid_context` with ``counts``."""
    vectors = value_vectors(counts)
    return tuple((v0, v1) for v0 in vectors for v1 in vectors if valid_context(counts, v0, v1))


def _counts(rng: random.Random, item_totals: str) -> tuple[int, ...]:
    weights = ITEM_TOTALS[item_totals]
    if weights is None:  # uniform over the valid counts, as drawing 1–4 copies of each until the total fits
        return rng.choice(VALID_COUNTS)
    (total,) = rng.choices(tuple(COUNTS_BY_TOTAL), weights=weights)
    return rng.choice(COUNTS_BY_TOTAL[total])


def sample_context(
    rng: random.Random, item_totals: str = "uniform"
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """A Deal-or-No-Deal context ``(counts, values0, values1)`` for three item types: 1–4 copies each, 5–7 in all
    (:data:`ITEM_TOTALS`), each player's values summing to 10 over all items, drawn uniformly among valid vectors.

    Drawn from tables of every valid choice (two or three draws from ``rng``), not by rejection: the
    same distribution as drawing 1–4 copies of each type until the total fits, then two value vectors until
    the context is valid."""
    counts = _counts(rng, item_totals)
    values0, values1 = rng.choice(value_pairs(counts))
    return counts, values0, values1
