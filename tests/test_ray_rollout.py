"""Rollout workers as Ray actors: same episodes' shape as in-process rollouts, and synced weights.

Runs on a local two-CPU Ray instance; skipped when ``ray`` (the ``ray`` extra) is not installed.
"""

from __future__ import annotations

import pytest

ray = pytest.importorskip("ray")
torch = pytest.importorskip("torch")

from arena.trainers.config import load_config  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _trainer(out, **overrides):
    from arena.agents.tiny import cached_tiny_model
    from arena.trainers.loop import Trainer

    sets = {"out": str(out), "groups_per_env": 2, "group_size": 2, "max_new_tokens": 8, "micro_batch": 8}
    cfg = load_config(
        "cpu",
        overrides=["envs={kuhn-poker-v0: {num_hands: 1}}", *(f"{k}={v}" for k, v in {**sets, **overrides}.items())],
    )
    return Trainer(cfg, cached_tiny_model(), log=lambda _: None)


@pytest.fixture(scope="module")
def stepped(local_ray, tmp_path_factory):
    """A Ray trainer (two workers) and an in-process one, one iteration each."""
    remote = _trainer(tmp_path_factory.mktemp("ray"), rollout_workers=2, anchor="observation")
    local = _trainer(tmp_path_factory.mktemp("local"), anchor="observation")
    got = remote.step(), local.step()
    yield remote, local, got
    remote.close()


def test_ray_step_collects_as_many_episodes_as_the_local_step(stepped):
    remote, _, (m_ray, m_local) = stepped
    assert m_ray["episodes"] == m_local["episodes"] == 4
    assert m_ray["turns"] > 0 and m_ray["policy_version"] == 1
    assert set(remote.ray_rollouts.versions()) == {remote.backend.version}


def test_ray_episodes_carry_completion_ids_and_old_logprobs(stepped):
    from arena.trainers.rollout import plan_groups

    remote = stepped[0]
    cfg = remote.config
    plans = plan_groups(cfg.envs, cfg.groups_per_env, cfg.group_size, remote.pool, remote.rng)
    episodes = remote.ray_rollouts.collect(plans, iteration_seed=123)
    assert [e.group for e in episodes] == [p.group for p in plans for _ in p.matches]  # plan order kept
    assert [e.seed for e in episodes] == [p.seed for p in plans for _ in p.matches]
    turns = [t for e in episodes for t in e.turns]
    assert turns
    for turn in turns:  # constrained Kuhn: the choice's log-probability and every legal reply's tokens
        assert turn.completion_ids and len(turn.old_logprobs) == 1 and len(turn.alternatives) == 2
        assert turn.version == remote.backend.version
    again = remote.ray_rollouts.collect(plans, iteration_seed=123)
    assert [[t.completion_ids for t in e.turns] for e in again] == [
        [t.completion_ids for t in e.turns] for e in episodes
    ]


def test_workers_hold_the_trainers_weights_after_a_step(stepped):
    remote = stepped[0]
    prompt = [{"role": "user", "content": "Your card is K. Legal actions: [check] [bet]"}]
    continuation = "<think></think><answer>[bet]</answer>"
    mine = remote.backend.score([prompt], [continuation])[0].logprobs
    for worker in range(2):
        theirs = remote.ray_rollouts.score([prompt], [continuation], worker=worker)[0].logprobs
        assert theirs == pytest.approx(mine, abs=1e-5)
    # The pushed weights really travel: perturbed weights change the workers' scores, then sync back.
    import copy

    from arena.agents.backends.transformers_backend import TransformersBackend

    noisy = copy.deepcopy(remote.model)
    with torch.no_grad():
        for p in noisy.parameters():
            p.add_(0.05 * torch.randn_like(p))
    noisy_scores = TransformersBackend(noisy, tokenizer=remote.backend.tokenizer).score([prompt], [continuation])[0]
    remote.ray_rollouts.sync(noisy, version=7)
    assert remote.ray_rollouts.versions() == [7, 7]
    theirs = remote.ray_rollouts.score([prompt], [continuation], worker=1)[0].logprobs
    assert theirs == pytest.approx(noisy_scores.logprobs, abs=1e-5)
    assert theirs != pytest.approx(mine, abs=1e-3)
    remote.ray_rollouts.sync(remote.model, remote.backend.version)
    assert remote.ray_rollouts.score([prompt], [continuation])[0].logprobs == pytest.approx(mine, abs=1e-5)


def test_ray_workers_compute_the_same_anchors_as_the_trainer(stepped):
    """The first decision of every planned match is the same situation in a worker process and in the
    trainer's: its anchor (here the observation digest) must be the same string."""
    from arena.trainers.rollout import build_specs, collect, plan_groups

    remote, local, _ = stepped
    assert remote.config.anchor == local.config.anchor == "observation"
    plans = plan_groups(remote.config.games(), 2, 2, remote.pool, remote.rng)
    there = remote.ray_rollouts.collect(plans, iteration_seed=7)
    here, _ = collect(*build_specs(plans, local.learners, local.pool, local.past_policies), local.config)
    assert [e.turns[0].state_key for e in there] == [e.turns[0].state_key for e in here]
    for plan in plans:  # within a group (same seed, same deal) the first decision is one situation
        assert len({e.turns[0].state_key for e in here if e.group == plan.group}) == 1
