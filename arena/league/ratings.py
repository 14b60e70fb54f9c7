"""Ratings from stored matches: sides, pairwise outcomes, Bradley–Terry with bootstrap intervals,
openskill live ratings and win-rate matrices.

Each match is split into *sides*. In team games (records with ``teams``) a side is a whole team and
its entity is ``"agent@team"`` — the team is rated as one player, never as the sum of its members,
which would make an outnumbered team (two wolves against five villagers) look hopeless to the model.
Otherwise every seat is a side and its entity is the agent's name. A side scores the mean return of
its seats; every pair of sides with different entities is one comparison (higher score wins, equal
scores are a tie worth half a win to each).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from arena.league.store import MatchRecord

ELO_SCALE = 400.0 / np.log(10.0)
ELO_BASE = 1000.0


@dataclass(frozen=True)
class Side:
    """One side of a match: its rated entity, the agent, its role label, seats and score."""

    entity: str
    agent: str
    role: str
    seats: tuple[str, ...]
    score: float
    won: bool


def sides(record: MatchRecord) -> list[Side]:
    """The sides of a match (teams when the record has them, else seats), in seat order."""
    groups: dict[str, list[str]] = defaultdict(list)
    for seat in record.agents:
        groups[record.teams[seat] if record.teams else seat].append(seat)
    winners = set(record.winners)
    result = []
    for label, seats in groups.items():
        agent = "+".join(sorted({record.agents[s] for s in seats}))
        role = label if record.teams else record.roles.get(seats[0], "") or "player"
        entity = f"{agent}@{label}" if record.teams else agent
        score = float(np.mean([record.returns.get(s, 0.0) for s in seats]))
        result.append(Side(entity, agent, role, tuple(seats), score, bool(winners & set(seats))))
    return result


def pairwise(record: MatchRecord) -> list[tuple[str, str, float]]:
    """``(entity_a, entity_b, score_of_a)`` for every pair of sides: 1 win, 0 loss, 0.5 tie."""
    out = []
    match_sides = sides(record)
    for i, a in enumerate(match_sides):
        for b in match_sides[i + 1 :]:
            if a.entity == b.entity:
                continue
            out.append((a.entity, b.entity, 1.0 if a.score > b.score else 0.0 if a.score < b.score else 0.5))
    return out


def bradley_terry(
    wins: np.ndarray, games: np.ndarray, *, prior: float = 0.5, iterations: int = 2000, tol: float = 1e-10
) -> np.ndarray:
    """Bradley–Terry strengths (log scale, mean 0) by Hunter's MM algorithm.

    ``wins[i, j]`` is how often i beat j (ties counted half), ``games[i, j]`` how often they met.
    ``prior`` adds that many virtual games of each player against a reference of strength 1 with
    half a win each, so players with only wins or only losses stay finite.

    Written by hand rather than with scipy.optimize or sklearn: the MM update is a few lines of numpy,
    needs no extra dependency, never leaves the feasible region and increases the likelihood at every
    step, and it is fast enough to refit hundreds of bootstrap samples in well under a second.
    """
    n = wins.shape[0]
    if n == 0:
        return np.zeros(0)
    w = wins.sum(axis=1) + prior / 2
    p = np.ones(n)
    for _ in range(iterations):
        denom = (games / (p[:, None] + p[None, :])).sum(axis=1) + prior / (p + 1.0)
        new = w / denom
        new /= np.exp(np.mean(np.log(new)))
        if np.max(np.abs(np.log(new) - np.log(p))) < tol:
            p = new
            break
        p = new
    return np.log(p) - np.mean(np.log(p))


@dataclass
class Comparisons:
    """All pairwise comparisons of a set of matches, indexed for fast refits."""

    entities: list[str]
    match_index: np.ndarray  # which match each comparison came from
    a: np.ndarray
    b: np.ndarray
    score: np.ndarray
    n_matches: int

    @classmethod
    def from_records(cls, records: Sequence[MatchRecord]) -> Comparisons:
        """Decompose every match into its pairwise comparisons (entities sorted by name)."""
        rows = [(m, a, b, s) for m, r in enumerate(records) for a, b, s in pairwise(r)]
        entities = sorted({x for _, a, b, _ in rows for x in (a, b)})
        index = {e: i for i, e in enumerate(entities)}
        return cls(
            entities=entities,
            match_index=np.array([m for m, *_ in rows], dtype=int),
            a=np.array([index[a] for _, a, _, _ in rows], dtype=int),
            b=np.array([index[b] for _, _, b, _ in rows], dtype=int),
            score=np.array([s for *_, s in rows], dtype=float),
            n_matches=len(records),
        )

    def matrices(self, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(wins, games)`` matrices, each comparison weighted by its match's ``weights`` entry."""
        n = len(self.entities)
        w = np.ones(len(self.a)) if weights is None else weights[self.match_index]
        wins = np.zeros((n, n))
        games = np.zeros((n, n))
        np.add.at(wins, (self.a, self.b), w * self.score)
        np.add.at(wins, (self.b, self.a), w * (1 - self.score))
        np.add.at(games, (self.a, self.b), w)
        np.add.at(games, (self.b, self.a), w)
        return wins, games


