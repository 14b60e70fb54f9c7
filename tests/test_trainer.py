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


@pytest.mark.parametrize("preset", ["cpu", "cpu-tictactoe"])
def test_every_preset_is_a_valid_config(preset):
    cfg = load_config(preset)
    assert cfg.envs and cfg.iterations > 0 and set(cfg.envs) <= set(cfg.constrained)


def test_bad_config_names_the_valid_choices():
    with pytest.raises(ArenaError, match="valid keys"):
        load_config("cpu", overrides=["itertions=3"])
    with pytest.raises(ArenaError, match="mars, grpo"):
        load_config("cpu", overrides=["advantage=ppo"])
    with pytest.raises(ArenaError, match="presets: cpu"):
        load_config("gpu-huge")
    for envs in ("[[1]]", "[kuhn-poker-v0, kuhn-poker-v0]", "[3]"):  # a TypeError; a game trained once, silently
        with pytest.raises(ArenaError, match="envs must list game ids, each once"):
            load_config("cpu", overrides=[f"envs={envs}"])


def test_a_config_file_or_value_that_is_not_a_yaml_mapping_is_one_clear_error(tmp_path):
    """A config file with a YAML syntax error, a list or binary bytes, or a ``--set`` value with a syntax
    error, failed with yaml's multi-line ParserError or ``ValueError: dictionary update sequence...``."""
    files = {"broken.yaml": b"iterations: [1\n", "list.yaml": b"- a\n- b\n", "binary.yaml": b"\xff\xfe\x00"}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    with pytest.raises(ArenaError, match=r"broken.yaml is not valid YAML \(line 2, column 1\)"):
        load_config(path=tmp_path / "broken.yaml")
    with pytest.raises(ArenaError, match="list.yaml must be a mapping of config keys"):
        load_config(path=tmp_path / "list.yaml")
    with pytest.raises(ArenaError, match="binary.yaml is not a YAML text file"):
        load_config(path=tmp_path / "binary.yaml")
    with pytest.raises(ArenaError, match=r"the value of iterations \('\[1'\) is not valid YAML"):
        load_config("cpu", overrides=["iterations=[1"])


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


def test_trajectory_turn_weight_gives_each_trajectory_equal_weight():
    # The long trajectory lost (a lost game lasts longer): broadcasting its advantage to each of its three
    # turns makes the turns' advantages sum below zero; weighting by trajectory makes each group's sum zero.
    long = Episode(
        "g", 1, "grp", {}, {}, ["player_0"], "random", [_turn("player_0", 0.0)] * 2 + [_turn("player_0", -1.0)]
    )
    short = Episode("g", 1, "grp", {}, {}, ["player_0"], "random", [_turn("player_0", 1.0)])
    _, per_turn = compute_advantages([long, short], "grpo")
    assert per_turn.tolist() == pytest.approx([-1.0, -1.0, -1.0, 1.0]) and per_turn.sum() < 0
    _, per_traj = compute_advantages([long, short], "grpo", turn_weight="trajectory")
    # Mean length 2: the long trajectory's turns get -1 × 2/3, the short one's +1 × 2/1.
    assert per_traj.tolist() == pytest.approx([-2 / 3, -2 / 3, -2 / 3, 2.0]) and per_traj.sum() == pytest.approx(0.0)
    _, mars = compute_advantages([long, short], "mars", turn_weight="trajectory")  # turn-level: unchanged
    assert mars.tolist() == pytest.approx(compute_advantages([long, short], "mars")[1].tolist())
    with pytest.raises(ArenaError, match="turn, trajectory"):
        compute_advantages([long, short], "grpo", turn_weight="episode")
    with pytest.raises(ArenaError, match="turn_weight"):
        load_config("cpu", overrides=["turn_weight=seq"])


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


