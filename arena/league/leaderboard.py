"""Leaderboard tables from the store: rich table, markdown, CSV, JSON, and an optional matplotlib plot."""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from arena.core.errors import ArenaError
from arena.league.ratings import bt_ratings, openskill_ratings, role_win_rates, sides, win_rate_matrix
from arena.league.store import MatchRecord

FORMATS = ("table", "md", "csv", "json")
#: Fewer pairwise comparisons than this and a bootstrap interval means nothing: it is not shown.
MIN_CI_GAMES = 10


def interval_note(games: int, wins: float, width: float) -> str | None:
    """Why an entity's bootstrap interval is not shown, or None when it is meaningful. With few games,
    or one result in every game, every resample gives the same outcome and the interval collapses to
    zero ``width`` (a 5–0 record printed ``1290–1290``) though the rating is anything but certain."""
    if games < MIN_CI_GAMES:
        return "too few games"
    if wins >= games:
        return "no losses: unbounded"
    if wins <= 0:
        return "no wins: unbounded"
    if width < 1.0:
        return "same result every game"
    return None


@dataclass
class Row:
    """One leaderboard line."""

    rank: int
    entity: str
    rating: float
    low: float
    high: float
    games: int
    win_rate: float
    roles: dict[str, tuple[float, int]]
    mu: float | None = None
    sigma: float | None = None
    exploitability: float | None = None
    ci_note: str | None = None  # set when the interval is not shown (see interval_note)

    def as_dict(self) -> dict[str, Any]:
        """The row as JSON-ready values (NaN and missing numbers become None)."""
        return {
            "rank": self.rank,
            "agent": self.entity,
            "rating": _round(self.rating, 1),
            "ci_low": None if self.ci_note else round(self.low, 1),
            "ci_high": None if self.ci_note else round(self.high, 1),
            "ci_note": self.ci_note,
            "games": self.games,
            "win_rate": _round(self.win_rate),
            "role_win_rates": {r: {"win_rate": _round(w), "games": n} for r, (w, n) in self.roles.items()},
            "openskill_mu": _round(self.mu, 2),
            "openskill_sigma": _round(self.sigma, 2),
            "exploitability": _round(self.exploitability, 4),
        }


def _round(x: float | None, digits: int = 3) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), digits)


@dataclass
class Board:
    """A computed leaderboard for one env."""

    env_id: str
    matches: int
    rows: list[Row]
    entities: list[str] = field(default_factory=list)
    rate: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    games: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


def compute(env_id: str, records: list[MatchRecord], *, bootstrap: int = 200, exploitability: bool = True) -> Board:
    """Ratings, intervals, win rates and (Kuhn Poker) exploitability for one env's matches. Matches are
    sorted by seed and key first, so the same set of matches always gives the same board."""
    records = sorted(records, key=lambda r: (r.seed if r.seed is not None else -1, r.key))
    ratings = bt_ratings(records, bootstrap=bootstrap)
    roles = role_win_rates(records)
    skill = openskill_ratings(records)
    exploit = _exploitabilities(env_id, records) if exploitability else {}
    agent_of = _entity_agents(records)
    rows = []
    for rank, r in enumerate(ratings, 1):
        per_role = {k: v for k, v in roles.get(r.entity, {}).items() if k != "all"}
        overall = roles.get(r.entity, {}).get("all", (float("nan"), 0))
        teamed = agent_of.get(r.entity, r.entity) != r.entity  # team entities are rated as "agent@team"
        live = skill.get(r.entity) if teamed else _single_role_skill(skill, r.entity, per_role)
        rows.append(
            Row(
                rank=rank,
                entity=r.entity,
                rating=r.elo,
                low=r.low,
                high=r.high,
                games=overall[1],
                win_rate=overall[0],
                roles=per_role,
                mu=None if live is None else live[0],
                sigma=None if live is None else live[1],
                exploitability=exploit.get(agent_of.get(r.entity, r.entity)),
                ci_note=interval_note(r.games, r.wins, r.high - r.low) if bootstrap else None,
            )
        )
    rows += _unrated_rows(roles, {r.entity for r in ratings}, exploit, agent_of, first_rank=len(rows) + 1)
    entities, rate, games = win_rate_matrix(records)
    return Board(env_id, len(records), rows, entities, rate, games)


#: The interval note of a row without a rating.
UNRATED = "unrated"