@dataclass
class Rating:
    """A leaderboard rating: Elo-scaled BT estimate and its bootstrap interval."""

    entity: str
    elo: float
    low: float
    high: float
    games: int = 0
    wins: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)


def bt_ratings(
    records: Sequence[MatchRecord], *, bootstrap: int = 200, seed: int = 0, anchor: str | None = None
) -> list[Rating]:
    """Bradley–Terry ratings on the Elo scale (``1000 + 400·log10`` strength; mean 1000, or ``anchor``
    fixed at 1000) with 95 % bootstrap intervals from resampling whole matches; best first."""
    comparisons = Comparisons.from_records(records)
    if not comparisons.entities:
        return []
    wins, games = comparisons.matrices()
    estimate = _elo(bradley_terry(wins, games), comparisons.entities, anchor)
    rng = np.random.default_rng(seed)
    samples = np.empty((bootstrap, len(estimate)))
    n = comparisons.n_matches
    for k in range(bootstrap):
        weights = rng.multinomial(n, np.full(n, 1.0 / n)).astype(float)
        samples[k] = _elo(bradley_terry(*comparisons.matrices(weights)), comparisons.entities, anchor)
    low, high = (np.percentile(samples, q, axis=0) if bootstrap else estimate for q in (2.5, 97.5))
    ratings = [
        Rating(e, float(estimate[i]), float(low[i]), float(high[i]), int(games[i].sum()), float(wins[i].sum()))
        for i, e in enumerate(comparisons.entities)
    ]
    return sorted(ratings, key=lambda r: (-r.elo, r.entity))


def _elo(strength: np.ndarray, entities: list[str], anchor: str | None) -> np.ndarray:
    elo = ELO_SCALE * strength
    offset = elo[entities.index(anchor)] if anchor in entities else elo.mean()
    return ELO_BASE + elo - offset


def win_rate_matrix(records: Sequence[MatchRecord]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``(entities, rate, games)``: ``rate[i, j]`` is i's score against j (ties half; NaN if never met)."""
    comparisons = Comparisons.from_records(records)
    wins, games = comparisons.matrices()
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(games > 0, wins / np.maximum(games, 1e-12), np.nan)
    return comparisons.entities, rate, games


def role_win_rates(records: Sequence[MatchRecord]) -> dict[str, dict[str, tuple[float, int]]]:
    """Per entity, per role: ``(share of games its side won, games)``; the ``"all"`` key sums roles."""
    counts: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0]))
    for record in records:
        for side in sides(record):
            for role in (side.role, "all"):
                counts[side.entity][role][0] += side.won
                counts[side.entity][role][1] += 1
    return {
        e: {r: (w / n if n else float("nan"), int(n)) for r, (w, n) in roles.items()} for e, roles in counts.items()
    }


def openskill_ratings(records: Sequence[MatchRecord]) -> dict[str, tuple[float, float]]:
    """Live Plackett–Luce ratings per ``(agent, role)`` entity, ``"agent@role"`` → ``(mu, sigma)``.
    Matches are applied in the given order (pass them sorted for a reproducible table)."""
    from openskill.models import PlackettLuce

    model = PlackettLuce()
    table: dict[str, object] = {}
    for record in records:
        match_sides = sides(record)
        names = [f"{s.agent}@{s.role}" if not record.teams else s.entity for s in match_sides]
        if len(set(names)) < 2:
            continue
        teams = [[table.setdefault(name, model.rating(name=name))] for name in names]
        rated = model.rate(teams, scores=[s.score for s in match_sides])
        for name, team in zip(names, rated, strict=True):
            table[name] = team[0]
    return {name: (float(r.mu), float(r.sigma)) for name, r in sorted(table.items())}
