"""Learning curves of a training run, from its ``metrics.jsonl``: a PNG (``arena plot RUN_DIR``) and the
markdown table of its evaluations (``--table``, for docs/results.md).

Panels, each drawn only when the run logged it: exploitability (Kuhn Poker, every iteration and at the
evaluations), the greedy policy's win and loss rates against each evaluation opponent, the training
signals (mean return against the opponent pool, invalid-move rate) and the update's statistics.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from arena.core.errors import ArenaError


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """The rows of ``RUN_DIR/metrics.jsonl`` (or of the file given), each with an ``iteration``."""
    path = Path(run_dir).expanduser()
    path = path / "metrics.jsonl" if path.is_dir() else path
    if not path.is_file():
        raise ArenaError(f"no metrics at {path} (arena train writes RUN_DIR/metrics.jsonl)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ArenaError(f"{path}: not a metrics file (not UTF-8 text; give the run folder)") from None
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise ArenaError(f"{path}:{number}: not a JSON line") from None
        if isinstance(row, dict) and isinstance(row.get("iteration"), int | float):
            rows.append(row)
    if not rows:
        raise ArenaError(f"{path}: no metrics rows with an iteration")
    return rows


def series(rows: list[dict[str, Any]], key: str) -> tuple[list[float], list[float]]:
    """``(iterations, values)`` of one metric, in logged order (the last value wins per iteration)."""
    points: dict[float, float] = {}
    for row in rows:
        value = row.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            points[float(row["iteration"])] = float(value)
    its = sorted(points)
    return its, [points[i] for i in its]


def panels(rows: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """``(title, metric keys)`` for each panel this run has data for."""
    keys = sorted({k for row in rows for k, v in row.items() if isinstance(v, int | float) and k != "iteration"})
    exploit = [k for k in keys if k.endswith("/exploitability")]
    rates = [k for k in keys if k.startswith("eval/") and k.endswith(("/win_rate", "/loss_rate"))]
    training = [k for k in keys if k.endswith(("/return_vs_pool", "/return_self")) or k == "invalid_rate"]
    update = [k for k in keys if k.startswith("update/")][:6]
    chosen = [
        ("exploitability (chips per hand; 0 = Nash)", exploit),
        ("greedy policy vs evaluation opponents", rates),
        ("training", training),
        ("update", update),
    ]
    return [(title, found) for title, found in chosen if found]


def plot_run(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Draw the run's learning curves into ``out`` (default ``RUN_DIR/curves.png``); needs matplotlib."""
    rows = read_metrics(run_dir)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ArenaError("arena plot needs matplotlib: pip install 'arena-selfplay[plot]'") from None
    chosen = panels(rows)
    if not chosen:
        raise ArenaError(f"{run_dir}: no numeric metrics to plot")
    fig, axes = plt.subplots(len(chosen), 1, figsize=(8, 3.2 * len(chosen)), squeeze=False, sharex=True)
    for ax, (title, keys) in zip(axes[:, 0], chosen, strict=True):
        for key in keys:
            its, values = series(rows, key)
            evaluation = key.startswith("eval/")
            ax.plot(its, values, marker="o" if evaluation else None, markersize=4, label=_label(key))
        if title.startswith("exploitability"):  # Kuhn Poker's reference points (docs/results.md)
            ax.axhline(0.458, color="grey", linestyle=":", linewidth=1, label="uniform random (0.458)")
            ax.axhline(1 / 3, color="grey", linestyle="--", linewidth=1, label="best card-blind policy (1/3)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    axes[-1, 0].set_xlabel("iteration")
    fig.tight_layout()
    target = Path(out).expanduser() if out is not None else _default_out(run_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target


def _default_out(run_dir: str | Path) -> Path:
    path = Path(run_dir).expanduser()
    return (path if path.is_dir() else path.parent) / "curves.png"


def _label(key: str) -> str:
    label = key.removeprefix("eval/").replace("/vs_", " vs ").replace("/", " ")
    if key.endswith("/exploitability"):
        label += " (evaluation)" if key.startswith("eval/") else " (every iteration)"
    return label


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The evaluations as markdown tables, one per game (iteration 0 is the starting policy), then the
    exploitability logged at every iteration."""
    evals = [row for row in rows if any(k.startswith("eval/") for k in row)]
    envs = sorted({k.split("/")[1] for row in evals for k in row if k.startswith("eval/")})
    out: list[str] = []
    for env in envs:
        keys = sorted(
            {
                k
                for row in evals
                for k in row
                if k.startswith(f"eval/{env}/") and ("exploit" in k or k.endswith(("/win_rate", "/loss_rate")))
            }
        )
        names = [k.removeprefix(f"eval/{env}/") for k in keys]
        out += ["", env, "", "| iteration | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        by_iteration: dict[Any, dict[str, Any]] = defaultdict(dict)
        for row in evals:
            by_iteration[row["iteration"]].update(row)
        for iteration, row in by_iteration.items():
            cells = [f"{row[k]:.3f}" if isinstance(row.get(k), int | float) else "" for k in keys]
            out.append(f"| {iteration} | " + " | ".join(cells) + " |")
    every = [
        (row["iteration"], v)
        for row in rows
        for k, v in row.items()
        if k.endswith("/exploitability") and "eval/" not in k
    ]
    if every:
        out += ["", "exploitability by iteration: " + ", ".join(f"{i}: {v:.3f}" for i, v in every)]
    return "\n".join(out).strip()