def _unrated_rows(
    roles: dict[str, dict[str, tuple[float, int]]],
    rated: set[str],
    exploit: dict[str, float],
    agent_of: dict[str, str],
    first_rank: int,
) -> list[Row]:
    """Rows for the agents that met no other agent, best win rate first: every agent of a single-player game
    (household, where a win is a solved task) and one that only played itself. The ratings compare agents that
    met, so these have none; without these rows such a league showed an empty table."""
    overall = {e: r.get("all", (math.nan, 0)) for e, r in roles.items() if e not in rated}  # (win rate, games)
    unrated = sorted(overall, key=lambda e: (-_or_minus_one(overall[e][0]), e))
    rows = []
    for rank, entity in enumerate(unrated, first_rank):
        win_rate, games = overall[entity]
        rows.append(
            Row(
                rank=rank,
                entity=entity,
                rating=math.nan,
                low=math.nan,
                high=math.nan,
                games=games,
                win_rate=win_rate,
                roles={k: v for k, v in roles[entity].items() if k != "all"},
                exploitability=exploit.get(agent_of.get(entity, entity)),
                ci_note=UNRATED,
            )
        )
    return rows


def _entity_agents(records: list[MatchRecord]) -> dict[str, str]:
    """Each entity's agent, taken from the sides rather than split off ``agent@team``: an agent's own
    name may hold an ``@`` (``x@player`` is not agent ``x`` in role ``player``)."""
    return {side.entity: side.agent for record in records for side in sides(record)}


def _or_minus_one(x: float) -> float:
    return -1.0 if math.isnan(x) else x


def _single_role_skill(
    skill: dict[str, tuple[float, float]], entity: str, roles: dict[str, tuple[float, int]]
) -> tuple[float, float] | None:
    """The openskill rating shown in an entity's row: its only role's, or the most played role's."""
    if not roles:
        return None
    role = max(roles, key=lambda k: roles[k][1])
    return skill.get(f"{entity}@{role}")


def _exploitabilities(env_id: str, records: list[MatchRecord]) -> dict[str, float]:
    from arena.league.exploitability import agent_exploitability, is_kuhn

    if not is_kuhn(env_id):
        return {}
    specs: dict[str, str] = {}
    for record in records:
        for seat, name in record.agents.items():
            specs[name] = record.specs.get(seat, name)
    out = {}
    for name, spec in sorted(specs.items()):
        try:
            value = agent_exploitability(spec, env_id)
        except Exception:
            value = None
        if value is not None:
            out[name] = value
    return out


# -- rendering ------------------------------------------------------------------------------------------
def _ci(row: Row) -> str:
    return row.ci_note or f"{row.low:.0f}–{row.high:.0f}"


def _pct(x: float) -> str:
    return "–" if math.isnan(x) else f"{100 * x:.0f}%"


def _roles_text(row: Row) -> str:
    return " ".join(f"{role} {_pct(w)}" for role, (w, _) in sorted(row.roles.items()))


def _skill(row: Row) -> str:
    return "–" if row.mu is None else f"{row.mu:.1f}±{row.sigma:.1f}"


def _exploit(row: Row) -> str:
    return "–" if row.exploitability is None else f"{row.exploitability:.3f}"


def rich_table(board: Board) -> Table:
    """The leaderboard as a rich table (agent names are plain text, never markup, their control characters
    shown as ``\\xNN``: :func:`arena.view.text.safe`). The by-role column appears when some agent played several
    roles, the exploitability column when any agent has one."""
    from rich.text import Text

    from arena.view.text import safe

    by_role = any(len(row.roles) > 1 for row in board.rows)
    exploit = any(row.exploitability is not None for row in board.rows)
    table = Table(title=Text(safe(f"{board.env_id} · {board.matches} matches")), title_justify="left")
    columns = [("#", "right"), ("agent", "left"), ("rating", "right"), ("95% CI", "right"), ("games", "right")]
    columns += [("win", "right")] + ([("win by role", "left")] if by_role else [])
    columns += [("skill μ±σ", "right")] + ([("exploit.", "right")] if exploit else [])
    for name, justify in columns:
        table.add_column(name, justify=justify, overflow="fold", no_wrap=name in ("rating", "win"))
    for row in board.rows:
        rating = "–" if math.isnan(row.rating) else f"{row.rating:.0f}"
        cells: list[str | Text] = [str(row.rank), Text(safe(row.entity)), rating, _ci(row), str(row.games)]
        cells += [_pct(row.win_rate)] + ([Text(safe(_roles_text(row)))] if by_role else [])
        cells += [_skill(row)] + ([_exploit(row)] if exploit else [])
        table.add_row(*cells)
    if any(row.ci_note == UNRATED for row in board.rows):
        table.caption = "unrated: met no other agent (a single-player game, or only itself); ranked by win rate"
    return table


