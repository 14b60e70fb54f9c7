"""GiGPO step-group statistics per game, from the trainer's own rollouts: into how many anchors each seat's
turns fall within a group of identical seeds, and how large the step groups (turns of one seat in one group
that share an anchor) are. GiGPO's step-level advantage needs groups larger than one; a game whose anchors
never repeat degrades to GRPO, and a game whose every turn shares one anchor (the old ``hash("")``) gives
meaningless step groups.

    python scripts/gigpo_groups.py                                # every text game, both anchor kinds
    python scripts/gigpo_groups.py --games werewolf-v0,spy-v0 --anchor state --groups 4 --group-size 8
    python scripts/gigpo_groups.py --model runs/cpu/checkpoint    # another policy (an image model for visual games)
    python scripts/gigpo_groups.py --preset cpu-household --model runs/hh/ws/warmstart --anchor state --groups 16

One iteration of self-play rollouts per game (``--groups`` groups of ``--group-size`` episodes, the tiny
random-weight model by default, constrained where the game lists legal moves). Columns: turns; seats;
anchors per seat and group (mean, min); step groups; their mean and largest size; the share of turns alone
in their step group; "across": the share of turns whose step group spans more than one episode (what the
episode-level comparison does not already see); "signal": the share of turns whose step-level advantage
``A_S`` is not zero (a step group whose discounted returns differ: only these turns get more from GiGPO
than from GRPO). ``anchor=state`` needs the game's ``infos["state_key"]``; a game without one says so.
``--preset`` plays a training preset's games with its settings (kwargs, opponents, constrained mode,
history window, discount) instead of the short defaults below.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

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


def collect_turns(
    model: str, env_id: str, anchor: str, groups: int, group_size: int, seed: int, preset: str | None = None
) -> tuple[list, float]:
    """One iteration of the trainer's rollouts of ``env_id``: its episodes and the config's discount (``gamma``).
    Without ``preset``: self-play with the short :data:`KWARGS`; with it, the preset's game and settings."""
    from arena.trainers.config import load_config
    from arena.trainers.loop import Trainer
    from arena.trainers.rollout import build_specs, collect, plan_groups

    overrides = [
        f"out={tempfile.mkdtemp(prefix='gigpo-groups-')}",
        f"seed={seed}",
        f"anchor={anchor}",
        "advantage=mars",  # only the rollouts are used: any estimator that needs no state key
        "kl_coef=0",
        "threads=1",
    ]
    if preset is None:
        overrides += [
            f"envs={json.dumps({env_id: KWARGS.get(env_id, {})})}",
            "opponents={self: 1.0}",
            f"constrained=[{env_id}]" if "image" not in arena.spec(env_id).modalities else "constrained=[]",
            "max_new_tokens=8",
        ]
    config = load_config(preset or "cpu", overrides=overrides)
    trainer = Trainer(config, model, log=lambda _: None)
    # planned as the trainer plans an iteration (its learner sides too), for this one game of the config
    game = {env_id: config.games()[env_id]}
    plans = plan_groups(game, groups, group_size, trainer.pool, trainer.rng, config.learner_sides, config.side_seats)
    episodes, _ = collect(*build_specs(plans, trainer.learners, trainer.pool, trainer.past_policies), trainer.config)
    return episodes, float(config.gamma)


def step_group_stats(episodes: list, gamma: float = 0.95) -> dict:
    """Anchors per (group, seat) and step-group sizes over every learner turn of ``episodes``; the share of
    turns in step groups that span episodes, and of turns whose step-level advantage (discount ``gamma``)
    is not zero."""
    from arena.trainers.episodes import compute_advantages

    if any(t.state_key is None for e in episodes for t in e.turns):
        return {"missing": True}
    anchors: dict[tuple[str, str], set] = defaultdict(set)
    members: dict[tuple[str, str, str], list[int]] = defaultdict(list)  # step group -> its turns' episode indices
    for k, episode in enumerate(episodes):
        for turn in episode.turns:
            anchors[(episode.group, turn.agent)].add(turn.state_key)
            members[(episode.group, turn.agent, turn.state_key)].append(k)
    # A_S alone: GiGPO's advantage with the step term (omega 1) minus the episode term (omega 0)
    _, both = compute_advantages(episodes, "gigpo", gamma=gamma, gigpo_omega=1.0)
    _, episode_only = compute_advantages(episodes, "gigpo", gamma=gamma, gigpo_omega=0.0)
    per_seat = [len(a) for a in anchors.values()]
    group_sizes = [len(m) for m in members.values()]
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
        "across": sum(len(m) for m in members.values() if len(set(m)) > 1) / turns,
        "signal": float(np.mean(np.abs(both - episode_only) > 1e-9)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", help="comma-separated env ids (default: every registered game the model can see)")
    parser.add_argument("--anchor", default="state,observation", help="state, observation or both (comma-separated)")
    parser.add_argument("--groups", type=int, default=2, help="groups of identical seeds per game")
    parser.add_argument("--group-size", type=int, default=4, help="episodes per group")
    parser.add_argument("--model", help="a policy directory (default: the tiny random-weight model)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--preset", help="play a training preset's games with its settings (default: short self-play)")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    from arena.agents.tiny import cached_tiny_model

    model = args.model or str(cached_tiny_model())
    multimodal = args.model is not None and (Path(model) / "preprocessor_config.json").exists()
    if args.preset:
        from arena.trainers.config import load_config

        preset_games = list(load_config(args.preset).envs)
        games = args.games.split(",") if args.games else preset_games
        unknown = sorted(set(games) - set(preset_games))
        if unknown:
            parser.error(f"{', '.join(unknown)} not in preset {args.preset} (its games: {', '.join(preset_games)})")
    else:
        games = args.games.split(",") if args.games else [s.id for s in arena.list_envs()]
    header = (
        f"{'game':<28}{'anchor':<13}{'turns':>6}{'seats':>6}{'anchors/seat':>14}{'step groups':>12}"
        f"{'size mean':>10}{'max':>5}{'size>1':>7}{'alone':>7}{'across':>8}{'signal':>8}"
    )
    play = f"preset {args.preset}" if args.preset else "self-play"
    print(f"GiGPO step groups: {args.groups} groups x {args.group_size} episodes ({play}), model {model}")
    print(header)
    print("-" * len(header))
    for env_id in games:
        if "image" in arena.spec(env_id).modalities and not multimodal:
            print(f"{env_id:<28}(shows images: pass --model with an image-text-to-text model)")
            continue
        for anchor in args.anchor.split(","):
            episodes, gamma = collect_turns(model, env_id, anchor, args.groups, args.group_size, args.seed, args.preset)
            s = step_group_stats(episodes, gamma)
            if s["missing"]:
                print(f"{env_id:<28}{anchor:<13}(the game publishes no infos['state_key'])")
                continue
            print(
                f"{env_id:<28}{anchor:<13}{s['turns']:>6}{s['seats']:>6}"
                f"{s['anchors_mean']:>9.1f} ({s['anchors_min']}){s['step_groups']:>12}{s['size_mean']:>10.2f}"
                f"{s['size_max']:>5}{s['repeated']:>7}{s['singletons']:>7.0%}{s['across']:>8.0%}{s['signal']:>8.0%}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
