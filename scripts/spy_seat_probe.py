"""Who the votes fall on when a model plays one civilian seat of Who-is-the-Spy among scripted players.

Usage::

    python3 scripts/spy_seat_probe.py --model DIR                      # the cpu-spy preset's game, 200 matches
    python3 scripts/spy_seat_probe.py --model DIR --config FILE --games 500
    python3 scripts/spy_seat_probe.py --model DIR --preset cpu-visual-spy --config FILE   # the visual game

The game is the config's ``spy-v0`` or ``visual-spy-v0`` (the first of them it trains on); a run's
``blank_images`` greys the learner's pictures here as in its evaluation.

It plays the evaluation a run with ``side_seats: 1`` plays (``evaluate_side``: seeds 10,000 and up, the learner
greedy in one civilian seat, rotating, the preset's opponent in every other seat) and counts, per match and over
every round's ballot: how often the learner's vote names the spy, how often the scripted civilians' votes do,
how many votes fall on the learner and on the spy, how often the learner is voted out, how often its clue turns
are refused, and the civilians' win rate. A learner that votes better but writes clues the scripted civilians find
odd draws their votes away from the spy: the vote accuracy that ``arena train`` prints rises while the win rate
falls. This says which. (docs/results.md, Who-is-the-Spy, one civilian seat.)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arena.core.errors import ArenaError

GAMES = ("spy-v0", "visual-spy-v0")
ROLES = ("civilian",)
COUNTS = (
    "matches",
    "civilians_won",
    "learner_votes",
    "learner_votes_on_spy",
    "scripted_civilian_votes",
    "scripted_civilian_votes_on_spy",
    "votes_on_learner",
    "votes_on_spy",
    "learner_voted_out",
    "learner_clues",
    "learner_clues_refused",
)


def count_match(info: Mapping[str, Any], seat: str, turns: Sequence[Any]) -> dict[str, int]:
    """The counts of one finished match from its end-of-game ``info`` (``spies``, ``votes``, ``winning_side``,
    ``survived``) and the learner's ``turns`` (``seat``, ``info``, ``invalid``), the learner in ``seat``."""
    spies = set(info.get("spies") or [])
    counts = dict.fromkeys(COUNTS, 0)
    counts["matches"] = 1
    counts["civilians_won"] = int(info.get("winning_side") == "civilians")
    for ballot in info.get("votes") or []:
        for voter, target in ballot.items():
            target = str(target).strip("[]")
            counts["votes_on_learner"] += target == seat
            counts["votes_on_spy"] += target in spies
            if voter == seat:
                counts["learner_votes"] += 1
                counts["learner_votes_on_spy"] += target in spies
            elif voter not in spies:
                counts["scripted_civilian_votes"] += 1
                counts["scripted_civilian_votes_on_spy"] += target in spies
    counts["learner_voted_out"] = int(not (info.get("survived") or {}).get(seat, True))
    for turn in turns:
        if turn.seat == seat and not turn.info.get("legal_actions"):  # a clue turn (votes list the players)
            counts["learner_clues"] += 1
            counts["learner_clues_refused"] += bool(turn.invalid)
    return counts


def probe(model: str, config: Any, games: int, seed: int = 10_000) -> dict[str, float]:
    """Play ``games`` evaluation matches of ``config`` (a ``TrainConfig`` with ``spy-v0`` or ``visual-spy-v0``) with
    ``model`` greedy in one civilian seat; return the summed counts and their rates."""
    from arena.agents.backends import load_backend
    from arena.agents.scheduler import play_many
    from arena.trainers.evaluation import EVAL_CONCURRENCY, match_specs
    from arena.trainers.rollout import policy_agent

    if games < 1:
        raise ArenaError(f"--games must be at least 1, got {games}")
    env_id = spy_game(config)
    opponent = eval_opponent(config, env_id)
    learner = policy_agent(load_backend(model, "transformers"), config, env_id, sample=False, seed=config.seed + 10_000)
    specs, seats = match_specs(learner, env_id, config.envs[env_id], opponent, games, ROLES, side_seats=1, seed=seed)
    totals = dict.fromkeys(COUNTS, 0)
    for outcome, mine in zip(play_many(specs, traced=False, concurrency=EVAL_CONCURRENCY), seats, strict=True):
        info = ((outcome.transcript.result if outcome.transcript is not None else None) or {}).get("info") or {}
        for key, value in count_match(info, mine[0], outcome.turns).items():
            totals[key] += value
    return {**totals, **rates(totals)}


def spy_game(config: Any) -> str:
    """The Who-is-the-Spy game of ``config`` the probe plays (the first of :data:`GAMES` it trains on)."""
    found = next((env_id for env_id in GAMES if env_id in config.envs), None)
    if found is None:
        raise ArenaError(f"the config has no {' or '.join(GAMES)} game (its games: {', '.join(config.envs)})")
    return found


def eval_opponent(config: Any, env_id: str) -> str:
    """The first opponent the run evaluates ``env_id`` against (``TrainConfig.eval_opponents_for``) other than
    ``random``: the probe counts the votes of scripted civilians."""
    opponents = config.eval_opponents_for(env_id)
    return next((name for name in opponents if name != "random"), opponents[0])


def rates(totals: Mapping[str, int]) -> dict[str, float]:
    """The shares the counts stand for (0 where nothing was counted)."""

    def share(part: str, whole: str) -> float:
        return round(totals[part] / totals[whole], 3) if totals[whole] else 0.0

    votes = totals["learner_votes"] + totals["scripted_civilian_votes"]
    return {
        "learner_vote_accuracy": share("learner_votes_on_spy", "learner_votes"),
        "scripted_civilian_vote_accuracy": share("scripted_civilian_votes_on_spy", "scripted_civilian_votes"),
        "learner_voted_out_rate": share("learner_voted_out", "matches"),
        "civilian_win_rate": share("civilians_won", "matches"),
        "clue_refused_rate": share("learner_clues_refused", "learner_clues"),
        "civilian_votes": votes,
    }


def main(argv: list[str] | None = None) -> int:
    from arena.trainers.config import load_config

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a model directory (a run's warmstart/ or checkpoint/)")
    parser.add_argument("--preset", default="cpu-spy", help="the preset whose game and answer settings to play")
    parser.add_argument("--config", default=None, help="a YAML file applied after the preset (as arena train)")
    parser.add_argument("--games", type=int, default=200)
    args = parser.parse_args(argv)
    try:
        result = probe(args.model, load_config(args.preset, args.config), args.games)
    except ArenaError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
