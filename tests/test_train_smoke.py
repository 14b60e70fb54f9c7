"""`arena train` on every registered game: two iterations with the tiny model, and the update must have run
on non-zero advantages. Games are kept short through their kwargs; each one exercises another estimator.

A game registered later is picked up automatically and trained with the defaults below; give it short
kwargs in ``SETTINGS`` if it is slow.
"""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

import arena  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: Per game: short env kwargs and the estimator its smoke run exercises (with its GiGPO anchor). Self-play
#: between copies of a random-weight model often ends alike in every episode of a group; the estimators
#: chosen here still see a signal (a non-zero return, or returns that differ between turns).
SETTINGS: dict[str, dict] = {
    # two one-hand episodes of a near-deterministic policy often end alike: four make a signal near-certain
    "kuhn-poker-v0": {"envs": {"num_hands": 1}, "advantage": "gigpo", "group_size": 4},
    "tictactoe-v0": {"envs": {}, "advantage": "gigpo", "anchor": "observation"},
    "household-v0": {"envs": {"max_steps": 4}, "advantage": "gigpo", "free_text": True},  # signal: invalid moves
    "negotiation-v0": {"envs": {"turn_limit": 4}, "advantage": "mars"},
    "public-goods-v0": {"envs": {"num_players": 2, "num_rounds": 2}, "advantage": "rebn"},
    "sequential-public-goods-v0": {"envs": {"num_players": 2}, "advantage": "grpo"},
    "spy-v0": {"envs": {"num_players": 3, "max_rounds": 1, "allow_abstain": False}, "advantage": "rae"},
    "werewolf-v0": {"envs": {"num_players": 4}, "advantage": "reinforce"},
    "visual-spy-v0": {
        "envs": {"num_players": 3, "max_rounds": 1, "allow_abstain": False, "image_size": 48},
        "advantage": "rae",
    },
}


def _no_signal_reason(env_id: str) -> str | None:
    """Why a random-weight policy gets no reward signal at all in ``env_id`` yet, or None. Household pays only
    on success (never, by chance, in 4 steps), so its signal is the invalid-move penalty of free-text
    commands, which needs the env to flag inadmissible ones (issue 18, item 6). Negotiation pays only on a
    deal, so its signal is
    the penalty for a reply without a closed answer, which needs the LLM agent's answer policy (issue 17,
    item 1); until then the game relays any reply as chat."""
    if env_id == "household-v0":
        env = arena.make("household-v0")
        env.reset(seed=0)
        env.step("fly to the moon")
        if "invalid_move" not in env.infos.get("player_0", {}):
            return "household-v0 does not flag inadmissible commands yet: every random episode returns 0"
    if env_id == "negotiation-v0":
        from arena.agents.backends.base import Completion
        from arena.agents.llm import LLMAgent
        from arena.core.replies import InvalidReply

        agent = LLMAgent(backend=None, env_id=env_id)  # type: ignore[arg-type]
        trace = agent.finish([({"text": "your turn"}, {})], [Completion("no answer here", [1], [2], [-1.0])], [])[0]
        if not isinstance(trace.action, InvalidReply):
            return "the LLM agent still sends a reply without a closed answer as chat: no deal, no penalty"
    return None


@pytest.mark.parametrize("env_id", [spec.id for spec in arena.list_envs()])
def test_two_iterations_of_arena_train_update_on_nonzero_advantages(env_id, tmp_path, tiny_vlm):
    from typer.testing import CliRunner

    from arena.agents.tiny import cached_tiny_model
    from arena.cli import app

    settings = SETTINGS.get(env_id, {"envs": {}, "advantage": "grpo"})
    visual = "image" in arena.spec(env_id).modalities
    overrides = {
        "envs": json.dumps({env_id: settings["envs"]}),
        "model": str(tiny_vlm if visual else cached_tiny_model()),
        "out": str(tmp_path),
        "iterations": 2,
        "groups_per_env": 1,
        "group_size": settings.get("group_size", 2),
        "opponents": "{self: 1.0}",
        "advantage": settings["advantage"],
        "anchor": settings.get("anchor", "state"),
        # constrained where a legal list exists (the agent generates on turns without one), else free text
        "constrained": "[]" if visual or settings.get("free_text") else f"[{env_id}]",
        "max_new_tokens": 4,
        "micro_batch": 16,
        "threads": 1,
        "ppo_epochs": 1,
        "minibatches": 1,
        "kl_coef": 0.0,
        "eval_every": 0,
        "eval_games": 0,
        "checkpoint_every": 0,
    }
    args = ["train", "--preset", "cpu", "--quiet"]
    for key, value in overrides.items():
        args += ["--set", f"{key}={value}"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    steps = [line for line in lines if "turns" in line]
    assert [line["iteration"] for line in steps] == [1, 2]
    assert all(line["turns"] > 0 for line in steps)
    reason = _no_signal_reason(env_id)
    if reason is not None:
        pytest.skip(reason)
    assert any(line["update/turns_with_advantage"] > 0 for line in steps), steps
    assert all(line["update/turns_used"] == line["update/turns_with_advantage"] for line in steps)  # no KL here
    policy = json.loads((tmp_path / "checkpoint" / "policy.json").read_text())
    assert policy["envs"] == [env_id] and policy["max_new_tokens"] == {env_id: 4}