@pytest.mark.parametrize("minibatches", [1, 3])
def test_update_takes_one_optimizer_step_per_minibatch_and_epoch(tmp_path, minibatches):
    from arena.trainers import learner

    # lr 3e-4: at 1e-3 two full-batch Adam steps can overshoot on the tiny model (whose tokenizer is
    # trained on the games' texts), lowering every completion's likelihood by ~9 nats
    trainer = _trainer(tmp_path, lr=0.0003)
    tok = trainer.backend.tokenizer
    turns, signs = [], []
    for i, card in enumerate("JQKJQK"):
        prompt = tok(f"Hand 1: your card is {card}. Your legal actions: [check] [bet]")["input_ids"]
        completion = tok("<answer>[bet]</answer>" if i % 2 else "<answer>[check]</answer>")["input_ids"]
        turn = Turn("player_0", "r", 0, prompt, completion, [], 0.0, "s", 0)
        turn.old_logprobs = list(trainer.backend.score_ids([prompt], [completion])[0].logprobs)
        turns.append(turn)
        signs.append(1.0 if card == "K" else -1.0)
    calls = []
    original = trainer.optimizer.step
    trainer.optimizer.step = lambda *a, **k: (calls.append(1), original(*a, **k))[1]
    metrics = learner.update(
        trainer.model,
        trainer.optimizer,
        turns,
        np.array(signs),
        pad_id=tok.pad_token_id,
        epochs=2,
        micro_batch=2,
        minibatches=minibatches,
        rng=np.random.default_rng(0),
    )
    assert len(calls) == 2 * minibatches
    assert metrics["turns_used"] == 6
    with torch.no_grad():
        after, _ = learner.completion_logprobs(trainer.model, turns, tok.pad_token_id)
    moved = [float(after[i].sum()) - sum(t.old_logprobs) for i, t in enumerate(turns)]
    assert np.mean([m for m, s in zip(moved, signs, strict=True) if s > 0]) > np.mean(
        [m for m, s in zip(moved, signs, strict=True) if s < 0]
    )


def _assert_same_metrics(got: dict, expected: dict, keys: tuple[str, ...], rel: float, abs_: float) -> None:
    """Both runs logged the same keys with the same values (``pytest.approx`` refuses None on pytest 9)."""
    for key in keys:
        assert (key in got) == (key in expected), key
        if expected.get(key) is None:
            assert got.get(key) is None, key
        else:
            assert got[key] == pytest.approx(expected[key], rel=rel, abs=abs_), key


def test_a_resume_refuses_other_games_and_broken_checkpoints(tmp_path):
    """A resume with other games failed with a KeyError deep in load_state, and a truncated checkpoint with
    pickle's own error."""
    import torch

    from arena.trainers.loop import Trainer

    a = _trainer(tmp_path / "a")
    ckpt = a.save_checkpoint(tmp_path / "ckpt")
    with pytest.raises(ArenaError, match="a resume keeps the checkpoint's envs"):
        Trainer.resume(ckpt, log=lambda _: None, overrides={"envs": {"tictactoe-v0": {}}})
    state = torch.load(ckpt / "trainer_state.pt", weights_only=False)
    del state["optimizer"]
    torch.save(state, ckpt / "trainer_state.pt")
    with pytest.raises(ArenaError, match="incomplete checkpoint \\(no 'optimizer'\\)"):
        Trainer.resume(ckpt, log=lambda _: None, overrides={"out": str(tmp_path / "b")})
    (ckpt / "trainer_state.pt").write_bytes(b"garbage")
    with pytest.raises(ArenaError, match="not a readable checkpoint"):
        Trainer.resume(ckpt, log=lambda _: None)


def test_a_resume_refuses_a_lora_change_and_a_checkpoint_of_another_model_or_version(tmp_path):
    """Adding LoRA on resume failed in the optimizer with ``ValueError: loaded state dict contains a parameter
    group...``, an unknown key in the checkpoint's config with ``TypeError``, a truncated ``reference.pt`` with
    ``UnpicklingError``, and another model's optimizer state with ``ValueError``."""
    import shutil

    from arena.trainers.loop import Trainer

    ckpt = _trainer(tmp_path / "a", kl_coef=0.1).save_checkpoint(tmp_path / "ckpt")
    out = {"out": str(tmp_path / "b")}
    with pytest.raises(ArenaError, match="a resume keeps the checkpoint's lora"):
        Trainer.resume(ckpt, log=lambda _: None, overrides=out, sets=["lora={r: 4}"])

    def damaged(name, change):
        copy = shutil.copytree(ckpt, tmp_path / name)
        change(copy)
        return copy

    def state(change):
        def edit(copy):
            loaded = torch.load(copy / "trainer_state.pt", weights_only=False)
            change(loaded)
            torch.save(loaded, copy / "trainer_state.pt")

        return edit

    newer = damaged("newer", state(lambda s: s["config"].update(future_knob=1)))
    with pytest.raises(ArenaError, match=r"unknown config keys \['future_knob'\] in the checkpoint"):
        Trainer.resume(newer, log=lambda _: None, overrides=out)
    other = damaged("other", state(lambda s: s["optimizer"]["param_groups"][0].update(params=[0])))
    with pytest.raises(ArenaError, match="does not fit its model"):
        Trainer.resume(other, log=lambda _: None, overrides=out)
    truncated = damaged("truncated", lambda c: (c / "reference.pt").write_bytes(b"xx"))
    with pytest.raises(ArenaError, match="a damaged checkpoint"):
        Trainer.resume(truncated, log=lambda _: None, overrides=out)


