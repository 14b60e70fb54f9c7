#!/usr/bin/env python3
"""Play seeded games of the bargaining and public-goods games with scripted agents and print a table.

Usage: ``python3 scripts/bargaining_eval.py [--games 1000] [--markdown]``. Every lineup plays games with
seeds ``0 .. games-1``; any exception is counted as an error (and the script exits non-zero). Columns:
agreement rate (negotiation), mean welfare (sum of all players' payoffs per game), mean welfare relative to
the best possible (negotiation: max welfare over all splits; public goods: everyone contributes everything),
Pareto-optimal rate and mean Nash-product ratio (negotiation), contribution rate (public goods), mean
invalid moves per game and errors.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arena.agents.base import BaseAgent
from arena.agents.match import play
from arena.agents.random_agent import RandomAgent
from arena.agents.scripted.bargaining import FairProposer, HardBargainer
from arena.agents.scripted.public_goods import ConditionalCooperator, FreeRider, TitForTat

AGENTS: dict[str, Callable[[int], BaseAgent]] = {
    "fair": FairProposer,
    "hard": HardBargainer,
    "cond": ConditionalCooperator,
    "free": FreeRider,
    "tft": TitForTat,
    "random": RandomAgent,
}

#: (label, env id, env kwargs, seat lineup)
LINEUPS: list[tuple[str, str, dict[str, Any], tuple[str, ...]]] = [
    ("negotiation deal", "negotiation-v0", {}, ("fair", "fair")),
    ("negotiation deal", "negotiation-v0", {}, ("fair", "hard")),
    ("negotiation deal", "negotiation-v0", {}, ("hard", "fair")),
    ("negotiation deal", "negotiation-v0", {}, ("hard", "hard")),
    ("negotiation deal", "negotiation-v0", {}, ("random", "random")),
    ("negotiation trade", "negotiation-v0", {"mode": "trade"}, ("fair", "fair")),
    ("negotiation trade", "negotiation-v0", {"mode": "trade"}, ("fair", "hard")),
    ("negotiation trade", "negotiation-v0", {"mode": "trade"}, ("hard", "hard")),
    ("negotiation trade", "negotiation-v0", {"mode": "trade"}, ("random", "random")),
    ("public goods", "public-goods-v0", {}, ("cond",) * 4),
    ("public goods", "public-goods-v0", {}, ("tft",) * 4),
    ("public goods", "public-goods-v0", {}, ("free",) * 4),
    ("public goods", "public-goods-v0", {}, ("cond", "cond", "cond", "free")),
    ("public goods", "public-goods-v0", {}, ("tft", "tft", "tft", "free")),
    ("public goods", "public-goods-v0", {}, ("cond", "tft", "free", "cond")),
    ("public goods", "public-goods-v0", {}, ("random",) * 4),
    ("sequential PG", "sequential-public-goods-v0", {}, ("cond",) * 3),
    ("sequential PG", "sequential-public-goods-v0", {}, ("free",) * 3),
    ("sequential PG", "sequential-public-goods-v0", {}, ("cond", "tft", "free")),
    ("sequential PG", "sequential-public-goods-v0", {}, ("free", "cond", "tft")),
    ("sequential PG", "sequential-public-goods-v0", {}, ("random",) * 3),
    ("sequential PG classic", "sequential-public-goods-v0", {"reward": "classic"}, ("cond",) * 3),
    ("sequential PG classic", "sequential-public-goods-v0", {"reward": "classic"}, ("free",) * 3),
    ("sequential PG, last only", "sequential-public-goods-v0", {"observation": "last"}, ("cond", "free", "cond")),
]


@dataclass
class Row:
    """Aggregates over the games of one lineup."""

    label: str
    lineup: str
    games: int = 0
    errors: int = 0
    agreement: list[float] = field(default_factory=list)
    welfare: list[float] = field(default_factory=list)
    welfare_ratio: list[float] = field(default_factory=list)
    pareto: list[float] = field(default_factory=list)
    nash: list[float] = field(default_factory=list)
    contribution: list[float] = field(default_factory=list)
    invalid: list[float] = field(default_factory=list)


def _mean(values: list[float]) -> str:
    return f"{statistics.fmean(values):.3f}" if values else "–"


def run_lineup(label: str, env_id: str, kwargs: dict[str, Any], lineup: tuple[str, ...], games: int) -> Row:
    """Play ``games`` seeded games of one lineup and aggregate the end-of-game infos."""
    row = Row(label, "/".join(lineup))
    for seed in range(games):
        agents = [AGENTS[name](seed * 31 + seat) for seat, name in enumerate(lineup)]
        try:
            result = play(env_id, agents, seed=seed, **kwargs)
        except Exception:  # counted and reported: the table must show every failure
            row.errors += 1
            if row.errors == 1:
                traceback.print_exc()
            continue
        row.games += 1
        info = (result.transcript.result or {}).get("info", {})
        row.invalid.append(float(sum(result.invalid_moves.values())))
        row.welfare.append(float(sum(result.returns.values())))
        if "agreement" in info:
            row.agreement.append(float(info["agreement"]))
            row.pareto.append(float(bool(info["pareto_optimal"])))
            if info.get("nash_ratio") is not None:
                row.nash.append(float(info["nash_ratio"]))
            if info.get("max_welfare"):
                row.welfare_ratio.append(float(info["welfare"]) / float(info["max_welfare"]))
        else:
            if info.get("contribution_rate") is not None:
                row.contribution.append(float(info["contribution_rate"]))
            if info.get("welfare_ratio") is not None:
                row.welfare_ratio.append(float(info["welfare_ratio"]))
    return row


def render(rows: list[Row], markdown: bool) -> str:
    """The table as aligned text or as a Markdown table."""
    head = [
        "game",
        "lineup",
        "games",
        "agree",
        "welfare",
        "welfare/opt",
        "pareto",
        "nash",
        "contrib",
        "invalid/g",
        "err",
    ]
    body = [
        [
            r.label,
            r.lineup,
            str(r.games),
            _mean(r.agreement),
            _mean(r.welfare),
            _mean(r.welfare_ratio),
            _mean(r.pareto),
            _mean(r.nash),
            _mean(r.contribution),
            _mean(r.invalid),
            str(r.errors),
        ]
        for r in rows
    ]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(cells) + " |" for cells in body]
        return "\n".join(lines)
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) for cells in [head, *body])


def main(argv: list[str] | None = None) -> int:
    """Run every lineup and print the table; exit status 1 when any game raised."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=1000, help="seeded games per lineup (default 1000)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows = [run_lineup(label, env_id, kwargs, lineup, args.games) for label, env_id, kwargs, lineup in LINEUPS]
    print(render(rows, args.markdown))
    errors = sum(r.errors for r in rows)
    print(f"\n{sum(r.games for r in rows)} games, {errors} errors, {time.perf_counter() - start:.1f} s")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
