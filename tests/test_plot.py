"""``arena plot RUN_DIR``: learning curves from metrics.jsonl as a PNG, and the evaluation table."""

from __future__ import annotations

import json

import pytest

from arena.cli import main
from arena.view.curves import panels, read_metrics, series


def write_run(folder, iterations=6):
    rows = [{"iteration": 0, "eval/kuhn-poker-v0/vs_random/win_rate": 0.3, "eval/kuhn-poker-v0/exploitability": 0.58}]
    for i in range(1, iterations + 1):
        rows.append(
            {
                "iteration": i,
                "invalid_rate": 0.1 / i,
                "kuhn-poker-v0/exploitability": 0.5 / i,
                "kuhn-poker-v0/return_vs_pool": 0.01 * i,
                "update/loss": 1.0 / i,
                "lr": 1e-3,
            }
        )
    rows.append({"iteration": iterations, "eval/kuhn-poker-v0/vs_random/win_rate": 0.6})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def test_plot_writes_a_png_of_every_logged_family(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    run = write_run(tmp_path / "run")
    assert main(["plot", str(run), "--table"]) == 0
    out = capsys.readouterr().out
    png = run / "curves.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5_000
    assert "| iteration | exploitability | vs_random/win_rate |" in out and "| 6 |  | 0.600 |" in out
    assert "exploitability by iteration: 1: 0.500" in out and f"saved to {png}" in out.replace("\n", "")
    titles = [title for title, _ in panels(read_metrics(run))]
    assert len(titles) == 4 and titles[0].startswith("exploitability")
    assert series(read_metrics(run), "eval/kuhn-poker-v0/vs_random/win_rate") == ([0.0, 6.0], [0.3, 0.6])


def test_plot_errors_are_one_line(tmp_path, capsys):
    assert main(["plot", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.startswith("error: no metrics at")
    (tmp_path / "metrics.jsonl").write_text("{oops\n")
    assert main(["plot", str(tmp_path)]) == 2
    assert "not a JSON line" in capsys.readouterr().err
