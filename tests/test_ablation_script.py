"""``scripts/ablation.py``: finished runs are read, not rerun, and the table has a row per estimator and seed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

KEY = "kuhn-poker-v0/exploitability"


def _finished_run(out: Path, values: list[float], win: float) -> None:
    out.mkdir(parents=True)
    lines = [{"iteration": 0, f"eval/{KEY}": values[0]}]
    lines += [{"iteration": i, KEY: v} for i, v in enumerate(values[1:], start=1)]
    lines.append({"iteration": len(values) - 1, f"eval/{KEY}": values[-1], "train_s": 1.0,
                  "eval/kuhn-poker-v0/vs_random/win_rate": win})  # fmt: skip
    (out / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_table_has_one_row_per_estimator_and_seed_and_the_seed_means(tmp_path, monkeypatch, capsys, load_script):
    ablation = load_script("ablation")
    curve = [0.5] * 10 + [0.25]
    _finished_run(tmp_path / "grpo", curve, 0.6)
    _finished_run(tmp_path / "grpo-seed1", [0.5] * 10 + [0.15], 0.4)
    monkeypatch.setattr(ablation, "train", lambda *a, **k: (_ for _ in ()).throw(AssertionError("rerun")))
    argv = ["ablation.py", "--model", "unused", "--out", str(tmp_path), "--estimators", "grpo", "--seeds", "0,1"]
    monkeypatch.setattr(sys, "argv", argv)
    ablation.main()
    out = capsys.readouterr().out
    assert "| grpo | 0 | 0.500 | 0.250 | 0.250 | -50% | 0.600 |" in out
    assert "| grpo | 1 | 0.500 | 0.150 | 0.150 | -70% | 0.400 |" in out
    assert "| grpo | 0.250 / 0.150 | 0.200 |" in out