def test_a_resume_into_an_out_that_is_a_file_is_one_clear_error(tmp_path):
    """``arena train --resume CKPT --set out=FILE`` failed with ``FileExistsError`` after loading the model (a
    new run's ``out`` was checked, a resumed run's was not)."""
    from arena.trainers.loop import Trainer

    ckpt = _trainer(tmp_path / "a").save_checkpoint(tmp_path / "ckpt")
    (tmp_path / "taken").write_text("x")
    with pytest.raises(ArenaError, match="out .*taken: is a file, give a folder"):
        Trainer.resume(ckpt, log=lambda _: None, sets=[f"out={tmp_path / 'taken'}"])


def test_a_dotted_set_on_resume_changes_one_entry_and_keeps_the_others(tmp_path, monkeypatch):
    """``arena train --resume CKPT --set opponents.random=0.5`` replaced the checkpoint's whole ``opponents``
    with ``{random: 0.5}``: the resumed run silently stopped self-play (a preset keeps the other entries)."""
    from typer.testing import CliRunner

    from arena.cli import app
    from arena.trainers import loop

    ckpt = _trainer(tmp_path / "a", opponents="{self: 1.0, random: 0.0}").save_checkpoint(tmp_path / "ckpt")
    resumed = []
    monkeypatch.setattr(loop, "run", lambda trainer, progress=True: resumed.append(trainer))
    sets = ["opponents.random=0.5", f"out={tmp_path / 'b'}", "envs.kuhn-poker-v0.num_hands=1"]  # envs: unchanged
    result = CliRunner().invoke(app, ["train", "--resume", str(ckpt), "--quiet", *(f"--set={s}" for s in sets)])
    assert result.exit_code == 0, result.output
    assert resumed[0].config.opponents == {"self": 1.0, "random": 0.5}
    assert resumed[0].pool.weights == {"self": 1.0, "random": 0.5}
    # a finished run resumed without more iterations used to run its whole evaluation again
    finished = _trainer(tmp_path / "c", iterations=0).save_checkpoint(tmp_path / "finished")
    result = CliRunner().invoke(app, ["train", "--resume", str(finished), "--quiet", f"--set=out={tmp_path / 'd'}"])
    assert isinstance(result.exception, ArenaError), result.output
    assert "the run is at iteration 0 of its 0; --set iterations=N" in str(result.exception)
    assert len(resumed) == 1


def test_resume_reproduces_the_next_iteration(tmp_path):
    from arena.trainers.loop import Trainer

    a = _trainer(tmp_path / "a")
    a.step()
    ckpt = a.save_checkpoint(tmp_path / "ckpt")
    expected = a.step()
    b = Trainer.resume(ckpt, log=lambda _: None, overrides={"out": str(tmp_path / "b")})
    got = b.step()
    assert b.iteration == 2
    _assert_same_metrics(
        got,
        expected,
        ("turns", "episodes", "invalid_rate", "update/pg_loss", "kuhn-poker-v0/return_vs_pool"),
        1e-5,
        1e-7,
    )
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


def test_run_without_the_evaluation_before_training_evaluates_only_after(tmp_path):
    from arena.trainers.loop import run

    trainer = _trainer(tmp_path, iterations=1, eval_games=4, eval_before=False)
    summary = run(trainer, progress=False)
    assert "before" not in summary and "eval/kuhn-poker-v0/exploitability" in summary["after"]
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [line["iteration"] for line in lines] == [1, 1]
    assert not any(key.startswith("eval/") for key in lines[0])


def test_run_with_no_iterations_evaluates_once_and_reports_it_before_and_after(tmp_path):
    from arena.trainers.loop import run

    trainer = _trainer(tmp_path, iterations=0, eval_games=4)
    calls = []
    evaluate = trainer.evaluate
    trainer.evaluate = lambda *a, **k: calls.append(a) or evaluate(*a, **k)
    summary = run(trainer, progress=False)
    assert len(calls) == 1 and summary["after"] == summary["before"]
    assert "eval/kuhn-poker-v0/exploitability" in summary["after"]
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [line["iteration"] for line in lines] == [0, 0]
    assert (tmp_path / "checkpoint").is_dir()


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


def _rng_state(agent):
    rng = getattr(agent, "rng", None)
    return json.dumps(rng.bit_generator.state, sort_keys=True) if rng is not None else None


