"""The self-play trainer: config, episode bookkeeping, the update's direction, and exact resume."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from arena.core.errors import ArenaError  # noqa: E402
from arena.trainers.config import load_config  # noqa: E402
from arena.trainers.episodes import Episode, Turn, compute_advantages, flatten, role_key  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _turn(agent, reward, key="s", role=None):
    return Turn(agent, role or f"g/{agent}", 0, [1, 2], [3], [-0.5], reward, key, 0)


def test_cpu_preset_loads_and_overrides_apply():
    cfg = load_config("cpu", overrides=["iterations=3", "opponents.random=0.0", "advantage=grpo"])
    assert cfg.iterations == 3 and cfg.advantage == "grpo" and cfg.opponents["random"] == 0.0
    assert "kuhn-poker-v0" in cfg.envs and "tictactoe-v0" in cfg.constrained


def test_bad_config_names_the_valid_choices():
    with pytest.raises(ArenaError, match="valid keys"):
        load_config("cpu", overrides=["itertions=3"])
    with pytest.raises(ArenaError, match="mars, grpo"):
        load_config("cpu", overrides=["advantage=ppo"])
    with pytest.raises(ArenaError, match="presets: cpu"):
        load_config("gpu-huge")


def test_role_key_uses_the_seat_when_every_player_has_the_same_role():
    assert role_key("kuhn-poker-v0", "player_1", "player") == "kuhn-poker-v0/player_1"
    assert role_key("werewolf-v0", "player_1", "seer") == "werewolf-v0/seer"


def test_self_play_episode_yields_one_trajectory_per_seat_in_one_group():
    ep = Episode("g", 1, "grp", {}, {"player_0": 1.0, "player_1": -1.0}, ["player_0", "player_1"], "self")
    ep.turns = [_turn("player_0", 0.0), _turn("player_1", 0.0), _turn("player_0", 1.0), _turn("player_1", -1.0)]
    turns, arrays = flatten([ep])
    assert [t.agent for t in turns] == ["player_0", "player_0", "player_1", "player_1"]
    assert arrays["traj"].tolist() == [0, 0, 1, 1]
    assert arrays["rewards"].tolist() == [0.0, 1.0, 0.0, -1.0]
    assert len(set(arrays["groups"])) == 2  # seat is part of the group: baselines compare like with like


def test_episode_level_estimators_use_one_return_per_trajectory():
    # Group of two trajectories: one with three turns (return 1), one with one turn (return 0).
    a = Episode("g", 1, "grp", {}, {}, ["player_0"], "random", [_turn("player_0", 0.0)] * 2 + [_turn("player_0", 1.0)])
    b = Episode("g", 1, "grp", {}, {}, ["player_0"], "random", [_turn("player_0", 0.0)])
    _, grpo = compute_advantages([a, b], "grpo")
    assert grpo.tolist() == pytest.approx([0.5, 0.5, 0.5, -0.5])  # a turn-weighted mean would give 0.25
    _, rae = compute_advantages([a, b], "rae")
    assert rae.tolist() == pytest.approx([1.0, 1.0, 1.0, -0.05])  # baseline read before its update
    _, mars = compute_advantages([a, b], "mars")
    assert mars[2] == pytest.approx(mars[0])  # return-to-go is 1 at every turn of a
    assert mars[3] < mars[0]


def _trainer(tmp_path, **overrides):
    from arena.agents.tiny import cached_tiny_model
    from arena.trainers.loop import Trainer

    sets = [
        f"{k}={v}"
        for k, v in {
            "out": str(tmp_path),
            "groups_per_env": 2,
            "group_size": 2,
            "max_new_tokens": 8,
            "micro_batch": 8,
            **overrides,
        }.items()
    ]
    cfg = load_config("cpu", overrides=["envs={kuhn-poker-v0: {num_hands: 1}}", *sets])
    return Trainer(cfg, cached_tiny_model(), log=lambda _: None)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_update_moves_the_likelihood_of_a_turn_with_its_advantage(tmp_path, sign):
    from arena.trainers import learner

    trainer = _trainer(tmp_path, lr=0.001)
    tok = trainer.backend.tokenizer
    prompt = tok("Hand 1: your card is K. Your legal actions: [check] [bet]")["input_ids"]
    completion = tok("<answer>[bet]</answer>")["input_ids"]
    turn = Turn("player_0", "r", 0, prompt, completion, [], 0.0, "s", 0)

    def logprob() -> float:
        with torch.no_grad():
            logp, _ = learner.completion_logprobs(trainer.model, [turn], tok.pad_token_id)
        return float(logp.sum())

    scored = trainer.backend.score_ids([prompt], [completion])[0]
    with torch.no_grad():
        mine, _ = learner.completion_logprobs(trainer.model, [turn], tok.pad_token_id)
    assert mine[0].tolist() == pytest.approx(scored.logprobs, abs=1e-4)  # same tokens as the backend scores
    turn.old_logprobs = list(scored.logprobs)
    before = logprob()
    metrics = learner.update(trainer.model, trainer.optimizer, [turn], np.array([sign]), pad_id=tok.pad_token_id)
    assert metrics["turns_used"] == 1
    assert np.sign(logprob() - before) == sign
    unchanged = learner.update(trainer.model, trainer.optimizer, [turn], np.array([0.0]), pad_id=tok.pad_token_id)
    assert unchanged["turns_used"] == 0  # zero-advantage turns carry no gradient and are skipped


def test_resume_reproduces_the_next_iteration(tmp_path):
    from arena.trainers.loop import Trainer

    a = _trainer(tmp_path / "a")
    a.step()
    ckpt = a.save_checkpoint(tmp_path / "ckpt")
    expected = a.step()
    b = Trainer.resume(ckpt, log=lambda _: None, overrides={"out": str(tmp_path / "b")})
    got = b.step()
    assert b.iteration == 2
    for key in ("turns", "episodes", "invalid_rate", "update/pg_loss", "kuhn-poker-v0/return_vs_pool"):
        assert got.get(key) == pytest.approx(expected.get(key), rel=1e-5, abs=1e-7), key
    for pa, pb in zip(a.model.parameters(), b.model.parameters(), strict=True):
        assert torch.allclose(pa, pb, atol=1e-6)


def test_run_writes_metrics_and_a_loadable_checkpoint(tmp_path):
    from arena.agents.backends.transformers_backend import TransformersBackend
    from arena.trainers.loop import run

    trainer = _trainer(tmp_path, iterations=1, eval_games=4)
    summary = run(trainer, progress=False)
    assert "eval/kuhn-poker-v0/exploitability" in summary["after"]
    assert 0.0 <= summary["after"]["eval/kuhn-poker-v0/exploitability"] <= 1.0 + 1e-9
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [line["iteration"] for line in lines] == [0, 1, 1]
    backend = TransformersBackend(str(tmp_path / "checkpoint"))  # the checkpoint is a policy directory
    assert backend.model is not None


def test_kl_to_the_frozen_reference_starts_at_zero_and_grows(tmp_path):
    from arena.trainers import learner

    trainer = _trainer(tmp_path, kl_coef=0.1, lr=0.01)
    assert trainer.reference is not None
    tok = trainer.backend.tokenizer
    prompt, completion = tok("Your card is K.")["input_ids"], tok("<answer>[bet]</answer>")["input_ids"]
    turn = Turn("player_0", "r", 0, prompt, completion, [], 0.0, "s", 0)
    turn.old_logprobs = list(trainer.backend.score_ids([prompt], [completion])[0].logprobs)
    kwargs = {"pad_id": tok.pad_token_id, "reference": trainer.reference, "kl_coef": 0.1}
    first = learner.update(trainer.model, trainer.optimizer, [turn], np.array([1.0]), **kwargs)
    assert first["kl_ref"] == pytest.approx(0.0, abs=1e-6)
    second = learner.update(trainer.model, trainer.optimizer, [turn], np.array([1.0]), **kwargs)
    assert second["kl_ref"] > 1e-6


def test_arena_train_command_runs_and_resumes(tmp_path):
    from typer.testing import CliRunner

    from arena.agents.tiny import cached_tiny_model
    from arena.cli import app

    common = [
        "--set",
        "envs={kuhn-poker-v0: {num_hands: 1}}",
        "--set",
        "groups_per_env=1",
        "--set",
        "group_size=2",
        "--set",
        "eval_games=2",
        "--set",
        "max_new_tokens=8",
    ]
    args = [
        "train",
        "--preset",
        "cpu",
        "--quiet",
        "--set",
        f"model={cached_tiny_model()}",
        "--set",
        f"out={tmp_path}",
        "--set",
        "iterations=1",
        *common,
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "exploitability" in result.output and (tmp_path / "checkpoint" / "trainer_state.pt").exists()
    resumed = CliRunner().invoke(
        app, ["train", "--resume", str(tmp_path / "checkpoint"), "--quiet", "--set", "iterations=2"]
    )
    assert resumed.exit_code == 0, resumed.output
    iterations = [json.loads(line)["iteration"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert iterations == [0, 1, 1, 2, 2]
    bad = CliRunner().invoke(app, ["train", "--preset", "cpu", "--set", "advantage=nope"])
    assert bad.exit_code != 0
