"""GiGPO step-group statistics per game, from the trainer's own rollouts: into how many anchors each seat's
turns fall within a group of identical seeds, and how large the step groups (turns of one seat in one group
that share an anchor) are. GiGPO's step-level advantage needs groups larger than one; a game whose anchors
never repeat degrades to GRPO, and a game whose every turn shares one anchor (the old ``hash("")``) gives
meaningless step groups.

    python scripts/gigpo_groups.py                                # every text game, both anchor kinds
    python scripts/gigpo_groups.py --games werewolf-v0,spy-v0 --anchor state --groups 4 --group-size 8
    python scripts/gigpo_groups.py --model runs/cpu/checkpoint    # another policy (an image model for visual games)

One iteration of self-play rollouts per game (``--groups`` groups of ``--group-size`` episodes, the tiny
random-weight model by default, constrained where the game lists legal moves). Columns: turns; seats;
anchors per seat and group (mean, min); step groups; their mean and largest size; the share of turns alone
in their step group. ``anchor=state`` needs the game's ``infos["state_key"]``; a game without one says so.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import arena

#: Short but complete games (the defaults of the larger ones take long on a CPU with the tiny model).
KWARGS = {
    "werewolf-v0": {"num_players": 5},
    "spy-v0": {"num_players": 4},
    "visual-spy-v0": {"num_players": 4},
    "household-v0": {"max_steps": 10},
    "public-goods-v0": {"num_players": 3, "num_rounds": 3},
    "sequential-public-goods-v0": {"num_players": 3, "num_rounds": 2},
}


def collect_turns(model: str, env_id: str, anchor: str, groups: int, group_size: int, seed: int) -> list:
    """One iteration of the trainer's self-play rollouts of ``env_id``; its episodes."""
    from arena.trainers.config import load_config
    from arena.trainers.loop import Trainer
    from arena.trainers.rollout import build_specs, collect, plan_groups

    overrides = [
        f"envs={json.dumps({env_id: KWARGS.get(env_id, {})})}",
        f"out={tempfile.mkdtemp(prefix='gigpo-groups-')}",
        f"seed={seed}",
        "opponents={self: 1.0}",
        f"anchor={anchor}",
        "advantage=mars",  # only the rollouts are used: any estimator that needs no state key
        "kl_coef=0",
        f"constrained=[{env_id}]" if "image" not in arena.spec(env_id).modalities else "constrained=[]",
        "max_new_tokens=8",
        "threads=1",
    ]
    trainer = Trainer(load_config("cpu", overrides=overrides), model, log=lambda _: None)
    plans = plan_groups(trainer.config.games(), groups, group_size, trainer.pool, trainer.rng)
    episodes, _ = collect(*build_specs(plans, trainer.learners, trainer.pool, trainer.past_policies), trainer.config)
    return episodes


def step_group_stats(episodes: list) -> dict:
    """Anchors per (group, seat) and step-group sizes over every learner turn of ``episodes``."""
    if any(t.state_key is None for e in episodes for t in e.turns):
        return {"missing": True}
    anchors: dict[tuple[str, str], set] = defaultdict(set)
    sizes: Counter = Counter()
    for episode in episodes:
        for turn in episode.turns:
            anchors[(episode.group, turn.agent)].add(turn.state_key)
            sizes[(episode.group, turn.agent, turn.state_key)] += 1
    per_seat = [len(a) for a in anchors.values()]
    group_sizes = list(sizes.values())
    turns = sum(group_sizes)
    return {
        "missing": False,
        "turns": turns,
        "seats": len({seat for _, seat in anchors}),
        "anchors_mean": statistics.mean(per_seat),
        "anchors_min": min(per_seat),
        "step_groups": len(group_sizes),
        "size_mean": statistics.mean(group_sizes),
        "size_max": max(group_sizes),
        "repeated": sum(1 for s in group_sizes if s > 1),
        "singletons": sum(1 for s in group_sizes if s == 1) / turns,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", help="comma-separated env ids (default: every registered game the model can see)")
    parser.add_argument("--anchor", default="state,observation", help="state, observation or both (comma-separated)")
    parser.add_argument("--groups", type=int, default=2, help="groups of identical seeds per game")
    parser.add_argument("--group-size", type=int, default=4, help="episodes per group")
    parser.add_argument("--model", help="a policy directory (default: the tiny random-weight model)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    from arena.agents.tiny import cached_tiny_model

    model = args.model or str(cached_tiny_model())
    multimodal = args.model is not None and (Path(model) / "preprocessor_config.json").exists()
    games = args.games.split(",") if args.games else [s.id for s in arena.list_envs()]
    header = (
        f"{'game':<28}{'anchor':<13}{'turns':>6}{'seats':>6}{'anchors/seat':>14}{'step groups':>12}"
        f"{'size mean':>10}{'max':>5}{'size>1':>7}{'alone':>7}"
    )
    print(f"GiGPO step groups: {args.groups} groups x {args.group_size} episodes of self-play, model {model}")
    print(header)
    print("-" * len(header))
    for env_id in games:
        if "image" in arena.spec(env_id).modalities and not multimodal:
            print(f"{env_id:<28}(shows images: pass --model with an image-text-to-text model)")
            continue
        for anchor in args.anchor.split(","):
            episodes = collect_turns(model, env_id, anchor, args.groups, args.group_size, args.seed)
            s = step_group_stats(episodes)
            if s["missing"]:
                print(f"{env_id:<28}{anchor:<13}(the game publishes no infos['state_key'])")
                continue
            print(
                f"{env_id:<28}{anchor:<13}{s['turns']:>6}{s['seats']:>6}"
                f"{s['anchors_mean']:>9.1f} ({s['anchors_min']}){s['step_groups']:>12}{s['size_mean']:>10.2f}"
                f"{s['size_max']:>5}{s['repeated']:>7}{s['singletons']:>7.0%}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