def test_plan_groups_then_build_specs_reproduces_plan_matches(tmp_path):
    from arena.trainers.pool import OpponentPool
    from arena.trainers.rollout import build_specs, plan_groups, plan_matches

    trainer = _trainer(tmp_path)
    envs = {"kuhn-poker-v0": {"num_hands": 1}, "tictactoe-v0": {}}
    weights = {"self": 1.0, "random": 1.0, "scripted": 1.0, "past": 1.0}
    factory_calls = []

    def factory(path, env_id):
        factory_calls.append((path, env_id))
        return trainer.learners["kuhn-poker-v0"]  # any agent: only its identity per (path, env) matters

    def describe(specs, labels):
        return [
            (
                s.env.unwrapped.env_id,
                s.seed,
                label,
                {seat: (type(a).__name__, _rng_state(a)) for seat, a in s.agents.items()},
            )
            for s, label in zip(specs, labels, strict=True)
        ]

    def run_both(split):
        pool = OpponentPool(weights)
        pool.add_snapshot("snap/a")
        pool.add_snapshot("snap/b")
        rng = np.random.default_rng(7)
        learners = {
            "kuhn-poker-v0": trainer.learners["kuhn-poker-v0"],
            "tictactoe-v0": trainer.learners["kuhn-poker-v0"],
        }
        if split:
            plans = plan_groups(envs, 6, 3, pool, rng)
            out = describe(*build_specs(plans, learners, pool, factory))
        else:
            out = describe(*plan_matches(envs, 6, 3, pool, rng, learners, factory))
        return out, rng.bit_generator.state, pool

    factory_calls.clear()
    expected, state, _ = run_both(split=False)
    calls_expected = list(factory_calls)
    factory_calls.clear()
    got, state2, _ = run_both(split=True)
    assert got == expected and state2 == state and factory_calls == calls_expected
    kinds = {label[1] for _, _, label, _ in expected}
    assert {"self", "random", "scripted", "past"} <= kinds  # every path is exercised
    plans = plan_groups(envs, 2, 2, OpponentPool({"random": 1.0}), np.random.default_rng(0))
    import pickle

    assert pickle.loads(pickle.dumps(plans)) == plans  # plain data: ships to Ray workers


def test_rollout_workers_without_ray_is_a_clear_error(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ArenaError, match=r"pip install -e '\.\[ray\]'"):
        _trainer(tmp_path, rollout_workers=2)
    with pytest.raises(ArenaError, match="rollout_workers"):
        load_config("cpu", overrides=["rollout_workers=-1"])


def test_a_separate_rollout_engine_gets_the_weights_after_every_update(tmp_path):
    # The same code path as rollout_backend=vllm, with a second transformers engine standing in on CPU:
    # rollouts come from the engine, and it must play exactly like the learner's own model would.
    shared = _trainer(tmp_path / "shared")
    separate = _trainer(tmp_path / "separate", rollout_backend="transformers")
    assert separate.rollout_backend is not separate.backend
    assert separate.learners["kuhn-poker-v0"].backend is separate.rollout_backend
    for _ in range(2):
        expected, got = shared.step(), separate.step()
        _assert_same_metrics(
            got, expected, ("turns", "invalid_rate", "update/pg_loss", "kuhn-poker-v0/return_vs_pool"), 1e-4, 1e-6
        )
    assert separate.rollout_backend.version == separate.backend.version == 2
    engine = separate.rollout_backend.model.state_dict()
    for name, value in separate.model.state_dict().items():
        assert torch.equal(engine[name], value), name


def test_rollout_backend_choices_are_checked():
    with pytest.raises(ArenaError, match="rollout_backend must be one of"):
        load_config("cpu", overrides=["rollout_backend=sglang"])
    with pytest.raises(ArenaError, match="exclude each other"):
        load_config("cpu", overrides=["rollout_backend=vllm", "rollout_workers=2"])


def test_eval_sample_plays_a_seeded_sampling_policy(tmp_path):
    greedy = _trainer(tmp_path / "g")
    assert greedy.eval_agent("kuhn-poker-v0") is greedy.greedy["kuhn-poker-v0"]
    sampled = _trainer(tmp_path / "s", eval_sample=True)
    agent = sampled.eval_agent("kuhn-poker-v0")
    assert agent.sample and agent.constrained
    result = sampled.evaluate(games=40)
    assert result == sampled.evaluate(games=40)  # a fixed seed: reproducible
    assert result != greedy.evaluate(games=40)  # same weights, but it samples instead of taking the argmax
    with pytest.raises(ArenaError, match="eval_sample"):
        load_config("cpu", overrides=["eval_sample=maybe"])


