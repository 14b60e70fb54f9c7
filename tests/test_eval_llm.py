"""``llm:DIR`` plays a checkpoint the way it was trained (``policy.json``), and ``arena eval`` batches
LLM matches through the scheduler in one process."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from arena.agents.llm import agent_from_spec
from arena.agents.tiny import build_tiny_model
from arena.cli import main
from arena.league import tournament
from arena.league.store import Store


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = build_tiny_model(
        tmp_path_factory.mktemp("ckpt") / "tiny", hidden_size=32, num_layers=1, intermediate_size=64
    )
    policy = {
        "answer_format": "raw",
        "think": "",
        "constrained": ["tictactoe-v0"],
        "max_new_tokens": {"tictactoe-v0": 7, "kuhn-poker-v0": 9},
        "temperature": 0.7,
        "hide_legal": ["kuhn-poker-v0"],
        "history_lines": {"kuhn-poker-v0": 2},
        "envs": ["tictactoe-v0", "kuhn-poker-v0"],
    }
    (path / "policy.json").write_text(json.dumps(policy))
    return path


def test_checkpoint_plays_as_trained_unless_the_spec_says_otherwise(checkpoint, one_torch_thread):
    agent = agent_from_spec(str(checkpoint), env_id="tictactoe-v0")
    assert agent.constrained and agent.answer_format == "raw" and agent.sampling.max_new_tokens == 7
    other = agent_from_spec(str(checkpoint), env_id="kuhn-poker-v0", backend=agent.backend)
    assert not other.constrained and other.sampling.max_new_tokens == 9
    assert agent.show_legal and not other.show_legal and agent.sampling.temperature == 0.7  # as trained
    assert agent.history_lines is None and other.history_lines == 2
    explicit = agent_from_spec(
        f"{checkpoint},constrained=0,max_new_tokens=5,answer_format=tags", env_id="tictactoe-v0", backend=agent.backend
    )
    assert not explicit.constrained and explicit.sampling.max_new_tokens == 5 and explicit.answer_format == "tags"


def test_eval_batches_llm_matches_through_the_scheduler(checkpoint, tmp_path, capsys, monkeypatch, one_torch_thread):
    from arena.agents import scheduler

    calls = []
    real = scheduler.play_many

    def spy(matches, **kwargs):
        matches = list(matches)
        calls.append(len(matches))
        return real(matches, **kwargs)

    monkeypatch.setattr(scheduler, "play_many", spy)
    monkeypatch.setattr(tournament, "_LLM_CACHE", {})
    db = tmp_path / "l.db"
    args = [
        "eval",
        "tictactoe-v0",
        "-a",
        f"m=llm:{checkpoint}",
        "-a",
        "r=random",
        "-n",
        "3",
        "-j",
        "2",
        "--db",
        str(db),
    ]
    assert main(args) == 0
    out = capsys.readouterr()
    assert calls == [6]  # 3 seeds × 2 lineups in one batched call, in this process
    assert "6 played, 0 failed" in out.out and "--workers is not used" in out.err
    with Store(db) as store:
        assert store.count() == 6 and all(r.transcript for r in store.matches())
    assert len(tournament._LLM_CACHE) == 1  # the model was loaded once