_HEAD = ["rank", "agent", "rating", "ci_low", "ci_high", "games", "win_rate", "win_by_role", "openskill", "exploit"]


def _flat(row: Row) -> list[str]:
    return [
        str(row.rank),
        row.entity,
        "" if math.isnan(row.rating) else f"{row.rating:.1f}",
        row.ci_note or f"{row.low:.1f}",
        row.ci_note or f"{row.high:.1f}",
        str(row.games),
        "" if math.isnan(row.win_rate) else f"{row.win_rate:.3f}",
        _roles_text(row),
        "" if row.mu is None else f"{row.mu:.2f}±{row.sigma:.2f}",
        "" if row.exploitability is None else f"{row.exploitability:.4f}",
    ]


def markdown(board: Board) -> str:
    """A GitHub markdown table (pipes in agent names escaped, a newline shown as ``\\n``, control characters as
    ``\\xNN``: a name cannot break the table or style the terminal it is printed on)."""
    from arena.view.text import safe

    lines = [f"**{board.env_id}** · {board.matches} matches", "", "| " + " | ".join(_HEAD) + " |"]
    lines.append("|" + "|".join("---" for _ in _HEAD) + "|")
    for row in board.rows:
        cells = (safe(cell).replace("|", "\\|").replace("\n", "\\n").replace("\t", " ") for cell in _flat(row))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def csv_text(boards: list[Board]) -> str:
    """All boards as one CSV with an ``env`` column."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["env", *_HEAD])
    for board in boards:
        for row in board.rows:
            writer.writerow([board.env_id, *_flat(row)])
    return out.getvalue()


def json_text(boards: list[Board]) -> str:
    """All boards as JSON: ratings plus the win-rate matrix (null where two agents never met)."""
    data = [
        {
            "env_id": b.env_id,
            "matches": b.matches,
            "ratings": [r.as_dict() for r in b.rows],
            "win_rate": {
                "agents": b.entities,
                "rate": [[_round(x) for x in row] for row in b.rate.tolist()],
                "games": b.games.astype(int).tolist(),
            },
        }
        for b in boards
    ]
    return json.dumps(data, indent=2, ensure_ascii=False)


def plot(boards: list[Board], path: Path) -> Path:
    """Draw each board's win-rate matrix and ratings with intervals into one PNG (needs matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ArenaError("--plot needs matplotlib: pip install 'arena-selfplay[plot]'") from None
    fig, axes = plt.subplots(len(boards), 2, figsize=(12, 4.5 * len(boards)), squeeze=False)
    for (ax_matrix, ax_rating), board in zip(axes, boards, strict=True):
        if board.rate.size:
            cmap = plt.get_cmap("RdBu").with_extremes(bad="lightgrey")  # grey: pairs that never met
            image = ax_matrix.imshow(np.ma.masked_invalid(board.rate), vmin=0, vmax=1, cmap=cmap)
            for (i, j), value in np.ndenumerate(board.rate):
                if not np.isnan(value):
                    ax_matrix.text(j, i, f"{value:.2f}\n{int(board.games[i, j])}", ha="center", va="center", fontsize=8)
            ax_matrix.set_xticks(range(len(board.entities)), board.entities, rotation=45, ha="right")
            ax_matrix.set_yticks(range(len(board.entities)), board.entities)
            fig.colorbar(image, ax=ax_matrix)
        else:  # a single-player game: no agent met another
            ax_matrix.axis("off")
            ax_matrix.text(0.5, 0.5, "no agent met another", ha="center", va="center", transform=ax_matrix.transAxes)
        ax_matrix.set_title(f"{board.env_id}: row's win rate against column")
        rated = [r for r in board.rows if r.ci_note != UNRATED][::-1]
        if rated:
            shown = [(0.0, 0.0) if r.ci_note else (r.rating - r.low, r.high - r.rating) for r in rated]
            err = np.array(shown).T.reshape(2, -1)
            ax_rating.errorbar([r.rating for r in rated], range(len(rated)), xerr=err, fmt="o", capsize=4)
            ax_rating.set_yticks(range(len(rated)), [r.entity for r in rated])
            ax_rating.set_xlabel("Bradley–Terry rating (Elo scale), 95% bootstrap CI")
        else:  # unrated agents only: their win rates (a single-player game's success rates)
            unrated = board.rows[::-1]
            ax_rating.barh(range(len(unrated)), [0.0 if math.isnan(r.win_rate) else r.win_rate for r in unrated])
            ax_rating.set_yticks(range(len(unrated)), [r.entity for r in unrated])
            ax_rating.set_xlim(0, 1)
            ax_rating.set_xlabel("win rate (unrated: no agent met another)")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