def test_kl_to_the_reference_applies_on_zero_advantage_turns(tmp_path):
    from arena.trainers import learner

    trainer = _trainer(tmp_path, kl_coef=0.5, lr=0.01)
    tok = trainer.backend.tokenizer
    prompt, completion = tok("Your card is K.")["input_ids"], tok("<answer>[bet]</answer>")["input_ids"]
    turn = Turn("player_0", "r", 0, prompt, completion, [], 0.0, "s", 0)
    turn.old_logprobs = list(trainer.backend.score_ids([prompt], [completion])[0].logprobs)
    kwargs = {"pad_id": tok.pad_token_id, "reference": trainer.reference, "kl_coef": 0.5}
    learner.update(trainer.model, trainer.optimizer, [turn], np.array([1.0]), **kwargs)  # move off the reference
    before = [p.detach().clone() for p in trainer.model.parameters()]
    metrics = learner.update(trainer.model, trainer.optimizer, [turn], np.array([0.0]), **kwargs)
    assert metrics["turns_used"] == 1 and metrics["turns_with_advantage"] == 0
    assert metrics["kl_ref"] > 0
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.model.parameters(), strict=True))


def test_resume_with_a_linear_schedule_and_more_iterations_is_exact(tmp_path):
    # A 2-iteration run against a 1-iteration run resumed with --set iterations=2: the first iteration has
    # the full learning rate in both, and the second must run at half of it (it ran at 0 before the fix).
    from arena.trainers.loop import Trainer

    straight = _trainer(tmp_path / "a", iterations=2, lr_schedule="linear")
    straight.step()
    expected = straight.step()
    short = _trainer(tmp_path / "b", iterations=1, lr_schedule="linear")
    short.step()
    ckpt = short.save_checkpoint(tmp_path / "ckpt")
    resumed = Trainer.resume(ckpt, log=lambda _: None, overrides={"out": str(tmp_path / "c"), "iterations": 2})
    assert resumed.optimizer.param_groups[0]["lr"] == pytest.approx(0.5 * resumed.config.lr)
    got = resumed.step()
    _assert_same_metrics(got, expected, ("turns", "update/pg_loss", "lr", "kuhn-poker-v0/exploitability"), 1e-5, 1e-7)
    for pa, pb in zip(straight.model.parameters(), resumed.model.parameters(), strict=True):
        assert torch.allclose(pa, pb, atol=1e-6)


def test_lr_warmup_ramps_the_first_optimizer_steps_and_a_resume_continues_the_ramp(tmp_path):
    from arena.trainers.loop import Trainer

    def record(trainer):
        seen = []
        trainer.optimizer.register_step_pre_hook(lambda opt, *_: seen.append(opt.param_groups[0]["lr"]))
        return seen

    trainer = _trainer(tmp_path / "a", iterations=2, lr=0.001, lr_warmup_steps=6, minibatches=2, ppo_epochs=2)
    seen = record(trainer)
    trainer.step()
    assert seen == pytest.approx([0.001 * k / 6 for k in (1, 2, 3, 4)])  # 2 epochs x 2 mini-batches
    resumed = Trainer.resume(
        trainer.save_checkpoint(tmp_path / "ckpt"), log=lambda _: None, overrides={"out": str(tmp_path / "b")}
    )
    seen = record(resumed)
    resumed.step()
    half = 0.0005  # the preset's linear schedule: iteration 2 of 2 at half the rate, the ramp on top
    assert seen == pytest.approx([half * 5 / 6, half, half, half])
    plain = _trainer(tmp_path / "c", lr=0.001, minibatches=2, ppo_epochs=2)
    seen = record(plain)
    plain.step()
    assert seen == pytest.approx([0.001] * 4)


def test_first_and_second_mover_are_normalised_apart_when_seats_share_a_role():
    # negotiation-v0 gives both seats the role "negotiator": MARS and RAE must still key by position.
    roles = {"player_0": "negotiator", "player_1": "negotiator"}
    keys = {seat: role_key("negotiation-v0", seat, "negotiator", roles) for seat in roles}
    assert keys == {"player_0": "negotiation-v0/player_0", "player_1": "negotiation-v0/player_1"}
    werewolf = {"player_0": "villager", "player_1": "werewolf", "player_2": "villager"}
    assert role_key("werewolf-v0", "player_2", "villager", werewolf) == "werewolf-v0/villager"
    first = {"player_0": "first mover", "player_1": "second mover"}  # distinct roles name the position
    assert role_key("negotiation-v0", "player_1", "second mover", first) == "negotiation-v0/second mover"


