"""How often a model's vote, chosen as its constrained mode chooses, names the spy and agrees with the scripted civilian.

Usage::

    python3 scripts/spy_vote_probe.py --model DIR                 # 150 held-out matches (seeds 900000+)
    python3 scripts/spy_vote_probe.py --model DIR --matches 20 --seed 5
    python3 scripts/spy_vote_probe.py --model DIR --agents scripted   # every move scripted: every clue a fact

It plays ``spy-v0`` in the classic game the spy preset played until 2026-12-06 (5 players, one spy, no abstaining,
rounds until the spy is out) with the warm start's ``mixed-expert`` players (or, with ``--agents scripted``,
scripted ones) and the naive spy (``scripted-naive``, which knows only its own word), on seeds the warm start never used (it plays seeds 0, 1, ...). At every civilian
vote it asks the model for its distribution over the legal players (``LLMAgent.action_distribution``, what
constrained mode samples from) and takes the most likely one; the match itself goes on with the player's own move,
so every model is scored on the same votes. It prints one JSON line: the votes scored, how often the model's choice
agrees with the scripted civilian's vote (the warm start's label) and names the spy, how often the label names the
spy, and how often a uniform choice among the legal players would name it (the chance level: fewer candidates
remain in later rounds). Measures imitation on the warm start's own distribution of play, without the model's own
clues (docs/results.md, spy).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import arena
from arena.agents.warmstart import _make_agent, scripted_factory

ENV_ID = "spy-v0"
ENV_KWARGS = {"num_players": 5, "allow_abstain": False}  # the cpu-spy preset's game until 2026-12-06
SEED = 900_000  # far from the warm start's match seeds (0 .. matches_per_env - 1)
AGENTS = ("mixed-expert", "scripted")


class Vote(NamedTuple):
    """One civilian's vote turn: the voter, what it saw, the legal answers, the scripted vote (the label) and the
    answer that names the spy (``[player_k]``)."""

    voter: str
    observation: Any
    info: dict[str, Any]
    legal: tuple[str, ...]
    label: str
    spy: str


def civilian_votes(matches: int, seed: int = SEED, agents: str = "mixed-expert") -> Iterator[Vote]:
    """The civilians' vote turns of ``matches`` matches of ``agents`` play (``mixed-expert`` or ``scripted``)
    against the naive spy (seeds ``seed``, ``seed + 1``, ...), as the warm start plays them."""
    if agents not in AGENTS:
        raise ValueError(f"agents must be one of {AGENTS}, got {agents!r}")
    env = arena.make(ENV_ID, **ENV_KWARGS)
    scripted = scripted_factory(ENV_ID, "scripted-naive")
    for m in range(matches):
        # the players' seeds as the warm start draws them (``collect_examples``)
        players = {a: _make_agent(agents, seed + 1000 * m + i, scripted) for i, a in enumerate(env.possible_agents)}
        env.reset(seed=seed + m)
        (spy,) = env.unwrapped.spies  # the preset's game has one spy
        for seat in env.agent_iter():
            observation, _, terminated, truncated, info = env.last()
            if terminated or truncated:
                env.step(None)
                continue
            player = players[seat]
            move = str(player.act(observation, info))
            legal = tuple(str(a) for a in info.get("legal_actions") or ())
            if legal and seat != spy:
                label = getattr(player, "expert_label", None) or move  # a scripted player's move is its own label
                yield Vote(seat, observation, dict(info), legal, label, f"[{spy}]")
            env.step(move)
    env.close()


def score(agent: Any, votes: Iterator[Vote]) -> dict[str, float]:
    """Shares of ``votes`` where the most likely legal player under ``agent.action_distribution`` (first listed on
    a tie) agrees with the label and names the spy, with the label's and a uniform choice's rate of naming it."""
    n = agree = on_spy = label_on_spy = 0
    uniform = 0.0
    for vote in votes:
        probs = agent.action_distribution(vote.observation, vote.info)
        choice = max(vote.legal, key=lambda a: probs.get(a, 0.0))
        n += 1
        agree += choice == vote.label
        on_spy += choice == vote.spy
        label_on_spy += vote.label == vote.spy
        uniform += (vote.spy in vote.legal) / len(vote.legal)  # a revote may leave the spy out
    if not n:
        raise ValueError("no civilian votes were played")
    return {
        "votes": n,
        "agrees_with_label": agree / n,
        "votes_for_spy": on_spy / n,
        "label_names_spy": label_on_spy / n,
        "uniform_names_spy": uniform / n,
    }


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a model directory (a warm start, a checkpoint)")
    parser.add_argument("--matches", type=int, default=150)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--agents", choices=AGENTS, default="mixed-expert", help="who plays the matches")
    args = parser.parse_args(argv)
    if args.matches < 1:
        parser.error("--matches must be at least 1")
    from arena.agents.backends import load_backend
    from arena.agents.llm import LLMAgent

    agent = LLMAgent(load_backend(args.model, "transformers"), env_id=ENV_ID)
    result = score(agent, civilian_votes(args.matches, args.seed, args.agents))
    print(json.dumps({"model": args.model, "agents": args.agents, **{k: round(v, 3) for k, v in result.items()}}))
    return result


if __name__ == "__main__":
    main()
