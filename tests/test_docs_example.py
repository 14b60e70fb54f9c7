"""The adding-an-env tutorial runs, stays under 60 lines, and its game passes the conformance harness."""

from __future__ import annotations

import functools
import runpy
from pathlib import Path

import arena
from arena.core import conformance, registry

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "coin_guess.py"


def test_tutorial_game_registers_plays_and_conforms():
    assert len(EXAMPLE.read_text().splitlines()) < 60
    try:
        module = runpy.run_path(str(EXAMPLE), run_name="tutorial")
        assert "coin-guess-v0" not in registry._REGISTRY  # importing registers nothing...
        module["register_all"]()  # ...the plugin's entry point does
        result = arena.play("coin-guess-v0", [arena.agents.RandomAgent(0), arena.agents.RandomAgent(1)], seed=0)
        assert set(result.returns.values()) <= {0.0, 1.0}
        assert conformance.check_secrecy(functools.partial(arena.make, "coin-guess-v0")) > 0
        conformance.check_env("coin-guess-v0")  # what the tutorial tells users to run
    finally:
        registry._REGISTRY.pop("coin-guess-v0", None)