def test_negotiation_turns_get_one_role_key_per_seat(tmp_path):
    from arena.trainers.advantages import RoleBaseline
    from arena.trainers.rollout import build_specs, collect, plan_groups

    trainer = _trainer(
        tmp_path, envs="{negotiation-v0: {turn_limit: 4}}", constrained="[]", max_new_tokens=4, advantage="mars"
    )
    plans = plan_groups(trainer.config.games(), 1, 1, trainer.pool, trainer.rng)
    episodes, _ = collect(*build_specs(plans, trainer.learners, trainer.pool, trainer.past_policies), trainer.config)
    turns, arrays = flatten(episodes)
    keys = {seat: {t.role for t in turns if t.agent == seat} for seat in ("player_0", "player_1")}
    assert all(len(k) == 1 for k in keys.values()) and keys["player_0"] != keys["player_1"]
    baseline = RoleBaseline()
    compute_advantages(episodes, "rae", baseline=baseline)
    assert set(baseline.baselines) == set(arrays["roles"]) and len(baseline.baselines) == 2


def test_gigpo_in_the_trainer_uses_the_configs_gamma_and_weight():
    from arena.trainers.advantages import gigpo

    def episode(rewards):
        turns = [_turn("player_0", r, key=f"s{k}") for k, r in enumerate(rewards)]
        return Episode("g", 1, "grp", {}, {}, ["player_0"], "random", turns)

    episodes = [episode([0.0, 0.0, 1.0]), episode([0.0, 0.0, 0.0])]
    _, arrays = flatten(episodes)
    for gamma, omega in ((1.0, 1.0), (0.5, 1.0), (0.5, 0.25)):
        _, got = compute_advantages(episodes, "gigpo", gamma=gamma, gigpo_omega=omega)
        expected = gigpo(
            arrays["rewards"], arrays["traj"], arrays["groups"], arrays["states"], gamma=gamma, omega=omega
        )
        assert got == pytest.approx(expected)
    assert not np.allclose(
        compute_advantages(episodes, "gigpo", gamma=1.0)[1], compute_advantages(episodes, "gigpo", gamma=0.5)[1]
    )
    cfg = load_config("cpu", overrides=["gigpo_omega=0.5", "gigpo_scale_std=true", "gamma=0.9"])
    assert (cfg.gigpo_omega, cfg.gigpo_scale_std, cfg.gamma) == (0.5, True, 0.9)
    with pytest.raises(ArenaError, match="gigpo_omega"):
        load_config("cpu", overrides=["gigpo_omega=-1"])


def test_gigpo_refuses_turns_without_a_state_key():
    ep = Episode("werewolf-v0", 1, "grp", {}, {}, ["player_0"], "self", [_turn("player_0", 1.0, key=None)])
    with pytest.raises(ArenaError, match="anchor: observation"):
        compute_advantages([ep], "gigpo")


def test_reward_scale_and_invalid_penalty_are_per_game():
    from types import SimpleNamespace

    from arena.trainers.episodes import RewardOptions, episode_from_outcome

    def record(reward, invalid):
        trace = SimpleNamespace(
            prompt_ids=[1], completion_ids=[2], logprobs=[-0.1], version=0, alternatives=None, chosen=-1, images=[]
        )
        return SimpleNamespace(
            agent_name="learner",
            seat="player_0",
            role="player",
            turn_index=0,
            reward=reward,
            invalid="bad" if invalid else None,
            trace=trace,
            state_key="k",
            observation_key="o",
        )

    outcome = SimpleNamespace(
        env_id="public-goods-v0",
        seed=1,
        roles={"player_0": "player"},
        returns={"player_0": 130.0},
        pre_rewards={"player_0": 10.0},
        turns=[record(20.0, False), record(100.0, True)],
    )
    episode = episode_from_outcome(outcome, "learner", "grp", "self", RewardOptions(scale=0.01, invalid_penalty=-0.2))
    assert [t.reward for t in episode.turns] == pytest.approx([0.3, 1.0 - 0.2])
    assert episode_from_outcome(outcome, "learner", "grp", "self", anchor="observation").turns[0].state_key == "o"
    cfg = load_config(
        "cpu",
        overrides=[
            "envs={public-goods-v0: {}, kuhn-poker-v0: {num_hands: 1}}",
            "rewards={public-goods-v0: {scale: 0.01, invalid_penalty: -0.1}}",
            "invalid_penalty=-0.3",
        ],
    )
    assert cfg.reward_options("public-goods-v0") == RewardOptions(0.01, -0.1)
    assert cfg.reward_options("kuhn-poker-v0") == RewardOptions(1.0, -0.3)
    with pytest.raises(ArenaError, match="not among envs"):
        load_config("cpu", overrides=["rewards={werewolf-v0: {scale: 2}}"])
    with pytest.raises(ArenaError, match="takes the keys"):
        load_config("cpu", overrides=["rewards={kuhn-poker-v0: {bonus: 2}}"])


