"""``scripts/warmstart_curve.py``: held-out legal mass along a warm start."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from arena.agents.tiny import cached_tiny_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "warmstart_curve.py"


def _script():
    spec = importlib.util.spec_from_file_location("warmstart_curve", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_curve_measures_every_choice_game_at_each_checkpoint_and_the_end(tmp_path, capsys):
    out = tmp_path / "curve.json"
    argv = ["--model", str(cached_tiny_model()), "--envs", "tictactoe-v0", "--envs", "kuhn-poker-v0"]
    assert (
        _script().main([*argv, "--steps", "5", "--every", "2", "--matches", "3", "--heldout", "4", "--json", str(out)])
        == 0
    )
    rows = json.loads(out.read_text())
    assert not (tmp_path / "model").exists()
    assert [r["step"] for r in rows] == [2, 4, 5]
    for r in rows:
        assert set(r) == {"step", "train_s", "tictactoe-v0", "kuhn-poker-v0"}
        assert all(0 < r[g] < 1 for g in ("tictactoe-v0", "kuhn-poker-v0"))
    assert rows[0]["tictactoe-v0"] != rows[-1]["tictactoe-v0"]  # the model trains between the checkpoints
    assert capsys.readouterr().out.count("tictactoe-v0") == 3


def test_bad_arguments_are_refused():
    with pytest.raises(SystemExit):
        _script().main(["--model", "x", "--every", "0"])


def test_out_keeps_the_warm_started_model(tmp_path):
    argv = ["--model", str(cached_tiny_model()), "--envs", "kuhn-poker-v0", "--steps", "2", "--matches", "2"]
    assert _script().main([*argv, "--heldout", "2", "--out", str(tmp_path / "model")]) == 0
    assert (tmp_path / "model" / "config.json").exists()