def test_invalid_rule_reaches_every_game_unless_the_game_sets_its_own(tmp_path):
    from arena.trainers.rollout import build_specs, plan_groups

    cfg = load_config(
        "cpu",
        overrides=[
            "envs={kuhn-poker-v0: {num_hands: 1}, tictactoe-v0: {invalid_rule: default}}",
            "invalid_rule=spiral",
        ],
    )
    assert cfg.games() == {
        "kuhn-poker-v0": {"num_hands": 1, "invalid_rule": "spiral"},
        "tictactoe-v0": {"invalid_rule": "default"},
    }
    assert cfg.envs["kuhn-poker-v0"] == {"num_hands": 1}  # the config itself is not changed
    trainer = _trainer(tmp_path, invalid_rule="spiral")
    plans = plan_groups(trainer.config.games(), 1, 1, trainer.pool, trainer.rng)
    specs, _ = build_specs(plans, trainer.learners, trainer.pool, trainer.past_policies)
    assert specs[0].env.unwrapped.invalid_rule == "spiral"  # the games are built with it
    with pytest.raises(ArenaError, match="invalid_rule"):
        load_config("cpu", overrides=["invalid_rule=nonsense"])


def test_checkpoints_record_how_the_policy_plays(tmp_path):
    trainer = _trainer(
        tmp_path,
        envs="{kuhn-poker-v0: {num_hands: 1}, negotiation-v0: {}}",
        max_new_tokens="{negotiation-v0: 24, kuhn-poker-v0: 8}",
        history_lines="{negotiation-v0: 3}",
        advantage="mars",
    )
    assert (
        trainer.learners["negotiation-v0"].history_lines == 3
        and trainer.learners["kuhn-poker-v0"].history_lines is None
    )
    policy = json.loads((trainer.save_checkpoint() / "policy.json").read_text())
    assert policy == {
        "answer_format": "tags",
        "think": "",
        "constrained": ["kuhn-poker-v0"],
        "max_new_tokens": {"kuhn-poker-v0": 8, "negotiation-v0": 24},
        "temperature": 1.0,
        "hide_legal": [],
        "blank_images": False,
        "history_lines": {"negotiation-v0": 3},
        "envs": ["kuhn-poker-v0", "negotiation-v0"],
    }
    with pytest.raises(ArenaError, match="max_new_tokens"):
        load_config("cpu", overrides=["max_new_tokens=0"])
    with pytest.raises(ArenaError, match="history_lines"):
        load_config("cpu", overrides=["history_lines={kuhn-poker-v0: -2}"])


def test_opponents_per_game_draw_each_games_own_kinds():
    from arena.trainers.pool import OpponentPool
    from arena.trainers.rollout import plan_groups

    envs = {"kuhn-poker-v0": {"num_hands": 1}, "tictactoe-v0": {}, "negotiation-v0": {}}
    weights = {
        "kuhn-poker-v0": {"self": 1.0},
        "tictactoe-v0": {"random": 3, "self": 1},
        "negotiation-v0": {"scripted": 1},
    }
    plans = plan_groups(envs, 40, 1, OpponentPool(weights), np.random.default_rng(0))
    kinds = {env: {p.kind for p in plans if p.env_id == env} for env in envs}
    assert kinds == {"kuhn-poker-v0": {"self"}, "tictactoe-v0": {"random", "self"}, "negotiation-v0": {"scripted"}}
    shared = plan_groups(envs, 40, 1, OpponentPool({"random": 1, "self": 1}), np.random.default_rng(0))
    assert all({p.kind for p in shared if p.env_id == env} == {"random", "self"} for env in envs)
    assert OpponentPool({"past": 1.0}).sample(np.random.default_rng(0)) == "self"  # no snapshot yet


def test_a_pool_kind_can_be_any_agent_the_game_registers():
    from arena.agents.scripted.tictactoe import TicTacToeOpportunist
    from arena.trainers.pool import OpponentPool
    from arena.trainers.rollout import plan_groups

    cfg = load_config("cpu-tictactoe", overrides=["opponents={opportunist: 1}"])
    pool = OpponentPool(cfg.opponents, game_agents=cfg.opponent_agents)
    plans = plan_groups(cfg.envs, 4, 1, pool, np.random.default_rng(0))
    assert {p.kind for p in plans} == {"opportunist"}
    assert isinstance(pool.opponent("opportunist", "tictactoe-v0", 3, None), TicTacToeOpportunist)
    with pytest.raises(ValueError, match="unknown kind"):
        OpponentPool({"opportunist": 1})  # without the games' agents only the four kinds are known


def test_config_checks_per_game_opponents():
    cfg = load_config("cpu", overrides=["opponents={kuhn-poker-v0: {self: 1, random: 0.5}}"])
    assert cfg.opponents == {"kuhn-poker-v0": {"self": 1, "random": 0.5}}
    with pytest.raises(ArenaError, match="exactly the games"):
        load_config("cpu", overrides=["opponents={tictactoe-v0: {self: 1}}"])
    with pytest.raises(ArenaError, match="unknown kind"):
        load_config("cpu", overrides=["opponents={kuhn-poker-v0: {expert: 1}}"])
    with pytest.raises(ArenaError, match="positive weight"):
        load_config("cpu", overrides=["opponents={self: 0, random: 0}"])
    # a game's own registered agents are kinds too, but only for the games that register them
    cfg = load_config("cpu-tictactoe", overrides=["opponents={opportunist: 1, random: 1}"])
    assert cfg.opponents == {"opportunist": 1, "random": 1}
    with pytest.raises(ArenaError, match="unknown kind"):
        load_config("cpu", overrides=["opponents={opportunist: 1}"])  # Kuhn Poker has no opportunist
    with pytest.raises(ArenaError, match="unknown kind"):  # a shared set must suit every game of the run
        load_config("cpu-mixed", overrides=["opponents={opportunist: 1}"])
    with pytest.raises(ArenaError, match=">= 0"):
        load_config("cpu", overrides=["opponents={self: 1, random: -1}"])


def test_a_learner_seat_that_never_acted_still_counts_as_the_learners():
    """A villager killed before its first turn: its return belongs in return_vs_pool like any learner seat's."""
    from arena.agents.scheduler import MatchOutcome
    from arena.trainers.episodes import episode_from_outcome

    outcome = MatchOutcome(
        index=0,
        env_id="werewolf-v0",
        seed=3,
        returns={"player_0": -1.0, "player_1": 1.0, "player_2": -1.0},
        winners=["player_1"],
        roles={"player_0": "villager", "player_1": "werewolf", "player_2": "villager"},
        agent_names={"player_0": "learner", "player_1": "scripted", "player_2": "learner"},
        transcript=None,
        steps=3,
        truncated=False,
        turns=[],  # neither learner seat got to act
    )
    episode = episode_from_outcome(outcome, "learner", "g", "scripted")
    assert episode.learner_seats == ["player_0", "player_2"] and episode.turns == []


def test_a_resumed_pool_keeps_the_configs_weights_and_the_checkpoints_snapshots():
    """``--resume DIR --set opponents.random=1`` must train against what the (overridden) config says."""
    from arena.trainers.pool import OpponentPool

    pool = OpponentPool({"random": 1.0})
    pool.load_state_dict({"weights": {"self": 1.0}, "snapshots": ["snap/a"]})  # a checkpoint of an older run
    assert pool.weights == {"random": 1.0} and pool.snapshots == ["snap/a"]
    assert pool.state_dict() == {"snapshots": ["snap/a"]}


def test_return_metrics_split_pool_games_by_side_and_report_self_play_success():
    """Against the pool: the learner seats' mean return, per side; in self-play (a one-player household
    game): every seat's, the rollouts' success rate."""
    from arena.trainers.episodes import Episode, return_metrics

    def episode(env_id, returns, roles, learner, opponent):
        return Episode(env_id, 0, "g", roles, returns, learner, opponent)

    episodes = [
        episode("werewolf-v0", {"a": 1.0, "b": -1.0}, {"a": "seer", "b": "werewolf"}, ["a"], "scripted"),
        episode("werewolf-v0", {"a": 1.0, "b": -1.0}, {"a": "villager", "b": "werewolf"}, ["b"], "scripted"),
        episode("werewolf-v0", {"a": -1.0, "b": 1.0}, {"a": "villager", "b": "werewolf"}, ["a"], "scripted"),
        episode("household-v0", {"p": 1.0}, {"p": "player"}, ["p"], "self"),
        episode("household-v0", {"p": 0.0}, {"p": "player"}, ["p"], "self"),
        episode("household-v0", {"p": 0.0}, {"p": "player"}, ["p"], "self"),
    ]
    sides = {"village": ["seer", "villager"], "werewolves": ["werewolf"]}
    assert return_metrics(episodes, ["werewolf-v0"], sides) == {
        "werewolf-v0/village/return_vs_pool": 0.0,
        "werewolf-v0/werewolves/return_vs_pool": -1.0,
    }
    assert return_metrics(episodes, ["household-v0", "werewolf-v0"]) == {
        "household-v0/return_self": pytest.approx(1 / 3),
        "werewolf-v0/return_vs_pool": pytest.approx(-1 / 3),
    }
